"""LOGISTIC, TANH, HARD_SWISH (the table and clamp machinery is activations.Unary).

int8 as TFLM computes it: LOGISTIC and TANH rescale the input to Q4.27 and evaluate
gemmlowp's fixed-point logistic/tanh (_fixedpoint.py; micro/kernels/logistic_common.cc,
tanh.cc, reference/integer_ops/logistic.h, tanh.h); HARD_SWISH is int16 arithmetic
(micro/kernels/hard_swish_common.cc, reference/hard_swish.h). float32: LiteRT's
reference formulas; exp and tanh come from kernels/act_*.c (no libm).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from toolkit import quantization as Q
from toolkit.ops import _fixedpoint as F
from toolkit.ops.activations import Unary

INPUT_INTEGER_BITS = 4  # LOGISTIC and TANH take their input in Q4.27


def _q4_params(scale: float) -> tuple[int, int, int]:
    """input multiplier, left shift and range radius (CalculateArithmeticOpDataLogistic)."""
    q, shift = math.frexp(float(scale) * float(1 << (31 - INPUT_INTEGER_BITS)))
    mult = Q.round_half_away(q * (1 << 31))
    # CalculateInputRadius: inputs at least this far from the zero point saturate.
    radius = math.floor(1.0 * ((1 << INPUT_INTEGER_BITS) - 1) * (1 << (31 - INPUT_INTEGER_BITS)) / 2.0**shift)
    return mult, shift, radius


def _int16(x: np.ndarray) -> np.ndarray:
    return ((np.asarray(x, np.int64) + 2**15) % 2**16) - 2**15


def _trunc_div(a: np.ndarray, d: int) -> np.ndarray:
    return np.where(a >= 0, a // d, -((-a) // d))


@dataclass(eq=False)
class _Sigmoidal(Unary):
    """The shared shape of LOGISTIC and TANH int8: saturate far inputs, else Q4.27 in."""

    def check_int8(self, raw) -> None:
        mult, shift, _ = _q4_params(self.input.scale)
        if not 0 <= shift <= 31 or mult >= 2**31:
            raise raw.fail(f"input scale {self.input.scale:g} is outside what TFLM's fixed-point {self.kind} handles")

    def q0(self, q4: np.ndarray) -> np.ndarray:
        """gemmlowp's function, Q4.27 in, Q0.31 out."""
        raise NotImplementedError

    def from_q0(self, out: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def int8(self, q: np.ndarray) -> np.ndarray:
        mult, shift, radius = _q4_params(self.input.scale)
        v = q - self.input.zero_point
        inside = (v > -radius) & (v < radius)
        q4 = Q.multiply_by_quantized_multiplier(np.where(inside, v, 0), mult, shift)
        out = np.clip(self.from_q0(self.q0(q4)), Q.INT8_MIN, Q.INT8_MAX)
        return np.where(v <= -radius, Q.INT8_MIN, np.where(v >= radius, Q.INT8_MAX, out))


@dataclass(eq=False)
class Logistic(_Sigmoidal):
    kind: ClassVar[str] = "LOGISTIC"

    CUTOFF_UPPER: ClassVar[np.float32] = np.float32(16.619047164916992188)
    CUTOFF_LOWER: ClassVar[np.float32] = np.float32(-9.0)

    def check_int8(self, raw) -> None:
        super().check_int8(raw)
        if self.output.zero_point != Q.INT8_MIN:  # TF_LITE_ENSURE_EQ in TFLM's Prepare
            raise raw.fail(f"output zero point {self.output.zero_point}; TFLM requires -128")

    def q0(self, q4):
        return F.logistic(q4, INPUT_INTEGER_BITS)

    def from_q0(self, out):
        return F.rdp(out, 31 - 8) - 128  # to 1/256 steps, zero point -128

    def float32(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            mid = np.float32(1) / (np.float32(1) + np.exp(-x))
            return np.where(x > self.CUTOFF_UPPER, np.float32(1), np.where(x < self.CUTOFF_LOWER, np.exp(x), mid))

    def float_c(self, ctx, v: str) -> list[str]:
        return [f"r = {ctx.kernel('act_sigmoidf')}({v});"]


@dataclass(eq=False)
class Tanh(_Sigmoidal):
    kind: ClassVar[str] = "TANH"

    def q0(self, q4):
        return F.tanh(q4, INPUT_INTEGER_BITS)

    def from_q0(self, out):
        return F.rdp(out, 31 - 7)  # to 1/128 steps, zero point 0

    def float32(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    def float_c(self, ctx, v: str) -> list[str]:
        return [f"r = {ctx.kernel('act_tanhf')}({v});"]


@dataclass(eq=False)
class HardSwish(Unary):
    kind: ClassVar[str] = "HARD_SWISH"

    def int8_params(self) -> dict[str, int]:
        """HardSwishPrepare: float32 ratios, Q31 multipliers cut to Q15."""
        hires = np.float32(1.0 / 128.0) * np.float32(self.input.scale)
        reluish_scale = np.float32(3.0) / np.float32(32768.0)
        p: dict[str, int] = {}
        for key, real in (("out", hires / np.float32(self.output.scale)), ("reluish", hires / reluish_scale)):
            m32, p[key + "_exp"] = Q.quantize_multiplier(float(real))
            # DownScaleInt32ToInt16Multiplier
            p[key + "_m16"] = 32767 if m32 >= Q.INT32_MAX - (1 << 15) else (m32 + (1 << 15)) >> 16
        return p

    def check_int8(self, raw) -> None:
        if self.int8_params()["out_exp"] > 0:  # TF_LITE_ENSURE in TFLM's Prepare
            raise raw.fail(f"output scale {self.output.scale:g} is too small for input scale {self.input.scale:g}")

    @staticmethod
    def _srdhm16(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
        """gemmlowp's SaturatingRoundingDoublingHighMul on int16."""
        ab = np.asarray(a, np.int64) * b
        r = _int16(_trunc_div(ab + np.where(ab >= 0, 1 << 14, 1 - (1 << 14)), 1 << 15))
        return np.where((np.asarray(a) == b) & (np.asarray(a) == -32768), 32767, r)

    @staticmethod
    def _rdp16(x: np.ndarray, exponent: int) -> np.ndarray:
        """gemmlowp's RoundingDivideByPOT on int16 (the mask is an int16 too)."""
        x = np.asarray(x, np.int64)
        mask = int(_int16(np.int64((1 << exponent) - 1)))
        threshold = (mask >> 1) + (x < 0)
        return _int16((x >> exponent) + ((x & mask) > threshold))

    @staticmethod
    def _sat_left16(x: np.ndarray, amount: int) -> np.ndarray:
        return np.clip(np.asarray(x, np.int64) * (1 << amount), -32768, 32767)

    def int8(self, q: np.ndarray) -> np.ndarray:
        p = self.int8_params()
        hires = (q - self.input.zero_point) * 128  # |q - zp| <= 255: fits int16
        preshift_out = self._srdhm16(hires, p["out_m16"])
        reluish = hires
        if p["reluish_exp"] > 0:
            reluish = self._sat_left16(reluish, p["reluish_exp"] - 1)
        reluish = self._srdhm16(reluish, p["reluish_m16"])
        if p["reluish_exp"] > 0:
            reluish = self._sat_left16(reluish, 1)
        if p["reluish_exp"] < 0:
            reluish = self._rdp16(reluish, -p["reluish_exp"])
        reluish = _int16((reluish + (1 << 15)) >> 1)
        # SaturatingDoublingHighMul: truncating, no rounding nudge
        a, b = reluish, preshift_out
        pre = np.where((a == b) & (a == -32768), 32767, _int16(_trunc_div(a * b, 1 << 15)))
        out = _int16(self._rdp16(pre, -p["out_exp"]) + self.output.zero_point)
        return np.clip(out, Q.INT8_MIN, Q.INT8_MAX)

    def float32(self, x: np.ndarray) -> np.ndarray:
        three, six, zero = np.float32(3), np.float32(6), np.float32(0)
        t = x + three
        t = np.where(zero < t, t, zero)  # std::max(0, x + 3)
        t = np.where(t < six, t, six)  # std::min(6, ...)
        return (x * t) / six

    def float_c(self, ctx, v: str) -> list[str]:
        return [f"r = {v} + 3.0f;", "r = 0.0f < r ? r : 0.0f;", "r = r < 6.0f ? r : 6.0f;", f"r = {v} * r / 6.0f;"]
