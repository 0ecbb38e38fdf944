"""Registry of the Cortex-M cores the package can build for and emulate.

A new core is one entry in ARCHS: compiler flags, the Unicorn CPU model, its
FPU, the ISA it executes and, where QEMU has a matching board, that board.
"""
from __future__ import annotations

from dataclasses import dataclass

from unicorn import arm_const

from .errors import UnknownArch

# Tag_CPU_arch values of the ARM ELF build attributes.
ISA_V7 = 10  # v7-M when Tag_CPU_arch_profile is 'M'
ISA_V6M = 11
ISA_V6SM = 12
ISA_V7EM = 13
ISA_V8M_BASE = 16
ISA_V8M_MAIN = 17

ISA_NAMES = {
    ISA_V7: "ARMv7-M",
    ISA_V6M: "ARMv6-M",
    ISA_V6SM: "ARMv6-M",
    ISA_V7EM: "ARMv7E-M",
    ISA_V8M_BASE: "ARMv8-M baseline",
    ISA_V8M_MAIN: "ARMv8-M mainline",
}


@dataclass(frozen=True)
class Fpu:
    name: str  # GCC -mfpu value
    double: bool  # double precision in hardware


@dataclass(frozen=True)
class Arch:
    name: str
    cflags: tuple[str, ...]
    unicorn_model: int
    isa: int  # Tag_CPU_arch the core implements
    runs_isas: frozenset[int]  # Tag_CPU_arch values of code it can execute
    fpu: Fpu | None = None
    qemu_machine: str | None = None  # qemu-system-arm -M with the same memory map
    qemu_cpu: str | None = None

    @property
    def description(self) -> str:
        fpu = f"{self.fpu.name} FPU" if self.fpu else "no FPU"
        return f"{self.name} ({ISA_NAMES[self.isa]}, {fpu})"


_V6M = frozenset({ISA_V6M, ISA_V6SM})
_V7M = _V6M | {ISA_V7}
_V7EM = _V7M | {ISA_V7EM}

FPV4_SP = Fpu("fpv4-sp-d16", double=False)
FPV5_D16 = Fpu("fpv5-d16", double=True)
FPV5_SP = Fpu("fpv5-sp-d16", double=False)

ARCHS: dict[str, Arch] = {
    a.name: a
    for a in (
        Arch("cortex-m0plus", ("-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft"),
             arm_const.UC_CPU_ARM_CORTEX_M0, ISA_V6SM, _V6M),  # Unicorn has no M0+: M0 runs the same ISA
        Arch("cortex-m3", ("-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft"),
             arm_const.UC_CPU_ARM_CORTEX_M3, ISA_V7, _V7M,
             qemu_machine="mps2-an385", qemu_cpu="cortex-m3"),
        Arch("cortex-m4", ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
             arm_const.UC_CPU_ARM_CORTEX_M4, ISA_V7EM, _V7EM, FPV4_SP,
             qemu_machine="mps2-an386", qemu_cpu="cortex-m4"),
        Arch("cortex-m7", ("-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16"),
             arm_const.UC_CPU_ARM_CORTEX_M7, ISA_V7EM, _V7EM, FPV5_D16,
             qemu_machine="mps2-an500", qemu_cpu="cortex-m7"),
        Arch("cortex-m33", ("-mcpu=cortex-m33", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"),
             arm_const.UC_CPU_ARM_CORTEX_M33, ISA_V8M_MAIN,
             _V7EM | {ISA_V8M_BASE, ISA_V8M_MAIN}, FPV5_SP),
    )
}


def get_arch(name: str) -> Arch:
    try:
        return ARCHS[name]
    except KeyError:
        raise UnknownArch(f"unknown arch {name!r}; known: {', '.join(ARCHS)}") from None
