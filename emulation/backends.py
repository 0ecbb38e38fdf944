"""The table of backends and run_elf, which runs an ELF on the backend of its arch.

A backend is a function run(path, arch, instruction_limit, check_arch) -> RunResult
that raises GuestFault for a fault and EmulationError subclasses otherwise; a
backend whose cycles are "estimated" also takes timing=False (count only).
Arch entries name their backend (arch.py); adding one is a row here.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .arch import Arch, get_arch
from .errors import EmulationError
from .node import run_avr8js, run_rp2040js
from .result import RunResult
from .riscv import run_riscv
from .arm import run_arm
from .runner import DEFAULT_INSTRUCTION_LIMIT


NODE_INSTRUCTION_LIMIT = 200_000_000


@dataclass(frozen=True)
class Backend:
    name: str
    run: Callable[[str | Path, Arch, int, bool], RunResult]
    engine: str  # what executes the guest
    default_limit: int  # instructions before a guest counts as runaway
    cycles: str  # "exact" (the engine counts them) or "estimated" (the arch's timing model, emulation.timing)


BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in (
        Backend("unicorn-arm", run_arm, "Unicorn (QEMU TCG), native block counter", DEFAULT_INSTRUCTION_LIMIT,
                "estimated"),
        Backend("unicorn-riscv", run_riscv, "Unicorn (QEMU TCG), native block counter", DEFAULT_INSTRUCTION_LIMIT,
                "estimated"),
        # The JavaScript engines interpret one instruction at a time (30-40 M/s against
        # 400-900 M/s): a lower default limit keeps a runaway guest to a few seconds.
        Backend("avr8js", run_avr8js, "Wokwi avr8js in Node", NODE_INSTRUCTION_LIMIT, "exact"),
        Backend("rp2040js", run_rp2040js, "Wokwi rp2040js in Node", NODE_INSTRUCTION_LIMIT, "exact"),
    )
}


def backend_of(arch: str | Arch) -> Backend:
    spec = get_arch(arch) if isinstance(arch, str) else arch
    try:
        return BACKENDS[spec.backend]
    except KeyError:
        raise EmulationError(f"arch {spec.name} names an unknown backend {spec.backend!r}") from None


def run_elf(path: str | Path, arch: str, instruction_limit: int | None = None,
            check_arch: bool = True, timing: bool = True) -> RunResult:
    """Run firmware `path` on the emulated core `arch` and measure it.

    Raises GuestFault (fault kind, address, pc, function) when the firmware
    faults, runs past `instruction_limit` instructions (default: the backend's,
    2,000,000,000 on Unicorn, 200,000,000 on the Node engines), or exits with an
    error; with check_arch, an ELF built for another core is refused before running.
    On Unicorn, `timing` estimates cycles with the arch's timing model (cycles_est,
    timing_model); timing=False counts instructions only. The Node engines count
    cycles exactly either way.
    """
    spec = get_arch(arch)
    backend = backend_of(spec)
    limit = backend.default_limit if instruction_limit is None else instruction_limit
    if limit <= 0:
        raise EmulationError("the instruction limit must be a positive number")
    if backend.cycles == "estimated":
        return backend.run(path, spec, limit, check_arch, timing=timing)  # type: ignore[call-arg]
    return backend.run(path, spec, limit, check_arch)
