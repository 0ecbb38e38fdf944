"""UF2 files for the Raspberry Pi Pico: what Wokwi loads and what the RP2040 bootrom
accepts when the file is copied to the board's USB drive.

Each 512-byte block carries one 256-byte page of flash at a 256-byte-aligned address,
with the RP2040 family ID; pages are numbered 0..n-1 of the file. The page image comes
from the ELF's load segments at their load addresses, so initialised data lands in flash
where start-up copies it from.
"""

from __future__ import annotations

import struct
from pathlib import Path

from toolkit.errors import ToolkitError
from toolkit.fileio import atomic_write

MAGIC_START0, MAGIC_START1, MAGIC_END = 0x0A324655, 0x9E5D5157, 0x0AB16F30
FLAG_NOT_MAIN_FLASH, FLAG_FAMILY_ID = 0x00000001, 0x00002000
RP2040_FAMILY_ID = 0xE48BFF56
RP2040_FLASH = (0x10000000, 16 * 1024 * 1024)  # the XIP window; a Pico carries 2 MB of it
PAGE = 256
BLOCK = 512
_HEADER = struct.Struct("<8I")


class Uf2Error(ToolkitError):
    """A UF2 file the RP2040 bootrom would not take."""


def flash_pages(elf: Path, flash: tuple[int, int] = RP2040_FLASH) -> dict[int, bytes]:
    """{page address: 256 bytes} of every loadable segment of `elf`, gaps zero-filled."""
    from elftools.elf.elffile import ELFFile

    start, size = flash
    pages: dict[int, bytearray] = {}
    with elf.open("rb") as f:
        for seg in ELFFile(f).iter_segments():
            if seg["p_type"] != "PT_LOAD" or not seg["p_filesz"]:
                continue
            data, addr = seg.data(), seg["p_paddr"]
            if not (start <= addr and addr + len(data) <= start + size):
                raise Uf2Error(f"{elf}: a load segment at 0x{addr:08x} is outside flash "
                               f"(0x{start:08x}-0x{start + size - 1:08x}): a UF2 file can only write flash")
            pos = 0
            while pos < len(data):
                page = (addr + pos) & ~(PAGE - 1)
                offset = addr + pos - page
                n = min(PAGE - offset, len(data) - pos)
                pages.setdefault(page, bytearray(PAGE))[offset : offset + n] = data[pos : pos + n]
                pos += n
    return {a: bytes(p) for a, p in sorted(pages.items())}


def write_uf2(elf: Path, out: Path, family: int = RP2040_FAMILY_ID) -> Path:
    """`out` holds the flash pages of `elf`, one UF2 block each."""
    pages = flash_pages(elf)
    blocks = bytearray()
    for n, (addr, payload) in enumerate(pages.items()):
        header = _HEADER.pack(MAGIC_START0, MAGIC_START1, FLAG_FAMILY_ID, addr, PAGE, n, len(pages), family)
        blocks += header + payload.ljust(476, b"\0") + MAGIC_END.to_bytes(4, "little")
    return atomic_write(out, bytes(blocks))


def read_uf2(path: Path, family: int = RP2040_FAMILY_ID) -> dict[int, bytes]:
    """{page address: bytes} of the main-flash blocks of `path`, checked as the bootrom does."""
    data = path.read_bytes()
    if not data or len(data) % BLOCK:
        raise Uf2Error(f"{path} is not a UF2 file ({len(data)} bytes, not a multiple of {BLOCK})")
    count = len(data) // BLOCK
    pages: dict[int, bytes] = {}
    for n in range(count):
        block = data[n * BLOCK : (n + 1) * BLOCK]
        m0, m1, flags, addr, size, number, total, fam = _HEADER.unpack_from(block)
        where = f"{path}: block {n}"
        if (m0, m1, int.from_bytes(block[-4:], "little")) != (MAGIC_START0, MAGIC_START1, MAGIC_END):
            raise Uf2Error(f"{where} has no UF2 magic numbers")
        if flags & FLAG_NOT_MAIN_FLASH:
            continue
        if not flags & FLAG_FAMILY_ID or fam != family:
            raise Uf2Error(f"{where} is not for family 0x{family:08x} (family 0x{fam:08x}): the bootrom ignores it")
        if size != PAGE or addr % PAGE:
            raise Uf2Error(f"{where} carries {size} bytes for 0x{addr:08x}; the bootrom takes only {PAGE}-byte "
                           f"pages at {PAGE}-byte-aligned addresses")
        if number != n or total != count:
            raise Uf2Error(f"{where} says it is block {number} of {total}; the file has {count}")
        pages[addr] = block[32 : 32 + PAGE]
    return pages


def check_rp2040_uf2(path: Path) -> dict[int, bytes]:
    """read_uf2, plus the boot2 stage the bootrom checks before it runs anything."""
    from emulation.boot2 import boot2_problem

    pages = read_uf2(path)
    first = pages.get(RP2040_FLASH[0])
    problem = boot2_problem(first) if first is not None else "it writes nothing at the start of flash (0x10000000)"
    if problem:
        raise Uf2Error(f"{path}: {problem}; the RP2040 bootrom would not start it")
    return pages
