"""Run a sweep: work out what is missing from DIR/results.jsonl, run it, append as it completes."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from toolkit.fileio import atomic_write
from toolkit.progress import Progress
from toolkit.sweep.executors import Executor
from toolkit.sweep.results import append_rows, read_rows, results_path, sweep_lock, write_files
from toolkit.sweep.spec import SweepSpec, Trial, sample
from toolkit.sweep.trial import Task


@dataclass
class Plan:
    trials: list[Trial]  # the sweep's trials (after sampling)
    tasks: list[Task]  # what is still to run: trials with the targets they miss
    rows_total: int
    rows_done: int  # already in results.jsonl

    @property
    def rows_missing(self) -> int:
        return sum(len(t.targets) for t in self.tasks)


@dataclass
class SweepRun:
    plan: Plan
    rows_written: int = 0
    errors: list[str] = field(default_factory=list)  # "trial target: message"
    seconds: float = 0.0
    trial_seconds: list[float] = field(default_factory=list)  # each trial's own wall time in its worker


def plan(spec: SweepSpec, out: Path, n_sample: int | None = None, sample_seed: int = 0,
         retry_failed: bool = False) -> Plan:
    trials = sample(spec.trials(), n_sample, sample_seed)
    done = {(r["trial"], r.get("board") or r["arch"]) for r in read_rows(out) if not (retry_failed and r.get("error"))}
    tasks = []
    for trial in trials:
        missing = tuple(t for t in spec.targets if (trial.id, t.name) not in done)
        if missing:
            tasks.append(Task(trial, missing))
    total = len(trials) * len(spec.targets)
    p = Plan(trials, tasks, total, 0)
    p.rows_done = total - p.rows_missing
    return p


def describe(spec: SweepSpec, p: Plan) -> str:
    targets = ", ".join(t.name for t in spec.targets)
    distinct = "" if len(p.trials) == spec.grid_points else f" (of {spec.grid_points} grid points)"
    return f"sweep: {len(p.trials)} trials{distinct} x {len(spec.targets)} targets ({targets}) = {p.rows_total} rows"


def run_sweep(spec: SweepSpec, out: str | Path, executor: Executor, n_sample: int | None = None,
              sample_seed: int = 0, retry_failed: bool = False, stream: TextIO | None = None) -> SweepRun:
    out = Path(out)
    say = stream or sys.stderr
    with sweep_lock(out):
        p = plan(spec, out, n_sample, sample_seed, retry_failed)
        print(describe(spec, p), file=say)
        run = SweepRun(p)
        if not p.tasks:
            print(f"nothing to run: all {p.rows_total} rows are in {results_path(out)}", file=say)
            return run
        if p.rows_done:
            print(f"resuming: {p.rows_done} of {p.rows_total} rows already in {results_path(out)}; "
                  f"running the missing {p.rows_missing} ({len(p.tasks)} trials)", file=say)
        if spec.path is not None:
            atomic_write(out / "spec.toml", spec.path.read_text())
        print(f"running {len(p.tasks)} trials on {executor.describe()}", file=say)
        start = time.monotonic()
        with Progress("trials (train once, then every target)", len(p.tasks), stream=say, eta=True) as bar:
            for outcome in executor.run(p.tasks):
                if outcome.files:
                    write_files(out, outcome.trial.id, outcome.files)
                append_rows(out, outcome.rows)
                run.rows_written += len(outcome.rows)
                run.trial_seconds.append(outcome.seconds)
                bad = [f"{outcome.trial.id} {r.get('board') or r['arch']}: {r['error']}" for r in outcome.rows if r.get("error")]
                run.errors += bad
                note = f"{outcome.trial.id} {_short(outcome.trial.params, spec)} in {outcome.seconds:.1f}s"
                bar.update(note=note + (f"; FAILED: {bad[0].split(': ', 1)[1]}" if bad else ""))
        run.seconds = time.monotonic() - start
    return run


def _short(params: dict, spec: SweepSpec) -> str:
    """The grid's values of a trial, e.g. hidden=8,8 prune=weight."""
    return " ".join(f"{k}={params[k]}" for k in spec.grid if k in params) or "(fixed options)"
