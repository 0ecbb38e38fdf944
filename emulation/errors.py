"""Exceptions raised by the emulation package."""
from __future__ import annotations

from dataclasses import dataclass


class EmulationError(Exception):
    """Base class: every error the package raises on purpose. `str()` is one line."""


class ToolMissing(EmulationError):
    """A host tool (C compiler, cross compiler, QEMU) is not installed."""


class BuildError(EmulationError):
    """Cross-compiling firmware failed."""


class UnknownArch(EmulationError):
    """An arch name that is not in the registry."""


@dataclass
class FaultInfo:
    """Where and why the guest stopped abnormally."""

    kind: str  # unmapped_access, protected_access, stack_overflow, runaway, ...
    message: str
    address: int | None = None  # faulting data address, if any
    pc: int | None = None
    symbol: str | None = None  # function containing pc, from the ELF symbol table

    def describe(self) -> str:
        where = []
        if self.address is not None:
            where.append(f"address 0x{self.address:08x}")
        if self.pc is not None:
            where.append(f"pc 0x{self.pc:08x}" + (f" in {self.symbol}" if self.symbol else ""))
        return f"{self.kind}: {self.message}" + (f" ({', '.join(where)})" if where else "")


class GuestFault(EmulationError):
    """The firmware faulted, ran away or exited with an error."""

    def __init__(self, fault: FaultInfo, console: str = ""):
        super().__init__(fault.describe())
        self.fault = fault
        self.console = console
