"""Stand-ins for run_task: rows from a formula, a failure, a worker that dies (no training)."""

import os

from toolkit.sweep.trial import Outcome, Task, base_row, failed

CALLS_ENV = "SWEEP_FAKE_CALLS"  # a file that each call appends its trial id to


def fake_run(task: Task) -> Outcome:
    if os.environ.get(CALLS_ENV):
        with open(os.environ[CALLS_ENV], "a") as f:
            f.write(task.trial.id + "\n")
    p = task.trial.params
    if p["seed"] == 13:
        return failed(task, "ValueError: unlucky seed")
    if p["seed"] == 99:
        os._exit(3)  # a crash in native code: the worker process is gone
    width = sum(int(w) for w in p["hidden"].split(","))
    rows = []
    for t in task.targets:
        flash = 1000 + 100 * width
        clock = t.board.clock_mhz if t.board else None
        rows.append(base_row(task.trial, t) | {
            "test_mse": 1.0 / width + p["seed"] * 1e-3, "instructions": 10 * width, "cycles_est": 12 * width,
            "latency_us": 12 * width / clock if clock else None, "flash_bytes": flash, "ram_bytes": width,
            "stack_bytes": 40, "mismatches": 0, "fits": flash <= t.board.flash if t.board else None,
        })
    return Outcome(task.trial, rows, {"model_int8.tflite": b"TFL3"}, seconds=0.01)
