"""Backend "unicorn-arm": a Cortex-M core on Unicorn.

ArmRun adds to UnicornRun (runner.py) what Cortex-M firmware needs: the vector table
(initial SP and reset vector), ARM semihosting for the console and exit, a System
Control Space page (to check that start-up enables the FPU), and hooks on the
exception handlers so that a HardFault is reported with the faulting PC.
"""
from __future__ import annotations

from pathlib import Path

from unicorn import UC_ARCH_ARM, UC_HOOK_CODE, UC_MODE_THUMB, Uc, UcError
from unicorn.arm_const import UC_ARM_REG_LR, UC_ARM_REG_PC, UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_SP

from .arch import Arch
from .counter import ISA_THUMB
from .elf import ElfImage
from .errors import GuestFault
from .memory import PROTECT_PAGE, ControlSpace
from .result import RunResult
from .runner import UnicornRun, run_unicorn
from .semihosting import Semihost, SemihostingError

# emu_start needs an end address; never reached (not in 0xFxxxxxxx, EXC_RETURN space).
_SENTINEL = 0xDFFFFFF0

# QEMU's ARM exception numbers, as Unicorn passes them to UC_HOOK_INTR.
_EXCP_BKPT = 7
_EXCEPTION_NAMES = {
    1: "undefined instruction", 2: "svc instruction", 3: "prefetch abort", 4: "data abort",
    7: "breakpoint", 8: "exception return", 16: "semihosting trap",
    17: "coprocessor (FPU) access while disabled", 18: "invalid state (branch without the Thumb bit?)",
    19: "stack limit violation", 22: "unaligned access", 23: "division by zero",
}
_VECTOR_NAMES = {2: "NMI", 3: "HardFault", 4: "MemManage", 5: "BusFault", 6: "UsageFault",
                 11: "SVCall", 12: "DebugMonitor", 14: "PendSV", 15: "SysTick"}

class ArmRun(UnicornRun):
    """A Cortex-M core: vector table, semihosting, System Control Space, exception handlers."""

    UC_ARCH = UC_ARCH_ARM
    UC_MODE = UC_MODE_THUMB
    REG_PC = UC_ARM_REG_PC
    REG_SP = UC_ARM_REG_SP
    ARG_REGS = (UC_ARM_REG_R0, UC_ARM_REG_R1)
    COUNTER_ISA = ISA_THUMB
    PROTECT_PAGE = PROTECT_PAGE
    SENTINEL = _SENTINEL
    EXIT_CALL = "a semihosting SYS_EXIT"

    def __init__(self, image: ElfImage, arch: Arch, instruction_limit: int, timing: bool = True):
        self.scs = ControlSpace()
        self.fpu_checked = False
        super().__init__(image, arch, instruction_limit, timing)

    @property
    def semihost(self) -> Semihost:
        return self.host

    def control_space(self) -> ControlSpace | None:
        return self.scs

    def install_core_hooks(self) -> None:
        for address, names in self._handlers().items():
            self.uc.hook_add(UC_HOOK_CODE, self._on_handler, user_data=names, begin=address, end=address)

    def _handlers(self) -> dict[int, list[str]]:
        """Exception handler addresses from the vector table -> exception names."""
        handlers: dict[int, list[str]] = {}
        base = self.layout.flash.start
        for index, name in _VECTOR_NAMES.items():
            value = int.from_bytes(self.uc.mem_read(base + 4 * index, 4), "little")
            if value not in (0, 0xFFFFFFFF) and self.layout.flash.contains(value & ~1):
                handlers.setdefault(value & ~1, []).append(name)
        for address in (self.markers.begin, self.markers.end):
            handlers.pop(address, None)
        return handlers

    def on_first_marker(self) -> None:
        if not self.fpu_checked:
            self._check_fpu_enabled()

    def _check_fpu_enabled(self) -> None:
        self.fpu_checked = True
        if self.arch.fpu and self.image.attributes.fp_arch and not self.scs.fpu_enabled:
            pc = self.uc.reg_read(UC_ARM_REG_PC)
            self._stop(self._fault("fpu_disabled", "the firmware uses the FPU but start-up did not enable "
                                   "it (CPACR 0xE000ED88 bits 20-23); a real chip faults on the first "
                                   "FPU instruction", pc=pc))

    def _on_handler(self, uc: Uc, address: int, size: int, names: list[str]) -> None:
        lr = uc.reg_read(UC_ARM_REG_LR)
        name = "HardFault" if "HardFault" in names else names[0]
        if lr >> 28 == 0xF:  # EXC_RETURN: a real exception entry; the frame holds the faulting pc
            sp = uc.reg_read(UC_ARM_REG_SP)
            pc = int.from_bytes(uc.mem_read(sp + 24, 4), "little")
            how = "on an exception"
        else:
            pc = (lr & ~1) - 2  # inside the call instruction
            how = "by a direct call"
        handler = self.image.function_at(address) or f"0x{address:08x}"
        shared = f", shared by {len(names)} vectors" if len(names) > 1 else ""
        self._stop(self._fault("hardfault" if name == "HardFault" else "exception_handler",
                               f"the guest entered its {name} handler ({handler}{shared}) {how}", pc=pc))

    def on_interrupt(self, uc: Uc, intno: int, _ud: object) -> None:
        pc = uc.reg_read(UC_ARM_REG_PC)
        if intno == _EXCP_BKPT:
            insn = int.from_bytes(uc.mem_read(pc, 2), "little")
            if insn == 0xBEAB:  # bkpt 0xab: semihosting; pc points at the bkpt itself
                try:
                    self.semihost.call(uc)
                except SemihostingError as exc:
                    self._stop(self._fault("semihosting", str(exc), pc=pc))
                    return
                if self.semihost.exited:
                    uc.emu_stop()
                else:
                    uc.reg_write(UC_ARM_REG_PC, (pc + 2) | 1)
                return
            self._stop(self._fault("breakpoint", f"bkpt 0x{insn & 0xFF:02x} outside a debugger", pc=pc))
            return
        name = _EXCEPTION_NAMES.get(intno, f"exception {intno}")
        self._stop(self._fault("cpu_exception", name + self.mismatch_hint(), pc=pc))

    def stop_hint(self, pc: int) -> str:
        """Unicorn ends the run on wfi/wfe: no interrupt will ever wake the core."""
        for address in (pc - 2, pc):
            try:
                insn = int.from_bytes(self.uc.mem_read(address, 2), "little")
            except UcError:
                continue
            if insn in (0xBF30, 0xBF20):
                return f" (it executed {'wfi' if insn == 0xBF30 else 'wfe'}: no interrupt will wake it here)"
        return ""

    def start(self) -> int:
        base = self.layout.flash.start
        sp = int.from_bytes(self.uc.mem_read(base, 4), "little")
        reset = int.from_bytes(self.uc.mem_read(base + 4, 4), "little")
        if not reset & 1:
            raise GuestFault(self._fault("bad_vector_table", f"reset vector 0x{reset:08x} lacks the Thumb bit"))
        self.uc.reg_write(UC_ARM_REG_SP, sp)
        return reset


def run_arm(path: str | Path, spec: Arch, instruction_limit: int, check_arch: bool = True,
            timing: bool = True) -> RunResult:
    """Backend "unicorn-arm": a Cortex-M core on Unicorn."""
    return run_unicorn(ArmRun, path, spec, instruction_limit, check_arch, timing)
