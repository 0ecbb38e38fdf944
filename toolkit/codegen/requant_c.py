"""Requantization of an int8 layer's accumulator, as portable C (plus helpers the fast paths share).

The portable form is one 64-bit multiply-add and a shift (identity 7 of docs/codegen.md,
see toolkit/quantization.py). On ARMv6-M (no 32x32->64 multiply) the same integers come
from 32-bit multiplies of pieces of the multiplier when the layer's bounds allow it
(requant_narrow.py): those few statements sit under `#if NARROW_GUARD` inside the portable
loop rather than in a fast path of their own, so the loop, its arrays and every other
statement stay one C text for all cores.
"""

from __future__ import annotations

import numpy as np

from toolkit import quantization as Q
from toolkit.codegen.context import int64_literal, int_literal
from toolkit.codegen.fc_plan import Int8Plan
from toolkit.codegen.requant_narrow import NARROW_GUARD, narrow_split, narrow_terms

Channel = tuple[str, str]  # C expressions of the per-channel multiplier and shift, e.g. ("m[o]", "s[o]")


def clamp(plan: Int8Plan, v: str, saturated: bool = True) -> list[str]:
    """Clamp to the activation range; `saturated`: v is already within int8 (SSAT)."""
    lines = []
    if plan.lo > Q.INT8_MIN or not saturated:
        lines.append(f"if ({v} < {plan.lo}) {v} = {plan.lo};")
    if plan.hi < Q.INT8_MAX or not saturated:
        lines.append(f"if ({v} > {plan.hi}) {v} = {plan.hi};")
    return lines


def channel_offset(plan: Int8Plan, r: str) -> str:
    """K = 2^(r-1) + zp·2^r for a right shift held in variable `r` (>= 1), as C."""
    return f"((int32_t)((uint32_t){2 * plan.zero_point + 1} << {r}) >> 1)"


def portable_requant(plan: Int8Plan, acc: str, channel: Channel | None = None) -> list[str]:
    """`int32_t v = ...` from the folded (not pre-scaled) accumulator.

    On cores without a 32x32->64 multiply instruction (NARROW_GUARD) the product is
    computed from 32-bit multiplies when the layer's bounds allow it (narrow_split)."""
    wide = _wide(plan, acc, channel)
    splits = narrow_split(plan, channel is None)
    if splits is None:
        return wide
    return [f"#if {NARROW_GUARD}", *_narrow(plan, acc, channel, splits), "#else", *wide, "#endif"]


def _wide(plan: Int8Plan, acc: str, channel: Channel | None = None) -> list[str]:
    """The 64-bit form: one 64-bit multiply-add and a shift (identity 7)."""
    if channel is None:
        m, left, right = int(plan.mult[0]), int(plan.left[0]), int(plan.right[0])
        scaled = f"(int32_t)((uint32_t){acc} << {left})" if left else acc
        base = 2**30 + 2**31 * int(plan.offset[0])
        if right and plan.sign_fix:
            c = f"({acc} < 0 ? {int64_literal(base - 2**31)} : {int64_literal(base)})"
        else:
            c = int64_literal(base)
        expr = f"(int32_t)(((int64_t){scaled} * {int_literal(m)} + {c}) >> {31 + right})"
        return [f"int32_t v = {expr};", *clamp(plan, "v", False)]
    # per channel: multiplier and shift arrays, indexed by `channel`
    mult, shift = channel
    if np.any(plan.left > 0):
        head = [f"const int32_t s = {shift}, l = s > 0 ? s : 0, r = s > 0 ? 0 : -s;",
                f"const int32_t h = (int32_t)(((int64_t)(int32_t)((uint32_t){acc} << l) * {mult} "
                "+ ((int64_t)1 << 30)) >> 31);"]
    else:
        head = [f"const int32_t r = -{shift};",
                f"const int32_t h = (int32_t)(((int64_t){acc} * {mult} + ((int64_t)1 << 30)) >> 31);"]
    return [*head, _channel_tail(plan, acc), *clamp(plan, "v", False)]


def _channel_tail(plan: Int8Plan, acc: str) -> str:
    """`int32_t v = (h + K + s) >> r;` of a per-channel row (h: the rounded high product)."""
    return f"int32_t v = (h + {channel_offset(plan, 'r')}{_sign_term(plan, acc)}) >> r;"


def _sign_term(plan: Int8Plan, acc: str) -> str:
    """The round-half-away correction of a per-channel row with a right shift held in `r`."""
    if not plan.sign_fix:
        return ""
    return f" + ({acc} >> 31)" if np.all(plan.right > 0) else f" + (r > 0 ? ({acc} >> 31) : 0)"


def _narrow_steps(a: str, m: str | int, splits: tuple[int, ...]) -> tuple[list[str], str, int]:
    """Statements computing t_last (see narrow_split) into `t`, `t`'s name (or a product
    expression when one piece remains) and e_last. `m`: a constant (zero digits skipped)
    or a C expression (digits extracted at run time)."""
    if isinstance(m, int):
        terms = [(shift, e, int_literal(d)) for shift, e, _, d in narrow_terms(m, splits)]
    else:
        terms = []
        for shift, e, end, _ in narrow_terms(0, splits, skip_zero=False):
            digit = f"({m} >> {e})" if e else m
            if end < 31:
                digit = f"({digit} & {(1 << (end - e)) - 1})"
            terms.append((shift, e, digit))
    if not terms:
        return [], "0", 0
    if len(terms) == 1:
        return [], f"{a} * {terms[0][2]}", terms[0][1]
    lines = [f"int32_t t = {a} * {terms[0][2]};"]
    lines += [f"t = {a} * {digit} + (t >> {shift});" for shift, _, digit in terms[1:]]
    return lines, "t", terms[-1][1]


def _narrow(plan: Int8Plan, acc: str, channel: Channel | None, splits: tuple[int, ...]) -> list[str]:
    """The 32-bit form (ARMv6-M): the steps of narrow_split, then the offset, sign and shift."""
    if channel is None:
        m, left, right = int(plan.mult[0]), int(plan.left[0]), int(plan.right[0])
        a = f"(int32_t)((uint32_t){acc} << {left})" if left else acc
        lines, t, e = _narrow_steps(f"({a})" if left else a, m, splits)
        base = 2**30 + 2**31 * int(plan.offset[0])
        c = int_literal(base >> e)
        if right and plan.sign_fix:
            c = f"({acc} < 0 ? {int_literal((base - 2**31) >> e)} : {c})"
        add = f" - {int_literal(-(base >> e))}" if base < 0 and c[0] != "(" else f" + {c}"
        return [*lines, f"int32_t v = ({t}{add}) >> {31 + right - e};", *clamp(plan, "v", False)]
    mult, shift = channel
    if np.any(plan.left > 0):
        head = [f"const int32_t s = {shift}, l = s > 0 ? s : 0, r = s > 0 ? 0 : -s;",
                f"const int32_t a = (int32_t)((uint32_t){acc} << l), m = {mult};"]
    else:
        head = [f"const int32_t r = -{shift}, a = {acc}, m = {mult};"]
    lines, t, e = _narrow_steps("a", "m", splits)
    head += [*lines, f"const int32_t h = ({t} + {int_literal(2**(30 - e))}) >> {31 - e};"]
    return [*head, _channel_tail(plan, acc), *clamp(plan, "v", False)]
