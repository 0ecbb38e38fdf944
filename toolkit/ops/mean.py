"""MEAN over the spatial axes (H, W) of an NHWC tensor: global average pooling.

int8 is TFLM's reduce kernel (micro/kernels/reduce_common.cc -> reference_ops::
QuantizedMeanOrSum), used whatever the input and output quantization, equal or not:
the int32 sum of the raw values minus zp_in·n is scaled by the input/output scale
ratio with 1/n folded into the multiplier
    shift_n = min(floor(log2 n), 32, 31 + shift),  mult' = (mult << shift_n) / n,
    shift' = shift - shift_n,
then MultiplyByQuantizedMultiplier, + zp_out, clamp to int8. float32 is TFLite's
reference_ops::Mean: a float sum in (h, w) order divided by n.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from toolkit import quantization as Q
from toolkit.ops.base import Op, require_dtype, require_per_tensor, single_io
from toolkit.ops.pool2d import c_index

_KEEP_DIMS = 0  # ReducerOptions field


@dataclass(eq=False)
class Mean(Op):
    keep_dims: bool = False
    kind: ClassVar[str] = "MEAN"

    @classmethod
    def from_tflite(cls, raw) -> "Mean":
        x, y = single_io(raw, 2)
        axis = raw.inputs[1]
        if len(raw.inputs) != 2 or axis is None or axis.data is None:
            raise raw.fail("the axis input must be a constant tensor")
        if axis.dtype != "int32":
            raise raw.fail(f"axis tensor '{axis.name}' is {axis.dtype}; TFLM requires int32")
        rank = len(x.shape)
        given = [int(a) for a in np.asarray(axis.data).reshape(-1)]
        resolved = sorted({a + rank if a < 0 else a for a in given})
        if rank != 4 or resolved != [1, 2]:
            raise raw.fail(f"mean over axes {given} of a {rank}-D input {list(x.shape)}; "
                           "supported: axes [1, 2] (H and W) of a 4-D NHWC tensor")
        keep = bool(raw.options.scalar(_KEEP_DIMS, "B")) if raw.options is not None else False
        n, _, _, c = x.shape
        want = (n, 1, 1, c) if keep else (n, c)
        if tuple(y.shape) != want:
            raise raw.fail(f"output shape {list(y.shape)}; keep_dims={keep} gives {list(want)}")
        require_dtype(raw, x, ("float32", "int8"), "input")
        require_dtype(raw, y, (x.dtype,), "output")
        if x.dtype == "int8":
            require_per_tensor(raw, x, "input")
            require_per_tensor(raw, y, "output")
        return cls(inputs=[x], outputs=[y], keep_dims=keep)

    @property
    def count(self) -> int:
        return self.input.shape[1] * self.input.shape[2]

    def describe(self) -> str:
        return (f"{self.kind} axes [1, 2] keep_dims={self.keep_dims} {list(self.input.shape)} -> "
                f"{list(self.output.shape)} ({self.input.dtype})")

    def int8_params(self) -> tuple[int, int]:
        """(multiplier, shift) with 1/n folded in, as QuantizedMeanOrSum readapts them."""
        mult, shift = Q.quantize_multiplier(float(self.input.scale) / float(self.output.scale))
        n = self.count
        shift_n = min(n.bit_length() - 1, 32, 31 + shift)  # 63 - CountLeadingZeros(n)
        # int64 division of non-negative values: the floor is C's truncation
        return (mult << shift_n) // n, shift - shift_n  # < mult: fits int32

    # -- numpy reference ------------------------------------------------------------

    def reference(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x).reshape(self.input.shape)
        n = self.count
        if self.input.dtype == "float32":
            total = np.zeros((x.shape[0], x.shape[3]), np.float32)
            for iy in range(x.shape[1]):
                for ix in range(x.shape[2]):
                    total = (total + x[:, iy, ix, :]).astype(np.float32)
            return (total / np.float32(n)).astype(np.float32).reshape(self.output.shape)
        mult, shift = self.int8_params()
        total = x.astype(np.int64).sum(axis=(1, 2)) - self.input.zero_point * n
        q = Q.multiply_by_quantized_multiplier(total, mult, shift) + self.output.zero_point
        return np.clip(q, Q.INT8_MIN, Q.INT8_MAX).astype(np.int8).reshape(self.output.shape)

    # -- C --------------------------------------------------------------------------

    def emit_c(self, ctx, srcs: list[str], dst: str) -> None:
        batches, h, w, c = self.input.shape
        n = self.count
        big = c_index(self.input.size + 1)
        ctype = "int8_t" if self.input.dtype == "int8" else "float"
        lines = ["{", f"    const {ctype} *x = {srcs[0]};", f"    {ctype} *y = {dst};",
                 f"    for ({big} b = 0; b < {batches}; ++b, x += {h * w * c}) {{",
                 f"        for (int ch = 0; ch < {c}; ++ch) {{"]
        if ctype == "float":
            lines += ["            float total = 0.0f;",
                      f"            for ({big} i = ch; i < {n * c}; i += {c}) total += x[i];",
                      f"            *y++ = total / {ctx.float_literal(float(n))};"]
        else:
            mult, shift = self.int8_params()
            fn = ctx.kernel("requant")
            lines += [f"            int32_t acc = {-self.input.zero_point * n};",  # the zero points' sum
                      f"            for ({big} i = ch; i < {n * c}; i += {c}) acc += x[i];",
                      f"            acc = {fn}(acc, {mult}, {shift}) + ({self.output.zero_point});",
                      "            if (acc < -128) acc = -128;",
                      "            if (acc > 127) acc = 127;",
                      "            *y++ = (int8_t)acc;"]
        lines += ["        }", "    }", "}"]
        ctx.stmts(lines)
