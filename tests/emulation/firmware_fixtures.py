"""Fixture models, their test vectors, and a cache that builds their firmware on demand."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from emulation import ARCHS, ToolMissing, build_firmware, get_arch

ROOT = Path(__file__).resolve().parents[2]

FIXTURES = Path(__file__).with_name("fixtures")
ALL_ARCHS = list(ARCHS)
CORTEX_M = [name for name, a in ARCHS.items() if a.backend == "unicorn-arm"]
NODE_ARCHS = [name for name, a in ARCHS.items() if a.backend in ("avr8js", "rp2040js")]


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
TIMING_INPUTS = np.array([[3], [7], [100]], dtype=np.int8)  # divisors of the timing kernels

MODELS: dict[str, tuple[Path, Callable[[], np.ndarray]]] = {
    "int8": (FIXTURES / "int8_model", int8_inputs),
    "float": (FIXTURES / "float_model", float_inputs),
    "count": (FIXTURES / "count_model", lambda: COUNT_INPUTS),
    "faults": (FIXTURES / "faults", lambda: FAULT_INPUTS),
    "timing": (FIXTURES / "timing_model", lambda: TIMING_INPUTS),
    "layers": (FIXTURES / "layer_model", lambda: COUNT_INPUTS),  # count_model with layer markers
}


def require(tool: str, hint: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} not installed ({hint})")


def require_arch(arch: str) -> None:
    """Skip unless the toolchain of `arch` and, for the Node engines, node and the npm package are there."""
    spec = get_arch(arch)
    require(spec.toolchain.cc, spec.toolchain.install_hint)
    if spec.backend in ("avr8js", "rp2040js"):
        from emulation.node import ENGINES, engine_paths

        try:
            engine_paths(ENGINES[spec.backend])
        except ToolMissing as exc:
            pytest.skip(str(exc))


class FirmwareCache:
    """Builds fixture firmware on first request; later requests reuse the ELF."""

    def __init__(self, root: Path):
        self.root = root
        self.built: dict[tuple, Path] = {}

    def elf(self, model: str, arch: str, *cflags: str) -> Path:
        key = (model, arch, cflags)
        if key not in self.built:
            require_arch(arch)
            model_dir, inputs = MODELS[model]
            name = "_".join([model, arch, *(f.strip("-").replace("=", "") for f in cflags)])
            fw = build_firmware(model_dir, inputs(), arch, self.root / name, extra_cflags=cflags)
            self.built[key] = fw.elf
        return self.built[key]


def disassemble(elf: Path, function: str, objdump: str) -> list[tuple[str, str]]:
    """(mnemonic, operands and comment) of each instruction of `function` (objdump -d)."""
    import subprocess

    # The whole disassembly, then the function's block: avr-objdump 2.26 has no --disassemble=SYMBOL.
    text = subprocess.run([objdump, "-d", str(elf)], capture_output=True, text=True, check=True).stdout
    block = text.split(f"<{function}>:\n", 1)[1].split("\n\n", 1)[0]
    insns = []
    for line in block.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0].strip().endswith(":") and not parts[2].startswith("."):
            insns.append((parts[2].strip(), "\t".join(parts[3:])))
    return insns


# Mnemonics that branch or skip (calls excluded), per binutils prefix.
BRANCHES = {
    "arm-none-eabi-": lambda op: op.startswith(("b", "cb", "it")) and op not in ("bl", "bic", "bics"),
    "riscv64-unknown-elf-": lambda op: op.startswith(("b", "j")) and op not in ("jal", "jalr"),
    "avr-": lambda op: op.startswith(("br", "rjmp", "jmp", "ijmp", "sbrc", "sbrs", "sbic", "sbis", "cpse")),
}


def marker_window(insns: list[tuple[str, str]], prefix: str) -> list[tuple[str, str]]:
    """The instructions after the call of tm_mark_begin up to and including the call of
    tm_mark_end, which must be straight-line code (else a static count is not the executed one)."""
    begin = next(i for i, (_op, args) in enumerate(insns) if "<tm_mark_begin>" in args)
    end = next(i for i, (_op, args) in enumerate(insns) if "<tm_mark_end>" in args)
    window = insns[begin + 1:end + 1]
    assert not [op for op, _ in window if BRANCHES[prefix](op)], window
    return window


def call_overhead(elf: Path, prefix: str) -> int:
    """Instructions the harness adds around model_invoke (tm_invoke's window minus tm_calibrate's);
    `prefix` is the binutils prefix, e.g. "avr-"."""
    objdump = prefix + "objdump"
    measured = marker_window(disassemble(elf, "tm_invoke", objdump), prefix)
    calibration = marker_window(disassemble(elf, "tm_calibrate", objdump), prefix)
    assert any("<model_invoke>" in args for _op, args in measured)
    return len(measured) - len(calibration)


def size_table(elf: Path, size_tool: str) -> dict[str, int]:
    """Section -> size from binutils' size -A."""
    import subprocess

    text = subprocess.run([size_tool, "-A", str(elf)], capture_output=True, text=True, check=True).stdout
    sizes = {}
    for line in text.splitlines()[2:]:
        parts = line.split()
        if len(parts) == 3 and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    return sizes
