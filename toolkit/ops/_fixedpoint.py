"""gemmlowp's fixed-point functions (fixedpoint.h), in numpy, as TFLM's int8 LOGISTIC
and TANH call them.

Values are int64 arrays holding int32 raw values; `ib` is the number of integer bits
of the fixed-point format (gemmlowp's tIntegerBits). Every step is the int32 operation
of the C++ template, so results are bit-exact. The functions are vectorised over all
inputs: both branches of a SelectUsingMask are computed, then one is picked.
"""

from __future__ import annotations

import numpy as np

from toolkit import quantization as Q

INT32_MIN, INT32_MAX = Q.INT32_MIN, Q.INT32_MAX


def wrap32(x: np.ndarray) -> np.ndarray:
    """int32 two's complement wrap-around (what the C++ additions do on overflow)."""
    return ((np.asarray(x, np.int64) + 2**31) % 2**32) - 2**31


def mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """FixedPoint operator*: SaturatingRoundingDoublingHighMul of the raw values."""
    return Q.saturating_rounding_doubling_high_mul(a, b)


def rdp(x: np.ndarray, exponent: int) -> np.ndarray:
    """RoundingDivideByPOT."""
    return Q.rounding_divide_by_pot(x, exponent)


def srmpot(x: np.ndarray, exponent: int) -> np.ndarray:
    """SaturatingRoundingMultiplyByPOT<exponent>: saturating left shift, or rounding right shift."""
    x = np.asarray(x, np.int64)
    if exponent > 0:
        return np.clip(x << exponent, INT32_MIN, INT32_MAX)
    return rdp(x, -exponent) if exponent < 0 else x


def rescale(x: np.ndarray, ib_src: int, ib_dst: int) -> np.ndarray:
    return srmpot(x, ib_src - ib_dst)


def one(ib: int) -> int:
    return INT32_MAX if ib == 0 else 1 << (31 - ib)


def rounding_half_sum(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    total = np.asarray(a, np.int64) + b
    num = total + np.where(total >= 0, 1, -1)
    return np.where(num >= 0, num // 2, -((-num) // 2))  # C division truncates


def exp_on_interval_between_negative_one_quarter_and_0_excl(a: np.ndarray) -> np.ndarray:
    constant_term, one_third = 1895147668, 715827883
    x = wrap32(a + (1 << 28))
    x2 = mul(x, x)
    x3 = mul(x2, x)
    x4 = mul(x2, x2)
    x4_over_4 = srmpot(x4, -2)
    poly = srmpot(wrap32(mul(wrap32(x4_over_4 + x3), one_third) + x2), -1)
    return wrap32(constant_term + mul(constant_term, wrap32(x + poly)))


_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535), (3, 720401), (4, 242))


def exp_on_negative_values(a: np.ndarray, ib: int) -> np.ndarray:
    """exp(a) for a <= 0 in Q(ib); the result has 0 integer bits."""
    a = np.asarray(a, np.int64)
    frac = 31 - ib
    quarter = 1 << (frac - 2)
    a_mod_quarter_minus_quarter = wrap32((a & (quarter - 1)) - quarter)
    result = exp_on_interval_between_negative_one_quarter_and_0_excl(rescale(a_mod_quarter_minus_quarter, ib, 0))
    remainder = wrap32(a_mod_quarter_minus_quarter - a)
    for exponent, multiplier in _BARREL:
        if ib > exponent:
            bit = np.int64(1) << (frac + exponent)
            result = np.where((remainder & bit) != 0, mul(result, multiplier), result)
    if ib > 5:
        result = np.where(a < -(1 << (36 - ib)), 0, result)
    return np.where(a == 0, one(0), result)


def _newton_reciprocal(a: np.ndarray) -> np.ndarray:
    """x ~ 1 / ((1 + a) / 2) in Q2, three Newton-Raphson steps from 48/17 - 32/17·d."""
    half_denominator = rounding_half_sum(a, one(0))
    x = wrap32(1515870810 + mul(half_denominator, -1010580540))
    for _ in range(3):
        one_minus = wrap32(one(2) - mul(half_denominator, x))
        x = wrap32(x + rescale(mul(x, one_minus), 4, 2))
    return x


def one_over_one_plus_x_for_x_in_0_1(a: np.ndarray) -> np.ndarray:
    return rescale(_newton_reciprocal(a), 1, 0)  # ExactMulByPot<-1>: Q2 raw read as Q1


def one_minus_x_over_one_plus_x_for_x_in_0_1(a: np.ndarray) -> np.ndarray:
    return rescale(wrap32(_newton_reciprocal(a) - one(2)), 2, 0)


def logistic(a: np.ndarray, ib: int) -> np.ndarray:
    a = np.asarray(a, np.int64)
    positive = a > 0
    abs_input = np.where(positive, a, wrap32(-a))
    if_positive = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(wrap32(-abs_input), ib))
    if_negative = wrap32(one(0) - if_positive)
    return np.where(a == 0, 1 << 30, np.where(positive, if_positive, if_negative))


def tanh(a: np.ndarray, ib: int) -> np.ndarray:
    a = np.asarray(a, np.int64)
    negative = a < 0
    n = np.where(negative, a, wrap32(-a))
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(n, ib + 1))  # ExactMulByPot<1>
    return np.where(a == 0, 0, np.where(negative, wrap32(-t), t))
