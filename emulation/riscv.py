"""Backend "unicorn-riscv": an RV32IMC core (the ESP32-C3's) on Unicorn.

The guest starts at the ELF entry (firmware/riscv/startup.S). Console and exit
are environment calls with the Linux/RISC-V system call numbers in a7 (see
firmware/riscv/platform.c): write (64) with fd 1 or 2, exit (93) with the
harness's TM_ADP_STOPPED_* reason in a0. Instructions are counted by the same
native block counter as on Cortex-M, decoding RISC-V instruction lengths.
"""
from __future__ import annotations

from pathlib import Path

from unicorn import UC_ARCH_RISCV, UC_MODE_RISCV32, Uc, UcError
from unicorn.riscv_const import (UC_RISCV_REG_A0, UC_RISCV_REG_A1, UC_RISCV_REG_A2, UC_RISCV_REG_A7,
                                 UC_RISCV_REG_PC, UC_RISCV_REG_SP)

from .arch import Arch
from .counter import ISA_RISCV
from .errors import GuestFault
from .result import RunResult
from .runner import UnicornRun, run_unicorn
from .semihosting import STDOUT_HANDLES

ECALL_WRITE = 64
ECALL_EXIT = 93
_ECALL = 0x00000073
_EBREAK = 0x00100073

# mcause values, as Unicorn passes them to UC_HOOK_INTR.
_CAUSES = {
    0: "misaligned instruction address", 1: "instruction access fault", 2: "illegal instruction",
    3: "breakpoint (ebreak)", 4: "misaligned load", 5: "load access fault", 6: "misaligned store",
    7: "store access fault", 12: "instruction page fault", 13: "load page fault", 15: "store page fault",
}
_ECALL_CAUSES = (8, 9, 11)  # from U, S and M mode
_ILLEGAL = 2
_BREAKPOINT = 3


class RiscvRun(UnicornRun):
    UC_ARCH = UC_ARCH_RISCV
    UC_MODE = UC_MODE_RISCV32
    REG_PC = UC_RISCV_REG_PC
    REG_SP = UC_RISCV_REG_SP
    ARG_REGS = (UC_RISCV_REG_A0, UC_RISCV_REG_A1)
    COUNTER_ISA = ISA_RISCV
    PROTECT_PAGE = 0x1000  # Unicorn's RISC-V pages are 4 KB
    SENTINEL = 0xFFFFFFF0  # unmapped
    EXIT_CALL = "an exit ecall"

    def start(self) -> int:
        entry = self.image.entry
        if not self.layout.flash.contains(entry, 2):
            raise GuestFault(self._fault("bad_entry", f"the ELF entry 0x{entry:08x} is not in flash "
                                         f"(0x{self.layout.flash.start:08x}+{self.layout.flash.size:#x})"))
        top = self.image.symbol("__stack_top")
        if top is not None:  # start-up sets sp itself; this only helps a start-up that does not
            self.uc.reg_write(UC_RISCV_REG_SP, top)
        return entry

    def on_interrupt(self, uc: Uc, intno: int, _ud: object) -> None:
        pc = uc.reg_read(UC_RISCV_REG_PC)
        if intno in _ECALL_CAUSES:
            # Unicorn reports an ecall with pc already past it.
            self._ecall(uc, pc - 4)
            return
        if intno == _ILLEGAL:
            self._stop(self._fault("undefined_instruction", "illegal instruction" + self.mismatch_hint(), pc=pc))
            return
        if intno == _BREAKPOINT:
            self._stop(self._fault("breakpoint", "ebreak outside a debugger", pc=pc))
            return
        self._stop(self._fault("cpu_exception", _CAUSES.get(intno, f"exception {intno}"), pc=pc))

    def _ecall(self, uc: Uc, pc: int) -> None:
        number = uc.reg_read(UC_RISCV_REG_A7)
        a0, a1, a2 = (uc.reg_read(r) for r in (UC_RISCV_REG_A0, UC_RISCV_REG_A1, UC_RISCV_REG_A2))
        if number == ECALL_WRITE:
            if a0 not in STDOUT_HANDLES:
                uc.reg_write(UC_RISCV_REG_A0, 0xFFFFFFFF)  # -1: bad file descriptor
                return
            try:
                self.host.console += uc.mem_read(a1, a2)
            except UcError:
                self._stop(self._fault("ecall", f"write ecall with a bad buffer: {a2} bytes at 0x{a1:08x}",
                                       pc=pc, address=a1))
                return
            uc.reg_write(UC_RISCV_REG_A0, a2)
        elif number == ECALL_EXIT:
            self.host.exit_reason = a0
            uc.emu_stop()
        else:
            self._stop(self._fault("ecall", f"unsupported ecall {number} (a7); the harness uses write (64) "
                                   "and exit (93)", pc=pc))


def run_riscv(path: str | Path, spec: Arch, instruction_limit: int, check_arch: bool = True,
              timing: bool = True) -> RunResult:
    """Backend "unicorn-riscv": run firmware `path` on an RV32 core in Unicorn and measure it."""
    return run_unicorn(RiscvRun, path, spec, instruction_limit, check_arch, timing)
