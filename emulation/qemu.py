"""Second opinion: run the same ELF on QEMU's MPS2 boards.

QEMU prints the harness console through semihosting, so its outputs can be
compared with the Unicorn run. With count=True QEMU also logs every executed
instruction (one instruction per translation block, `-d exec,nochain`), from
which the per-inference counts are recomputed independently of Unicorn.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .arch import get_arch
from .elf import load_elf
from .errors import EmulationError, ToolMissing

QEMU = "qemu-system-arm"
_TRACE = re.compile(r"^Trace \d+: \S+ \[[0-9a-f]+/([0-9a-f]+)/")


@dataclass
class QemuRun:
    console: str
    returncode: int
    stderr: str
    total_instructions: int | None = None  # only with count=True
    instructions_per_inference: list[int] = field(default_factory=list)


def qemu_available() -> bool:
    return shutil.which(QEMU) is not None


def _version() -> tuple[int, int]:
    out = subprocess.run([QEMU, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"version (\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def run_qemu(elf: str | Path, arch: str, *, timeout: float = 60, count: bool = False) -> QemuRun:
    """Run `elf` on the QEMU board that matches `arch`; raises if there is none."""
    spec = get_arch(arch)
    if spec.qemu_machine is None:
        raise EmulationError(f"QEMU has no board with the memory map of {spec.name}")
    if not qemu_available():
        raise ToolMissing(f"{QEMU} not found: apt-get install qemu-system-arm")
    # Semihosting output goes to stderr unless routed to a chardev: give it stdout.
    cmd = [QEMU, "-M", spec.qemu_machine, "-cpu", spec.qemu_cpu or spec.name, "-nographic",
           "-monitor", "none", "-serial", "none", "-chardev", "stdio,id=tm",
           "-semihosting-config", "enable=on,target=native,chardev=tm", "-kernel", str(elf)]
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "exec.log"
        if count:
            one_insn = ["-accel", "tcg,one-insn-per-tb=on"] if _version() >= (8, 1) else ["-singlestep"]
            cmd += [*one_insn, "-d", "exec,nochain", "-D", str(log)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise EmulationError(f"QEMU did not finish {Path(elf).name} within {timeout:g} s") from None
        run = QemuRun(console=proc.stdout, returncode=proc.returncode, stderr=proc.stderr)
        if count:
            _count(run, log, elf)
    return run


def _count(run: QemuRun, log: Path, elf: str | Path) -> None:
    image = load_elf(elf)
    begin, end = (image.symbol(n) for n in ("tm_mark_begin", "tm_mark_end"))
    begin = None if begin is None else begin & ~1
    end = None if end is None else end & ~1
    windows: list[int] = []
    total = 0
    start = None
    with log.open() as fh:
        for line in fh:
            m = _TRACE.match(line)
            if not m:
                continue
            pc = int(m.group(1), 16)
            if pc == begin:
                start = total
            elif pc == end and start is not None:
                windows.append(total - start)
                start = None
            total += 1
    run.total_instructions = total
    if windows:  # first window: calibration pair
        run.instructions_per_inference = [w - windows[0] for w in windows[1:]]
