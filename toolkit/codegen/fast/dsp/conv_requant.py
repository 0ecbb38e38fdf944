"""Per-channel constants and requantization of the DSP convolution kernels (CONV_2D, DEPTHWISE_CONV_2D).

The int8 weights are unpacked at run time (flash unchanged), so the accumulator is the
plain Σ w·x + bias' (input zero point folded into bias'); the requantization doubles it
(times 2^L for multipliers above 1, one shift for the whole layer) and then follows
identities 2-6 of docs/codegen.md: `SSAT8(ASR(SMMLAR(2^(1+L)·acc, m, K + s), r))` with
per-channel m, K = 2^(r-1)·(2zp + 1) and r, and s = acc >> 31 only where negative
accumulators can round differently (not under a ReLU whose lower clamp is the zero point).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from toolkit.codegen.fc_plan import Int8Plan, plan_int8
from toolkit.codegen.requant_c import clamp


def conv_plan(op: Any) -> Int8Plan | None:
    """The integer plan of an int8 convolution (bounds from its filter rows and folded
    bias), or None when the DSP kernels cannot requantize it exactly."""
    from toolkit.ops.conv2d import _PlanView

    if op.input.dtype != "int8" or op.output.dtype != "int8":
        return None
    p = op.int8_params()
    plan = plan_int8(_PlanView(op.filter_rows(), op.output, {**p, "bias": p["folded"]}))
    if not plan.fast or np.any(plan.left != plan.left[0]) or int(plan.left[0]) > 7:
        return None
    return plan


def channel_columns(plan: Int8Plan) -> list[str]:
    """The per-channel words a layer streams (the bytes of the portable C's arrays, see
    ConvBase.requant_c): "m" unless the layer has one multiplier; unless every channel
    shifts alike, "kr" = K·2^8 + r (K is its ASR #8, and ASR by register reads its bottom
    byte: needs |K| < 2^23, r <= 16) or else "r" (K computed from it)."""
    cols = [] if np.all(plan.mult == plan.mult[0]) else ["m"]
    if not np.all(plan.right == plan.right[0]):
        cols.append("kr" if np.all(np.abs(plan.offset) < 2**23) else "r")
    return cols


def channel_values(plan: Int8Plan, columns: list[str]) -> np.ndarray:
    values = {"m": plan.mult, "r": plan.right, "kr": (plan.offset << 8) + plan.right}
    return np.stack([values[c] for c in columns], axis=1) if columns else np.zeros((plan.out_n, 0), np.int64)


def channel_c(plan: Int8Plan, columns: list[str], ptr: str) -> tuple[list[str], str, str, str | None]:
    """(C declaring the channel's constants read from `ptr`, then m, K and r as C
    expressions; r None: the layer's one shift)."""
    lines = [f"const int32_t {c} = {ptr}[{i}];" for i, c in enumerate(columns)]
    m = "m" if "m" in columns else str(int(plan.mult[0]))
    if "kr" in columns:
        return [*lines, "const int32_t k = kr >> 8;"], m, "k", "kr"
    if "r" in columns:
        k = f"(int32_t)((uint32_t){2 * plan.zero_point + 1} << r) >> 1"
        return [*lines, f"const int32_t k = {k};  /* K = 2^(r-1)(2zp + 1) */"], m, "k", "r"
    return lines, m, str(int(plan.offset[0])), None


def requant_store(plan: Int8Plan, acc: str, m: str, k: str, r: str | None, dst: str,
                  doubled: bool = False) -> list[str]:
    """C: requantize `acc` (the plain accumulator, or twice it when `doubled`) with the
    channel's m and K (C expressions) and shift `r` (a C expression whose bottom byte is
    the shift; None: the layer's one shift) and store it to `dst`."""
    pre = int(plan.left[0]) + 1 - int(doubled)
    scaled = f"(int32_t)((uint32_t){acc} << {pre})" if pre else acc
    offset = f"{k} + ({acc} >> 31)" if plan.sign_fix and np.all(plan.right > 0) else k
    h = f"tm_smmlar({scaled}, {m}, {offset})"
    v = f"tm_asr({h}, {r})" if r is not None else f"{h} >> {int(plan.right[0])}" if plan.right[0] else h
    lines = clamp(plan, "v")
    if not lines:
        return [f"{dst} = (int8_t)tm_ssat8({v});"]
    return ["{", f"    int32_t v = tm_ssat8({v});", *("    " + s for s in lines), f"    {dst} = (int8_t)v;", "}"]


def requant_instructions(plan: Int8Plan, doubled: bool = False) -> int:
    """Instructions of requant_store: LSL (unless doubled), SMMLAR, ASR (into SSAT for
    one shift), SSAT, STRB, the sign term, clamps."""
    cols = channel_columns(plan)
    n = 4 - int(doubled) + ("r" in cols or "kr" in cols) + int(plan.sign_fix and bool(np.all(plan.right > 0)))
    return n + 2 * len(clamp(plan, "v"))
