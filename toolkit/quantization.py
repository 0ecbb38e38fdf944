"""TensorFlow Lite's integer arithmetic, in numpy, exactly as the TFLM kernels compute it.

These are the reference for the generated C (`toolkit/codegen/kernels/requant.c`):
fixed-point multipliers from `QuantizeMultiplier`, gemmlowp's double rounding in
`MultiplyByQuantizedMultiplier`, and the fused-activation clamp ranges.
"""

from __future__ import annotations

import math

import numpy as np

INT8_MIN, INT8_MAX = -128, 127
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def round_half_away(x: float) -> int:
    """C's round(): halves go away from zero (Python's round() goes to even)."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """Split a positive real multiplier into a Q31 integer and a power-of-two shift."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = round_half_away(q * (1 << 31))
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:  # TFLite saturates multipliers too large to represent
        return (1 << 31) - 1, 30
    return q_fixed, shift


def fc_multipliers(input_scale: float, weight_scales: np.ndarray, output_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (multiplier, shift) for a fully connected layer, as TFLM's Prepare computes them.

    Per-tensor weights: TFLM multiplies the two scales in float32 before widening
    (GetQuantizedConvolutionMultipler); per-channel: in double.
    """
    if len(weight_scales) == 1:
        products = [float(np.float32(input_scale) * np.float32(weight_scales[0]))]
    else:
        products = [float(input_scale) * float(s) for s in weight_scales]
    pairs = [quantize_multiplier(p / float(output_scale)) for p in products]
    mult = np.array([m for m, _ in pairs], dtype=np.int64)
    shift = np.array([s for _, s in pairs], dtype=np.int64)
    return mult, shift


def conv_multipliers(input_scale: float, weight_scales: np.ndarray, output_scale: float,
                     channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-output-channel (multiplier, shift) of CONV_2D / DEPTHWISE_CONV_2D, as TFLM's
    PopulateConvolutionQuantizationParams: input · filter / output in double for every
    channel, a per-tensor filter scale broadcast (unlike fc_multipliers' float32 product)."""
    scales = np.resize(np.asarray(weight_scales, np.float32), channels) if len(weight_scales) == 1 else weight_scales
    pairs = [quantize_multiplier(float(input_scale) * float(s) / float(output_scale)) for s in scales]
    return np.array([m for m, _ in pairs], dtype=np.int64), np.array([s for _, s in pairs], dtype=np.int64)


def _wrap_int32(x: np.ndarray) -> np.ndarray:
    return ((x + 2**31) % 2**32) - 2**31


def saturating_rounding_doubling_high_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    total = ab + nudge
    # C's integer division truncates toward zero.
    high = np.where(total >= 0, total >> 31, -((-total) >> 31))
    overflow = (a == b) & (a == INT32_MIN)
    return np.where(overflow, INT32_MAX, high)


def rounding_divide_by_pot(x: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(x: np.ndarray, mult: np.ndarray, shift: np.ndarray) -> np.ndarray:
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    scaled = _wrap_int32(np.asarray(x, dtype=np.int64) << left)
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(scaled, mult), right)


def quantize_value(value: float, scale: float, zero_point: int) -> int:
    """TFLite's Quantize(): zero_point + round(value / scale), with the division in float32."""
    return zero_point + round_half_away(float(np.float32(value) / np.float32(scale)))


def activation_range_int8(activation: str, scale: float, zero_point: int) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for int8 outputs."""
    low, high = INT8_MIN, INT8_MAX
    bounds = ACTIVATION_BOUNDS[activation]
    if bounds[0] is not None:
        low = max(low, quantize_value(bounds[0], scale, zero_point))
    if bounds[1] is not None:
        high = min(high, quantize_value(bounds[1], scale, zero_point))
    return low, high


# Real-valued clamp of each fused activation the toolkit supports (None: unbounded).
ACTIVATION_BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "NONE": (None, None),
    "RELU": (0.0, None),
    "RELU_N1_TO_1": (-1.0, 1.0),
    "RELU6": (0.0, 6.0),
}


# -- Folded requantization used by the generated C -----------------------------------
#
# TFLM computes clamp(RDP(SRDHM(acc << L, m), r) + zp, lo, hi) with L = max(shift, 0),
# r = max(-shift, 0). For a multiplier 0 <= m < 2^31 and |acc << L| < 2^30 this equals
#
#     h = (2·(acc << L)·m + 2^31) >> 32          (ARM SMMULR on a pre-doubled accumulator)
#     v = (h + K + s) >> r,  K = 2^(r-1) + zp·2^r (0 + zp when r = 0),  s = acc >> 31 (r >= 1)
#     clamp(v, lo, hi)
#
# or, in one 64-bit step, v = (acc·2^L·m + 2^30 + 2^31·(K + s)) >> (31 + r) (floors of
# floors). s may be dropped when lo >= zp: every negative accumulator then clamps to lo
# either way. The generator checks the bounds at generation time; these functions are
# the numpy models the tests compare with multiply_by_quantized_multiplier.


def requant_offset(shift: int, zero_point: int) -> int:
    """K: the rounding half of the right shift plus the output zero point, pre-shifted."""
    right = max(-shift, 0)
    return ((1 << (right - 1)) if right else 0) + (zero_point << right)


def requantize_smmulr(acc, mult, shift, zero_point: int, lo: int, hi: int, sign_fix: bool = True) -> np.ndarray:
    """The DSP path: SMMULR on 2^(1+L)·acc, one add, an arithmetic shift, a clamp."""
    acc = np.asarray(acc, dtype=np.int64)
    mult = np.asarray(mult, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    pre = acc << (left + 1)
    assert np.all(np.abs(pre) < 2**31), "pre-scaled accumulator out of int32"
    h = (pre * mult + 2**31) >> 32
    k = np.where(right > 0, np.left_shift(1, np.maximum(right - 1, 0)), 0) + (np.int64(zero_point) << right)
    s = np.where((right > 0) & sign_fix, acc >> 63, 0)
    return np.clip((h + k + s) >> right, lo, hi)


def requantize_int64(acc, mult, shift, zero_point: int, lo: int, hi: int, sign_fix: bool = True) -> np.ndarray:
    """The portable path: (acc·2^L·m + 2^30 + 2^31·(K + s)) >> (31 + r) in one 64-bit step."""
    acc, mult, shift = np.broadcast_arrays(*(np.asarray(v, dtype=np.int64) for v in (acc, mult, shift)))
    right = np.maximum(-shift, 0)
    k = np.array([requant_offset(int(sh), zero_point) for sh in shift.ravel()], dtype=object).reshape(shift.shape)
    s = np.where((right > 0) & sign_fix, acc >> 63, 0).astype(object)
    total = (acc.astype(object) << np.maximum(shift, 0).astype(object)) * mult.astype(object) + 2**30 + (k + s) * 2**31
    out = np.vectorize(lambda t, r: int(t) >> (31 + int(r)), otypes=[np.int64])(total, right)
    return np.clip(out, lo, hi)


def reference_requantize(acc, mult, shift, zero_point: int, lo: int, hi: int) -> np.ndarray:
    """TFLM: MultiplyByQuantizedMultiplier, add the zero point, clamp."""
    return np.clip(multiply_by_quantized_multiplier(acc, mult, shift) + zero_point, lo, hi)
