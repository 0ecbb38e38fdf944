"""atmega328p (Arduino Uno) on avr8js: program-memory data, exact counts and cycles,
sizes, stack, and clean errors when a tool is missing."""
from __future__ import annotations

import shutil
import sys

import numpy as np
import pytest

from emulation import BuildError, ToolMissing, build_firmware, run_elf

from .firmware_fixtures import COUNT_INPUTS, FIXTURES, ROOT, call_overhead, int8_inputs, size_table

ARCH = "atmega328p"


def test_counts_and_cycles_are_exact_and_deterministic(firmware):
    elf = firmware.elf("int8", ARCH)
    first, second = run_elf(elf, ARCH), run_elf(elf, ARCH)
    assert first.instructions_per_inference == second.instructions_per_inference
    assert first.cycles_per_inference == second.cycles_per_inference
    assert first.total_cycles == second.total_cycles and first.total_instructions == second.total_instructions
    assert first.engine.startswith("avr8js ")
    # Every AVR instruction takes one to five cycles.
    for n, c in zip(first.instructions_per_inference, first.cycles_per_inference):
        assert n < c < 5 * n
    assert first.metrics()["cycles"] == first.cycles > 0


def test_counts_and_cycles_equal_a_hand_count(firmware):
    """count_model: 7 + 2*n instructions and 11 + 3*n cycles (see its source) for input n."""
    elf = firmware.elf("count", ARCH)
    result = run_elf(elf, ARCH)
    overhead = call_overhead(elf, "avr-")
    n = [int(v) for v in COUNT_INPUTS[:, 0]]
    assert result.instructions_per_inference == [7 + 2 * k + overhead for k in n]
    assert result.outputs == [bytes([k]) for k in n]
    # The harness's cycles around the call are the same for every input.
    harness = result.cycles_per_inference[0] - (11 + 3 * n[0])
    assert result.cycles_per_inference == [11 + 3 * k + harness for k in n]
    assert 0 < harness < 4 * overhead


def test_inputs_come_from_program_memory(firmware):
    result = run_elf(firmware.elf("int8", ARCH), ARCH)
    assert result.inputs == [row.tobytes() for row in int8_inputs()]


def test_sizes_agree_with_binutils_and_tables_stay_in_flash(firmware):
    elf = firmware.elf("int8", ARCH)
    result = run_elf(elf, ARCH)
    sizes = size_table(elf, "avr-size")
    assert result.flash_bytes == sizes[".text"] + sizes.get(".data", 0)
    assert result.ram_bytes == sizes.get(".data", 0) + sizes.get(".bss", 0)
    assert result.sections["vectors"] == sizes[".tm_vectors"] == 6 * 16 + 4
    # Weights (64 B) and bias (16 B) in PROGMEM: RAM holds the input copy and the output only.
    assert result.ram_bytes == 16 + 4
    assert 0 < result.stack_bytes < 128
    assert result.flash_bytes < 2048


def test_stack_size_cannot_be_set(tmp_path):
    with pytest.raises(BuildError, match="stack size"):
        build_firmware(FIXTURES / "int8_model", int8_inputs(), ARCH, tmp_path, stack_size=1024)


def test_missing_toolchain_names_the_packages(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissing) as info:
        build_firmware(FIXTURES / "int8_model", np.zeros((1, 16), np.int8), ARCH, tmp_path)
    assert "apt-get install gcc-avr avr-libc binutils-avr" in str(info.value)


def test_missing_node_says_run_make_setup(firmware, tmp_path, monkeypatch):
    elf = firmware.elf("int8", ARCH)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("TM_NODE", raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))  # no Node.js beside Python either
    with pytest.raises(ToolMissing) as info:
        run_elf(elf, ARCH)
    assert "node not found" in str(info.value) and "make setup" in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_npm_packages_say_run_make_setup(firmware, tmp_path, monkeypatch):
    elf = firmware.elf("int8", ARCH)
    shutil.copytree(ROOT / "wokwi" / "engines", tmp_path / "engines")
    monkeypatch.setenv("TM_WOKWI_DIR", str(tmp_path))
    with pytest.raises(ToolMissing) as info:
        run_elf(elf, ARCH)
    assert "avr8js" in str(info.value) and "run make setup" in str(info.value)


def test_runner_itself_reports_missing_packages(firmware, tmp_path):
    """The Node runner, called directly without node_modules, says the same in one line."""
    import subprocess

    shutil.copytree(ROOT / "wokwi" / "engines", tmp_path / "engines")
    proc = subprocess.run(["node", str(tmp_path / "engines" / "avr-run.mjs"), str(firmware.elf("int8", ARCH))],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: the npm package avr8js is not installed in wokwi/node_modules: run make setup"]
