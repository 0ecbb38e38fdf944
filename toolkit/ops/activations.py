"""Unary activations: RELU, RELU6, LEAKY_RELU here; LOGISTIC, TANH, HARD_SWISH in nonlinear.py.

int8 is TFLM's arithmetic (micro/kernels/activations_common.cc, leaky_relu_common.cc and
the reference headers), in numpy. The C does not repeat it: every int8 -> int8 unary op
is a function of 256 values, so the generator runs the numpy reference on all of them
and emits a 256-entry table (one load per element), or a plain clamp when the table is
one. float32 follows LiteRT's reference kernels, formula for formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from toolkit import quantization as Q
from toolkit.ops.arithmetic import c_pointer, clamp_int
from toolkit.ops.base import Op, require_dtype, require_per_tensor, single_io

ALL_INT8 = np.arange(256, dtype=np.uint8).view(np.int8)  # table order: index = (uint8_t)x


@dataclass(eq=False)
class Unary(Op):
    """An elementwise op of one operand; subclasses give the int8 and float32 formulas."""

    inplace: ClassVar[bool] = True  # y[i] depends on x[i] only

    @classmethod
    def from_tflite(cls, raw) -> "Unary":
        x, y = single_io(raw)
        require_dtype(raw, x, ("float32", "int8"), "input")
        if y.dtype != x.dtype:
            raise raw.fail(f"input '{x.name}' is {x.dtype} but output '{y.name}' is {y.dtype}")
        if x.size != y.size:
            raise raw.fail(f"input {list(x.shape)} and output {list(y.shape)} differ in size")
        if x.dtype == "int8":
            require_per_tensor(raw, x, "input")
            require_per_tensor(raw, y, "output")
        op = cls(inputs=[x], outputs=[y], **cls.options(raw))
        if x.dtype == "int8":
            op.check_int8(raw)
        return op

    @classmethod
    def options(cls, raw) -> dict:
        """Dataclass fields read from the operator's options table."""
        return {}

    def check_int8(self, raw) -> None:
        """Raise raw.fail(...) for quantization parameters TFLM rejects."""

    def int8(self, q: np.ndarray) -> np.ndarray:
        """The int8 op on int64 values (already clamped to int8)."""
        raise NotImplementedError

    def float32(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def float_c(self, ctx, v: str) -> list[str]:
        """C statements setting `float r` from `const float v`."""
        raise NotImplementedError

    def reference(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x).reshape(self.output.shape)
        if self.input.dtype == "float32":
            return self.float32(x.astype(np.float32)).astype(np.float32)
        return self.int8(x.astype(np.int64)).astype(np.int8)

    def table(self) -> np.ndarray:
        """The int8 op on every input, indexed by the input's bits as uint8."""
        return self.int8(ALL_INT8.astype(np.int64)).astype(np.int8)

    def emit_c(self, ctx, srcs: list[str], dst: str) -> None:
        n = self.output.size
        ctype = "float" if self.input.dtype == "float32" else "int8_t"
        lines = ["{", "    " + c_pointer(self.input, "x", srcs[0]), f"    {ctype} *y = {dst};"]
        if self.input.dtype == "float32":
            body = ["const float v = x[i];", "float r;", *self.float_c(ctx, "v"), "y[i] = r;"]
            lines += [f"    for (int32_t i = 0; i < {n}; ++i) {{", *("        " + ln for ln in body), "    }"]
        else:
            table = self.table()
            lo, hi = int(table.min()), int(table.max())
            if np.array_equal(table, np.clip(ALL_INT8, lo, hi)):  # a clamp: no table needed
                ctx.notes.append(f"int8 clamp to [{lo}, {hi}]")
                lines += [f"    for (int32_t i = 0; i < {n}; ++i) {{", "        int32_t v = x[i];",
                          "        " + clamp_int("v", lo, hi), "        y[i] = (int8_t)v;", "    }"]
            else:
                ctx.notes.append("int8 lookup table (256 bytes)")
                lut = ctx.const_array("lut", "int8_t", table)
                lines += [f"    const TM_ROM int8_t *lut = {lut};",
                          f"    for (int32_t i = 0; i < {n}; ++i) y[i] = lut[(uint8_t)x[i]];"]
        ctx.stmts(lines + ["}"])


@dataclass(eq=False)
class Relu(Unary):
    kind: ClassVar[str] = "RELU"

    def int8_params(self) -> tuple[int, int]:
        """CalculateReluOpData: the scale ratio is divided in float32."""
        return Q.quantize_multiplier(float(np.float32(self.input.scale) / np.float32(self.output.scale)))

    def int8(self, q: np.ndarray) -> np.ndarray:
        mult, shift = self.int8_params()
        zp = self.output.zero_point
        v = zp + Q.multiply_by_quantized_multiplier(q - self.input.zero_point, mult, shift)
        return np.clip(v, max(Q.INT8_MIN, zp), Q.INT8_MAX)

    def float32(self, x: np.ndarray) -> np.ndarray:
        return np.where(x < 0, np.float32(0), x)

    def float_c(self, ctx, v: str) -> list[str]:
        return [f"r = {v} < 0.0f ? 0.0f : {v};"]


@dataclass(eq=False)
class Relu6(Unary):
    kind: ClassVar[str] = "RELU6"

    def int8_bounds(self) -> tuple[int, int]:
        """Relu6Prepare: 0 and 6 quantized with the *input's* parameters."""
        zp = self.input.zero_point
        six = Q.quantize_value(6.0, self.input.scale, zp)
        return zp, int(np.clip(six, Q.INT8_MIN, Q.INT8_MAX))

    def int8(self, q: np.ndarray) -> np.ndarray:
        # TFLM clamps in the input's scale and ignores the output's quantization: the
        # values are only right when both agree (see emit notes).
        zero, six = self.int8_bounds()
        return np.where(q > six, six, np.where(q < zero, zero, q))

    def emit_c(self, ctx, srcs: list[str], dst: str) -> None:
        x, y = self.input, self.output
        if x.dtype == "int8" and (x.scale != y.scale or x.zero_point != y.zero_point):
            ctx.notes.append("TFLM semantics: clamped in the input's scale, the output's quantization is ignored")
        super().emit_c(ctx, srcs, dst)

    def float32(self, x: np.ndarray) -> np.ndarray:
        return np.where(x > 6, np.float32(6), np.where(x < 0, np.float32(0), x))

    def float_c(self, ctx, v: str) -> list[str]:
        return [f"r = {v} > 6.0f ? 6.0f : ({v} < 0.0f ? 0.0f : {v});"]


@dataclass(eq=False)
class LeakyRelu(Unary):
    alpha: float = 0.2

    kind: ClassVar[str] = "LEAKY_RELU"

    @classmethod
    def options(cls, raw) -> dict:
        alpha = raw.options.scalar(0, "f") if raw.options is not None else 0.0  # LeakyReluOptions.alpha
        if not np.isfinite(alpha):
            raise raw.fail(f"alpha {alpha}")
        return {"alpha": float(np.float32(alpha))}

    def describe(self) -> str:
        return f"{super().describe()} alpha={self.alpha:g}"

    def int8_params(self) -> dict[str, int]:
        """CalculateOpDataLeakyRelu: both ratios computed in float32."""
        s_in, s_out, alpha = np.float32(self.input.scale), np.float32(self.output.scale), np.float32(self.alpha)
        p: dict[str, int] = {}
        p["m_alpha"], p["s_alpha"] = Q.quantize_multiplier(float(s_in * alpha / s_out))
        p["m_id"], p["s_id"] = Q.quantize_multiplier(float(s_in / s_out))
        return p

    def check_int8(self, raw) -> None:
        if self.int8_params()["m_alpha"] <= Q.INT32_MIN:
            raise raw.fail(f"alpha {self.alpha:g}: its multiplier does not fit int32")

    def int8(self, q: np.ndarray) -> np.ndarray:
        p = self.int8_params()
        v = q - self.input.zero_point
        identity = Q.multiply_by_quantized_multiplier(v, p["m_id"], p["s_id"])
        # A negative alpha: its magnitude is applied and the result negated (QuantizeLeakyRelu).
        scaled = Q.multiply_by_quantized_multiplier(v, abs(p["m_alpha"]), p["s_alpha"])
        scaled = -scaled if p["m_alpha"] < 0 else scaled
        return np.clip(self.output.zero_point + np.where(v >= 0, identity, scaled), Q.INT8_MIN, Q.INT8_MAX)

    def float32(self, x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, x, x * np.float32(self.alpha))

    def float_c(self, ctx, v: str) -> list[str]:
        return [f"r = {v} > 0.0f ? {v} : {v} * {ctx.float_literal(self.alpha)};"]
