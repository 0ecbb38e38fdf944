"""`toolkit emulate --limit N` is per inference: the run may take N x (inputs + 1)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from toolkit.emulate import RUNAWAY_PER_INFERENCE, per_inference_limit, run_limit

ROOT = Path(__file__).resolve().parents[3]
MODEL = ROOT / "docs" / "models" / "hello_world_int8.tflite"


def test_run_limit_scales_with_inputs_and_macs():
    big = SimpleNamespace(macs=264_000)  # the anomaly-detection autoencoder of the issue
    assert per_inference_limit(big) == RUNAWAY_PER_INFERENCE + 200 * 264_000
    assert run_limit(big, 256, 200_000_000) == 257 * per_inference_limit(big)  # far past any backend default
    assert run_limit(SimpleNamespace(macs=0), 1, 2_000_000_000) == 2_000_000_000  # never below the backend's
    assert run_limit(big, 256, 200_000_000, per_inference=1000) == 1000 * 257  # --limit: per inference


def test_limit_per_inference_on_the_command_line(tmp_path):
    """Hello-world takes ~430 instructions an inference on the M4: --limit 1000 passes with 256
    inputs (~110,000 in all), --limit 100 is a runaway (exit 1, one line)."""
    def emulate(limit: int, name: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "toolkit", "emulate", str(MODEL), "--arch", "cortex-m4",
                               "--limit", str(limit), "--build-dir", str(tmp_path / name), "--json", "-"],
                              capture_output=True, text=True, timeout=300)

    ok = emulate(1000, "ok")
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert data["n_inputs"] == 256 and data["instructions"] * 256 > 1000
    runaway = emulate(100, "runaway")
    assert runaway.returncode == 1 and "runaway" in runaway.stderr and runaway.stdout == ""
    assert runaway.stderr.strip().splitlines()[-1].startswith("error: ")
