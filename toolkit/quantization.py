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
