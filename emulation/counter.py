"""Native block counter: exact instruction counts without Python per block.

`blockcount.c` is compiled with the host C compiler on first use into a cache
directory keyed by the source hash, then its callback is registered with
Unicorn's C API through ctypes.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from unicorn import Uc
from unicorn.unicorn_const import UC_HOOK_BLOCK
from unicorn.unicorn_py3.unicorn import uclib

from .errors import EmulationError, ToolMissing

SOURCE = Path(__file__).with_name("blockcount.c")

# How blockcount.c decodes instruction lengths (its TM_ISA_* values).
ISA_THUMB = 0
ISA_RISCV = 1


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
    lib.tm_counter_sizeof.restype = ctypes.c_uint32
    if lib.tm_counter_sizeof() != ctypes.sizeof(CounterState):
        raise EmulationError("native block counter layout does not match its Python mirror")
    lib.tm_counter_release.argtypes = [ctypes.POINTER(CounterState)]
    lib.tm_counter_release.restype = None
    return lib


class BlockCounter:
    """Counts executed instructions (Thumb or RISC-V) on one Uc; stops it past `limit`."""

    def __init__(self, uc: Uc, limit: int, isa: int = ISA_THUMB):
        lib = _library()
        self.state = CounterState()
        self.state.limit = limit
        self.state.isa = isa
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

    @property
    def total(self) -> int:
        return self.state.total

    @property
    def stopped(self) -> bool:
        return bool(self.state.stopped)

    def release(self) -> None:
        """Free the block cache; call only when the Uc will not run again."""
        self._lib.tm_counter_release(ctypes.byref(self.state))
