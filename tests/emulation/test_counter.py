"""The native block counter against an independent per-instruction count."""
from __future__ import annotations

import pytest
from unicorn import UC_ARCH_ARM, UC_HOOK_CODE, UC_HOOK_INTR, UC_MODE_THUMB, Uc
from unicorn.arm_const import UC_ARM_REG_PC, UC_ARM_REG_SP

from emulation import ToolMissing, get_arch, run_elf
from emulation import counter
from emulation.elf import load_elf
from emulation.memory import ControlSpace, Layout, map_memory
from emulation.semihosting import Semihost


def _count_with_code_hook(elf, arch: str) -> int:
    """Executed instructions counted one by one in Python (UC_HOOK_CODE)."""
    image = load_elf(elf)
    uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB)
    uc.ctl_set_cpu_model(get_arch(arch).unicorn_model)
    map_memory(uc, image, Layout.from_elf(image), ControlSpace())
    semihost = Semihost()
    n = [0]

    def on_code(uc, address, size, _ud):
        n[0] += 1

    def on_intr(uc, intno, _ud):
        pc = uc.reg_read(UC_ARM_REG_PC)
        semihost.call(uc)
        if semihost.exited:
            uc.emu_stop()
        else:
            uc.reg_write(UC_ARM_REG_PC, (pc + 2) | 1)

    uc.hook_add(UC_HOOK_CODE, on_code)
    uc.hook_add(UC_HOOK_INTR, on_intr)
    uc.reg_write(UC_ARM_REG_SP, int.from_bytes(uc.mem_read(0, 4), "little"))
    uc.emu_start(int.from_bytes(uc.mem_read(4, 4), "little"), 0xDFFFFFF0)
    assert semihost.exited
    return n[0]


@pytest.mark.parametrize("model", ["int8", "float"])
def test_block_counts_equal_per_instruction_counts(firmware, model):
    # ARMv6-M has no IT blocks, whose condition-failed instructions a code hook skips
    # (QEMU checks the Thumb-2 cores in test_qemu.py). Its code has 32-bit BLs too.
    elf = firmware.elf(model, "cortex-m0plus")
    assert run_elf(elf, "cortex-m0plus").total_instructions == _count_with_code_hook(elf, "cortex-m0plus")


def test_counter_is_built_into_a_fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TM_EMULATION_CACHE", str(tmp_path))
    path = counter.library_path()
    assert path.parent == tmp_path and path.exists()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary files left
    assert counter.library_path() == path


def test_missing_host_compiler_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setenv("TM_EMULATION_CACHE", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CC", raising=False)
    with pytest.raises(ToolMissing) as info:
        counter.library_path()
    assert "C compiler" in str(info.value) and "\n" not in str(info.value)
