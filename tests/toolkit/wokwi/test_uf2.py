"""UF2 files for the Pico: written from the ELF as the RP2040 bootrom takes them, read back
with its rules, and loaded by the local engine instead of the ELF."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from toolkit.wokwi.uf2 import BLOCK, PAGE, RP2040_FAMILY_ID, Uf2Error, check_rp2040_uf2, read_uf2, write_uf2
from toolkit.wokwi.validate import check_project

from .projects import ROOT


@pytest.fixture(scope="module")
def pico(projects) -> Path:
    return projects("raspberry-pi-pico")


def _flash_image(elf: Path) -> dict[int, int]:
    """address -> byte of every load segment, at its load address."""
    out = {}
    with elf.open("rb") as f:
        for seg in ELFFile(f).iter_segments():
            if seg["p_type"] == "PT_LOAD":
                out.update((seg["p_paddr"] + i, b) for i, b in enumerate(seg.data()))
    return out


def test_pages_hold_exactly_the_elf_load_image(pico):
    uf2 = pico / "firmware.uf2"
    raw = uf2.read_bytes()
    pages = read_uf2(uf2)
    assert len(raw) == BLOCK * len(pages)
    for n, addr in enumerate(pages):  # header: flags (family ID present), address, size, number, total, family
        _m0, _m1, flags, a, size, number, total, family = struct.unpack_from("<8I", raw, n * BLOCK)
        assert (flags, a, size, number, total, family) == (0x2000, addr, PAGE, n, len(pages), RP2040_FAMILY_ID)
        assert addr % PAGE == 0
    image = _flash_image(pico / "firmware.elf")
    assert min(image) == 0x10000000
    written = {addr + i: b for addr, page in pages.items() for i, b in enumerate(page)}
    assert all(written[a] == b for a, b in image.items())  # every byte of the ELF, where it loads
    assert set(written) - set(image) and all(written[a] == 0 for a in set(written) - set(image))  # padding only
    assert set(pages) == {a & ~(PAGE - 1) for a in image}  # no page without content
    check_rp2040_uf2(uf2)  # boot2 at 0x10000000 passes the bootrom's CRC


def test_unaligned_segments_become_aligned_pages(tmp_path):
    """A load segment starting mid-page (and one sharing a page with it) gives whole aligned pages."""
    from emulation import build_program

    from .projects import FIXTURES, skip_unless_engine

    skip_unless_engine("raspberry-pi-pico")
    fw = build_program([FIXTURES / "echo_rp2040.c"], "rp2040", tmp_path, name="echo", harness=False)
    segs = [(s["p_paddr"], s["p_filesz"]) for s in ELFFile(fw.elf.open("rb")).iter_segments()
            if s["p_type"] == "PT_LOAD" and s["p_filesz"]]
    assert any(addr % PAGE for addr, _ in segs)  # the flash image of .data does not start on a page
    pages = read_uf2(write_uf2(fw.elf, tmp_path / "echo.uf2"))
    assert all(a % PAGE == 0 for a in pages) and len(pages) == len({a & ~(PAGE - 1) for a in _flash_image(fw.elf)})


def _blocks(path: Path) -> list[bytearray]:
    raw = path.read_bytes()
    return [bytearray(raw[i : i + BLOCK]) for i in range(0, len(raw), BLOCK)]


def _write(path: Path, blocks: list[bytearray]) -> Path:
    path.write_bytes(b"".join(blocks))
    return path


@pytest.mark.parametrize("damage, message", [
    (lambda b: b[0].__setitem__(slice(8, 12), (0).to_bytes(4, "little")), "not for family"),  # no family flag
    (lambda b: b[0].__setitem__(slice(28, 32), (0x1234).to_bytes(4, "little")), "not for family"),
    (lambda b: b[1].__setitem__(slice(12, 16), (0x10000180).to_bytes(4, "little")), "aligned"),
    (lambda b: b[1].__setitem__(slice(16, 20), (128).to_bytes(4, "little")), "256-byte pages"),
    (lambda b: b[1].__setitem__(slice(20, 24), (7).to_bytes(4, "little")), "block 1 says it is block 7"),
    (lambda b: b[0].__setitem__(0, 0), "no UF2 magic"),
    (lambda b: b.pop(), "says it is block"),  # a block missing: the count no longer matches
    (lambda b: b[0].__setitem__(32 + 40, b[0][32 + 40] ^ 1), "no valid boot2 stage"),
])
def test_damaged_files_are_refused_with_the_reason(pico, tmp_path, damage, message):
    blocks = _blocks(pico / "firmware.uf2")
    damage(blocks)
    bad = _write(tmp_path / "bad.uf2", blocks)
    with pytest.raises(Uf2Error, match=message):
        check_rp2040_uf2(bad)


def test_validation_and_the_local_run_use_the_uf2(pico, tmp_path):
    """A project whose UF2 has a broken boot2 fails validation; the engine's own UF2 reader
    refuses the same file with the same reason, even where the ELF beside it is fine."""
    import shutil

    from emulation.node import node_path

    copy = tmp_path / "pico"
    shutil.copytree(pico, copy, ignore=shutil.ignore_patterns("build", "src"))
    blocks = _blocks(copy / "firmware.uf2")
    blocks[0][32 + 8] ^= 0x40
    _write(copy / "firmware.uf2", blocks)
    with pytest.raises(Uf2Error, match="bootrom would not start it"):
        check_project(copy)
    steps = tmp_path / "steps.json"
    steps.write_text(json.dumps([{"wait-serial": "O:"}]))
    cmd = [node_path(), str(ROOT / "wokwi" / "engines" / "scenario.mjs"), "--engine", "rp2040",
           "--elf", str(copy / "firmware.elf"), "--steps", str(steps)]
    ok = subprocess.run([*cmd, "--firmware", str(pico / "firmware.uf2")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([*cmd, "--firmware", str(copy / "firmware.uf2")], capture_output=True, text=True)
    assert bad.returncode == 2 and "no valid boot2 stage" in bad.stderr
    blocks[0][32 + 8] ^= 0x40
    blocks[1][12:16] = (0x10000180).to_bytes(4, "little")
    _write(copy / "firmware.uf2", blocks)
    misaligned = subprocess.run([*cmd, "--firmware", str(copy / "firmware.uf2")], capture_output=True, text=True)
    assert misaligned.returncode == 2 and "256-byte-aligned" in misaligned.stderr


def test_the_uno_hex_is_read_by_the_engine(projects, tmp_path):
    """The Uno's Intel HEX, read by the engine's own reader: same run as from the ELF; a
    damaged checksum is refused."""
    from emulation.node import node_path

    uno = projects("arduino-uno")
    steps = tmp_path / "steps.json"
    steps.write_text(json.dumps([{"wait-serial": "O:"}]))
    cmd = [node_path(), str(ROOT / "wokwi" / "engines" / "scenario.mjs"), "--engine", "avr",
           "--elf", str(uno / "firmware.elf"), "--steps", str(steps), "--quiet"]
    from_hex = subprocess.run([*cmd, "--firmware", str(uno / "firmware.hex")], capture_output=True, text=True)
    from_elf = subprocess.run(cmd, capture_output=True, text=True)
    assert from_hex.returncode == from_elf.returncode == 0, from_hex.stderr
    assert json.loads(from_hex.stdout)["cycles"] == json.loads(from_elf.stdout)["cycles"]
    lines = (uno / "firmware.hex").read_text().splitlines()
    lines[3] = lines[3][:-2] + f"{(int(lines[3][-2:], 16) + 1) % 256:02X}"
    (tmp_path / "bad.hex").write_text("\n".join(lines) + "\n")
    bad = subprocess.run([*cmd, "--firmware", str(tmp_path / "bad.hex")], capture_output=True, text=True)
    assert bad.returncode == 2 and "bad checksum" in bad.stderr
