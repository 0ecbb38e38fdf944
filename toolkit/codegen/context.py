"""What a layer's emitter writes into: constant arrays, kernels, statements."""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from typing import Iterator

import numpy as np

from toolkit.errors import UnsupportedModelError

_C_TYPES: dict[str, str] = {"int8_t": "int8", "int32_t": "int32", "float": "float32", "uint8_t": "uint8", "int16_t": "int16",
                            "uint16_t": "uint16", "uint32_t": "uint32"}
_NEEDS = re.compile(r"/\* needs: ([\w, ]+) \*/")

# Code paths a constant or a statement can belong to. "dsp" is compiled for cores with
# the ARMv7E-M DSP extension (Cortex-M4/M7/M33), "portable" everywhere else (the host,
# Cortex-M0+/M3); None is shared by both.
PATHS = ("dsp", "portable")
# The fast-path family each core builds (fast.FAMILIES' conditions); cores not named build
# the portable C only (Cortex-M3, the host).
FAMILY_OF_ARCH = {"cortex-m4": "dsp", "cortex-m7": "dsp", "cortex-m33": "dsp", "cortex-m0": "armv6m",
                  "cortex-m0plus": "armv6m", "rp2040": "armv6m", "rv32imc": "rv32", "atmega328p": "avr"}


def family_of(arch: str) -> str | None:
    """The fast-path family a build for `arch` compiles, None for the portable C alone."""
    return FAMILY_OF_ARCH.get(arch)
DSP_GUARD = "TM_DSP"


def kernel_source(name: str) -> str:
    return resources.files("toolkit.codegen").joinpath("kernels", f"{name}.c").read_text()


@dataclass(frozen=True)
class Passed:
    """Values one op left in C variables for `to`."""

    to: object  # the op that reads them
    names: tuple[str, ...]  # the variables (none when only `decision` is passed)
    decision: object = None  # what the giver decided for the reader's code (see the giver)


@dataclass
class Handoff:
    """An op's output passed to the next op in C variables (registers) instead of memory.

    Owner: the generator sets `consumer` before each op: the next op when it is the only
    reader of this op's output and that output is an arena tensor (so memory may be
    skipped), else None. An emitter that writes its output into variables calls `give`
    (declaring them under its own preprocessor branch); the consumer's emitter for the
    same branch calls `take`, which clears it. The only user today is the DSP path of int8
    FULLY_CONNECTED (fast/dsp/fully_connected.py): a small dense layer leaves its outputs
    as int16 pairs for the next dense layer; its portable branch still writes memory,
    which the consumer's portable branch reads.
    """

    consumer: object = None
    passed: Passed | None = None

    def give(self, names: list[str], decision: object = None) -> None:
        if self.consumer is None:
            raise ValueError("no consumer to hand the outputs to")
        self.passed = Passed(self.consumer, tuple(names), decision)

    def peek(self, op: object) -> Passed | None:
        """What was passed to `op`, if anything (without taking it)."""
        return self.passed if self.passed is not None and self.passed.to is op else None

    def take(self, op: object) -> Passed | None:
        passed = self.peek(op)
        self.passed = None
        return passed


@dataclass
class CContext:
    prefix: str
    layer: int = 0  # index of the layer being emitted, for constant names
    consts: list[str] = field(default_factory=list)
    kernels: dict[str, str] = field(default_factory=dict)  # name -> source, dependencies first
    body: list[str] = field(default_factory=list)
    const_bytes: int = 0  # shared constants
    path_bytes: dict[str, int] = field(default_factory=lambda: {p: 0 for p in PATHS})
    # Set by the generator before emit_c: the layer's input is word-aligned (an arena
    # slot), so several of its bytes can be loaded with one LDR/LDRD.
    src_aligned: bool = False
    handoff: Handoff = field(default_factory=Handoff)  # outputs passed to the next op in registers
    # The code path being emitted (set by fast.emit_op): a fast-path family ("dsp"),
    # "portable" for the #else of the op's fast paths, None when one C serves every core.
    # An emitter puts the constant arrays only its branch reads under it (const_array's path).
    branch: str | None = None
    sparse: str = "auto"  # weight encoding policy, see toolkit/codegen/sparse.py
    notes: list[str] = field(default_factory=list)  # one line per layer: the strategy chosen
    fold_notes: list[str] = field(default_factory=list)  # units removed before emission (fold.py)
    scratch: str = ""  # C pointer to the op's kernel scratch in the arena (Op.scratch_bytes)
    # The preprocessor condition of the branch being emitted (set by fast.emit_op for the
    # portable #else of fast paths): the kernels it includes are compiled under it only.
    branch_guard: str | None = None
    branch_families: tuple[str, ...] = ()  # the families whose fast paths the #else excludes
    # every path-specific constant array: (path, families its guard excludes, bytes)
    array_log: list[tuple[str, frozenset[str], int]] = field(default_factory=list)
    # The speed/size choice (optimize.py): (layer, family) -> the name of the fast path that
    # layer takes on that family's cores, or "portable" for its portable C; empty: each
    # family's cheapest applicable path (fast.choose).
    variants: dict[tuple[int, str], str] = field(default_factory=dict)
    # The int16-pair FULLY_CONNECTED path keeps to DSP_EXTRA_BYTES_MAX of extra flash per
    # layer (fc_plan.py); off under a flash budget, which then decides.
    flash_guard: bool = True
    _functions: dict[tuple[str, str | None], str] = field(default_factory=dict)  # see `function`
    _kernel_guards: dict[str, str | None] = field(default_factory=dict)  # see `kernel`

    def kernel(self, name: str, guard: str | None = None) -> str:
        """Include kernel `name` (and what it needs) once; return its C function name.

        `guard`: a preprocessor condition the kernel is only compiled under (so that an
        unused static function does not warn); by default the condition of the branch
        being emitted (`branch_guard`). A kernel asked for under several conditions is
        compiled under any of them."""
        guard = guard if guard is not None else self.branch_guard
        if name in self._kernel_guards:
            old = self._kernel_guards[name]
            if old is None or old == guard:
                return f"tm_{name}"
            guard = None if guard is None else f"({old}) || ({guard})"
        source = kernel_source(name)
        match = _NEEDS.search(source)
        for dep in match.group(1).split(",") if match else ():
            self.kernel(dep.strip(), guard)
        text = _NEEDS.sub("", source).lstrip()
        self.kernels[name] = f"#if {guard}\n{text}#endif\n" if guard else text
        self._kernel_guards[name] = guard
        return f"tm_{name}"

    def function(self, tag: str, text: str, guard: str | None = None) -> str:
        """Add a function of this layer next to the kernels (`text` defines `{name}`:
        specialised code, e.g. generated assembly) and return its name; layers whose
        function has the same text share the first one's. `guard`: as for `kernel`."""
        key = (text, guard)
        if key in self._functions:
            return self._functions[key]
        name = f"{self.prefix}_l{self.layer}_{tag}"
        body = text.replace("{name}", name)
        self.kernels[name] = f"#if {guard}\n{body}#endif\n" if guard else body
        self._functions[key] = name
        return name

    def const_array(self, tag: str, ctype: str, values: np.ndarray, path: str | None = None) -> str:
        """A `static const` array (so it is placed in flash); returns its name.

        `path` ("dsp" or "portable") puts the array under the matching preprocessor
        branch, so a build only holds (and only counts) the arrays its code uses.
        """
        name = f"{self.prefix}_l{self.layer}_{tag}"
        flat = np.asarray(values).reshape(-1).astype(_C_TYPES[ctype])
        if flat.size == 0:
            flat = np.zeros(1, flat.dtype)  # C has no empty arrays
        literal = self.float_literal if ctype == "float" else _int_literal
        items = [literal(v) for v in flat.tolist()]
        lines = [", ".join(items[i : i + 12]) for i in range(0, len(items), 12)]
        body = ",\n    ".join(lines)
        text = f"static const TM_ROM {ctype} {name}[{len(items)}] = {{\n    {body}\n}};"
        if path is None:
            self.const_bytes += flat.nbytes
        else:
            self.path_bytes[path] = self.path_bytes.get(path, 0) + flat.nbytes
            excluded = frozenset(self.branch_families if self.branch_guard else ("dsp",))
            self.array_log.append((path, excluded, int(flat.nbytes)))
            text = f"#if {self._array_guard(path)}\n{text}\n#endif"
        self.consts.append(text)
        return name

    def _array_guard(self, path: str) -> str:
        """The preprocessor condition of the arrays of code path `path`: a fast-path
        family's condition, or for "portable" the condition of the branch being emitted
        (the #else of the op's fast paths: none of their families), by default !TM_DSP."""
        if path == "portable":
            return self.branch_guard or f"!{DSP_GUARD}"
        if path == "dsp":
            return DSP_GUARD
        from toolkit.codegen.fast import FAMILIES  # late: the fast paths import this module

        return FAMILIES[path]

    @contextmanager
    def capture(self, branch: str | None = "") -> Iterator[list[str]]:
        """Collect the statements emitted inside the block instead of adding them;
        `branch`: the code path they are for while the block runs (see `branch`; by
        default the current one)."""
        saved, self.body = self.body, []
        saved_branch = self.branch
        if branch != "":
            self.branch = branch
        try:
            yield self.body
        finally:
            self.body, self.branch = saved, saved_branch

    def stmt(self, line: str) -> None:
        self.body.append(line)

    def stmts(self, lines: list[str]) -> None:
        self.body.extend(lines)

    def total_const_bytes(self, path: str) -> int:
        return self.const_bytes + self.path_bytes[path]

    def const_bytes_for(self, family: str | None) -> int:
        """The constant bytes a build of `family`'s cores holds (None: the portable C alone):
        the shared arrays, its own fast paths' and the portable arrays of ops it has no fast
        path for."""
        own = sum(n for path, excluded, n in self.array_log
                  if (path == family if path != "portable" else family not in excluded))
        return self.const_bytes + own

    @staticmethod
    def float_literal(value: float) -> str:
        """A float32 literal that reads back to the same bits."""
        if not math.isfinite(value):
            raise UnsupportedModelError(f"non-finite constant {value} in the model")
        text = f"{float(np.float32(value)):.9g}"
        if not any(c in text for c in ".e"):
            text += ".0"
        return text + "f"


def _int_literal(value: int) -> str:
    return "(-2147483647 - 1)" if value == -(2**31) else str(value)


def int_literal(value: int) -> str:
    """An int32 literal (INT32_MIN spelled so that it has type int)."""
    return _int_literal(int(value))


def int64_literal(value: int) -> str:
    value = int(value)
    if value == -(2**63):
        return "(-9223372036854775807LL - 1)"
    return f"{value}LL" if value >= 0 else f"(-{-value}LL)"
