"""Fixture models, their test vectors, and a cache that builds their firmware on demand."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from emulation import ARCHS, build_firmware

ROOT = Path(__file__).resolve().parents[2]

FIXTURES = Path(__file__).with_name("fixtures")
ALL_ARCHS = list(ARCHS)


def int8_inputs() -> np.ndarray:
    rng = np.random.default_rng(1234)
    x = rng.integers(-128, 128, size=(6, 16), dtype=np.int8)
    x[0] = 127  # saturating extremes
    x[1] = -128
    return x


def float_inputs() -> np.ndarray:
    rng = np.random.default_rng(99)
    x = rng.normal(0.0, 2.0, size=(6, 8)).astype(np.float32)
    x[0] = [0.0, -0.0, 1e-3, -1e3, 3.0e30, -1.5e-30, 7.25, -7.25]  # no inf/NaN: NaN signs differ by platform
    return x


COUNT_INPUTS = np.array([[1], [2], [5], [20], [100]], dtype=np.int8)  # loop iterations
FAULT_INPUTS = np.array([[5], [7]], dtype=np.int8)

MODELS: dict[str, tuple[Path, Callable[[], np.ndarray]]] = {
    "int8": (FIXTURES / "int8_model", int8_inputs),
    "float": (FIXTURES / "float_model", float_inputs),
    "count": (FIXTURES / "count_model", lambda: COUNT_INPUTS),
    "faults": (FIXTURES / "faults", lambda: FAULT_INPUTS),
}


def require(tool: str, hint: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} not installed ({hint})")


class FirmwareCache:
    """Builds fixture firmware on first request; later requests reuse the ELF."""

    def __init__(self, root: Path):
        self.root = root
        self.built: dict[tuple, Path] = {}

    def elf(self, model: str, arch: str, *cflags: str) -> Path:
        key = (model, arch, cflags)
        if key not in self.built:
            require("arm-none-eabi-gcc", "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi")
            model_dir, inputs = MODELS[model]
            name = "_".join([model, arch, *(f.strip("-").replace("=", "") for f in cflags)])
            fw = build_firmware(model_dir, inputs(), arch, self.root / name, extra_cflags=cflags)
            self.built[key] = fw.elf
        return self.built[key]
