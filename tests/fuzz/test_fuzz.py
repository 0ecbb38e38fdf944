"""A seeded fuzzing campaign over mutated seed models (issue 15).

Hypothesis draws the cases (which seed, and a list of structure-aware mutation steps from
`mutate.py`); `derandomize=True` makes every run draw the same cases, so a failure in CI
is a failure on any machine. Failures are collected rather than stopping the campaign at
the first, then reported by kind. FUZZ_CASES sets the number of cases (`make fuzz` runs
many); FUZZ_CORPUS names a directory that keeps every failing input as a .tflite file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import LARGE_SEED, LARGE_WEIGHT
from tests.fuzz.mutate import MUTATIONS, mutate
from tests.fuzz.property import check_bytes, check_host, small_enough

CASES = int(os.environ.get("FUZZ_CASES", "500"))
HOST_EVERY = int(os.environ.get("FUZZ_HOST_EVERY", "20"))  # 1 in N accepted small models is compiled
CORPUS = os.environ.get("FUZZ_CORPUS", "")

STEP = st.tuples(st.sampled_from(sorted(MUTATIONS)), st.integers(0, 2**32 - 1))


def test_fuzz_campaign(fuzz_seeds):
    names = [n for n in sorted(fuzz_seeds) if n != LARGE_SEED] * LARGE_WEIGHT
    names += [LARGE_SEED] if LARGE_SEED in fuzz_seeds else []
    stats = Counter()
    failures: dict[str, list[str]] = {}
    started = time.monotonic()

    @settings(max_examples=CASES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), phases=["generate"])
    @given(seed=st.sampled_from(names), steps=st.lists(STEP, min_size=1, max_size=3))
    def case(seed, steps):
        data = mutate(fuzz_seeds[seed], steps)
        out = check_bytes(data)
        stats["cases"] += 1
        if stats["cases"] % 5000 == 0:
            print(f"fuzz: {stats['cases']} cases, {time.monotonic() - started:.0f} s, "
                  f"{sum(map(len, failures.values()))} failures", flush=True)
        stats[out.status] += 1
        if out.status == "ok" and small_enough(out.model):
            stats["accepted small"] += 1
            if stats["accepted small"] % HOST_EVERY == 1:
                stats["host compiled"] += 1
                with tempfile.TemporaryDirectory(prefix="fuzz-host-") as work:  # thousands in `make fuzz`
                    out = check_host(out.model, Path(work))
                stats[out.kind or "host agreed"] += out.status == "ok"
        if out.status == "fail":
            failures.setdefault(out.kind, []).append(f"{seed} {steps}: {out.detail}")
            if CORPUS:
                corpus = Path(CORPUS)
                corpus.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha1(data).hexdigest()[:12]
                stem = out.kind.replace("@", "-").replace(":", "-").replace(" ", "_")
                (corpus / f"{stem}-{digest}.tflite").write_bytes(data)
                (corpus / f"{stem}-{digest}.txt").write_text(f"seed {seed}\nsteps {steps}\n{out.detail}\n")

    case()
    elapsed = time.monotonic() - started
    print(f"\nfuzz: {stats['cases']} cases in {elapsed:.1f} s ({stats['cases'] / elapsed:.0f} cases/s); "
          f"{stats['ok']} accepted, {stats['refused']} refused with one line, "
          f"{stats['host compiled']} compiled on the host ({stats['host agreed']} agreed with the reference, "
          f"{stats['float overflow']} float models near overflow not compared); "
          f"{sum(map(len, failures.values()))} failures, {len(failures)} distinct kinds")
    for kind, cases in sorted(failures.items(), key=lambda kv: -len(kv[1])):
        print(f"  {len(cases):5d}  {kind}    e.g. {cases[0][:400]}")
    assert not failures, f"{len(failures)} kinds of failure: {sorted(failures)}"
