"""rp2040 (Raspberry Pi Pico) on rp2040js, checked against the Unicorn Cortex-M0+ run."""
from __future__ import annotations

import pytest

from emulation import run_elf
from emulation.elf import load_elf

from .firmware_fixtures import COUNT_INPUTS, size_table

ARCH = "rp2040"


@pytest.mark.parametrize("model", ["int8", "float"])
def test_same_outputs_and_counts_as_unicorn_cortex_m0plus(firmware, model):
    """The same model on two engines: rp2040js (RP2040 memory map, UART console) and
    Unicorn (MPS2 map, semihosting). Same code, so the same outputs and instruction counts."""
    pico = run_elf(firmware.elf(model, ARCH), ARCH)
    m0 = run_elf(firmware.elf(model, "cortex-m0plus"), "cortex-m0plus")
    assert pico.outputs == m0.outputs and len(pico.outputs) == 6
    assert pico.inputs == m0.inputs
    assert pico.instructions_per_inference == m0.instructions_per_inference
    assert pico.marker_overhead == m0.marker_overhead
    assert pico.stack_bytes == m0.stack_bytes
    assert pico.cycles is not None and m0.cycles is None
    for n, c in zip(pico.instructions_per_inference, pico.cycles_per_inference):
        assert n <= c < 4 * n


def test_image_runs_from_flash_at_0x10000000(firmware):
    image = load_elf(firmware.elf("int8", ARCH))
    assert image.symbol("__flash_origin") == 0x10000000 and image.symbol("__ram_origin") == 0x20000000
    assert image.symbol("__stack_top") == 0x20000000 + 264 * 1024
    assert image.function_at(image.symbol("model_invoke")) == "model_invoke"
    assert 0x10000000 <= image.symbol("model_invoke") < 0x10200000


def test_cycles_per_loop_iteration(firmware):
    """count_model's loop (subs, bne) costs 3 cycles per iteration on rp2040js (taken branch: 2)."""
    result = run_elf(firmware.elf("count", ARCH), ARCH)
    n = [int(v) for v in COUNT_INPUTS[:, 0]]
    base = result.cycles_per_inference[0] - 3 * n[0]
    assert result.cycles_per_inference == [base + 3 * k for k in n]
    first, second = result, run_elf(firmware.elf("count", ARCH), ARCH)
    assert first.total_cycles == second.total_cycles


def test_sizes_agree_with_binutils(firmware):
    elf = firmware.elf("int8", ARCH)
    result = run_elf(elf, ARCH)
    sizes = size_table(elf, "arm-none-eabi-size")
    assert sizes[".boot2"] == 256
    assert result.flash_bytes == sum(sizes.get(s, 0) for s in (".boot2", ".isr_vector", ".text", ".rodata",
                                                               ".ARM.exidx", ".data"))
    assert result.ram_bytes == sizes.get(".data", 0) + sizes.get(".bss", 0)
    assert result.sections["vectors"] == sizes[".tm_vectors"]


def test_stack_peak_is_measured(firmware):
    big = run_elf(firmware.elf("faults", ARCH, "-DFAULT=8"), ARCH)  # 2 KB stack buffer
    assert 2048 < big.stack_bytes < 2048 + 512


def test_instruction_limit_is_exact(firmware):
    from emulation import GuestFault

    elf = firmware.elf("count", ARCH)
    total = run_elf(elf, ARCH).total_instructions
    assert run_elf(elf, ARCH, instruction_limit=total).total_instructions == total
    with pytest.raises(GuestFault) as info:
        run_elf(elf, ARCH, instruction_limit=total - 50)
    assert info.value.fault.kind == "runaway"
