"""Which files of a TFLM tree a model needs, and the flags TFLM builds them with.

Only the interpreter core and the kernels of the model's operators are compiled (the
whole tree is ~760 compilations). Kernels: the file that defines each op's Register_*
function, then every helper its includes name (kernels/X.h -> X_common.cc, and X.cc when
it registers no op); with CMSIS-NN, the CMSIS-NN C functions those kernels call, followed
through the calls of CMSIS-NN's own files. The lists are read from the tree's text, so a
newer tree needs no change here.

Flags: TFLM's own (tools/make/Makefile and targets/cortex_m_generic_makefile.inc, as the
tree's README lists them): -Os for the core, -O2 for kernels and CMSIS-NN
(KERNEL_OPTIMIZATION_LEVEL, THIRD_PARTY_KERNEL_OPTIMIZATION_LEVEL), the -mcpu/float ABI of
the toolkit's own build for the core so that both link with the same start-up code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import ToolkitError
from toolkit.tflm.tree import CMSIS_NN_KERNELS, KERNELS, MICRO, TflmTree

CORE_OPT, KERNEL_OPT = "-Os", "-O2"
# Files outside kernels/ that no MicroInterpreter firmware needs (tests, mocks, the
# recording allocator and interpreter, signal processing ops).
NOT_CORE = re.compile(r"(test_helper|mock_|fake_|recording_|_test\.cc$|hexdump|micro_profiler|system_setup)")

INCLUDE_DIRS = (".", "third_party", "third_party/gemmlowp", "third_party/flatbuffers/include", "third_party/kissfft",
                "third_party/ruy", "third_party/cmsis", "third_party/cmsis/CMSIS/Core/Include", "third_party/cmsis_nn",
                "third_party/cmsis_nn/Include")
# -mcpu -> CPU_* define and Cortex_DFP device (targets/cortex_m_generic_makefile.inc)
DEVICES = {"cortex-m0plus": ("M0plus", "ARMCM0plus"), "cortex-m0": ("M0", "ARMCM0"), "cortex-m3": ("M3", "ARMCM3"),
           "cortex-m4": ("M4", "ARMCM4"), "cortex-m7": ("M7", "ARMCM7"), "cortex-m33": ("M33", "ARMCM33")}
COMMON = ("-mlittle-endian", "-ffunction-sections", "-fdata-sections", "-fno-unwind-tables",
          "-fno-asynchronous-unwind-tables", "-fomit-frame-pointer", "-funsigned-char", "-fmessage-length=0")
DEFINES = ("-DTF_LITE_STATIC_MEMORY", "-DTF_LITE_DISABLE_X86_NEON", "-DNDEBUG", "-DTF_LITE_MCU_DEBUG_LOG",
           "-DKERNELS_OPTIMIZED_FOR_SPEED", "-DARM_NN_ENABLE_F16=0", "-DARM_NN_ENABLE_F32=0")
CXX_ONLY = ("-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics")
C_ONLY = ("-std=c17",)

_KERNEL_INCLUDE = re.compile(r'#include\s+"tensorflow/lite/micro/kernels/(\w+)\.h"')
_ARM_CALL = re.compile(r"\b(arm_\w+)\s*\(")
_C_DEFINITION = re.compile(r"^(?!static\b)[A-Za-z_][\w \t\*]*?\b(arm_\w+)\s*\([^;{]*\)\s*\{", re.MULTILINE)


class UnsupportedOp(ToolkitError):
    """The model uses an operator the tree's TFLM cannot resolve."""


@dataclass(frozen=True)
class Flags:
    """The compiler flags of one TFLM build: a core (-mcpu, float ABI) and a kernel set."""

    cpu: tuple[str, ...]  # -mcpu/-mthumb/-mfloat-abi/-mfpu, as the toolkit's own build
    cmsis_nn: bool

    @property
    def mcpu(self) -> str:
        return next(f.split("=", 1)[1] for f in self.cpu if f.startswith("-mcpu="))

    def common(self, root: Path) -> list[str]:
        core, dev = DEVICES[self.mcpu]
        defines = [*DEFINES, f"-DCPU_{core}=1", f'-DCMSIS_DEVICE_ARM_CORTEX_M_XX_HEADER_FILE="{dev}.h"', f"-D{dev}"]
        if self.cmsis_nn:
            defines.append("-DCMSIS_NN")
        includes = [f"-I{root / d}" for d in INCLUDE_DIRS]
        includes.append(f"-I{root / 'third_party/cmsis/Cortex_DFP/Device' / dev / 'Include'}")
        return [*self.cpu, *COMMON, *defines, *includes]

    def for_source(self, root: Path, rel: str) -> list[str]:
        """Language, optimisation level and the common flags for one file of the tree."""
        lang = CXX_ONLY if rel.endswith(".cc") else C_ONLY
        return [*lang, opt_level(rel), *self.common(root)]


def opt_level(rel: str) -> str:
    return KERNEL_OPT if rel.startswith((KERNELS + "/", "third_party/cmsis_nn/")) else CORE_OPT


def cpu_flags(arch_cflags: tuple[str, ...]) -> tuple[str, ...]:
    """The machine flags of a toolkit arch (drops its -D platform defines)."""
    return tuple(f for f in arch_cflags if f.startswith("-m"))


def core_sources(tree: TflmTree) -> list[str]:
    """The interpreter, allocator, planners, flatbuffer parsing and shared TFLite code."""
    out = []
    for p in sorted((tree.root / "tensorflow").rglob("*.cc")):
        rel = p.relative_to(tree.root).as_posix()
        if rel.startswith(KERNELS + "/") or NOT_CORE.search(rel):
            continue
        out.append(rel)
    return out


def _kernel_helper(tree: TflmTree, stem: str, cmsis_nn: bool) -> list[str]:
    """Sources behind kernels/<stem>.h: <stem>_common.cc, and <stem>.cc if it is a helper module."""
    out = []
    common = f"{KERNELS}/{stem}_common.cc"
    if (tree.root / common).is_file():
        out.append(common)
    for d in ([CMSIS_NN_KERNELS] if cmsis_nn else []) + [KERNELS]:
        rel = f"{d}/{stem}.cc"
        if (tree.root / rel).is_file():
            if "Register_" not in (tree.root / rel).read_text(errors="replace"):
                out.append(rel)
            break
    return out


def kernel_sources(tree: TflmTree, ops: list[str], cmsis_nn: bool) -> list[str]:
    """The kernel files of `ops` (builtin operator names) and their helpers, include by include."""
    missing = sorted(op for op in ops if op not in tree.resolver)
    if missing:
        raise UnsupportedOp(f"TFLM's MicroMutableOpResolver in {tree.root} has no {', '.join(missing)}")
    todo = []
    for op in ops:
        rel = tree.kernel_file(tree.resolver[op].register, cmsis_nn)
        if rel is None:
            raise UnsupportedOp(f"{tree.root} has no kernel for {op} ({tree.resolver[op].register}): a tree made with "
                                "OPTIMIZED_KERNEL_DIR=cmsis_nn alone lacks the reference kernels it replaces")
        todo.append(rel)
    seen: list[str] = []
    while todo:
        rel = todo.pop(0)
        if rel in seen:
            continue
        seen.append(rel)
        for stem in _KERNEL_INCLUDE.findall((tree.root / rel).read_text(errors="replace")):
            todo += _kernel_helper(tree, stem, cmsis_nn)
    return sorted(seen)


def cmsis_nn_sources(tree: TflmTree, kernels: list[str]) -> list[str]:
    """The CMSIS-NN C files that the CMSIS-NN kernels among `kernels` call, transitively
    (a call in any #if branch counts: the core's features pick the branch at compile time)."""
    src = tree.root / "third_party/cmsis_nn/Source"
    defined: dict[str, str] = {}
    texts: dict[str, str] = {}
    for p in sorted(src.rglob("*.c")):
        if p.name.endswith(("_f16.c", "_f32.c")) or p.name == "arm_nntables_flt.c":
            continue  # TFLM builds with ARM_NN_ENABLE_F16=0 ARM_NN_ENABLE_F32=0
        rel = p.relative_to(tree.root).as_posix()
        texts[rel] = p.read_text(errors="replace")
        for name in _C_DEFINITION.findall(texts[rel]):
            defined.setdefault(name, rel)
        defined.setdefault(p.stem, rel)  # CMSIS-NN's convention: arm_foo() in arm_foo.c
    wanted = [k for k in kernels if k.startswith(CMSIS_NN_KERNELS + "/")]
    calls = {c for k in wanted for c in _ARM_CALL.findall((tree.root / k).read_text(errors="replace"))}
    files: set[str] = set()
    todo = [defined[c] for c in calls if c in defined]
    while todo:
        rel = todo.pop()
        if rel in files:
            continue
        files.add(rel)
        todo += [defined[c] for c in _ARM_CALL.findall(texts[rel]) if c in defined and defined[c] not in files]
    return sorted(files)


def model_sources(tree: TflmTree, ops: list[str], cmsis_nn: bool) -> list[str]:
    """Everything a firmware with these operators compiles from the tree."""
    if cmsis_nn and not tree.has_cmsis_nn:
        raise ToolkitError(f"{tree.root} has no CMSIS-NN kernels ({CMSIS_NN_KERNELS}, third_party/cmsis_nn): "
                           "make the tree with OPTIMIZED_KERNEL_DIR=cmsis_nn")
    kernels = kernel_sources(tree, ops, cmsis_nn)
    extra = cmsis_nn_sources(tree, kernels) if cmsis_nn else []
    return sorted(set(core_sources(tree)) | set(kernels) | set(extra))


__all__ = [
    "MICRO",
    "Flags",
    "UnsupportedOp",
    "cmsis_nn_sources",
    "core_sources",
    "cpu_flags",
    "kernel_sources",
    "model_sources",
]
