"""RESHAPE: same bytes, new shape. Costs nothing: the output aliases the input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from toolkit.ops.base import Layer, single_io


@dataclass
class Reshape(Layer):
    kind: ClassVar[str] = "RESHAPE"
    aliases_input: ClassVar[bool] = True

    @classmethod
    def from_tflite(cls, op) -> "Reshape":
        x, y = single_io(op)
        if x.size != y.size or x.dtype != y.dtype:
            raise op.fail(f"input {x.shape} {x.dtype} and output {y.shape} {y.dtype} differ in size or type")
        if x.quant is not None and y.quant is not None and (
            not np.array_equal(x.quant.scale, y.quant.scale) or not np.array_equal(x.quant.zero_point, y.quant.zero_point)
        ):
            raise op.fail("input and output quantization differ")
        return cls(input=x, output=y)

    def reference(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x).reshape(self.output.shape)

    def emit_c(self, ctx, src: str, dst: str) -> None:
        # Only called when the output must be materialised (it is the model output).
        ctx.stmt(f"for (int i = 0; i < {self.output.size}; ++i) {dst}[i] = {src}[i];")
