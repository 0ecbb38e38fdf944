"""Second opinion: QEMU's MPS2 boards print the same outputs and count the same instructions."""
from __future__ import annotations

import shutil

import pytest

from emulation import run_elf
from emulation.qemu import run_qemu
from emulation.result import parse_console

pytestmark = pytest.mark.skipif(shutil.which("qemu-system-arm") is None,
                                reason="qemu-system-arm not installed (apt-get install qemu-system-arm)")


@pytest.mark.parametrize("arch", ["cortex-m3", "cortex-m4", "cortex-m7"])
@pytest.mark.parametrize("model", ["int8", "float"])
def test_qemu_prints_the_same_outputs(firmware, model, arch):
    elf = firmware.elf(model, arch)
    qemu = run_qemu(elf, arch, timeout=60)
    assert qemu.returncode == 0, qemu.console
    assert parse_console(qemu.console) == run_elf(elf, arch).outputs


@pytest.mark.parametrize("arch,model", [
    ("cortex-m4", "float"), ("cortex-m4", "int8"), ("cortex-m3", "int8"), ("cortex-m7", "count")])
def test_qemu_counts_the_same_instructions(firmware, arch, model):
    elf = firmware.elf(model, arch)
    qemu = run_qemu(elf, arch, timeout=60, count=True)
    result = run_elf(elf, arch)
    assert qemu.total_instructions == result.total_instructions
    assert qemu.instructions_per_inference == result.instructions_per_inference
