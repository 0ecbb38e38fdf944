"""The integer plan of an int8 FULLY_CONNECTED layer, shared by its portable C and its fast paths.

Every size, zero point, multiplier and shift is a constant of the emitted code. The
specialised kernels (portable: fc_portable.py; ARMv7E-M DSP: fast/dsp/) need accumulator
bounds that are checked here from the weights (|acc| <= |bias| + 128·Σ|w|); a layer that
fails them, or has batches, gets the general kernel (tm_requant, gemmlowp's arithmetic
step by step) on every core.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from toolkit import quantization as Q

DSP_EXTRA_BYTES_MAX = 4096  # above this, a layer keeps int8 weights on the DSP cores too


@dataclass
class Int8Plan:
    """Integer constants of a layer and whether the specialised kernels' bounds hold."""

    weights: np.ndarray  # int64 [out, in]
    bias: np.ndarray  # int64 [out], input zero point folded in (int32 wrap-around)
    mult: np.ndarray  # int64 [out]
    shift: np.ndarray  # int64 [out]
    zero_point: int
    lo: int
    hi: int
    bound: np.ndarray  # int64 [out]: max |accumulator| over all int8 inputs
    fast: bool = True
    reason: str = ""
    per_tensor: bool = True
    sign_fix: bool = True
    left: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    right: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    offset: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # K per channel

    @property
    def out_n(self) -> int:
        return self.weights.shape[0]

    @property
    def in_n(self) -> int:
        return self.weights.shape[1]


def plan_int8(layer: Any) -> Int8Plan:
    """The plan of an int8 FullyConnected (toolkit/ops/fully_connected.py)."""
    p = layer.int8_params()
    w = layer.weights.data.astype(np.int64)
    bias = np.asarray(p["bias"], np.int64)
    mult, shift = np.asarray(p["mult"], np.int64), np.asarray(p["shift"], np.int64)
    bound = np.abs(bias) + 128 * np.abs(w).sum(axis=1)
    plan = Int8Plan(w, bias, mult, shift, layer.output.zero_point, int(p["act_min"]), int(p["act_max"]), bound)
    plan.left = np.maximum(shift, 0)
    plan.right = np.maximum(-shift, 0)
    plan.offset = np.array([Q.requant_offset(int(s), plan.zero_point) for s in shift], np.int64)
    plan.per_tensor = bool(np.all(mult == mult[0]) and np.all(shift == shift[0]))
    # Negative accumulators only need the round-half-away correction when their result
    # can lie above the lower clamp.
    plan.sign_fix = plan.lo < plan.zero_point
    reasons = []
    if layer.batches != 1:
        reasons.append(f"{layer.batches} batches")
    pre = plan.left + 1
    if np.any(bound << pre >= 2**31):
        reasons.append(f"accumulator bound {int(bound.max()):,} times 2^{int(pre.max())} exceeds int32")
    if np.any(np.abs(w).max(axis=1, initial=0) << pre > 32767):
        reasons.append("pre-scaled weights exceed int16")
    if np.any((bound << plan.left) + np.abs(plan.offset) + 2 >= 2**31):
        reasons.append("requantization offset exceeds int32")
    if not plan.per_tensor and plan.sign_fix and np.any(plan.right == 0) and np.any(plan.right > 0):
        reasons.append("per-channel shifts mix left and right shifts")
    if np.any(mult < 0) or np.any(mult >= 2**31):
        reasons.append("multiplier outside [0, 2^31)")
    plan.fast = not reasons
    plan.reason = "; ".join(reasons)
    return plan


def dsp_extra_bytes(plan: Int8Plan) -> int:
    """Flash bytes the DSP path's layout adds over the int8 one: per row the bias, the
    weights as int16 pairs ((in + 1) // 2 words) and the per-channel words of layout "r"
    (multiplier, and the right shift when there is one), against int8 weights, an int32
    bias and int32/int8 multiplier/shift arrays. Here because both sides need it: the DSP
    path is not taken above DSP_EXTRA_BYTES_MAX, and the portable C then says why."""
    words = (plan.in_n + 1) // 2
    per_channel = 0 if plan.per_tensor else 1 if np.all(plan.right == 0) else 2
    dsp = 4 * plan.out_n * (1 + words + per_channel)
    portable = plan.out_n * (plan.in_n + 4) + (0 if plan.per_tensor else 5 * plan.out_n)
    return dsp - portable
