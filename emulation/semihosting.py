"""ARM semihosting (bkpt 0xAB) for the calls a test harness needs."""
from __future__ import annotations

from dataclasses import dataclass, field

from unicorn import Uc, UcError
from unicorn.arm_const import UC_ARM_REG_R0, UC_ARM_REG_R1

SYS_WRITEC = 0x03
SYS_WRITE0 = 0x04
SYS_WRITE = 0x05
SYS_EXIT = 0x18
SYS_EXIT_EXTENDED = 0x20
ADP_STOPPED_APPLICATION_EXIT = 0x20026
STDOUT_HANDLES = (1, 2)  # stdout, stderr
_MAX_STRING = 1 << 20


class SemihostingError(Exception):
    """The guest made a semihosting call we do not support or with bad arguments."""


@dataclass
class Semihost:
    console: bytearray = field(default_factory=bytearray)
    exit_reason: int | None = None  # ADP_Stopped_* reason of SYS_EXIT
    exit_code: int = 0  # the code of ApplicationExit via SYS_EXIT_EXTENDED

    @property
    def exited(self) -> bool:
        return self.exit_reason is not None

    def text(self) -> str:
        return self.console.decode("utf-8", errors="replace")

    def call(self, uc: Uc) -> None:
        """Handle the call whose operation is in r0 and argument in r1; result to r0."""
        op = uc.reg_read(UC_ARM_REG_R0)
        arg = uc.reg_read(UC_ARM_REG_R1)
        try:
            result = self._dispatch(uc, op, arg)
        except UcError as exc:
            raise SemihostingError(f"semihosting call 0x{op:02x} with a bad pointer 0x{arg:08x}: {exc}") from None
        if result is not None:
            uc.reg_write(UC_ARM_REG_R0, result & 0xFFFFFFFF)

    def _dispatch(self, uc: Uc, op: int, arg: int) -> int | None:
        if op == SYS_WRITEC:
            self.console += uc.mem_read(arg, 1)
            return None  # r0 is left as is
        if op == SYS_WRITE0:
            self.console += _read_cstring(uc, arg)
            return None
        if op == SYS_WRITE:
            handle, buf, length = (int.from_bytes(uc.mem_read(arg + 4 * i, 4), "little") for i in range(3))
            if handle not in STDOUT_HANDLES:
                return length  # nothing written
            self.console += uc.mem_read(buf, length)
            return 0  # bytes not written
        if op == SYS_EXIT:
            self.exit_reason = arg  # AArch32: the reason itself, not a pointer
            return None
        if op == SYS_EXIT_EXTENDED:
            self.exit_reason = int.from_bytes(uc.mem_read(arg, 4), "little")
            self.exit_code = int.from_bytes(uc.mem_read(arg + 4, 4), "little")
            return None
        raise SemihostingError(f"unsupported semihosting call 0x{op:02x}")


def _read_cstring(uc: Uc, address: int) -> bytes:
    out = bytearray()
    while len(out) < _MAX_STRING:
        chunk = bytes(uc.mem_read(address + len(out), 64 - (address + len(out)) % 64))
        end = chunk.find(b"\0")
        if end >= 0:
            return bytes(out + chunk[:end])
        out += chunk
    return bytes(out)
