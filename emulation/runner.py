"""Runs a firmware ELF on Unicorn and measures it.

Instructions are counted exactly by a native block hook (counter.py); with the
arch's timing model (emulation.timing) the same hook sums estimated cycles. Two
range-limited code hooks sit on the harness markers tm_mark_begin/tm_mark_end;
the difference of the running totals between them, minus that of the first
(calibration) pair, is the count of one inference.

UnicornRun holds what every core shares (memory, counter, markers, memory
faults, the end of a run); the Cortex-M specifics (vector table, semihosting,
System Control Space, exception handlers) are in arm.py, the RISC-V core's in
riscv.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from unicorn import (UC_ERR_FETCH_PROT, UC_ERR_FETCH_UNMAPPED, UC_ERR_INSN_INVALID,
                     UC_ERR_READ_PROT, UC_ERR_READ_UNMAPPED, UC_ERR_WRITE_PROT, UC_ERR_WRITE_UNMAPPED,
                     UC_HOOK_CODE, UC_HOOK_INTR, UC_HOOK_MEM_FETCH_PROT, UC_HOOK_MEM_FETCH_UNMAPPED,
                     UC_HOOK_MEM_READ_PROT, UC_HOOK_MEM_READ_UNMAPPED, UC_HOOK_MEM_WRITE_PROT,
                     UC_HOOK_MEM_WRITE_UNMAPPED, UC_MEM_FETCH_PROT, UC_MEM_FETCH_UNMAPPED,
                     UC_MEM_READ_PROT, UC_MEM_READ_UNMAPPED, UC_MEM_WRITE_PROT, UC_MEM_WRITE_UNMAPPED,
                     Uc, UcError)

from .arch import Arch
from .counter import BlockCounter
from .elf import ElfImage, load_elf
from .errors import EmulationError, FaultInfo, GuestFault
from .layers import LayerMark, block_rest
from .memory import ControlSpace, Layout, map_memory, stack_peak
from .result import MarkerPair, RunResult, build_result, exit_message
from .semihosting import ADP_STOPPED_APPLICATION_EXIT, Semihost

DEFAULT_INSTRUCTION_LIMIT = 2_000_000_000

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
    pending: tuple[int, int | None, bytes] | None = None  # (instructions, cycles at begin, input bytes)
    pairs: list[MarkerPair] = field(default_factory=list)
    layers: list[LayerMark] = field(default_factory=list)  # layer markers since the pending begin
    # (block address, block size, marker address) -> layers.block_rest of it
    rest: dict[tuple[int, int, int], tuple[int, int, int] | None] = field(default_factory=dict)


class UnicornRun:
    """One emulation of one ELF on Unicorn; state shared by the hooks.

    Subclasses set the Unicorn arch and mode, the registers and the counter's
    ISA, and implement start() (where the guest begins), on_interrupt() (traps:
    console and exit) and may add hooks in install_core_hooks().
    """

    UC_ARCH: int
    UC_MODE: int
    REG_PC: int
    REG_SP: int
    ARG_REGS: tuple[int, int]  # (pointer, length) of a marker call
    COUNTER_ISA: int
    PROTECT_PAGE: int
    SENTINEL: int  # emu_start's end address: never reached
    EXIT_CALL = "exit call"  # what the guest's exit is called in messages

    def __init__(self, image: ElfImage, arch: Arch, instruction_limit: int, timing: bool = True):
        self.image, self.arch = image, arch
        self.layout = Layout.from_elf(image, self.PROTECT_PAGE)
        self.host = Semihost()  # console and exit state
        self.fault: FaultInfo | None = None
        self.mem_fault: tuple[int, int, int] | None = None  # (access, address, size)
        self.uc = Uc(self.UC_ARCH, self.UC_MODE)
        self.uc.ctl_set_cpu_model(arch.unicorn_model)  # must be the first call on the Uc
        map_memory(self.uc, image, self.layout, self.control_space())
        self.timing = None
        weigh = None
        if timing and arch.timing:
            from .timing import get_core, weigher

            self.timing = get_core(arch.timing)
            weigh = weigher(self.timing)
        self.counter = BlockCounter(self.uc, instruction_limit, self.COUNTER_ISA, weigh,
                                    predictor=self.timing is not None and self.timing.branches == "predicted")
        self.markers = _Markers(_addr(image.symbol("tm_mark_begin")), _addr(image.symbol("tm_mark_end")))
        self._install_hooks()

    def control_space(self) -> ControlSpace | None:
        return None

    # --- hooks -------------------------------------------------------------------
    def _install_hooks(self) -> None:
        uc = self.uc
        for address, hook in ((self.markers.begin, self._on_begin), (self.markers.end, self._on_end)):
            if address is not None:
                uc.hook_add(UC_HOOK_CODE, hook, begin=address, end=address)
        for address, index in self.image.layer_marks:
            uc.hook_add(UC_HOOK_CODE, self._on_layer, user_data=index, begin=address, end=address)
        self.install_core_hooks()
        uc.hook_add(UC_HOOK_INTR, self.on_interrupt)
        uc.hook_add(UC_HOOK_MEM_READ_UNMAPPED | UC_HOOK_MEM_WRITE_UNMAPPED | UC_HOOK_MEM_FETCH_UNMAPPED
                    | UC_HOOK_MEM_READ_PROT | UC_HOOK_MEM_WRITE_PROT | UC_HOOK_MEM_FETCH_PROT,
                    self._on_bad_access)

    def install_core_hooks(self) -> None:
        pass

    def on_first_marker(self) -> None:
        pass

    def on_interrupt(self, uc: Uc, intno: int, _ud: object) -> None:
        raise NotImplementedError

    def start(self) -> int:
        """Set up registers; return the address where the guest starts."""
        raise NotImplementedError

    def stop_hint(self, pc: int) -> str:
        """Why a guest may have stopped without exiting (appended to the no_exit message)."""
        return ""

    def mismatch_hint(self) -> str:
        reason = self.image.incompatibility(self.arch)
        return f": {reason}" if reason else ""

    def _stop(self, fault: FaultInfo) -> None:
        if self.fault is None:
            self.fault = fault
        self.uc.emu_stop()

    def _on_begin(self, uc: Uc, address: int, size: int, _ud: object) -> None:
        if not self.markers.pairs and self.markers.pending is None:
            self.on_first_marker()
        data = self._read_arg_buffer()
        if data is not None:
            self.markers.pending = (self.counter.total, self.counter.cycles, data)
            self.markers.layers = []

    def _on_end(self, uc: Uc, address: int, size: int, _ud: object) -> None:
        total, cycles = self.counter.total, self.counter.cycles
        data = self._read_arg_buffer()
        if data is None or self.markers.pending is None:
            return
        start, start_cycles, inputs = self.markers.pending
        self.markers.pending = None
        estimate = None if cycles is None or start_cycles is None else cycles - start_cycles
        self.markers.pairs.append(MarkerPair(total - start, inputs, data, cycles_est=estimate,
                                             layers=tuple(self.markers.layers)))

    def _on_layer(self, uc: Uc, address: int, size: int, index: int) -> None:
        """A layer marker (emulation/layers.py): the counts before its nop. The counter has already added
        the whole block the nop is in, so what follows the nop in that block is taken off again."""
        if self.markers.pending is None:
            return
        start, length = self.counter.current_block
        key = (start, length, address)
        if key not in self.markers.rest:
            code = bytes(uc.mem_read(start, length)) if start <= address < start + length else b""
            self.markers.rest[key] = block_rest(code, start, address, self.COUNTER_ISA, self.timing)
        rest = self.markers.rest[key]
        if rest is None:
            self._stop(self._fault("bad_marker", f"layer marker {index} at 0x{address:08x} is not an instruction "
                                   "of the block being counted", pc=address))
            return
        begin, begin_cycles, _ = self.markers.pending
        cycles = self.counter.cycles
        estimate = None if cycles is None or begin_cycles is None else cycles - rest[1] - begin_cycles
        self.markers.layers.append(LayerMark(index, self.counter.total - rest[0] - begin, cycles_est=estimate,
                                             nop_cycles_est=rest[2] if estimate is not None else None))

    def _read_arg_buffer(self) -> bytes | None:
        """The (pointer, length) buffer of a marker call, from the argument registers."""
        ptr, length = (self.uc.reg_read(r) for r in self.ARG_REGS)
        if length == 0:
            return b""
        try:
            return bytes(self.uc.mem_read(ptr, length))
        except UcError:
            self._stop(self._fault("bad_marker", f"marker buffer of {length} bytes at 0x{ptr:08x} is not "
                                   "readable", address=ptr, pc=self.uc.reg_read(self.REG_PC)))
            return None

    def _on_bad_access(self, uc: Uc, access: int, address: int, size: int, value: int, _ud: object) -> bool:
        self.mem_fault = (access, address, size)
        return False  # stop with an error

    # --- running -----------------------------------------------------------------
    def _fault(self, kind: str, message: str, *, pc: int | None = None, address: int | None = None) -> FaultInfo:
        symbol = self.image.function_at(pc) if pc is not None else None
        return FaultInfo(kind=kind, message=message, address=address, pc=pc, symbol=symbol)

    def _memory_fault(self) -> FaultInfo:
        pc = self.uc.reg_read(self.REG_PC)
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
        """The fault that ended the run, or None after a clean exit."""
        pc = self.uc.reg_read(self.REG_PC)
        if self.fault is not None:
            return self.fault
        if self.counter.stopped:
            return self._fault("runaway", f"the guest ran past the limit of {self.counter.state.limit:,} "
                               "instructions without exiting", pc=pc)
        if error is not None:
            if error.errno in _MEM_ERRORS and self.mem_fault is not None:
                return self._memory_fault()
            if error.errno == UC_ERR_INSN_INVALID:
                return self._fault("undefined_instruction", "undefined instruction" + self.mismatch_hint(), pc=pc)
            return self._fault("cpu_exception", str(error), pc=pc)
        if not self.host.exited:
            return self._fault("no_exit", f"the guest stopped without {self.EXIT_CALL}" + self.stop_hint(pc), pc=pc)
        if self.host.exit_reason != ADP_STOPPED_APPLICATION_EXIT or self.host.exit_code:
            return self._fault("guest_error", exit_message(self.host.text(), self.host.exit_reason,
                                                           self.host.exit_code), pc=pc)
        return None

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
        begin = self.start()
        error = None
        try:
            self.uc.emu_start(begin, self.SENTINEL)
        except UcError as exc:
            error = exc
        fault = self._diagnose(error)
        if fault is not None:
            raise GuestFault(fault, self.host.text())


def _addr(value: int | None) -> int | None:
    return None if value is None else value & ~1


def check_compatible(image: ElfImage, arch: Arch) -> None:
    """Raise a clear GuestFault if the ELF says `arch` cannot run it (machine, ARM build
    attributes, RISC-V extensions)."""
    reason = image.incompatibility(arch)
    if reason:
        raise GuestFault(FaultInfo("arch_mismatch", f"{image.path.name} cannot run on {arch.name}: {reason}; "
                                   f"rebuild it for {arch.name} or pick the arch it was built for"))


def unicorn_version() -> str:
    import unicorn

    return f"unicorn {unicorn.__version__}"


def run_unicorn(run_class: type[UnicornRun], path: str | Path, spec: Arch, instruction_limit: int,
                check_arch: bool = True, timing: bool = True) -> RunResult:
    """Run firmware `path` on Unicorn with `run_class` (ArmRun, RiscvRun) and measure it; with `timing`,
    estimate cycles with the arch's timing model as well."""
    image = load_elf(path)
    if check_arch:
        check_compatible(image, spec)
    elif image.machine != spec.elf_machine:  # not even worth a try
        raise GuestFault(FaultInfo("arch_mismatch", f"{image.path.name} cannot run on {spec.name}: "
                                   f"{image.incompatibility(spec)}"))
    run = run_class(image, spec, instruction_limit, timing)
    try:
        run.run()
        stack_bytes = stack_peak(run.uc, run.layout)
    finally:
        run.close()
    if run.counter.weigh_error is not None:
        error = run.counter.weigh_error
        raise EmulationError(f"the {spec.timing} timing model failed on a block: {type(error).__name__}: {error}")
    return build_result(elf=str(image.path), arch=spec.name, pairs=run.markers.pairs, console=run.host.text(),
                        total_instructions=run.counter.total, sizes=image.sizes(), stack_bytes=stack_bytes,
                        engine=unicorn_version(), total_cycles_est=run.counter.cycles,
                        timing_model=run.timing.label if run.timing else "")
