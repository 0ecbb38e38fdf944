"""Requantization C for the ARMv6-M paths whose outputs share a channel: the portable
C's 32-bit form (identity 8 of docs/codegen.md), with a per-channel layer's digits of m,
its shift and its offset K computed once per channel instead of once per output."""

from __future__ import annotations

from typing import Any

import numpy as np

from toolkit.codegen.fc_plan import Int8Plan, plan_int8
from toolkit.codegen.requant_c import _sign_term, channel_offset, clamp, portable_requant
from toolkit.codegen.requant_narrow import narrow_split, narrow_terms
from toolkit.ops.conv2d import _PlanView


def conv_plan(op: Any) -> Int8Plan | None:
    """The integer plan of a conv layer's rows, when its bounds allow the 32-bit form."""
    p = op.int8_params()
    return narrow(plan_int8(_PlanView(op.filter_rows(), op.output, {**p, "bias": p["folded"]})))


def narrow(plan: Int8Plan) -> Int8Plan | None:
    """`plan` when the 32-bit form applies (per-channel: without left shifts), else None."""
    if not plan.fast or narrow_split(plan, plan.per_tensor) is None:
        return None
    if not plan.per_tensor and any(end - e > 16 for _, e, end, _ in
                                   narrow_terms(0, narrow_split(plan, False) or (0,), skip_zero=False)):
        return None  # digits packed two per word (records)
    if not plan.per_tensor and np.any(plan.left > 0):
        return None  # per-channel left shifts: the portable C's run-time form
    return plan


def channel_setup(plan: Int8Plan, mult: str, shift: str) -> list[str]:
    """Per channel (per-channel layers): m's digits d0.., the right shift r and K."""
    if plan.per_tensor:
        return []
    splits = narrow_split(plan, False)
    assert splits is not None
    lines = [f"const int32_t m = {mult}, r = -({shift});", f"const int32_t k = {channel_offset(plan, 'r')};"]
    for j, (_, e, end, _) in enumerate(narrow_terms(0, splits, skip_zero=False)):
        digit = f"(m >> {e})" if e else "m"
        lines.append(f"const int32_t d{j} = {digit}{f' & {(1 << (end - e)) - 1}' if end < 31 else ''};")
    return lines


def output_requant(plan: Int8Plan, acc: str) -> list[str]:
    """`int32_t v = ...` (clamped) from accumulator `acc`, after channel_setup."""
    if plan.per_tensor:
        lines = portable_requant(plan, acc)
        start, end = lines.index("#if defined(__ARM_ARCH_6M__)") + 1, lines.index("#else")
        return lines[start:end]
    splits = narrow_split(plan, False)
    assert splits is not None
    terms = narrow_terms(0, splits, skip_zero=False)
    e = terms[-1][1]
    lines = [f"int32_t t = {acc} * d0;"]
    lines += [f"t = {acc} * d{j} + (t >> {shift});" for j, (shift, _, _, _) in enumerate(terms) if j]
    lines += [f"const int32_t h = (t + {2 ** (30 - e)}) >> {31 - e};",
              f"int32_t v = (h + k{_sign_term(plan, acc)}) >> r;"]
    return [*lines, *clamp(plan, "v", False)]


def records(plan: Int8Plan, bias: np.ndarray) -> np.ndarray:
    """int32 [out, width]: per channel its corrected bias, then (per-channel layers) K,
    the first digit of m with r in the upper half, and the other digits two per word
    (each below 2^16), so that one pointer walks every constant of a row."""
    cols = [np.asarray(bias, np.int64)]
    if not plan.per_tensor:
        m, r = plan.mult.astype(np.int64), plan.right.astype(np.int64)
        digits = [(m >> e) & ((1 << (end - e)) - 1) for _, e, end, _ in narrow_terms(0, _splits(plan), skip_zero=False)]
        cols += [((2 * plan.zero_point + 1) << r) >> 1, digits[0] | r << 16]
        cols += [digits[j] | (digits[j + 1] << 16 if j + 1 < len(digits) else 0) for j in range(1, len(digits), 2)]
    out = np.stack(cols, axis=1)
    return ((out + 2**31) % 2**32) - 2**31


def _splits(plan: Int8Plan) -> tuple[int, ...]:
    splits = narrow_split(plan, False)
    assert splits is not None
    if any(end - e > 16 for _, e, end, _ in narrow_terms(0, splits, skip_zero=False)):
        raise AssertionError("digits over 16 bits")  # excluded by narrow()
    return splits


def record_c(plan: Int8Plan, acc: str, q: str = "q") -> list[str]:
    """`const int32_t acc = ...` (the raw sum `acc` plus q[0] minus `sh`, the per-pixel
    correction 128·S, uint32_t) and channel_setup's names from a records() row at `q`."""
    lines = [f"const int32_t acc = (int32_t)((uint32_t){acc} + (uint32_t){q}[0] - sh);"]
    if not plan.per_tensor:
        n = len(narrow_terms(0, _splits(plan), skip_zero=False))
        lines.append(f"const int32_t k = {q}[1], r = (uint32_t){q}[2] >> 16, d0 = {q}[2] & 0xFFFF;")
        for j in range(1, n):
            word = f"(uint32_t){q}[{3 + (j - 1) // 2}]"
            lines.append(f"const int32_t d{j} = {word} & 0xFFFF;" if j % 2 else f"const int32_t d{j} = {word} >> 16;")
    return lines
