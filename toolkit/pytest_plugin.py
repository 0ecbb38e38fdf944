"""pytest fixtures for checking a model on an emulated microcontroller in your own CI.

Installed with the toolkit (entry point `pytest11`), so in any test suite:

    def test_model(emulate):
        r = emulate("model.tflite", board="arduino-nano-33-ble")
        assert r.mismatches == 0 and r.stack_bytes < 512 and r.fits

`emulate(model, board=None, arch=None, inputs=None, seed=0)` generates C, builds it,
runs it on the emulated core and validates every output against the reference
interpreter. A relative model path is taken from the test file's folder (then from the
current directory). Firmware is kept under pytest's temporary directory.

Needs the toolkit with its `ml` extra (`pip install "tinyml-toolkit[ml]"`: the reference
interpreters) and the core's cross-compiler (docs/pytest-plugin.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest


@dataclass(frozen=True)
class EmulatedModel:
    """What a test asserts on: the metrics of `toolkit emulate`, plus the board budget."""

    arch: str
    board: str | None
    n_inputs: int
    instructions: int
    instructions_min: int
    instructions_max: int
    flash_bytes: int
    ram_bytes: int
    stack_bytes: int
    mismatches: int
    max_abs_error: float
    cycles_est: int | None  # exact on the AVR/RP2040 engines, else the timing model's estimate
    timing_model: str | None
    latency_us: float | None  # cycles at the board's clock (None with arch=)
    passed: bool  # bit-exact (int8) or within 1e-5 (float)
    fits: bool | None  # within the board's flash and RAM (None without a board)
    flash_limit: int | None
    ram_limit: int | None
    elf: Path


def _emulate_factory(base: Path, test_dir: Path | None = None) -> Callable[..., EmulatedModel]:
    counter = iter(range(10**9))

    def locate(model: str | Path) -> Path:
        path = Path(model)
        if not path.is_absolute() and test_dir is not None and (test_dir / path).exists():
            return test_dir / path
        return path

    def emulate(model: str | Path, board: str | None = None, arch: str | None = None,
                inputs: int | None = None, seed: int = 0) -> EmulatedModel:
        from toolkit.boards import get_board
        from toolkit.emulate import emulate as run

        if (board is None) == (arch is None):
            raise ValueError("emulate() needs exactly one of board= or arch=")
        spec = get_board(board) if board else None
        report = run(locate(model), spec.arch if spec else arch, base / f"run{next(counter)}", n_inputs=inputs,
                     seed=seed)
        d = report.to_json(spec.clock_mhz if spec else None)
        fits = None
        if spec is not None:
            fits = d["flash_bytes"] <= spec.flash and d["ram_bytes"] + d["stack_bytes"] <= spec.ram
        return EmulatedModel(
            arch=d["arch"], board=board, n_inputs=d["n_inputs"], instructions=d["instructions"],
            instructions_min=d["instructions_min"], instructions_max=d["instructions_max"],
            flash_bytes=d["flash_bytes"], ram_bytes=d["ram_bytes"], stack_bytes=d["stack_bytes"],
            mismatches=d["mismatches"], max_abs_error=d["max_abs_error"], cycles_est=d["cycles_est"],
            timing_model=d["timing_model"], latency_us=d["latency_us"], passed=d["passed"], fits=fits,
            flash_limit=spec.flash if spec else None, ram_limit=spec.ram if spec else None, elf=report.elf,
        )

    return emulate


@pytest.fixture
def emulate(request, tmp_path_factory) -> Callable[..., EmulatedModel]:
    """Run a .tflite model on an emulated board or core: emulate(path, board=... | arch=...)."""
    return _emulate_factory(tmp_path_factory.mktemp("tinyml-emulate"), Path(request.node.path).parent)
