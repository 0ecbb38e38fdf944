"""Native block counter: exact instruction counts without Python per block.

`blockcount.c` is compiled with the host C compiler on first use into a cache
directory keyed by the source hash, then its callback is registered with
Unicorn's C API through ctypes. With a timing model (emulation.timing) it also
sums estimated cycles: a Python `weigh` callback prices each distinct block once,
the native hook adds that price and the cost of the previous block's conditional
exit on every entry.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from unicorn import Uc
from unicorn.unicorn_const import UC_HOOK_BLOCK
from unicorn.unicorn_py3.unicorn import uclib

from .errors import EmulationError, ToolMissing

SOURCE = Path(__file__).with_name("blockcount.c")

# How blockcount.c decodes instruction lengths (its TM_ISA_* values).
ISA_THUMB = 0
ISA_RISCV = 1


class Weight(ctypes.Structure):
    """Mirror of `tm_weight` in blockcount.c."""

    _fields_ = [
        ("cycles", ctypes.c_uint32),
        ("penalty", ctypes.c_uint16),
        ("flags", ctypes.c_uint8),
        ("pad", ctypes.c_uint8),
    ]


EXIT_CONDITIONAL = 1  # Weight.flags: the block ends in a conditional branch


class Slot(ctypes.Structure):
    """Mirror of `tm_slot` in blockcount.c."""

    _fields_ = [
        ("key", ctypes.c_uint64),
        ("hits", ctypes.c_uint64),
        ("count", ctypes.c_uint32),
        ("cycles", ctypes.c_uint32),
        ("penalty", ctypes.c_uint16),
        ("flags", ctypes.c_uint8),
        ("pad", ctypes.c_uint8),
        ("taken", ctypes.c_uint32),
    ]


WEIGH_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_uint64, ctypes.POINTER(ctypes.c_uint8), ctypes.c_uint32,
                            ctypes.POINTER(Weight))


class CounterState(ctypes.Structure):
    """Mirror of `tm_counter` in blockcount.c."""

    _fields_ = [
        ("total", ctypes.c_uint64),
        ("limit", ctypes.c_uint64),
        ("stop_pc", ctypes.c_uint64),
        ("stopped", ctypes.c_uint32),
        ("read_errors", ctypes.c_uint32),
        ("isa", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32),
        ("mem_read", ctypes.c_void_p),
        ("emu_stop", ctypes.c_void_p),
        ("slots", ctypes.c_void_p),
        ("mask", ctypes.c_uint64),
        ("used", ctypes.c_uint64),
        ("weigh", ctypes.c_void_p),
        ("cycles", ctypes.c_uint64),
        ("prev_end", ctypes.c_uint64),
        ("prev", ctypes.c_uint64),
        ("taken", ctypes.c_uint64),
        ("mispredicted", ctypes.c_uint64),
        ("predictor", ctypes.c_uint32),
        ("weigh_errors", ctypes.c_uint32),
        ("current", ctypes.c_uint64),
    ]


def cache_dir() -> Path:
    root = os.environ.get("TM_EMULATION_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tm-emulation"
    )
    return Path(root)


def _host_cc() -> str:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return name
    raise ToolMissing("no host C compiler (cc/gcc/clang) to build the native block counter: "
                      "apt-get install gcc")


def library_path() -> Path:
    """Path of the compiled counter, building it if needed (atomic rename)."""
    source = SOURCE.read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:16]
    target = cache_dir() / f"blockcount-{digest}.so"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    cc = _host_cc()
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        proc = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", tmp, str(SOURCE)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            first = (proc.stderr.strip().splitlines() or ["unknown error"])[0]
            raise EmulationError(f"building the native block counter with {cc} failed: {first}")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


@lru_cache(maxsize=1)
def _library() -> ctypes.CDLL:
    lib = ctypes.CDLL(str(library_path()))
    for name, mirror in (("tm_counter_sizeof", CounterState), ("tm_slot_sizeof", Slot),
                         ("tm_weight_sizeof", Weight)):
        getattr(lib, name).restype = ctypes.c_uint32
        if getattr(lib, name)() != ctypes.sizeof(mirror):
            raise EmulationError("native block counter layout does not match its Python mirror")
    lib.tm_counter_release.argtypes = [ctypes.POINTER(CounterState)]
    lib.tm_counter_release.restype = None
    lib.tm_counter_blocks.argtypes = [ctypes.POINTER(CounterState), ctypes.POINTER(Slot), ctypes.c_uint64]
    lib.tm_counter_blocks.restype = ctypes.c_uint64
    return lib


def count_instructions(isa: int, code: bytes) -> int:
    """Instructions in `code`, decoded as blockcount.c's count_insns does."""
    n = i = 0
    while i + 2 <= len(code):
        hw = code[i] | code[i + 1] << 8
        if isa == ISA_RISCV:
            i += 4 if hw & 3 == 3 else 2
        else:
            i += 4 if hw & 0xF800 >= 0xE800 else 2
        n += 1
    return n


# weigh(address, code) -> (cycles, penalty, conditional exit): the static price of one block.
Weigher = Callable[[int, bytes], tuple[int, int, bool]]


@dataclass(frozen=True)
class BlockStats:
    """One translated block as the counter saw it."""

    address: int
    size: int
    hits: int  # times entered
    instructions: int
    cycles: int  # static cycles per entry (0 without a timing model)
    penalty: int  # extra cycles of its conditional exit when taken (or mispredicted)
    conditional: bool  # it ends in a conditional branch
    taken: int  # times that exit was taken


class BlockCounter:
    """Counts executed instructions (Thumb or RISC-V) on one Uc; stops it past `limit`."""

    def __init__(self, uc: Uc, limit: int, isa: int = ISA_THUMB, weigh: Weigher | None = None,
                 predictor: bool = False):
        lib = _library()
        self.state = CounterState()
        self.state.limit = limit
        self.state.isa = isa
        self.weigh_error: BaseException | None = None  # the first exception the weigh callback raised
        self._weigh = None
        if weigh is not None:
            self._weigh = WEIGH_FN(self._weigh_callback(weigh))  # kept alive as long as the counter
            self.state.weigh = ctypes.cast(self._weigh, ctypes.c_void_p).value
            self.state.predictor = int(predictor)
        self.state.mem_read = ctypes.cast(uclib.uc_mem_read, ctypes.c_void_p).value
        self.state.emu_stop = ctypes.cast(uclib.uc_emu_stop, ctypes.c_void_p).value
        self._lib = lib
        self._callback = ctypes.cast(lib.tm_on_block, ctypes.c_void_p)
        handle = ctypes.c_size_t()
        # Variadic in C; begin=1 > end=0 means "every address".
        status = uclib.uc_hook_add(uc._uch, ctypes.byref(handle), UC_HOOK_BLOCK, self._callback,
                                   ctypes.cast(ctypes.pointer(self.state), ctypes.c_void_p),
                                   ctypes.c_uint64(1), ctypes.c_uint64(0))
        if status != 0:
            raise EmulationError(f"uc_hook_add for the block counter failed (error {status})")
        self.handle = handle.value

    def _weigh_callback(self, weigh: Weigher) -> Callable[..., int]:
        """Adapts `weigh` to blockcount.c's tm_weigh_fn. An exception must not unwind through Unicorn:
        it is kept in weigh_error (the block is charged one cycle per instruction) for the caller."""
        def callback(address: int, code, size: int, out) -> int:
            try:
                cycles, penalty, conditional = weigh(address, ctypes.string_at(code, size))
                weight = out.contents
                weight.cycles = min(int(cycles), 0xFFFFFFFF)
                weight.penalty = min(int(penalty), 0xFFFF)
                weight.flags = EXIT_CONDITIONAL if conditional else 0
                return 0
            except Exception as exc:
                if self.weigh_error is None:
                    self.weigh_error = exc
                return 1
        return callback

    @property
    def total(self) -> int:
        return self.state.total

    @property
    def cycles(self) -> int | None:
        """Estimated cycles so far; None without a timing model."""
        return self.state.cycles if self._weigh is not None else None

    @property
    def current_block(self) -> tuple[int, int]:
        """(address, size) of the block entered last: the one a code hook runs in."""
        key = self.state.current
        return key & 0xFFFFFFFF, key >> 32

    def blocks(self) -> list[BlockStats]:
        """Every distinct block seen so far, with its entry count and price."""
        n = self._lib.tm_counter_blocks(ctypes.byref(self.state), None, 0)
        slots = (Slot * max(n, 1))()
        n = self._lib.tm_counter_blocks(ctypes.byref(self.state), slots, n)
        return [BlockStats(s.key & 0xFFFFFFFF, s.key >> 32, s.hits, s.count, s.cycles, s.penalty,
                           bool(s.flags & EXIT_CONDITIONAL), s.taken) for s in slots[:n]]

    @property
    def stopped(self) -> bool:
        return bool(self.state.stopped)

    def release(self) -> None:
        """Free the block cache; call only when the Uc will not run again."""
        self._lib.tm_counter_release(ctypes.byref(self.state))
