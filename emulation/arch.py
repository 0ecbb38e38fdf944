"""Registry of the cores the package can build for and run: one table, ARCHS.

A new core is one entry: its toolchain and compiler flags, the linker script and
start-up/platform sources under firmware/, the backend that runs it (a key of
emulation.backends.BACKENDS) and what that backend needs to know about it
(Unicorn CPU model, ISA and FPU for the build-attribute check, QEMU board, the
timing model of emulation.timing behind cycles_est).
"""
from __future__ import annotations

from dataclasses import dataclass

from unicorn import arm_const, riscv_const

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

# Flags every build uses, whatever the toolchain.
COMMON_CFLAGS = (
    "-Os", "-std=c99", "-Wall", "-g",
    "-ffunction-sections", "-fdata-sections",
    "-ffp-contract=off",  # no fused multiply-add: float results stay bit-comparable
)


@dataclass(frozen=True)
class Toolchain:
    cc: str  # the compiler driver, also the linker
    install_hint: str  # how to get it (and its C library)
    cflags: tuple[str, ...]  # every build with this toolchain
    ldflags: tuple[str, ...]
    # Text in a failed build's log that means the C library is missing.
    library_markers: tuple[str, ...] = ()

    @property
    def prefix(self) -> str:
        """Binutils prefix: arm-none-eabi-gcc -> arm-none-eabi-."""
        return self.cc[: -len("gcc")]


ARM_GCC = Toolchain(
    "arm-none-eabi-gcc", "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi",
    cflags=COMMON_CFLAGS,
    ldflags=("-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs",
             "-Wl,--gc-sections", "-Wl,--no-warn-rwx-segments"),
    library_markers=("nano.specs",),
)
RISCV_GCC = Toolchain(
    "riscv64-unknown-elf-gcc", "apt-get install gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf",
    cflags=COMMON_CFLAGS,
    ldflags=("-nostartfiles", "--specs=picolibc.specs", "-Wl,--gc-sections", "-Wl,--no-warn-rwx-segments"),
    library_markers=("picolibc.specs",),
)
AVR_GCC = Toolchain(
    "avr-gcc", "apt-get install gcc-avr avr-libc binutils-avr",
    # avr-gcc 5 has no noipa attribute: keep identical code from being folded (harness markers).
    # GNU C for the __flash address space: the generated model keeps its constants in
    # program memory (TM_ROM), or 2 KB of SRAM could not hold even the sine model.
    cflags=(*COMMON_CFLAGS, "-std=gnu99", "-fno-ipa-icf"),
    ldflags=("-Wl,--gc-sections",),
    library_markers=("avr/io.h: No such file", "avr/pgmspace.h: No such file", "cannot find crtatmega",
                     "cannot find -lc", "cannot find -latmega"),
)


@dataclass(frozen=True)
class Fpu:
    name: str  # GCC -mfpu value
    double: bool  # double precision in hardware


@dataclass(frozen=True)
class Arch:
    name: str
    toolchain: Toolchain
    cflags: tuple[str, ...]  # core flags: -mcpu/-march/-mmcu, float ABI
    linker_script: str  # under firmware/, passed with -T
    sources: tuple[str, ...]  # start-up and platform files under firmware/
    backend: str  # key of emulation.backends.BACKENDS
    elf_machine: str  # e_machine of the ELFs it runs: EM_ARM, EM_RISCV, EM_AVR
    summary: str = ""  # one line for `python -m emulation archs` (ARM cores describe themselves)
    script_dirs: tuple[str, ...] = ()  # under firmware/: -L, for INCLUDE in linker scripts
    stack_size_symbol: bool = True  # the linker script takes -Wl,--defsym=__stack_size=N
    boot_stage: str | None = None  # under firmware/: a boot stage the chip's ROM checks (RP2040 boot2; emulation.boot2)
    exact_cycles: bool = False  # the backend counts clock cycles exactly
    timing: str | None = None  # key of emulation.timing.CORES: the model behind cycles_est (Unicorn backends)
    unicorn_model: int | None = None  # Unicorn CPU model (Unicorn backends)
    isa: int | None = None  # ARM: Tag_CPU_arch the core implements
    runs_isas: frozenset[int] = frozenset()  # ARM: Tag_CPU_arch values of code it can execute
    fpu: Fpu | None = None
    riscv_extensions: frozenset[str] = frozenset()  # RISC-V: single-letter extensions it executes
    qemu_machine: str | None = None  # qemu-system-arm -M with the same memory map
    qemu_cpu: str | None = None

    @property
    def description(self) -> str:
        if self.isa is None:
            return f"{self.name} ({self.summary})" if self.summary else self.name
        fpu = f"{self.fpu.name} FPU" if self.fpu else "no FPU"
        where = f"; {self.summary}" if self.summary else ""
        return f"{self.name} ({ISA_NAMES[self.isa]}, {fpu}{where})"


_V6M = frozenset({ISA_V6M, ISA_V6SM})
_V7M = _V6M | {ISA_V7}
_V7EM = _V7M | {ISA_V7EM}

FPV4_SP = Fpu("fpv4-sp-d16", double=False)
FPV5_D16 = Fpu("fpv5-d16", double=True)
FPV5_SP = Fpu("fpv5-sp-d16", double=False)


def _cortex_m(name: str, cflags: tuple[str, ...], model: int, isa: int, runs: frozenset[int],
              fpu: Fpu | None = None, qemu_machine: str | None = None) -> Arch:
    """A Cortex-M core on Unicorn with the MPS2 memory map (firmware/cortex-m)."""
    return Arch(name, ARM_GCC, cflags, "cortex-m/cortex-m.ld", ("cortex-m/startup.c",), "unicorn-arm",
                "EM_ARM", script_dirs=("cortex-m",), unicorn_model=model, isa=isa, runs_isas=runs, fpu=fpu,
                qemu_machine=qemu_machine, qemu_cpu=name if qemu_machine else None, timing=name)


ARCHS: dict[str, Arch] = {
    a.name: a
    for a in (
        _cortex_m("cortex-m0plus", ("-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft"),
                  arm_const.UC_CPU_ARM_CORTEX_M0, ISA_V6SM, _V6M),  # Unicorn has no M0+: M0 runs the same ISA
        _cortex_m("cortex-m3", ("-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft"),
                  arm_const.UC_CPU_ARM_CORTEX_M3, ISA_V7, _V7M, qemu_machine="mps2-an385"),
        _cortex_m("cortex-m4", ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
                  arm_const.UC_CPU_ARM_CORTEX_M4, ISA_V7EM, _V7EM, FPV4_SP, qemu_machine="mps2-an386"),
        _cortex_m("cortex-m7", ("-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16"),
                  arm_const.UC_CPU_ARM_CORTEX_M7, ISA_V7EM, _V7EM, FPV5_D16, qemu_machine="mps2-an500"),
        _cortex_m("cortex-m33", ("-mcpu=cortex-m33", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"),
                  arm_const.UC_CPU_ARM_CORTEX_M33, ISA_V8M_MAIN, _V7EM | {ISA_V8M_BASE, ISA_V8M_MAIN}, FPV5_SP),
        # ESP32-C3 core. Unicorn's SiFive E31 (rv32imac) is the closest model without an FPU;
        # the ELF check refuses code that uses more than I, M and C.
        Arch("rv32imc", RISCV_GCC, ("-march=rv32imc", "-mabi=ilp32"), "riscv/riscv.ld",
             ("riscv/startup.S", "riscv/platform.c"), "unicorn-riscv", "EM_RISCV",
             summary="RISC-V RV32IMC as in the ESP32-C3, on Unicorn",
             unicorn_model=riscv_const.UC_CPU_RISCV32_SIFIVE_E31, riscv_extensions=frozenset("imc"),
             timing="rv32imc"),
        # Arduino Uno: 16 MHz, 32 KB flash, 2 KB SRAM; avr-libc's start-up and linker script.
        Arch("atmega328p", AVR_GCC, ("-mmcu=atmega328p", "-DF_CPU=16000000UL"), "avr/vectors.ld",
             ("avr/platform.c",), "avr8js", "EM_AVR",
             summary="AVR, Arduino Uno: 16 MHz, 32 KB flash, 2 KB SRAM, on avr8js",
             stack_size_symbol=False, exact_cycles=True),
        # Raspberry Pi Pico: Cortex-M0+ at 133 MHz, 2 MB flash at 0x10000000, 264 KB SRAM. The image
        # boots as on the chip: boot2 first in flash, then start-up that sets up clocks and UART0
        # (TM_PLATFORM_INIT: start-up calls the platform's tm_platform_init before main).
        Arch("rp2040", ARM_GCC, ("-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft", "-DTM_PLATFORM_INIT"),
             "rp2040/rp2040.ld", ("cortex-m/startup.c", "rp2040/platform.c"), "rp2040js", "EM_ARM",
             summary="Raspberry Pi Pico, on rp2040js", script_dirs=("cortex-m",), exact_cycles=True,
             isa=ISA_V6SM, runs_isas=_V6M, boot_stage="rp2040/boot2.S"),
    )
}


def get_arch(name: str) -> Arch:
    try:
        return ARCHS[name]
    except KeyError:
        raise UnknownArch(f"unknown arch {name!r}; known: {', '.join(ARCHS)}") from None
