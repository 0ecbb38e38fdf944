"""Run a model through TF Lite Micro on an emulated core, beside the generated C.

One TFLM firmware = the cached library (build.py) + the adapter firmware/tflm/tflm_model.cc
+ the generated model files (project.py), linked with the harness, start-up code and
linker script of the generated C. The arena is sized first: a sizing firmware with room
to spare (one input) finds the smallest arena AllocateTensors accepts; the firmware that
is measured gets exactly that and runs every input.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from toolkit.errors import ToolchainError, ToolkitError, ValidationFailed
from toolkit.ir import Model
from toolkit.paths import FIRMWARE
from toolkit.tflm.build import CC, Library, build_library, compile_cached
from toolkit.tflm.project import align_arena, file_operators, write_arena, write_project
from toolkit.tflm.sources import Flags, cpu_flags
from toolkit.tflm.tree import TflmTree, find_tree
from toolkit.validation import FLOAT_TOLERANCE, Comparison, compare

ENGINES = ("generated", "tflm", "tflm-cmsis-nn")
ENGINE_CHOICES = (*ENGINES, "all")
CMSIS_NN = {"tflm": False, "tflm-cmsis-nn": True}
# Set-up before the harness's main; C++ and libm after TFLM; the markers kept in the sizing
# firmware, which never reaches main (the Node engines look for them).
LINK_ARGS = ("-Wl,--wrap=main", "-lstdc++", "-lm", "-Wl,-u,tm_mark_begin", "-Wl,-u,tm_mark_end")
MAX_SIZING_RUNS = 8

_USED = re.compile(r"^T:arena_used_bytes=(\d+)$", re.MULTILINE)
_NEEDED = re.compile(r"Needed (\d+) but only (\d+) was available")
_MISSING = re.compile(r"missing: (\d+)")
_ARENA_MIN = re.compile(r"^T:arena_min=(\d+)$", re.MULTILINE)
_OVERFLOW = re.compile(r"region .?RAM.? overflowed by (\d+) bytes")


class EngineUnavailable(ToolkitError):
    """A TFLM engine cannot run on this core."""


def check_arch(arch: str) -> None:
    """Refuse, in one line, cores the TFLM engines cannot serve."""
    import emulation

    spec = emulation.get_arch(arch)
    if spec.name == "atmega328p":
        raise EngineUnavailable("TFLM does not fit the atmega328p (32 KB flash, 2 KB SRAM: its interpreter alone takes "
                                "~20 KB of flash, its state and arena more than the SRAM) and avr-gcc has no C++ "
                                "standard library; the TFLM engines run on the Cortex-M cores")
    if spec.elf_machine != "EM_ARM":
        raise EngineUnavailable(f"the TFLM engines build for Cortex-M cores only; {spec.name} would need TFLM built "
                                "with another toolchain and a C++ library for it (riscv64-unknown-elf-gcc here has "
                                "picolibc, no libstdc++)")


@cache
def has_dsp(cpu: tuple[str, ...]) -> bool:
    """Whether the compiler defines __ARM_FEATURE_DSP for these flags (CMSIS-NN's DSP paths)."""
    out = subprocess.run([CC, *cpu, "-dM", "-E", "-x", "c", "/dev/null"], capture_output=True, text=True, check=False)
    return "__ARM_FEATURE_DSP 1" in out.stdout


def kernels_label(engine: str, cpu: tuple[str, ...]) -> str:
    if engine == "tflm":
        return "TFLM reference kernels"
    if has_dsp(cpu):
        return "CMSIS-NN kernels, DSP paths (__ARM_FEATURE_DSP: SMLAD, SXTB16)"
    mcpu = next((f.split("=", 1)[1] for f in cpu if f.startswith("-mcpu=")), "?")
    return f"CMSIS-NN kernels, pure C paths ({mcpu} has no DSP extension)"


@dataclass
class TflmBuild:
    """A linked TFLM firmware and how it was sized."""

    elf: Path
    map: Path
    arena_bytes: int
    arena_used: int
    library: Library
    ops: list[str]


def _link(lib: Library, adapter: Path, proj: Path, arch: str, vectors: np.ndarray, arena: int, name: str):
    import emulation

    write_arena(proj, arena)
    sources = [proj / "model_data.c", proj / "tflm_arena.c", adapter, lib.path]
    vectors_c = emulation.write_vectors(proj / f"{name}-vectors.c", np.asarray(vectors))
    try:
        return emulation.build_program([vectors_c, *sources], arch, proj, name=name, include_dirs=[proj],
                                       link_args=LINK_ARGS)
    except (emulation.ToolMissing, emulation.BuildError) as exc:
        raise ToolchainError(str(exc)) from None


def _check_no_constructors(elf: Path) -> None:
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as f:
        sec = ELFFile(f).get_section_by_name(".init_array")
        if sec is not None and sec["sh_size"]:
            raise ToolchainError(f"{elf.name} has global constructors (.init_array), which the start-up code does not run")


def _run(elf: Path, arch: str, limit: int | None):
    """(RunResult, None), or (None, the EmulationError) when the run fails."""
    import emulation

    try:
        return emulation.run_elf(elf, arch, instruction_limit=limit), None
    except emulation.EmulationError as exc:  # GuestFault carries the console
        return None, exc


def _arena_error(fault) -> bool:
    return "T:error:AllocateTensors" in getattr(fault, "console", "")


def _missing(console: str) -> int | None:
    """Bytes TFLM said it lacked: "Needed X but only Y was available" or "missing: N"."""
    m = _NEEDED.search(console)
    if m:
        return int(m.group(1)) - int(m.group(2))
    m = _MISSING.search(console)
    return int(m.group(1)) if m else None


def prepare(model_path: Path, model: Model, arch: str, engine: str, out: Path, tree: TflmTree,
            jobs: int | None = None, cache: Path | None = None) -> tuple[Library, tuple[Path, Path], list[str]]:
    """The library (cached), the generated model files and the adapter compiled twice:
    for the firmware, and for the sizing firmware (-DTFLM_ARENA_SEARCH=1)."""
    import emulation

    check_arch(arch)
    spec = emulation.get_arch(arch)
    ops = file_operators(model_path.read_bytes(), str(model_path))
    lib = build_library(tree, Flags(cpu_flags(spec.cflags), CMSIS_NN[engine]), ops, name=arch, jobs=jobs, cache=cache)
    write_project(out, tree, model, model_path, ops)
    src, includes = FIRMWARE / "tflm" / "tflm_model.cc", [out, FIRMWARE / "harness"]
    adapters = (compile_cached(lib, src, includes, "tflm_model"),
                compile_cached(lib, src, includes, "tflm_model_sizing", ["-DTFLM_ARENA_SEARCH=1"]))
    return lib, adapters, ops


def smallest_arena(lib: Library, adapter: Path, model: Model, arch: str, engine: str, out: Path,
                   inputs: np.ndarray, limit: int | None) -> tuple[int, int]:
    """(smallest arena AllocateTensors accepts, arena_used_bytes()), found by a sizing build
    (tflm_model.cc's search_arena) with room to spare: every activation unshared plus 64 KB
    for TFLM's own structures and kernel scratch, more if TFLM says it needs more."""
    activations = sum(t.nbytes for op in model.ops for t in op.inputs + op.outputs if not t.is_constant)
    spare = align_arena(2 * activations + 65536)
    for _ in range(MAX_SIZING_RUNS):
        try:
            fw = _link(lib, adapter, out, arch, inputs[:1], spare, "sizing")
        except ToolchainError as exc:  # more room than the chip's RAM (rp2040: 264 KB): take less
            if "overflow" not in str(exc) or spare <= 16384:
                raise
            over = _OVERFLOW.search(str(exc))
            spare = align_arena(spare - int(over.group(1)) - 4096 if over else spare // 2)
            continue
        _check_no_constructors(fw.elf)
        run, fault = _run(fw.elf, arch, limit)
        if run is not None:
            found, used = _ARENA_MIN.search(run.console), _USED.search(run.console)
            if not (found and used):
                raise ValidationFailed(f"the TFLM sizing firmware ({engine}) did not report an arena size on {arch}")
            return int(found.group(1)), int(used.group(1))
        if not _arena_error(fault):
            raise ValidationFailed(f"TFLM ({engine}) failed on {arch}: {fault}")
        spare = align_arena(2 * (spare + (_missing(getattr(fault, "console", "")) or spare)))
    raise ValidationFailed(f"TFLM ({engine}) refused every arena up to {spare} bytes on {arch}")


def build_and_run(model_path: Path, model: Model, arch: str, engine: str, out: Path, inputs: np.ndarray,
                  tree: TflmTree, limit: int | None = None) -> tuple[TflmBuild, object]:
    """Build the TFLM firmware with the smallest arena that works and run every input."""
    lib, (adapter, sizing_adapter), ops = prepare(model_path, model, arch, engine, out, tree)
    arena, _ = smallest_arena(lib, sizing_adapter, model, arch, engine, out, inputs, limit)
    fw = _link(lib, adapter, out, arch, inputs, arena, "firmware")
    run, fault = _run(fw.elf, arch, limit)
    if run is None:
        raise ValidationFailed(f"the TFLM firmware ({engine}) failed on {arch} with a {arena}-byte arena: {fault}")
    used = _USED.search(run.console)
    return TflmBuild(fw.elf, fw.map, arena, int(used.group(1)) if used else -1, lib, ops), run


def tflm_comparison(model: Model, ours: np.ndarray, ref: np.ndarray) -> tuple[Comparison, int | None]:
    """Against the host TFLM interpreter: exact for int8 outputs, within 1e-5 for float32;
    with the index of the first differing input."""
    exact = model.output.dtype == "int8"
    _, first = first_difference(ours, ref, exact)
    c = compare(model, ours, ref, "tflm")  # mismatches counted per output value, max_abs_error dequantized
    if not exact:
        err = np.abs(np.asarray(ours, np.float64).reshape(ref.shape) - ref.astype(np.float64))
        c = Comparison(c.n_inputs, int(np.count_nonzero(err > FLOAT_TOLERANCE)), c.max_abs_error, "tflm", exact=False)
    return c, first


def first_difference(a: np.ndarray, b: np.ndarray, exact: bool) -> tuple[int, int | None]:
    """(inputs whose outputs differ, index of the first one) between two engines' outputs."""
    a, b = np.asarray(a), np.asarray(b).reshape(np.asarray(a).shape)
    if exact:
        bad = (a != b).any(axis=1)
    else:
        bad = (np.abs(a.astype(np.float64) - b.astype(np.float64)) > FLOAT_TOLERANCE).any(axis=1)
    idx = np.flatnonzero(bad)
    return int(idx.size), (int(idx[0]) if idx.size else None)


def emulate_tflm(model_path: str | Path, model: Model, arch: str, engine: str, build_dir: Path, inputs: np.ndarray,
                 tree: TflmTree | str | Path | None = None, instruction_limit: int | None = None):
    """Build, size and run the TFLM firmware; an EmulationReport with engine and arena_bytes."""
    import emulation
    from toolkit.emulate import EmulationReport, run_limit
    from toolkit.references import tflm_outputs

    tree = tree if isinstance(tree, TflmTree) else find_tree(tree)
    model_path = Path(model_path)
    start = time.monotonic()
    limit = run_limit(model, len(inputs), emulation.backend_of(arch).default_limit, instruction_limit)
    b, run = build_and_run(model_path, model, arch, engine, build_dir, inputs, tree, limit)
    seconds = time.monotonic() - start
    ours = run.outputs_array(model.output.dtype)
    if len(ours) != len(inputs):
        raise ValidationFailed(f"the TFLM firmware reported {len(ours)} outputs for {len(inputs)} inputs")
    ref = tflm_outputs(model_path, inputs, [t.shape for t in model.inputs], len(model.outputs))
    comparison, first = tflm_comparison(model, ours, np.asarray(ref))
    spec = emulation.get_arch(arch)
    details = {
        "kernels": kernels_label(engine, cpu_flags(spec.cflags)),
        "ops": b.ops,
        "arena_used_bytes": b.arena_used,
        "tree": str(tree.root),
        "library": str(b.library.path),
        "sources": len(b.library.sources),
        "compiled": b.library.compiled,
        "adapter_compiled": b.library.app_compiled,
        "library_seconds": round(b.library.seconds, 2),
        "seconds": round(seconds, 2),
        "first_mismatch": first,
    }
    return EmulationReport(arch, model, comparison, run, b.elf, b.map, engine=engine, arena_bytes=b.arena_bytes,
                           details=details)
