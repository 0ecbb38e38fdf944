"""Runs a firmware ELF on Unicorn and measures it.

Instructions are counted exactly by a native block hook (counter.py). Two
range-limited code hooks sit on the harness markers tm_mark_begin/tm_mark_end;
the difference of the running total between them, minus that of the first
(calibration) pair, is the count of one inference.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from unicorn import (UC_ARCH_ARM, UC_ERR_FETCH_PROT, UC_ERR_FETCH_UNMAPPED, UC_ERR_INSN_INVALID,
                     UC_ERR_READ_PROT, UC_ERR_READ_UNMAPPED, UC_ERR_WRITE_PROT, UC_ERR_WRITE_UNMAPPED,
                     UC_HOOK_CODE, UC_HOOK_INTR, UC_HOOK_MEM_FETCH_PROT, UC_HOOK_MEM_FETCH_UNMAPPED,
                     UC_HOOK_MEM_READ_PROT, UC_HOOK_MEM_READ_UNMAPPED, UC_HOOK_MEM_WRITE_PROT,
                     UC_HOOK_MEM_WRITE_UNMAPPED, UC_MEM_FETCH_PROT, UC_MEM_FETCH_UNMAPPED,
                     UC_MEM_READ_PROT, UC_MEM_READ_UNMAPPED, UC_MEM_WRITE_PROT, UC_MEM_WRITE_UNMAPPED,
                     UC_MODE_THUMB, Uc, UcError)
from unicorn.arm_const import UC_ARM_REG_LR, UC_ARM_REG_PC, UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_SP

from .arch import Arch, get_arch
from .counter import BlockCounter
from .elf import ElfImage, load_elf
from .errors import FaultInfo, GuestFault
from .memory import ControlSpace, Layout, map_memory, stack_peak
from .result import RunResult
from .semihosting import ADP_STOPPED_APPLICATION_EXIT, Semihost, SemihostingError

DEFAULT_INSTRUCTION_LIMIT = 2_000_000_000
# emu_start needs an end address; never reached (not in 0xFxxxxxxx, EXC_RETURN space).
_SENTINEL = 0xDFFFFFF0

# QEMU's ARM exception numbers, as Unicorn passes them to UC_HOOK_INTR.
_EXCP_BKPT = 7
_ERROR_LINE = re.compile(r"^E:([0-9a-f]{8}):([0-9a-f]{2})$")  # harness: model_invoke failed
_EXCEPTION_NAMES = {
    1: "undefined instruction", 2: "svc instruction", 3: "prefetch abort", 4: "data abort",
    7: "breakpoint", 8: "exception return", 16: "semihosting trap",
    17: "coprocessor (FPU) access while disabled", 18: "invalid state (branch without the Thumb bit?)",
    19: "stack limit violation", 22: "unaligned access", 23: "division by zero",
}
_VECTOR_NAMES = {2: "NMI", 3: "HardFault", 4: "MemManage", 5: "BusFault", 6: "UsageFault",
                 11: "SVCall", 12: "DebugMonitor", 14: "PendSV", 15: "SysTick"}
_MEM_ACCESS = {
    UC_MEM_READ_UNMAPPED: ("read", False), UC_MEM_WRITE_UNMAPPED: ("write", False),
    UC_MEM_FETCH_UNMAPPED: ("fetch", False), UC_MEM_READ_PROT: ("read", True),
    UC_MEM_WRITE_PROT: ("write", True), UC_MEM_FETCH_PROT: ("fetch", True),
}
_MEM_ERRORS = {UC_ERR_READ_UNMAPPED, UC_ERR_WRITE_UNMAPPED, UC_ERR_FETCH_UNMAPPED,
               UC_ERR_READ_PROT, UC_ERR_WRITE_PROT, UC_ERR_FETCH_PROT}


@dataclass
class _Markers:
    begin: int | None
    end: int | None
    pending: tuple[int, bytes] | None = None  # (total at begin, input bytes)
    pairs: list[tuple[int, bytes, bytes]] = field(default_factory=list)  # (count, input, output)


class _Run:
    """One emulation of one ELF; state shared by the hooks."""

    def __init__(self, image: ElfImage, arch: Arch, instruction_limit: int):
        self.image, self.arch = image, arch
        self.layout = Layout.from_elf(image)
        self.scs = ControlSpace()
        self.semihost = Semihost()
        self.fault: FaultInfo | None = None
        self.mem_fault: tuple[int, int, int] | None = None  # (access, address, size)
        self.fpu_checked = False
        self.uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB)
        self.uc.ctl_set_cpu_model(arch.unicorn_model)  # must be the first call on the Uc
        map_memory(self.uc, image, self.layout, self.scs)
        self.counter = BlockCounter(self.uc, instruction_limit)
        self.markers = _Markers(_addr(image.symbol("tm_mark_begin")), _addr(image.symbol("tm_mark_end")))
        self._install_hooks()

    # --- hooks -------------------------------------------------------------------
    def _install_hooks(self) -> None:
        uc = self.uc
        for address, hook in ((self.markers.begin, self._on_begin), (self.markers.end, self._on_end)):
            if address is not None:
                uc.hook_add(UC_HOOK_CODE, hook, begin=address, end=address)
        for address, names in self._handlers().items():
            uc.hook_add(UC_HOOK_CODE, self._on_handler, user_data=names, begin=address, end=address)
        uc.hook_add(UC_HOOK_INTR, self._on_interrupt)
        uc.hook_add(UC_HOOK_MEM_READ_UNMAPPED | UC_HOOK_MEM_WRITE_UNMAPPED | UC_HOOK_MEM_FETCH_UNMAPPED
                    | UC_HOOK_MEM_READ_PROT | UC_HOOK_MEM_WRITE_PROT | UC_HOOK_MEM_FETCH_PROT,
                    self._on_bad_access)

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

    def _stop(self, fault: FaultInfo) -> None:
        if self.fault is None:
            self.fault = fault
        self.uc.emu_stop()

    def _check_fpu_enabled(self) -> None:
        self.fpu_checked = True
        if self.arch.fpu and self.image.attributes.fp_arch and not self.scs.fpu_enabled:
            pc = self.uc.reg_read(UC_ARM_REG_PC)
            self._stop(self._fault("fpu_disabled", "the firmware uses the FPU but start-up did not enable "
                                   "it (CPACR 0xE000ED88 bits 20-23); a real chip faults on the first "
                                   "FPU instruction", pc=pc))

    def _on_begin(self, uc: Uc, address: int, size: int, _ud: object) -> None:
        if not self.fpu_checked:
            self._check_fpu_enabled()
        data = self._read_arg_buffer()
        if data is not None:
            self.markers.pending = (self.counter.total, data)

    def _on_end(self, uc: Uc, address: int, size: int, _ud: object) -> None:
        total = self.counter.total
        data = self._read_arg_buffer()
        if data is None or self.markers.pending is None:
            return
        start, inputs = self.markers.pending
        self.markers.pending = None
        self.markers.pairs.append((total - start, inputs, data))

    def _read_arg_buffer(self) -> bytes | None:
        """The (pointer r0, length r1) buffer of a marker call."""
        ptr, length = self.uc.reg_read(UC_ARM_REG_R0), self.uc.reg_read(UC_ARM_REG_R1)
        if length == 0:
            return b""
        try:
            return bytes(self.uc.mem_read(ptr, length))
        except UcError:
            self._stop(self._fault("bad_marker", f"marker buffer of {length} bytes at 0x{ptr:08x} is not "
                                   "readable", address=ptr, pc=self.uc.reg_read(UC_ARM_REG_PC)))
            return None

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

    def _on_interrupt(self, uc: Uc, intno: int, _ud: object) -> None:
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
        self._stop(self._fault("cpu_exception", name + self._mismatch_hint(), pc=pc))

    def _mismatch_hint(self) -> str:
        reason = self.image.attributes.incompatibility(self.arch)
        return f": {reason}" if reason else ""

    def _on_bad_access(self, uc: Uc, access: int, address: int, size: int, value: int, _ud: object) -> bool:
        self.mem_fault = (access, address, size)
        return False  # stop with an error

    # --- running -----------------------------------------------------------------
    def _fault(self, kind: str, message: str, *, pc: int | None = None, address: int | None = None) -> FaultInfo:
        symbol = self.image.function_at(pc) if pc is not None else None
        return FaultInfo(kind=kind, message=message, address=address, pc=pc, symbol=symbol)

    def _memory_fault(self) -> FaultInfo:
        pc = self.uc.reg_read(UC_ARM_REG_PC)
        assert self.mem_fault is not None
        access, address, size = self.mem_fault
        verb, protected = _MEM_ACCESS.get(access, ("access", False))
        where = self.layout.describe(address)
        if where == "stack guard" or (self.layout.guard and self.layout.guard.contains(address + size - 1)):
            return self._fault("stack_overflow", f"{size}-byte {verb} below the "
                               f"{self.layout.stack.size if self.layout.stack else 0}-byte stack",
                               pc=pc, address=address)
        if verb == "fetch":
            what = f"jump to {'non-executable ' if protected else 'unmapped '}address"
        elif protected:
            what = f"{size}-byte {verb} to read-only {where}" if verb == "write" else f"{size}-byte {verb} refused"
        else:
            what = f"{size}-byte {verb} at an unmapped address"
        if address < 0x100:
            what += " (null pointer?)"
        return self._fault("protected_access" if protected else "unmapped_access", what, pc=pc, address=address)

    def _diagnose(self, error: UcError | None) -> FaultInfo | None:
        """The fault that ended the run, or None after a clean semihosting exit."""
        pc = self.uc.reg_read(UC_ARM_REG_PC)
        if self.fault is not None:
            return self.fault
        if self.counter.stopped:
            return self._fault("runaway", f"the guest ran past the limit of {self.counter.state.limit:,} "
                               "instructions without exiting", pc=pc)
        if error is not None:
            if error.errno in _MEM_ERRORS and self.mem_fault is not None:
                return self._memory_fault()
            if error.errno == UC_ERR_INSN_INVALID:
                return self._fault("undefined_instruction", "undefined instruction" + self._mismatch_hint(), pc=pc)
            return self._fault("cpu_exception", str(error), pc=pc)
        if not self.semihost.exited:
            return self._fault("no_exit", "the guest stopped without a semihosting SYS_EXIT"
                               + self._halt_hint(pc), pc=pc)
        if self.semihost.exit_reason != ADP_STOPPED_APPLICATION_EXIT or self.semihost.exit_code:
            return self._fault("guest_error", self._exit_message(), pc=pc)
        return None

    def _halt_hint(self, pc: int) -> str:
        """Unicorn ends the run on wfi/wfe: no interrupt will ever wake the core."""
        for address in (pc - 2, pc):
            try:
                insn = int.from_bytes(self.uc.mem_read(address, 2), "little")
            except UcError:
                continue
            if insn in (0xBF30, 0xBF20):
                return f" (it executed {'wfi' if insn == 0xBF30 else 'wfe'}: no interrupt will wake it here)"
        return ""

    def _exit_message(self) -> str:
        lines = self.semihost.text().strip().splitlines()
        m = _ERROR_LINE.match(lines[-1]) if lines else None
        if m:
            return f"model_invoke returned {int(m.group(2), 16)} for test vector {int(m.group(1), 16)}"
        return (f"the firmware exited with reason 0x{self.semihost.exit_reason:x} code {self.semihost.exit_code}"
                + (f"; last console line: {lines[-1]!r}" if lines else ""))

    def close(self) -> None:
        """Free the engine now: hooks form reference cycles that would keep its
        8 MB of guest memory alive until the next garbage collection."""
        self.counter.release()
        finalizer = getattr(self.uc, "_Uc__finalizer", None)  # uc_close, run at most once
        if finalizer is not None:
            finalizer()
        for name in ("_callbacks", "_mmio_callbacks"):
            getattr(self.uc, name, {}).clear()

    def run(self) -> None:
        base = self.layout.flash.start
        sp = int.from_bytes(self.uc.mem_read(base, 4), "little")
        reset = int.from_bytes(self.uc.mem_read(base + 4, 4), "little")
        if not reset & 1:
            raise GuestFault(self._fault("bad_vector_table", f"reset vector 0x{reset:08x} lacks the Thumb bit"))
        self.uc.reg_write(UC_ARM_REG_SP, sp)
        error = None
        try:
            self.uc.emu_start(reset, _SENTINEL)
        except UcError as exc:
            error = exc
        fault = self._diagnose(error)
        if fault is not None:
            raise GuestFault(fault, self.semihost.text())


def _addr(value: int | None) -> int | None:
    return None if value is None else value & ~1


def check_compatible(image: ElfImage, arch: Arch) -> None:
    """Raise a clear GuestFault if the ELF's build attributes say `arch` cannot run it."""
    reason = image.attributes.incompatibility(arch)
    if reason:
        raise GuestFault(FaultInfo("arch_mismatch", f"{image.path.name} cannot run on {arch.name}: {reason}; "
                                   f"rebuild it for {arch.name} or pick the arch it was built for"))


def run_elf(path: str | Path, arch: str, instruction_limit: int = DEFAULT_INSTRUCTION_LIMIT,
            check_arch: bool = True) -> RunResult:
    """Run firmware `path` on the emulated core `arch` and measure it.

    Raises GuestFault (fault kind, address, pc, function) when the firmware
    faults, runs past `instruction_limit` instructions, or exits with an error;
    with check_arch, an ELF built for another core is refused before running.
    """
    spec = get_arch(arch)
    image = load_elf(path)
    if check_arch:
        check_compatible(image, spec)
    run = _Run(image, spec, instruction_limit)
    try:
        run.run()
        stack_bytes = stack_peak(run.uc, run.layout)
    finally:
        run.close()
    pairs = run.markers.pairs
    overhead = 0
    if pairs and not pairs[0][1] and not pairs[0][2]:  # calibration: tm_mark_begin(0,0); tm_mark_end(0,0)
        overhead = pairs[0][0]
        pairs = pairs[1:]
    sizes = image.sizes()
    return RunResult(
        elf=str(image.path), arch=spec.name,
        outputs=[p[2] for p in pairs], inputs=[p[1] for p in pairs],
        console=run.semihost.text(),
        instructions_per_inference=[p[0] - overhead for p in pairs],
        marker_overhead=overhead, total_instructions=run.counter.total,
        flash_bytes=sizes["flash_bytes"], ram_bytes=sizes["ram_bytes"], stack_bytes=stack_bytes,
        sections={k: sizes[k] for k in ("text", "rodata", "data", "bss", "vectors")},
    )
