"""`--engine all` on the hello-world model: three rows of exact counts, TFLM on the target
equal to TFLM on the host and to the generated C, and a second run from the cache."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from toolkit.tflm.side_by_side import render_side_by_side, run_engines

# Instructions per inference on the emulated Cortex-M4 (arm-none-eabi-gcc 12.2, the tree's
# README commits): exact counts, deterministic. TFLM's include copying the 1-byte input and
# output into and out of its tensors.
HELLO_M4 = {"generated": 426, "tflm": 5380, "tflm-cmsis-nn": 3674}
HELLO_M4_ARENA = {"tflm": 1072, "tflm-cmsis-nn": 1168}  # DESIGN.md measured 1,068 / 1,156 by hand


@pytest.fixture(scope="module")
def hello_m4(reference_models, tflm_tree, tmp_path_factory):
    """The first comparison of the session: builds what the cache lacks."""
    return run_engines(reference_models["int8"], "cortex-m4", tmp_path_factory.mktemp("hello-m4"), tflm_tree=tflm_tree)


def test_three_engines_exact_and_bit_exact(hello_m4):
    assert list(hello_m4.reports) == ["generated", "tflm", "tflm-cmsis-nn"]
    assert {e: r.run.instructions for e, r in hello_m4.reports.items()} == HELLO_M4
    assert {e: r.arena_bytes for e, r in hello_m4.reports.items() if e != "generated"} == HELLO_M4_ARENA
    for engine, r in hello_m4.reports.items():
        assert r.comparison.reference == "tflm" and r.comparison.exact and r.comparison.mismatches == 0, engine
        assert r.comparison.n_inputs == 256
    for engine in ("tflm", "tflm-cmsis-nn"):
        d = hello_m4.reports[engine].details
        assert d["vs_generated"] == {"differing_inputs": 0, "first_differing_input": None}
        assert d["ops"] == ["FULLY_CONNECTED"] and d["arena_used_bytes"] < hello_m4.reports[engine].arena_bytes
    assert "DSP paths" in hello_m4.reports["tflm-cmsis-nn"].details["kernels"]
    ratios = hello_m4.ratios()
    assert ratios["tflm"]["instructions"] == round(5380 / 426, 3)
    assert 10 < ratios["tflm"]["flash_bytes"] < 30  # the interpreter's ~30 KB against the model's 2 KB
    assert hello_m4.passed
    table = render_side_by_side(hello_m4)
    assert "5,380" in table and "3,674" in table and "ratio to generated" in table and "PASS" in table


def test_second_run_compiles_nothing(hello_m4, reference_models, tmp_path):
    """The CLI, after the fixture's run: every object and library from the cache."""
    out = tmp_path / "all.json"
    r = subprocess.run([sys.executable, "-m", "toolkit", "emulate", str(reference_models["int8"]), "--arch", "cortex-m4",
                        "--engine", "all", "--build-dir", str(tmp_path / "b"), "--json", str(out)],
                       capture_output=True, text=True, check=False, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "[###" not in r.stderr  # no progress bar: nothing to compile
    data = json.loads(out.read_text())
    # `all` also runs the MicroPython engine (its tree ships with the toolkit: docs/micropython.md)
    assert data["passed"] and set(data["engines"]) == {*HELLO_M4, "micropython"}
    assert data["engines"]["micropython"]["mismatches"] == 0
    for engine, n in HELLO_M4.items():
        e = data["engines"][engine]
        assert e["engine"] == engine and e["instructions"] == n and e["mismatches"] == 0
    for engine in ("tflm", "tflm-cmsis-nn"):
        assert data["engines"][engine]["tflm"]["compiled"] == 0  # no compiler invocation at all
        assert data["engines"][engine]["tflm"]["adapter_compiled"] == 0
        assert data["engines"][engine]["arena_bytes"] == HELLO_M4_ARENA[engine]
    assert data["ratios_to_generated"]["tflm-cmsis-nn"]["instructions"] == round(3674 / 426, 3)
    lines = r.stdout.splitlines()
    assert lines[3].split()[:2] == ["generated", "426"] and lines[4].split()[:2] == ["tflm", "5,380"]
    assert r.stdout.count("library from the cache, nothing compiled") == 2
