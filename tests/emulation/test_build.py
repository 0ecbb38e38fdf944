"""Cross-compiling fixture models; the firmware layout."""
from __future__ import annotations

import numpy as np
import pytest
from .firmware_fixtures import FIXTURES

from emulation import ARCHS, BuildError, ToolMissing, build_firmware
from emulation.elf import load_elf


def test_build_keeps_elf_and_map(firmware):
    elf = firmware.elf("int8", "cortex-m4")
    assert elf.with_suffix(".map").is_file()
    assert "tm_inputs" in elf.with_suffix(".map").read_text()


def _flash(image) -> tuple[int, int]:
    """(start, end) of program memory: from the linker script's symbols; AVR: 32 KB at 0."""
    if image.machine == "EM_AVR":
        return 0, 0x8000
    start = image.symbol("__flash_origin")
    return start, start + image.symbol("__flash_size")


@pytest.mark.parametrize("arch", list(ARCHS))
def test_test_vectors_come_last_in_flash(firmware, arch):
    image = load_elf(firmware.elf("float", arch))
    lo, hi = _flash(image)
    flash_ends = [address + len(data) for address, data in image.segments if lo <= address < hi]
    vectors = next(s for s in image.sections if s[0] == ".tm_vectors")
    assert vectors[1] + vectors[2] == max(flash_ends)
    others = [a + s for name, a, s, flags, _t in image.sections
              if flags & 2 and lo <= a < hi and name != ".tm_vectors"]
    assert vectors[1] >= max(others)
    assert image.symbol("tm_n_inputs") is not None and vectors[1] <= image.symbol("tm_inputs")


def test_wrong_vector_size_fails_to_build(tmp_path):
    with pytest.raises(BuildError) as info:
        build_firmware(FIXTURES / "int8_model", np.zeros((2, 15), np.int8), "cortex-m4", tmp_path)
    assert "tm_vectors_check_size" in str(info.value) or "error" in str(info.value)


def test_wrong_vector_type_fails_to_build(tmp_path):
    with pytest.raises(BuildError):
        build_firmware(FIXTURES / "int8_model", np.zeros((2, 16), np.float32), "cortex-m4", tmp_path)


def test_missing_cross_compiler_names_the_packages(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissing) as info:
        build_firmware(FIXTURES / "int8_model", np.zeros((1, 16), np.int8), "cortex-m4", tmp_path)
    assert "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi" in str(info.value)


def test_unsupported_vector_dtype(tmp_path):
    with pytest.raises(ValueError):
        build_firmware(FIXTURES / "int8_model", np.zeros((1, 16), np.int16), "cortex-m4", tmp_path)
