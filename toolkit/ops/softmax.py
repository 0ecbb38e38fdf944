"""SOFTMAX over the last axis, with TFLite's beta: float32, and int8 -> int8 as TFLM.

int8 follows TFLM's reference kernel (reference/softmax.h, micro/kernels/softmax_common.cc):
the input differences to the row maximum are rescaled to Q5.26 (PreprocessSoftmaxScaling),
exponentiated with gemmlowp's fixed-point exp_on_negative_values, summed in Q12.19, and
each output is exp · 1/sum, the reciprocal from gemmlowp's Newton-Raphson
one_over_one_plus_x_for_x_in_0_1 (GetReciprocal). The output is fixed by TFLite's int8
specification: scale 1/256, zero point -128.

A difference max - x is one of 256 values, so the generator tabulates exp over them with the
numpy port of gemmlowp (toolkit/ops/_fixedpoint.py); the C keeps only the sum, the reciprocal and the final scaling, all
in integer arithmetic (toolkit/codegen/kernels/softmax_s8.c).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from toolkit import quantization as Q
from toolkit.ops import _fixedpoint as F
from toolkit.ops.base import Op, require_dtype, require_per_tensor, single_io

BETA_FIELD = 0  # SoftmaxOptions.beta (float), field 0 of the schema table
SCALED_DIFF_INTEGER_BITS = 5  # exp's input is Q5.26
ACCUMULATION_INTEGER_BITS = 12  # the sum of exps is Q12.19
MAX_DEPTH = 4095  # 4096 exps of 1.0 in Q12.19 would overflow the int32 sum


def get_reciprocal(total: int, integer_bits: int) -> tuple[int, int]:
    """TFLite's GetReciprocal of a positive raw value in Q(integer_bits):
    (Q0.31 scale, num_bits_over_unit), 1/value ≈ scale·2^-31·2^-num_bits_over_unit."""
    headroom_plus_one = 32 - int(total & 0xFFFFFFFF).bit_length()
    shifted_minus_one = int(F.wrap32(((total << headroom_plus_one) & 0xFFFFFFFF) - 2**31))
    return int(F.one_over_one_plus_x_for_x_in_0_1(shifted_minus_one)), integer_bits - headroom_plus_one


def _quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLM's QuantizeMultiplier (double-rounding build: no clamp of shifts above 30)."""
    q, shift = math.frexp(real)
    fixed = Q.round_half_away(q * (1 << 31))
    if fixed == 1 << 31:
        fixed, shift = fixed // 2, shift + 1
    return fixed, shift


# -- the op ---------------------------------------------------------------------------------


@dataclass(eq=False)
class Softmax(Op):
    beta: float = 1.0

    kind: ClassVar[str] = "SOFTMAX"
    inplace: ClassVar[bool] = True  # each row is read whole before any of its outputs is written

    @classmethod
    def from_tflite(cls, raw) -> "Softmax":
        x, y = single_io(raw)
        if raw.options is None:
            raise raw.fail("no SoftmaxOptions (beta)")
        beta = float(np.float32(raw.options.scalar(BETA_FIELD, "f", 0.0)))
        if not (beta > 0.0 and math.isfinite(beta)):
            raise raw.fail(f"beta {beta}; supported: beta > 0")
        if tuple(x.shape) != tuple(y.shape) or len(x.shape) < 1:
            raise raw.fail(f"input {list(x.shape)} and output {list(y.shape)} differ")
        require_dtype(raw, x, ("float32", "int8"), "input")
        require_dtype(raw, y, (x.dtype,), "output")
        op = cls(inputs=[x], outputs=[y], beta=beta)
        if x.dtype == "int8":
            require_per_tensor(raw, x, "input")
            require_per_tensor(raw, y, "output")
            if y.zero_point != -128 or np.float32(y.scale) != np.float32(1 / 256):
                raise raw.fail(f"int8 output quantization scale {y.scale:g}, zero point {y.zero_point}; "
                               "TFLite's int8 softmax needs scale 1/256 and zero point -128")
            if op.depth > MAX_DEPTH:
                raise raw.fail(f"int8 softmax over {op.depth} values; the int32 sum of exps allows at most {MAX_DEPTH}")
            if float(beta) * float(x.scale) * (1 << 26) <= 1.0:
                raise raw.fail(f"input scale {x.scale:g} times beta {beta:g} is too small for TFLite's int8 softmax")
        return op

    @property
    def depth(self) -> int:
        return int(self.input.shape[-1])

    @property
    def rows(self) -> int:
        return self.input.size // self.depth

    def describe(self) -> str:
        beta = "" if self.beta == 1.0 else f" beta {self.beta:g}"
        return f"{self.kind} {list(self.input.shape)} last axis{beta} ({self.input.dtype})"

    # -- int8 parameters, shared by reference and C -----------------------------------------

    def int8_params(self) -> tuple[int, int, int]:
        """(input_multiplier, input_left_shift, diff_min) as TFLM's CalculateSoftmaxParams."""
        real = min(float(self.beta) * float(self.input.scale) * (1 << (31 - SCALED_DIFF_INTEGER_BITS)), 2.0**31 - 1.0)
        mult, shift = _quantize_multiplier(real)
        radius = math.floor(((1 << SCALED_DIFF_INTEGER_BITS) - 1) * (1 << (31 - SCALED_DIFF_INTEGER_BITS)) / (1 << shift))
        return mult, shift, -radius

    def exp_table(self) -> np.ndarray:
        """exp(beta·scale·(x - max)) in Q0.31 for max - x = 0..255, zeros past diff_min cut off
        (those outputs are -128 either way); trailing zeros dropped."""
        mult, shift, diff_min = self.int8_params()
        diffs = -np.arange(256, dtype=np.int64)
        # MultiplyByQuantizedMultiplierGreaterThanOne (double rounding): SRDHM(x·2^shift, m).
        # Only differences >= diff_min are used, and those times 2^shift fit in int32.
        ok = diffs >= diff_min
        scaled = F.mul(np.where(ok, diffs, 0) << min(shift, 62), mult)
        table = np.where(ok, F.exp_on_negative_values(scaled, SCALED_DIFF_INTEGER_BITS), 0)
        nonzero = np.flatnonzero(table)
        return table[: nonzero[-1] + 1]

    # -- numpy reference --------------------------------------------------------------------

    def reference(self, x: np.ndarray) -> np.ndarray:
        rows = np.asarray(x).reshape(self.rows, self.depth)
        if self.input.dtype == "float32":
            rows = rows.astype(np.float32)
            e = np.exp((rows - rows.max(axis=1, keepdims=True)) * np.float32(self.beta)).astype(np.float32)
            total = np.cumsum(e, axis=1, dtype=np.float32)[:, -1:]  # summed in order
            return (e / total).astype(np.float32).reshape(self.output.shape)
        table = self.exp_table()
        d = rows.max(axis=1, keepdims=True).astype(np.int64) - rows.astype(np.int64)
        e = np.where(d < len(table), table[np.minimum(d, len(table) - 1)], 0)
        sums = F.wrap32(F.rdp(e, ACCUMULATION_INTEGER_BITS).sum(axis=1))
        out = np.empty_like(d)
        for r, total in enumerate(sums.tolist()):
            scale, bits_over_unit = get_reciprocal(total, ACCUMULATION_INTEGER_BITS)
            exponent = bits_over_unit + 31 - 8
            out[r] = F.rdp(F.mul(scale, e[r]), exponent) - 128
        return np.clip(out, Q.INT8_MIN, Q.INT8_MAX).astype(np.int8).reshape(self.output.shape)

    # -- C ----------------------------------------------------------------------------------

    def emit_c(self, ctx, srcs: list[str], dst: str) -> None:
        src = srcs[0]
        if self.input.dtype == "float32":
            fn = ctx.kernel("softmax_f32")
            ctx.stmt(f"{fn}({src}, {dst}, {self.rows}, {self.depth}, {ctx.float_literal(self.beta)});")
            return
        table = self.exp_table()
        name = ctx.const_array("exp", "int32_t", table)
        fn = ctx.kernel("softmax_s8")
        ctx.stmt(f"{fn}({src}, {dst}, {self.rows}, {self.depth}, {name}, {len(table)});")
        ctx.notes.append(f"softmax: exp of the {len(table)} differences to the row maximum that count, tabulated")
