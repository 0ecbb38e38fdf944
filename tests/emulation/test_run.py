"""Outputs and metrics of fixture firmware on every core."""
from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
from .firmware_fixtures import ALL_ARCHS, CORTEX_M, COUNT_INPUTS, float_inputs, int8_inputs, size_table

from emulation import run_elf
from emulation.result import parse_console


@pytest.mark.parametrize("arch", ALL_ARCHS)
@pytest.mark.parametrize("model", ["int8", "float"])
def test_outputs_match_host_build(firmware, host_outputs, model, arch):
    result = run_elf(firmware.elf(model, arch), arch)
    expected = host_outputs(model)
    assert len(expected) == len(int8_inputs() if model == "int8" else float_inputs())
    assert result.outputs == expected
    # The console lines (semihosting) carry the same bytes as the marker copies.
    assert parse_console(result.console) == expected


@pytest.mark.parametrize("model", ["int8", "float"])
def test_inputs_seen_by_the_guest_are_the_test_vectors(firmware, model):
    inputs = int8_inputs() if model == "int8" else float_inputs()
    result = run_elf(firmware.elf(model, "cortex-m4"), "cortex-m4")
    assert result.inputs == [row.astype(inputs.dtype.newbyteorder("<")).tobytes() for row in inputs]


def test_outputs_array(firmware, host_outputs):
    result = run_elf(firmware.elf("float", "cortex-m4"), "cortex-m4")
    arr = result.outputs_array(np.float32)
    assert arr.shape == (len(float_inputs()), 3)
    assert arr.tobytes() == b"".join(host_outputs("float"))


@pytest.mark.parametrize("arch", ["cortex-m0plus", "cortex-m4"])
def test_counts_are_deterministic(firmware, arch):
    first = run_elf(firmware.elf("float", arch), arch)
    second = run_elf(firmware.elf("float", arch), arch)
    assert first.instructions_per_inference == second.instructions_per_inference
    assert first.total_instructions == second.total_instructions
    assert first.stack_bytes == second.stack_bytes
    assert first.instructions > 0


def _objdump_function(elf, name: str) -> list[tuple[str, str]]:
    """(mnemonic, operands) of each instruction of function `name`."""
    text = subprocess.run(["arm-none-eabi-objdump", "-d", f"--disassemble={name}", str(elf)],
                          capture_output=True, text=True, check=True).stdout
    insns = []
    for line in text.splitlines():
        m = re.match(r"^\s*[0-9a-f]+:\s+(?:[0-9a-f]{4}\s?){1,2}\s+(\S+)\s*(.*)$", line)
        if m and not m.group(1).startswith("."):
            insns.append((m.group(1), m.group(2)))
    return insns


def _window(insns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Instructions after `bl tm_mark_begin` up to and including `bl tm_mark_end`."""
    begin = next(i for i, (op, args) in enumerate(insns) if op == "bl" and "<tm_mark_begin>" in args)
    end = next(i for i, (op, args) in enumerate(insns) if op == "bl" and "<tm_mark_end>" in args)
    window = insns[begin + 1:end + 1]
    # Straight-line code only, or a static count would not be the executed one.
    assert not [op for op, _ in window if op.startswith(("b", "cb", "it")) and op not in ("bl", "bic", "bics")]
    return window


@pytest.mark.parametrize("arch", [*CORTEX_M, "rp2040"])
def test_counts_equal_a_hand_count(firmware, arch):
    """count_model runs 4 + 2*n instructions (see its source) for input n."""
    elf = firmware.elf("count", arch)
    result = run_elf(elf, arch)
    # What the harness adds around model_invoke, read off the disassembly.
    measured = _window(_objdump_function(elf, "tm_invoke"))
    calibration = _window(_objdump_function(elf, "tm_calibrate"))
    assert any(op == "bl" and "<model_invoke>" in args for op, args in measured)
    call_overhead = len(measured) - len(calibration)
    expected = [4 + 2 * int(n) + call_overhead for n in COUNT_INPUTS[:, 0]]
    assert result.instructions_per_inference == expected
    assert result.outputs == [bytes([int(n)]) for n in COUNT_INPUTS[:, 0]]
    assert result.instructions_min == min(expected) and result.instructions_max == max(expected)



@pytest.mark.parametrize("arch", ["cortex-m0plus", "cortex-m4"])
def test_sizes_agree_with_binutils(firmware, arch):
    elf = firmware.elf("int8", arch)
    result = run_elf(elf, arch)
    sizes = size_table(elf, "arm-none-eabi-size")
    flash = sum(sizes.get(s, 0) for s in (".isr_vector", ".text", ".rodata", ".ARM.exidx", ".data"))
    assert result.flash_bytes == flash
    assert result.ram_bytes == sizes.get(".data", 0) + sizes.get(".bss", 0)
    assert result.sections["vectors"] == sizes[".tm_vectors"] > 0
    assert result.flash_bytes < 2048, "the whole firmware for a small model must stay far below 2 KB"


def test_stack_peak_is_measured(firmware):
    small = run_elf(firmware.elf("int8", "cortex-m4"), "cortex-m4")
    big = run_elf(firmware.elf("faults", "cortex-m4", "-DFAULT=8"), "cortex-m4")  # 2 KB stack buffer
    assert 0 < small.stack_bytes < 512
    assert 2048 < big.stack_bytes < 2048 + 512


def test_instruction_limit_stops_a_long_run(firmware):
    from emulation import GuestFault

    elf = firmware.elf("count", "cortex-m4")
    total = run_elf(elf, "cortex-m4").total_instructions
    with pytest.raises(GuestFault) as info:
        run_elf(elf, "cortex-m4", instruction_limit=total - 50)
    assert info.value.fault.kind == "runaway"
    assert run_elf(elf, "cortex-m4", instruction_limit=total).total_instructions == total
