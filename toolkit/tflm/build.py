"""Compile the TFLM files a model needs into a static library, in a cache.

Cache: $TOOLKIT_CACHE_DIR/tflm (default $XDG_CACHE_HOME/tinyml-toolkit/tflm, i.e.
~/.cache/tinyml-toolkit/tflm), one directory per (tree fingerprint, compiler, core flags,
kernel set); in it one object per source file and one library per list of sources. An
object is compiled once: a second model, or a second run, reuses it, and a run whose
library exists compiles nothing. Concurrent builds (pytest-xdist workers) take a file
lock per directory; objects are written under a temporary name and renamed.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import ToolchainError
from toolkit.fileio import atomic_write
from toolkit.progress import Progress
from toolkit.tflm.sources import Flags, model_sources
from toolkit.tflm.tree import TflmTree

CXX, CC, AR = "arm-none-eabi-g++", "arm-none-eabi-gcc", "arm-none-eabi-ar"
INSTALL_HINT = "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib"
ENV_CACHE = "TOOLKIT_CACHE_DIR"
ENV_JOBS = "TOOLKIT_JOBS"


def cache_root() -> Path:
    """$TOOLKIT_CACHE_DIR, else $XDG_CACHE_HOME/tinyml-toolkit, else ~/.cache/tinyml-toolkit."""
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tinyml-toolkit"


def default_jobs() -> int:
    return int(os.environ.get(ENV_JOBS) or 0) or max(1, min(os.cpu_count() or 1, 8))


def _digest(*parts: object) -> str:
    return hashlib.sha256("\n".join(map(str, parts)).encode()).hexdigest()[:16]


def _compiler_version() -> str:
    if shutil.which(CXX) is None:
        raise ToolchainError(f"{CXX} not found: {INSTALL_HINT}")
    out = subprocess.run([CXX, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.splitlines()[0] if out.stdout else "?"


@dataclass
class Library:
    """A built TFLM library and what it took."""

    path: Path
    flags: Flags
    tree: TflmTree
    sources: list[str]
    compiled: int  # library objects compiled by this call (0: all from the cache)
    seconds: float
    directory: Path  # the cache directory of this (tree, compiler, flags)
    app_compiled: int = 0  # application objects (the adapter) compiled by compile_cached

    def cxxflags(self) -> list[str]:
        """Flags for application C++ that includes TFLM headers (TFLM's core level)."""
        return self.flags.for_source(self.tree.root, "app.cc")


def _first_error(log: str) -> str:
    lines = log.splitlines()
    hit = [ln for ln in lines if "error" in ln] or lines or ["?"]
    return hit[0].strip()


def compile_one(cmd: Sequence[str], src: Path, obj: Path) -> None:
    """Compile `src` to `obj` (atomically); ToolchainError with the first error line on failure."""
    obj.parent.mkdir(parents=True, exist_ok=True)
    tmp = obj.with_name(f"{obj.name}.{os.getpid()}.tmp")
    proc = subprocess.run([*cmd, "-c", str(src), "-o", str(tmp)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        log = obj.with_suffix(".log")
        atomic_write(log, " ".join(cmd) + "\n" + proc.stdout + proc.stderr)
        tmp.unlink(missing_ok=True)
        text = proc.stdout + proc.stderr
        if "No such file" in text and any(h in text for h in ("vector", "cstdint", "cstddef", "cstring", "new")):
            raise ToolchainError(f"the C++ library for {CXX} is missing: {INSTALL_HINT}")
        raise ToolchainError(f"compiling {src.name} failed: {_first_error(text)} (log: {log})")
    tmp.rename(obj)


def _compile_all(jobs: list[tuple[list[str], Path, Path]], label: str, workers: int) -> None:
    if not jobs:
        return
    with Progress(label, len(jobs)) as bar, ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(compile_one, cmd, src, obj) for cmd, src, obj in jobs]
        try:
            for f in futures:
                f.result()
                bar.update()
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def build_library(tree: TflmTree, flags: Flags, ops: list[str], *, name: str = "",
                  jobs: int | None = None, cache: Path | None = None) -> Library:
    """The static library of the TFLM core plus the kernels of `ops`, built as needed."""
    start = time.monotonic()
    version = _compiler_version()
    sources = model_sources(tree, sorted(set(ops)), flags.cmsis_nn)
    every_flag = [f for rel in ("core.cc", "tensorflow/lite/micro/kernels/k.cc", "third_party/cmsis_nn/n.c")
                  for f in flags.for_source(tree.root, rel)]
    directory = (cache or cache_root()) / "tflm" / _digest(tree.fingerprint, version, *every_flag)
    directory.mkdir(parents=True, exist_ok=True)
    atomic_write(directory / "README", f"TFLM objects for {tree.root}\n{version}\ncpu: {' '.join(flags.cpu)}\n"
                                      f"kernels: {'CMSIS-NN' if flags.cmsis_nn else 'reference'}\n")
    lib = directory / "lib" / f"libtflm-{_digest(*sources)}.a"
    compiled = 0
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder per directory; the others wait and reuse
        if not lib.exists():
            objs = {rel: directory / "obj" / (rel + ".o") for rel in sources}
            todo = [([CXX if rel.endswith(".cc") else CC, *flags.for_source(tree.root, rel)], tree.root / rel, obj)
                    for rel, obj in objs.items() if not obj.exists()]
            compiled = len(todo)
            kind = "CMSIS-NN" if flags.cmsis_nn else "reference"
            _compile_all(todo, f"TFLM {name or flags.mcpu} ({kind}): {compiled} files", jobs or default_jobs())
            lib.parent.mkdir(exist_ok=True)
            tmp = lib.with_name(f"{lib.name}.{os.getpid()}.tmp")
            proc = subprocess.run([AR, "rcs", str(tmp), *map(str, objs.values())], capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise ToolchainError(f"{AR} failed: {_first_error(proc.stderr)}")
            tmp.rename(lib)
    return Library(lib, flags, tree, sources, compiled, time.monotonic() - start, directory)


def compile_cached(lib: Library, src: Path, include_dirs: Sequence[Path], tag: str,
                   extra_flags: Sequence[str] = ()) -> Path:
    """Compile application C++ `src` against TFLM's headers, cached by its text and includes'."""
    deps = [src, *sorted(p for d in include_dirs for p in Path(d).glob("*.h"))]
    flags = [*lib.cxxflags(), *extra_flags]
    key = _digest(*flags, *(p.read_text() for p in deps))
    obj = lib.directory / "app" / f"{tag}-{key}.o"
    if not obj.exists():
        cmd = [CXX, *flags, *(f"-I{d}" for d in include_dirs)]
        compile_one(cmd, src, obj)
        lib.app_compiled += 1
    return obj
