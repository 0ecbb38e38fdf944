"""rv32imc (ESP32-C3 core) on Unicorn: exact counts, sizes, stack, tool errors."""
from __future__ import annotations

import numpy as np
import pytest
from unicorn import UC_HOOK_CODE

from emulation import ToolMissing, build_firmware, get_arch, run_elf
from emulation.elf import load_elf
from emulation.riscv import RiscvRun

from .firmware_fixtures import COUNT_INPUTS, FIXTURES, call_overhead, size_table

ARCH = "rv32imc"


@pytest.mark.parametrize("model", ["int8", "float"])
def test_block_counts_equal_per_instruction_counts(firmware, model):
    """The native counter decodes RISC-V lengths (16-bit compressed, 32-bit); a Python
    code hook counts every executed instruction one by one."""
    elf = firmware.elf(model, ARCH)
    run = RiscvRun(load_elf(elf), get_arch(ARCH), 10**9)
    executed = [0]
    run.uc.hook_add(UC_HOOK_CODE, lambda uc, address, size, _ud: executed.__setitem__(0, executed[0] + 1))
    try:
        run.run()
        native = run.counter.total
    finally:
        run.close()
    assert native == executed[0] == run_elf(elf, ARCH).total_instructions
    assert native > 1000


def test_counts_equal_a_hand_count(firmware):
    """count_model runs 4 + 2*n instructions (see its source) for input n."""
    elf = firmware.elf("count", ARCH)
    result = run_elf(elf, ARCH)
    overhead = call_overhead(elf, "riscv64-unknown-elf-")
    assert result.instructions_per_inference == [4 + 2 * int(n) + overhead for n in COUNT_INPUTS[:, 0]]
    assert result.outputs == [bytes([int(n)]) for n in COUNT_INPUTS[:, 0]]


def test_counts_are_deterministic_and_compressed_code_is_used(firmware):
    elf = firmware.elf("int8", ARCH)
    first, second = run_elf(elf, ARCH), run_elf(elf, ARCH)
    assert first.instructions_per_inference == second.instructions_per_inference
    assert first.total_instructions == second.total_instructions and first.stack_bytes == second.stack_bytes
    assert first.cycles is None and first.engine.startswith("unicorn")
    assert "c2p0" in load_elf(elf).riscv_isa  # RVC: 16-bit instructions are in the mix


def test_sizes_agree_with_binutils(firmware):
    elf = firmware.elf("int8", ARCH)
    result = run_elf(elf, ARCH)
    sizes = size_table(elf, "riscv64-unknown-elf-size")
    assert result.flash_bytes == sum(sizes.get(s, 0) for s in (".text", ".rodata", ".data"))
    assert result.ram_bytes == sizes.get(".data", 0) + sizes.get(".bss", 0)
    assert result.sections["vectors"] == sizes[".tm_vectors"] > 0
    assert result.flash_bytes < 1024


def test_stack_peak_is_measured(firmware):
    small = run_elf(firmware.elf("int8", ARCH), ARCH)
    big = run_elf(firmware.elf("faults", ARCH, "-DFAULT=8"), ARCH)  # 2 KB stack buffer
    assert 0 < small.stack_bytes < 256
    assert 2048 < big.stack_bytes < 2048 + 256


def test_missing_toolchain_names_the_packages(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissing) as info:
        build_firmware(FIXTURES / "int8_model", np.zeros((1, 16), np.int8), ARCH, tmp_path)
    assert "apt-get install gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf" in str(info.value)
