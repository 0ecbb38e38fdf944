"""Cross-compiles a model with the harness and start-up code into an ELF.

The model is a directory with model.h and model.c (any other .c files in it
are compiled too); the test vectors are a numpy array or a vectors.c file. The
toolchain, flags, linker script, start-up/platform sources and boot stage come
from the arch registry (arch.py).
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .arch import COMMON_CFLAGS, Arch, get_arch
from .boot2 import build_boot2
from .data import firmware_dir
from .errors import BuildError, ToolMissing
from .fileio import atomic_write
from .vectors import write_vectors

__all__ = ["COMMON_CFLAGS", "Firmware", "build_firmware", "build_program", "compile_command", "firmware_dir"]


@dataclass(frozen=True)
class Firmware:
    elf: Path
    map: Path
    arch: str
    log: str  # compiler output (warnings)


def compile_command(arch: Arch, sources: Sequence[Path], include_dirs: Sequence[Path],
                    elf: Path, map_file: Path, extra_cflags: Sequence[str] = (),
                    stack_size: int | None = None, harness: bool = True,
                    link_args: Sequence[str] = ()) -> list[str]:
    fw = firmware_dir()
    tc = arch.toolchain
    cmd = [tc.cc, *arch.cflags, *tc.cflags, *extra_cflags]
    cmd += [f"-I{d}" for d in include_dirs]
    cmd += [f"-I{fw / 'harness'}"]
    cmd += [str(s) for s in sources]
    if harness:
        cmd.append(str(fw / "harness" / "harness.c"))
    cmd += [str(fw / s) for s in arch.sources]
    cmd += link_args  # after every object: libraries, and what must follow them
    cmd += [f"-L{fw / d}" for d in arch.script_dirs]
    cmd += ["-T", str(fw / arch.linker_script), *tc.ldflags, f"-Wl,-Map={map_file}"]
    if stack_size is not None:
        cmd.append(f"-Wl,--defsym=__stack_size={stack_size}")
    cmd += ["-o", str(elf)]
    return cmd


def build_firmware(model_dir: str | Path, vectors: np.ndarray | str | Path, arch: str,
                   out_dir: str | Path, *, name: str = "firmware",
                   extra_cflags: Sequence[str] = (), stack_size: int | None = None) -> Firmware:
    """Build `out_dir/<name>.elf` (and .map) for `arch`.

    model_dir: holds model.h, model.c and optionally more .c files.
    vectors: int8/float32 array of test inputs (one row each), written to
        out_dir/vectors.c, or the path of an existing vectors.c.
    extra_cflags: appended after the standard flags (e.g. "-DFOO=1", "-O2").
    stack_size: bytes reserved for the stack (default 16 KB; a multiple of 1 KB on
        Cortex-M, of 4 KB on rv32imc). On atmega328p the stack is all SRAM above
        .data and .bss and cannot be sized.
    """
    model_dir = Path(model_dir)
    out_dir = Path(out_dir)
    if not (model_dir / "model.h").is_file():
        raise BuildError(f"{model_dir} has no model.h")
    get_arch(arch)
    out_dir.mkdir(parents=True, exist_ok=True)
    if isinstance(vectors, (str, Path)):
        vectors_c = Path(vectors)
        if not vectors_c.is_file():
            raise BuildError(f"test vectors {vectors_c} not found")
    else:
        vectors_c = write_vectors(out_dir / "vectors.c", np.asarray(vectors))
    sources = sorted(p for p in model_dir.glob("*.c") if p.name != "vectors.c")
    return build_program([*sources, vectors_c], arch, out_dir, name=name, include_dirs=[model_dir],
                         extra_cflags=extra_cflags, stack_size=stack_size)


def build_program(sources: Sequence[str | Path], arch: str, out_dir: str | Path, *, name: str = "firmware",
                  include_dirs: Sequence[str | Path] = (), extra_cflags: Sequence[str] = (),
                  stack_size: int | None = None, harness: bool = True,
                  link_args: Sequence[str] = ()) -> Firmware:
    """Build C/assembly `sources` with the start-up, platform and boot code of `arch`
    into `out_dir/<name>.elf`. With harness=False the sources bring their own main()
    (the platform's console, tm_putc, is still linked). Sources may include objects
    and static libraries; `link_args` come after all of them (e.g. "-lstdc++",
    "-Wl,--wrap=main")."""
    spec = get_arch(arch)
    tc = spec.toolchain
    out_dir = Path(out_dir)
    if stack_size is not None and not spec.stack_size_symbol:
        raise BuildError(f"the stack size cannot be set on {spec.name}: the stack is the SRAM above .data and .bss")
    if shutil.which(tc.cc) is None:
        raise ToolMissing(f"{tc.cc} not found: {tc.install_hint}")
    out_dir.mkdir(parents=True, exist_ok=True)
    sources = [Path(s) for s in sources]
    if spec.boot_stage is not None:
        sources.append(build_boot2(spec, firmware_dir(), out_dir))
    elf = out_dir / f"{name}.elf"
    map_file = out_dir / f"{name}.map"
    cmd = compile_command(spec, sources, [Path(d) for d in include_dirs], elf, map_file, extra_cflags,
                          stack_size, harness, link_args)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    atomic_write(out_dir / f"{name}.log", " ".join(cmd) + "\n" + log)
    if proc.returncode != 0:
        if any(marker in log for marker in tc.library_markers):
            raise ToolMissing(f"the C library for {tc.cc} is missing: {tc.install_hint}")
        lines = log.splitlines()
        # the most telling line first: a region overflow, then a compiler error, then the linker's summary
        errors = ([ln for ln in lines if "overflowed by" in ln or "overflows" in ln] or [ln for ln in lines if "error" in ln and "collect2" not in ln]
                  or [ln for ln in lines if "error" in ln] or lines or ["?"])
        raise BuildError(f"building {elf.name} for {arch} failed: {errors[0].strip()} "
                         f"(full log: {out_dir / (name + '.log')})")
    return Firmware(elf=elf, map=map_file, arch=spec.name, log=log)
