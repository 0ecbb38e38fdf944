"""The RP2040's second boot stage (boot2): the 256 bytes the bootrom loads from the start
of flash, checks and runs before anything else (RP2040 datasheet, 2.8.1).

The bootrom copies flash 0x10000000-0x100000ff to SRAM at 0x20041f00 and executes it only
if the CRC32 of the first 252 bytes equals the last four (little-endian); otherwise the
chip never starts the image. The stage itself is firmware/rp2040/boot2.S: assembled and
linked on its own for 0x20041f00, padded, check-summed here, and emitted as an assembly
file that puts the 256 bytes in section .boot2, which the linker script places first.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from .arch import Arch
from .errors import BuildError
from .fileio import atomic_write

BOOT2_BYTES = 256
BOOT2_PAYLOAD = BOOT2_BYTES - 4  # the CRC covers these; the last word holds it
BOOT2_LOAD_ADDRESS = 0x20041F00  # where the bootrom copies and runs it
BOOT2_SECTION = ".boot2"
_POLY = 0x04C11DB7


def _table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ _POLY) if crc & 0x80000000 else crc << 1
        table.append(crc & 0xFFFFFFFF)
    return table


_TABLE = _table()


def boot2_crc(data: bytes) -> int:
    """CRC32 as the bootrom computes it: polynomial 0x04c11db7, initial value 0xffffffff,
    no input or output reflection, no final xor (the CRC-32/MPEG-2 variant)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _TABLE[(crc >> 24) ^ byte]
    return crc


def pad_boot2(code: bytes) -> bytes:
    """The 256-byte stage: `code` padded with zeros to 252 bytes, then its CRC."""
    if len(code) > BOOT2_PAYLOAD:
        raise BuildError(f"the boot2 stage is {len(code)} bytes; the bootrom checks only {BOOT2_PAYLOAD}")
    payload = code.ljust(BOOT2_PAYLOAD, b"\0")
    return payload + boot2_crc(payload).to_bytes(4, "little")


def boot2_problem(first: bytes) -> str | None:
    """Why the bootrom would refuse these first bytes of flash, or None if it runs them."""
    if len(first) < BOOT2_BYTES:
        return f"flash holds only {len(first)} bytes at its start; the boot2 stage needs {BOOT2_BYTES}"
    stored = int.from_bytes(first[BOOT2_PAYLOAD:BOOT2_BYTES], "little")
    actual = boot2_crc(first[:BOOT2_PAYLOAD])
    if stored != actual:
        return (f"no valid boot2 stage at the start of flash: CRC32 of its first {BOOT2_PAYLOAD} bytes is "
                f"0x{actual:08x}, the stage stores 0x{stored:08x}")
    return None


def build_boot2(spec: Arch, firmware: Path, out_dir: Path) -> Path:
    """Assemble `spec.boot_stage` (with the .ld of the same name beside it) and write
    out_dir/boot2_image.S: the padded, check-summed stage in section .boot2."""
    assert spec.boot_stage is not None
    source = firmware / spec.boot_stage
    elf, binary = out_dir / "boot2.elf", out_dir / "boot2.bin"
    tc = spec.toolchain
    steps = [
        [tc.cc, *spec.cflags, "-nostdlib", "-T", str(source.with_suffix(".ld")), str(source), "-o", str(elf)],
        [tc.prefix + "objcopy", "-O", "binary", str(elf), str(binary)],
    ]
    for cmd in steps:
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            lines = (proc.stdout + proc.stderr).strip().splitlines() or ["?"]
            raise BuildError(f"building the boot2 stage ({source.name}) failed: {lines[0]}")
    image = pad_boot2(binary.read_bytes())
    rows = "\n".join("    .byte " + ", ".join(f"0x{b:02x}" for b in image[i : i + 16]) for i in range(0, len(image), 16))
    out = out_dir / "boot2_image.S"
    atomic_write(out, f"/* The boot2 stage built from {spec.boot_stage}, padded to {BOOT2_PAYLOAD} bytes, then its "
                   f"CRC32 (0x{boot2_crc(image[:BOOT2_PAYLOAD]):08x}). Generated. */\n"
                   f'    .section {BOOT2_SECTION}, "ax"\n{rows}\n')
    return out
