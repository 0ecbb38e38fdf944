"""The report's deployment figures: instructions, cycles, flash, RAM and stack per board or core.

A demo run has them per board (boards.json). Any other run directory gets them measured once
on cortex-m4 (deployment.json beside the report, remade when missing or damaged): the int8
model, and the float model when there is one.
"""

from __future__ import annotations

import sys
from pathlib import Path

DEFAULT_ARCH = "cortex-m4"
INPUTS = 16
KEYS = ("board", "arch", "model", "instructions", "cycles_est", "timing_model", "latency_us", "flash_bytes",
        "ram_bytes", "stack_bytes", "mismatches")


def measure(model_dir: Path, arch: str = DEFAULT_ARCH) -> list[dict]:
    """Emulate the int8 (and float) .tflite of `model_dir` on `arch`: one row each."""
    from toolkit.emulate import emulate

    rows = []
    for kind in ("int8", "float"):
        path = model_dir / f"model_{kind}.tflite"
        if not path.exists():
            continue
        d = emulate(path, arch, model_dir / "build" / f"deploy-{kind}-{arch}", n_inputs=INPUTS).to_json()
        rows.append({"board": "-", "model": kind} | {k: d.get(k) for k in KEYS if k not in ("board", "model")})
    return rows


def load_deployment(run_dir: Path, model_dir: Path, boards: list[dict]) -> list[dict]:
    """boards.json's rows when the run has them, else deployment.json (measured when needed)."""
    from toolkit.fileio import DamagedFile, read_json, write_json

    if boards:
        return [{"model": "int8"} | r for r in boards]
    path = run_dir / "deployment.json"
    try:
        rows = read_json(path)
    except DamagedFile as exc:
        print(f"note: {exc.args[0].split(';')[0]}: measuring it again", file=sys.stderr)
        rows = None
    if rows is None:
        rows = measure(model_dir)
        if rows:
            write_json(path, rows)
    return rows or []
