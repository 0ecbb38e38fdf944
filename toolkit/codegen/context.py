"""What a layer's emitter writes into: constant arrays, kernels, statements."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from toolkit.errors import UnsupportedModelError

_C_TYPES: dict[str, str] = {"int8_t": "int8", "int32_t": "int32", "float": "float32", "uint8_t": "uint8", "int16_t": "int16"}
_NEEDS = re.compile(r"/\* needs: ([\w, ]+) \*/")


def kernel_source(name: str) -> str:
    return resources.files("toolkit.codegen").joinpath("kernels", f"{name}.c").read_text()


@dataclass
class CContext:
    prefix: str
    layer: int = 0  # index of the layer being emitted, for constant names
    consts: list[str] = field(default_factory=list)
    kernels: dict[str, str] = field(default_factory=dict)  # name -> source, dependencies first
    body: list[str] = field(default_factory=list)
    const_bytes: int = 0

    def kernel(self, name: str) -> str:
        """Include kernel `name` (and what it needs) once; return its C function name."""
        if name not in self.kernels:
            source = kernel_source(name)
            match = _NEEDS.search(source)
            for dep in match.group(1).split(",") if match else ():
                self.kernel(dep.strip())
            self.kernels[name] = _NEEDS.sub("", source).lstrip()
        return f"tm_{name}"

    def const_array(self, tag: str, ctype: str, values: np.ndarray) -> str:
        """A `static const` array (so it is placed in flash); returns its name."""
        name = f"{self.prefix}_l{self.layer}_{tag}"
        flat = np.asarray(values).reshape(-1).astype(_C_TYPES[ctype])
        literal = self.float_literal if ctype == "float" else _int_literal
        items = [literal(v) for v in flat.tolist()]
        lines = [", ".join(items[i : i + 12]) for i in range(0, len(items), 12)]
        body = ",\n    ".join(lines)
        self.consts.append(f"static const {ctype} {name}[{len(items)}] = {{\n    {body}\n}};")
        self.const_bytes += flat.nbytes
        return name

    def stmt(self, line: str) -> None:
        self.body.append(line)

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
