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
DSP_GUARD = "TM_DSP"


def kernel_source(name: str) -> str:
    return resources.files("toolkit.codegen").joinpath("kernels", f"{name}.c").read_text()


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
    consumer: object = None  # the next layer, when it reads this layer's output directly
    # DSP path: input words a layer left in registers for the next one
    # ({"layer": consumer, "names": [...]}).
    fused: dict | None = None
    sparse: str = "auto"  # weight encoding policy, see toolkit/codegen/sparse.py
    notes: list[str] = field(default_factory=list)  # one line per layer: the strategy chosen
    fold_notes: list[str] = field(default_factory=list)  # units removed before emission (fold.py)
    scratch: str = ""  # C pointer to the op's kernel scratch in the arena (Op.scratch_bytes)

    def kernel(self, name: str, guard: str | None = None) -> str:
        """Include kernel `name` (and what it needs) once; return its C function name.

        `guard`: a preprocessor condition the kernel is only compiled under (so that an
        unused static function does not warn)."""
        if name not in self.kernels:
            source = kernel_source(name)
            match = _NEEDS.search(source)
            for dep in match.group(1).split(",") if match else ():
                self.kernel(dep.strip(), guard)
            text = _NEEDS.sub("", source).lstrip()
            self.kernels[name] = f"#if {guard}\n{text}#endif\n" if guard else text
        return f"tm_{name}"

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
            self.path_bytes[path] += flat.nbytes
            text = f"#if {'' if path == 'dsp' else '!'}{DSP_GUARD}\n{text}\n#endif"
        self.consts.append(text)
        return name

    @contextmanager
    def capture(self) -> Iterator[list[str]]:
        """Collect the statements emitted inside the block instead of adding them."""
        saved, self.body = self.body, []
        try:
            yield self.body
        finally:
            self.body = saved

    def stmt(self, line: str) -> None:
        self.body.append(line)

    def stmts(self, lines: list[str]) -> None:
        self.body.extend(lines)

    def by_path(self, dsp: list[str], portable: list[str]) -> None:
        """Statements for cores with the DSP extension, and for every other compiler/core."""
        self.body.append(f"#if {DSP_GUARD}")
        self.body.extend(dsp)
        self.body.append("#else")
        self.body.extend(portable)
        self.body.append("#endif")

    def total_const_bytes(self, path: str) -> int:
        return self.const_bytes + self.path_bytes[path]

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
