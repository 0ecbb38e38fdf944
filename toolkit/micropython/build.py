"""Build the MicroPython interpreter once per (tree, compiler, core flags, port), link per script.

The interpreter (the VM, compiler and runtime from the tree, plus firmware/micropython)
is compiled by firmware/micropython/Makefile, which includes the tree's own make rules
(qstr and module tables are generated as upstream does), into libmicropython.a and
main.o in the cache: $TOOLKIT_CACHE_DIR/micropython/<key> (default
~/.cache/tinyml-toolkit/micropython), the key a digest of the tree's fingerprint, the
compiler's version, the core's flags, the heap and stack sizes and the port's files. A
second model or run on the same core compiles nothing. Builds of one key take a file
lock, so concurrent runs wait and reuse.

A firmware is that library + main.o + the script as a C array (script.c) + the test
vectors, linked with the start-up code and linker script of firmware/cortex-m, the same
as the generated C and TF Lite Micro use.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toolkit.errors import ToolchainError
from toolkit.fileio import atomic_write
from toolkit.micropython.tree import MicroPythonTree
from toolkit.paths import FIRMWARE
from toolkit.tflm.build import _digest, cache_root, default_jobs

CC = "arm-none-eabi-gcc"
INSTALL_HINT = "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi"
PORT = FIRMWARE / "micropython"
HEAP_BYTES = 65536  # the GC heap (a .bss array); RAM reports its high-water mark, not this
STACK_BYTES = 16384  # reserved by the linker script; MicroPython's recursion check allows 1 KB less


@dataclass
class Interpreter:
    """A built interpreter for one core and what it took."""

    library: Path
    main: Path
    directory: Path
    cpu: tuple[str, ...]
    compiled: bool  # built by this call (False: from the cache)
    seconds: float
    heap_bytes: int = HEAP_BYTES


def _compiler_version() -> str:
    if shutil.which(CC) is None:
        raise ToolchainError(f"{CC} not found: {INSTALL_HINT}")
    out = subprocess.run([CC, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.splitlines()[0] if out.stdout else "?"


def _has_fpu(cpu: tuple[str, ...]) -> bool:
    return any(f.startswith("-mfpu=") for f in cpu) and "-mfloat-abi=soft" not in cpu


def _is_v6m(cpu: tuple[str, ...]) -> bool:
    return any(f in ("-mcpu=cortex-m0", "-mcpu=cortex-m0plus", "-mcpu=cortex-m1", "-mcpu=cortex-m23") for f in cpu)


def _first_error(log: str) -> str:
    lines = log.splitlines()
    hit = [ln for ln in lines if "error" in ln.lower()] or lines[-1:] or ["?"]
    return hit[0].strip()


def build_interpreter(tree: MicroPythonTree, cpu: tuple[str, ...], *, jobs: int | None = None,
                      cache: Path | None = None) -> Interpreter:
    """libmicropython.a and main.o for the core flags `cpu`, from the cache when they are there."""
    start = time.monotonic()
    port = sorted(p for p in PORT.iterdir() if p.is_file())
    key = _digest(tree.fingerprint, _compiler_version(), *cpu, HEAP_BYTES, STACK_BYTES,
                  *(f"{p.name}:{p.read_text()}" for p in port))
    directory = (cache or cache_root()) / "micropython" / key
    directory.mkdir(parents=True, exist_ok=True)
    lib, main = directory / "libmicropython.a", directory / "main.o"
    compiled = False
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder per key; the others wait and reuse
        if not (lib.exists() and main.exists() and (directory / "done").exists()):
            atomic_write(directory / "README", f"MicroPython interpreter from {tree.root}\ncpu: {' '.join(cpu)}\n")
            fpu = _has_fpu(cpu)
            cmd = ["make", "-C", str(PORT), f"-j{jobs or default_jobs()}", f"MICROPY_TREE={tree.root}",
                   f"BUILD={directory}", f"CPU_FLAGS={' '.join(cpu)}", f"HW_FPU={int(fpu)}",
                   f"GCHELPER={'thumb1' if _is_v6m(cpu) else 'thumb2'}", f"MICROPY_HEAP_SIZE={HEAP_BYTES}",
                   f"MICROPY_STACK_SIZE={STACK_BYTES - 1024}", "lib", "main"]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            log = directory / "build.log"
            atomic_write(log, " ".join(cmd) + "\n" + proc.stdout + proc.stderr)
            if proc.returncode != 0:
                raise ToolchainError(f"building MicroPython for {' '.join(cpu)} failed: "
                                     f"{_first_error(proc.stdout + proc.stderr)} (log: {log})")
            atomic_write(directory / "done", "ok\n")
            compiled = True
    return Interpreter(lib, main, directory, cpu, compiled, time.monotonic() - start)


def script_source(script: str) -> str:
    """The script as a C array in flash (.rodata): tm_script[], tm_script_len."""
    data = script.encode()
    rows = [" ".join(f"0x{b:02x}," for b in data[i:i + 16]) for i in range(0, len(data), 16)]
    body = "\n    ".join(rows)
    return ("/* The MicroPython script, compiled on the device at start-up. Generated file. */\n"
            "#include <stdint.h>\n\n"
            f"const char tm_script[] = {{\n    {body}\n    0x00\n}};\n"
            f"const uint32_t tm_script_len = {len(data)}u;\n")


def link_firmware(interp: Interpreter, script: str, inputs: np.ndarray, arch: str, out: Path):
    """out/firmware.elf: the interpreter, the script and the test vectors for `arch`."""
    import emulation

    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "model.py", script)
    atomic_write(out / "script.c", script_source(script))
    rows = np.asarray(inputs).reshape(len(inputs), -1)
    ctype = {"int8": "int8_t", "float32": "float"}[str(rows.dtype)]
    atomic_write(out / "model.h", f"/* For vectors.c. Generated file. */\n#include <stdint.h>\n"
                                 f"#define MODEL_INPUT_SIZE {rows.shape[1]}\n#define MODEL_INPUT_T {ctype}\n")
    vectors = emulation.write_vectors(out / "vectors.c", rows)
    try:
        return emulation.build_program([interp.main, interp.library, out / "script.c", vectors], arch, out,
                                       include_dirs=[out], harness=False, stack_size=STACK_BYTES)
    except (emulation.ToolMissing, emulation.BuildError) as exc:
        raise ToolchainError(str(exc)) from None
