"""QUANTIZE (float32 -> int8, or int8 -> int8 requantization) and DEQUANTIZE (int8 -> float32)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from toolkit import quantization as Q
from toolkit.ops.base import Op, require_dtype, require_per_tensor, single_io


def _round_half_away(t: np.ndarray) -> np.ndarray:
    return np.where(t >= 0, np.floor(t + 0.5), np.ceil(t - 0.5))


def quantize_f32(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """TFLM's AffineQuantize: round(x / scale) + zero_point, division in float32, saturated."""
    t = np.asarray(x, np.float32) / np.float32(scale)
    t = np.clip(t, -1e9, 1e9)  # as the C kernel does before converting to int32
    q = _round_half_away(t.astype(np.float64)).astype(np.int64) + zero_point
    return np.clip(q, Q.INT8_MIN, Q.INT8_MAX).astype(np.int8)


def dequantize_s8(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """scale * (q - zero_point); float32 product of exact values, as TFLM's double then cast."""
    return (np.float32(scale) * (np.asarray(q, np.int64) - zero_point).astype(np.float32)).astype(np.float32)


@dataclass(eq=False)
class Quantize(Op):
    kind: ClassVar[str] = "QUANTIZE"
    inplace: ClassVar[bool] = True  # int8 -> int8: element i read before it is written

    @classmethod
    def from_tflite(cls, op) -> "Quantize":
        x, y = single_io(op)
        if x.size != y.size:
            raise op.fail(f"input {list(x.shape)} and output {list(y.shape)} have different sizes")
        require_dtype(op, x, ("float32", "int8"), "input")
        require_dtype(op, y, ("int8",), "output")
        require_per_tensor(op, y, "output")
        if x.dtype == "int8":
            require_per_tensor(op, x, "input")
        return cls(inputs=[x], outputs=[y])

    def requant_params(self) -> tuple[int, int]:
        return Q.quantize_multiplier(float(self.input.scale) / float(self.output.scale))

    def reference(self, x: np.ndarray) -> np.ndarray:
        if self.input.dtype == "float32":
            return quantize_f32(x, self.output.scale, self.output.zero_point).reshape(self.output.shape)
        mult, shift = self.requant_params()
        acc = Q.multiply_by_quantized_multiplier(np.asarray(x, np.int64) - self.input.zero_point, mult, shift)
        return np.clip(acc + self.output.zero_point, Q.INT8_MIN, Q.INT8_MAX).astype(np.int8).reshape(self.output.shape)

    def emit_c(self, ctx, srcs: list[str], dst: str) -> None:
        src = srcs[0]
        n = self.output.size
        if self.input.dtype == "float32":
            fn = ctx.kernel("quantize_f32_s8")
            ctx.stmt(f"{fn}({src}, {dst}, {n}, {ctx.float_literal(self.output.scale)}, {self.output.zero_point});")
            return
        mult, shift = self.requant_params()
        fn = ctx.kernel("requantize_s8")
        ctx.stmt(f"{fn}({src}, {dst}, {n}, {self.input.zero_point}, {mult}, {shift}, {self.output.zero_point});")


@dataclass(eq=False)
class Dequantize(Op):
    kind: ClassVar[str] = "DEQUANTIZE"

    @classmethod
    def from_tflite(cls, op) -> "Dequantize":
        x, y = single_io(op)
        if x.size != y.size:
            raise op.fail(f"input {list(x.shape)} and output {list(y.shape)} have different sizes")
        require_dtype(op, x, ("int8",), "input")
        require_dtype(op, y, ("float32",), "output")
        require_per_tensor(op, x, "input")
        return cls(inputs=[x], outputs=[y])

    def reference(self, x: np.ndarray) -> np.ndarray:
        return dequantize_s8(x, self.input.scale, self.input.zero_point).reshape(self.output.shape)

    def emit_c(self, ctx, srcs: list[str], dst: str) -> None:
        src = srcs[0]
        fn = ctx.kernel("dequantize_s8_f32")
        ctx.stmt(f"{fn}({src}, {dst}, {self.input.size}, {ctx.float_literal(self.input.scale)}, {self.input.zero_point});")
