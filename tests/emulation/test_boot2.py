"""The RP2040 boot2 stage: its checksum, its build, and the image it starts."""
from __future__ import annotations

import subprocess

import pytest

from emulation import BuildError, get_arch
from emulation.boot2 import BOOT2_BYTES, BOOT2_LOAD_ADDRESS, BOOT2_PAYLOAD, boot2_crc, boot2_problem, pad_boot2
from emulation.elf import load_elf

from .firmware_fixtures import ROOT

ARCH = "rp2040"


def test_crc_is_the_bootrom_variant():
    """CRC-32/MPEG-2 (poly 0x04c11db7, init 0xffffffff, unreflected, no final xor): the
    catalogue's check value, and not the zlib CRC-32 of the same bytes."""
    import zlib

    assert boot2_crc(b"123456789") == 0x0376E6E7
    assert boot2_crc(b"") == 0xFFFFFFFF
    assert boot2_crc(b"123456789") != zlib.crc32(b"123456789")


def test_padding_and_checksum_layout():
    stage = pad_boot2(b"\x01\x02\x03")
    assert len(stage) == BOOT2_BYTES and stage[:3] == b"\x01\x02\x03" and stage[3:BOOT2_PAYLOAD] == bytes(249)
    assert int.from_bytes(stage[BOOT2_PAYLOAD:], "little") == boot2_crc(stage[:BOOT2_PAYLOAD])
    assert boot2_problem(stage) is None
    for i in (0, 100, 251, 252, 255):  # any flipped bit, in the code or in the CRC, is caught
        bad = bytearray(stage)
        bad[i] ^= 0x10
        assert "no valid boot2 stage" in boot2_problem(bytes(bad))
    assert "needs 256" in boot2_problem(stage[:200])
    with pytest.raises(BuildError, match="only 252"):
        pad_boot2(bytes(253))


def test_the_js_engine_computes_the_same_crc(tmp_path):
    """The rp2040js machine checks boot2 with its own CRC code: same values as the build's."""
    from emulation.node import node_path

    from .firmware_fixtures import require_arch

    require_arch(ARCH)
    samples = [b"123456789", bytes(range(252)), pad_boot2(b"\xff" * 68)[:252]]
    script = ("import { boot2Crc } from '%s';\n"
              "for (const hex of process.argv.slice(1)) console.log(boot2Crc(Buffer.from(hex, 'hex')));\n"
              % (ROOT / "wokwi" / "engines" / "rp2040-machine.mjs").as_posix())
    out = subprocess.run([node_path(), "--input-type=module", "-e", script, *(s.hex() for s in samples)],
                         capture_output=True, text=True, check=True, cwd=ROOT / "wokwi").stdout.split()
    assert [int(v) for v in out] == [boot2_crc(s) for s in samples]


def test_image_starts_with_boot2_then_the_vector_table(firmware):
    """256 bytes at 0x10000000 that pass the bootrom's check, code that the stage's own
    disassembly shows, and the vector table where boot2 hands over (0x10000100)."""
    elf = firmware.elf("int8", ARCH)
    image = load_elf(elf)
    assert image.symbol("__boot2_start") == 0x10000000 and image.symbol("__boot2_end") == 0x10000100
    assert image.symbol("tm_vector_table") == 0x10000100
    flash = _flash_bytes(elf, 0x10000000, BOOT2_BYTES + 8)
    assert boot2_problem(flash[:BOOT2_BYTES]) is None
    stack_top, reset = int.from_bytes(flash[256:260], "little"), int.from_bytes(flash[260:264], "little")
    assert stack_top == image.symbol("__stack_top") and reset == image.symbol("Reset_Handler") and reset & 1
    # The stage as assembled: ends by loading SP and PC from the table and branching.
    text = subprocess.run(["arm-none-eabi-objdump", "-d", str(elf.parent / "boot2.elf")], capture_output=True,
                          text=True, check=True).stdout
    assert "<_boot2>:" in text and "msr\tMSP, r0" in text and "bx\tr1" in text
    assert f"{BOOT2_LOAD_ADDRESS:08x} <_boot2>" in text  # linked where the bootrom runs it


def test_a_stage_too_big_for_the_bootrom_is_refused(tmp_path):
    """boot2.ld keeps the stage within the 252 checked bytes: a bigger one does not link."""
    from emulation import build

    from .firmware_fixtures import require_arch

    require_arch(ARCH)
    fw = tmp_path / "firmware"
    (fw / "rp2040").mkdir(parents=True)
    big = (ROOT / "firmware" / "rp2040" / "boot2.S").read_text().replace(".ltorg", ".ltorg\n    .space 200")
    (fw / "rp2040" / "boot2.S").write_text(big)
    (fw / "rp2040" / "boot2.ld").write_text((ROOT / "firmware" / "rp2040" / "boot2.ld").read_text())
    with pytest.raises(BuildError, match="boot2"):
        build.build_boot2(get_arch(ARCH), fw, tmp_path)


def _flash_bytes(elf, address: int, size: int) -> bytes:
    from elftools.elf.elffile import ELFFile

    out = bytearray(size)
    with open(elf, "rb") as f:
        for seg in ELFFile(f).iter_segments():
            if seg["p_type"] == "PT_LOAD":
                data, start = seg.data(), seg["p_paddr"]
                for i in range(size):
                    if start <= address + i < start + len(data):
                        out[i] = data[address + i - start]
    return bytes(out)
