"""RESHAPE, SQUEEZE, EXPAND_DIMS: the same bytes under a new shape.

They cost nothing: the memory plan gives the output the input's buffer. Code is only
emitted (a copy) when the output is a model output, which lives in the caller's buffer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from toolkit.ops.base import Op, require_same_quant, single_io


@dataclass(eq=False)
class Reshape(Op):
    kind: ClassVar[str] = "RESHAPE"
    aliases_input: ClassVar[bool] = True

    @classmethod
    def from_tflite(cls, raw) -> "Reshape":
        x, y = single_io(raw)
        if x.size != y.size:
            raise raw.fail(f"input {list(x.shape)} and output {list(y.shape)} differ in size")
        require_same_quant(raw, x, y)
        # a second input (the new shape) is only read by the converter's shape inference
        return cls(inputs=[x], outputs=[y])

    def reference(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x).reshape(self.output.shape)

    def emit_c(self, ctx, srcs: list[str], dst: str) -> None:
        # Only called when the output must be materialised (it is a model output).
        ctx.stmt(f"for (int i = 0; i < {self.output.size}; ++i) {dst}[i] = {srcs[0]}[i];")


@dataclass(eq=False)
class Squeeze(Reshape):
    kind: ClassVar[str] = "SQUEEZE"


@dataclass(eq=False)
class ExpandDims(Reshape):
    kind: ClassVar[str] = "EXPAND_DIMS"
