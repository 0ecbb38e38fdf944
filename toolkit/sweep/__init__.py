"""Design-space sweeps: a grid of pipeline options x boards, run locally or on Ray, resumable.

    spec.py       the TOML spec: options, grid, targets -> trials
    trial.py      one trial in a worker: train once, build and emulate on each target
    executors.py  local process pool, Ray tasks, inline
    results.py    DIR/results.jsonl: append-only rows, resume, the directory lock
    runner.py     what is missing, run it, progress with ETA
    best.py       the best model for a board, Pareto fronts
"""

from toolkit.sweep.best import best, pareto_front
from toolkit.sweep.executors import InlineExecutor, LocalExecutor, RayExecutor, make_executor
from toolkit.sweep.results import load_results
from toolkit.sweep.runner import run_sweep
from toolkit.sweep.spec import load_spec, parse_spec

__all__ = ["InlineExecutor", "LocalExecutor", "RayExecutor", "best", "load_results", "load_spec", "make_executor",
           "pareto_front", "parse_spec", "run_sweep"]
