"""Guest memory layout for the Unicorn backends: flash, RAM, the stack and its
guard, and (Cortex-M) the System Control Space."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from elftools.elf.constants import SH_FLAGS
from unicorn import UC_PROT_ALL, UC_PROT_EXEC, UC_PROT_NONE, UC_PROT_READ, Uc

from .elf import ElfImage
from .errors import EmulationError

PAGE = 0x1000  # map in 4 KB units; Unicorn's ARM pages are 1 KB
PROTECT_PAGE = 0x400  # mem_protect granularity on Cortex-M (Unicorn's ARM pages are 1 KB; RISC-V: 4 KB)
SCS_BASE = 0xE000E000  # System Control Space; CPACR is at 0xE000ED88
SCS_SIZE = 0x1000
CPACR = 0xE000ED88
STACK_PAINT = 0xC5C5C5C5
DEFAULT_FLASH = (0x00000000, 4 << 20)  # Arm MPS2 code SSRAM, as firmware/cortex-m/cortex-m.ld
DEFAULT_RAM = (0x20000000, 4 << 20)
DEFAULT_GUARD = 4 << 10


def _down(x: int, a: int) -> int:
    return x & ~(a - 1)


def _up(x: int, a: int) -> int:
    return (x + a - 1) & ~(a - 1)


@dataclass(frozen=True)
class Region:
    start: int
    size: int

    @property
    def end(self) -> int:
        return self.start + self.size

    def contains(self, address: int, size: int = 1) -> bool:
        return self.start <= address and address + size <= self.end


@dataclass(frozen=True)
class Layout:
    flash: Region
    ram: Region
    stack: Region | None  # painted and measured
    guard: Region | None  # write/read protected just below the stack

    @classmethod
    def from_elf(cls, image: ElfImage, protect_page: int = PROTECT_PAGE) -> "Layout":
        """The layout the ELF's symbols describe; the guard is made of whole `protect_page`s."""
        sym = image.symbols
        flash = Region(sym.get("__flash_origin", DEFAULT_FLASH[0]), sym.get("__flash_size", DEFAULT_FLASH[1]))
        ram = Region(sym.get("__ram_origin", DEFAULT_RAM[0]), sym.get("__ram_size", DEFAULT_RAM[1]))
        for address, data in image.segments:
            if not (flash.contains(address, len(data)) or ram.contains(address, len(data))):
                raise EmulationError(f"{image.path.name}: load segment at 0x{address:08x} lies outside "
                                     f"flash 0x{flash.start:08x}+{flash.size:#x} and RAM 0x{ram.start:08x}+{ram.size:#x}")
        stack = guard = None
        top, limit = sym.get("__stack_top"), sym.get("__stack_limit")
        if top is not None and limit is not None and ram.start <= limit < top <= ram.end:
            stack = Region(limit, top - limit)
            # Guard: whole protect pages below the stack that hold no data or bss.
            used_end = max((a + s for _n, a, s, f, _t in image.sections
                            if f & SH_FLAGS.SHF_ALLOC and ram.contains(a, max(s, 1)) and a < limit), default=ram.start)
            lo = _up(max(limit - sym.get("__stack_guard_size", DEFAULT_GUARD), used_end), protect_page)
            hi = _down(limit, protect_page)
            if hi > lo:
                guard = Region(lo, hi - lo)
        return cls(flash, ram, stack, guard)

    def describe(self, address: int) -> str:
        if self.guard and self.guard.contains(address):
            return "stack guard"
        if self.stack and self.stack.contains(address):
            return "stack"
        if self.flash.contains(address):
            return "flash"
        if self.ram.contains(address):
            return "RAM"
        return "unmapped"


class ControlSpace:
    """The System Control Space page, as MMIO: remembers what the guest writes."""

    def __init__(self) -> None:
        self.registers: dict[int, int] = {}

    def read(self, uc: Uc, offset: int, size: int, _ud: object) -> int:
        return self.registers.get(SCS_BASE + offset, 0)

    def write(self, uc: Uc, offset: int, size: int, value: int, _ud: object) -> None:
        self.registers[SCS_BASE + offset] = value

    @property
    def fpu_enabled(self) -> bool:
        """CPACR grants full access to CP10 and CP11."""
        return (self.registers.get(CPACR, 0) >> 20) & 0xF == 0xF


def map_memory(uc: Uc, image: ElfImage, layout: Layout, scs: ControlSpace | None) -> None:
    """Map flash (erased: 0xFF) and RAM, load the ELF, paint the stack, protect its guard;
    `scs`, if given, is mapped as the Cortex-M System Control Space."""
    flash, ram = layout.flash, layout.ram
    fstart, fend = _down(flash.start, PAGE), _up(flash.end, PAGE)
    uc.mem_map(fstart, fend - fstart, UC_PROT_READ | UC_PROT_EXEC)
    uc.mem_write(fstart, b"\xff" * (fend - fstart))  # erased flash: stray jumps fault at once
    rstart, rend = _down(ram.start, PAGE), _up(ram.end, PAGE)
    uc.mem_map(rstart, rend - rstart, UC_PROT_ALL)
    for address, data in image.segments:
        uc.mem_write(address, data)
    if scs is not None:
        uc.mmio_map(SCS_BASE, SCS_SIZE, scs.read, None, scs.write, None)
    if layout.stack:
        uc.mem_write(layout.stack.start, STACK_PAINT.to_bytes(4, "little") * (layout.stack.size // 4))
    if layout.guard:
        uc.mem_protect(layout.guard.start, layout.guard.size, UC_PROT_NONE)


def stack_peak(uc: Uc, layout: Layout) -> int | None:
    """Bytes of stack ever used: from the top down to the lowest repainted word."""
    if layout.stack is None:
        return None
    words = np.frombuffer(bytes(uc.mem_read(layout.stack.start, layout.stack.size // 4 * 4)), dtype="<u4")
    touched = np.flatnonzero(words != STACK_PAINT)
    if touched.size == 0:
        return 0
    return layout.stack.end - (layout.stack.start + 4 * int(touched[0]))
