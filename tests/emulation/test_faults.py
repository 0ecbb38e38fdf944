"""Every fault kind ends the run with a clean, located error."""
from __future__ import annotations

import subprocess

import pytest

from emulation import GuestFault, UnknownArch, run_elf

# FAULT id in fixtures/faults/model.h -> (kind, function at pc)
CASES = {
    "null_write": (1, "protected_access", "model_invoke"),
    "unmapped_write": (2, "unmapped_access", "model_invoke"),
    "recursion": (3, "stack_overflow", "deeper"),
    "runaway": (4, "runaway", "model_invoke"),
    "undefined": (5, "undefined_instruction", "model_invoke"),
    "hardfault": (6, "hardfault", "model_invoke"),
    "error_code": (7, "guest_error", "tm_exit"),
}


def _fault(elf, arch: str, **kwargs) -> GuestFault:
    with pytest.raises(GuestFault) as info:
        run_elf(elf, arch, **kwargs)
    return info.value


def _clean_fault(elf, arch: str, kind: str, function: str) -> GuestFault:
    """The fault of the expected kind, located in `function`, reported on one line."""
    err = _fault(elf, arch, instruction_limit=2_000_000)
    assert err.fault.kind == kind
    assert err.fault.symbol == function, err
    assert err.fault.pc is not None
    message = str(err)
    assert "\n" not in message and kind in message and function in message
    return err


def _symbol(elf, name: str, nm: str = "arm-none-eabi-nm") -> int:
    out = subprocess.run([nm, str(elf)], capture_output=True, text=True, check=True).stdout
    return next(int(line.split()[0], 16) for line in out.splitlines() if line.split()[-1] == name)


@pytest.mark.parametrize("arch", ["cortex-m0plus", "cortex-m4"])
@pytest.mark.parametrize("case", list(CASES))
def test_fault_kinds(firmware, case, arch):
    fault_id, kind, function = CASES[case]
    elf = firmware.elf("faults", arch, f"-DFAULT={fault_id}")
    err = _clean_fault(elf, arch, kind, function)
    message = str(err)
    if case == "null_write":
        assert err.fault.address == 0 and "null pointer" in message
    if case == "unmapped_write":
        assert err.fault.address == 0x60000000
    if case == "recursion":
        limit = _symbol(elf, "__stack_limit")
        assert limit - 4096 <= err.fault.address < limit
    if case == "error_code":
        assert "returned 3" in message and err.console == "E:00000000:03\n"


def test_m4_build_on_m0plus_is_refused_clearly(firmware):
    elf = firmware.elf("float", "cortex-m4")
    err = _fault(elf, "cortex-m0plus")
    assert err.fault.kind == "arch_mismatch"
    assert "cortex-m0plus" in str(err) and "FPU" in str(err) and "ARMv7E-M" in str(err)
    # Forced to run anyway, the first Thumb-2 instruction is undefined on an M0+.
    err = _fault(elf, "cortex-m0plus", check_arch=False)
    assert err.fault.kind == "undefined_instruction"
    assert "ARMv7E-M" in str(err) and err.fault.symbol is not None


def test_double_precision_build_on_single_precision_core(firmware):
    err = _fault(firmware.elf("int8", "cortex-m7"), "cortex-m4")
    assert err.fault.kind == "arch_mismatch" and "double-precision" in str(err)


def test_compatible_older_builds_run(firmware, host_outputs):
    # ARMv6-M code runs on every core; ARMv7E-M + single-precision FPU on the M33.
    assert run_elf(firmware.elf("int8", "cortex-m0plus"), "cortex-m7").outputs == host_outputs("int8")
    assert run_elf(firmware.elf("float", "cortex-m4"), "cortex-m33").outputs == host_outputs("float")


def test_start_up_must_enable_the_fpu(firmware):
    # -U__ARM_FP makes startup.c skip its CPACR write while the code still uses the FPU.
    err = _fault(firmware.elf("float", "cortex-m4", "-U__ARM_FP"), "cortex-m4")
    assert err.fault.kind == "fpu_disabled" and "CPACR" in str(err)


def test_unknown_arch_lists_the_known_ones(firmware):
    with pytest.raises(UnknownArch) as info:
        run_elf(firmware.elf("int8", "cortex-m4"), "cortex-m5")
    for name in ("cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33"):
        assert name in str(info.value)


# The cores beyond Cortex-M on Unicorn: the faults each engine can detect.
OTHER_CORES = {
    "rv32imc": {"null_write": "unmapped_access", "unmapped_write": "unmapped_access",
                "recursion": "stack_overflow", "runaway": "runaway", "undefined": "undefined_instruction",
                "error_code": "guest_error"},
    # AVR: address 0 is register r0 (no fault), and there is no undefined instruction.
    "atmega328p": {"unmapped_write": "unmapped_access", "recursion": "stack_overflow", "runaway": "runaway",
                   "error_code": "guest_error"},
    # Address 0 is the bootrom; exception handlers are watched as on Unicorn.
    "rp2040": {"null_write": "protected_access", "unmapped_write": "unmapped_access",
               "recursion": "stack_overflow", "runaway": "runaway", "undefined": "undefined_instruction",
               "hardfault": "hardfault", "error_code": "guest_error"},
}


@pytest.mark.parametrize("arch,case", [(arch, case) for arch, cases in OTHER_CORES.items() for case in cases])
def test_fault_kinds_on_other_cores(firmware, arch, case):
    fault_id, _kind, function = CASES[case]
    kind = OTHER_CORES[arch][case]
    err = _clean_fault(firmware.elf("faults", arch, f"-DFAULT={fault_id}"), arch, kind, function)
    message = str(err)
    if case == "null_write":
        assert err.fault.address == 0 and "null pointer" in message
    if case == "unmapped_write":
        assert err.fault.address == (0x1000 if arch == "atmega328p" else 0x60000000)
    if case == "runaway":
        assert "2,000,000" in message
    if case == "error_code":
        assert "returned 3" in message and err.console == "E:00000000:03\n"


def test_stack_overflow_is_located(firmware):
    # rv32imc: a store into the 4 KB guard below the stack; the others check the stack pointer.
    elf = firmware.elf("faults", "rv32imc", "-DFAULT=3")
    limit = _symbol(elf, "__stack_limit", "riscv64-unknown-elf-nm")
    assert limit - 4096 <= _fault(elf, "rv32imc").fault.address < limit
    elf = firmware.elf("faults", "rp2040", "-DFAULT=3")
    assert _fault(elf, "rp2040").fault.address < _symbol(elf, "__stack_limit")
    # 2 KB of SRAM: a 2 KB stack buffer cannot fit; the stack runs into .bss.
    err = _fault(firmware.elf("faults", "atmega328p", "-DFAULT=8"), "atmega328p")
    assert err.fault.kind == "stack_overflow" and err.fault.address < _symbol(
        firmware.elf("faults", "atmega328p", "-DFAULT=8"), "__bss_end", "avr-nm") - 0x800000


@pytest.mark.parametrize("elf_arch,arch,needle", [
    ("int8:cortex-m0plus", "rp2040", "0x10000000"),  # MPS2 memory map, not the RP2040's
    ("int8:atmega328p", "rp2040", "AVR ELF"),
    ("int8:rp2040", "atmega328p", "ARM ELF"),
    ("int8:rv32imc", "cortex-m4", "RISC-V ELF"),
    ("int8:cortex-m4", "rv32imc", "ARM ELF"),
])
def test_elf_for_another_core_is_refused(firmware, elf_arch, arch, needle):
    model, built_for = elf_arch.split(":")
    err = _fault(firmware.elf(model, built_for), arch)
    assert err.fault.kind == "arch_mismatch" and needle in str(err) and arch in str(err)


def test_rv32_extensions_beyond_imc_are_refused(firmware):
    elf = firmware.elf("int8", "rv32imc", "-march=rv32imac")
    err = _fault(elf, "rv32imc")
    assert err.fault.kind == "arch_mismatch" and "A extension" in str(err)
