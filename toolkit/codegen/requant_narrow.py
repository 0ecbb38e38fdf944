"""Requantization from 32-bit multiplies, for cores without a 32x32->64 multiply (ARMv6-M).

The multiplier m is cut into pieces (digits) d_j = bits [e_j, e_(j+1)) so that every
product a·d_j and every partial sum stays in int32 for the layer's accumulator bounds;
the portable C (requant_c.py) then computes the same integers as the 64-bit form under
`#if NARROW_GUARD`. This module only plans the cut (identity 8 of docs/codegen.md).
"""

from __future__ import annotations

import itertools

import numpy as np

from toolkit.codegen.fc_plan import Int8Plan

NARROW_GUARD = "defined(__ARM_ARCH_6M__)"  # Cortex-M0/M0+/M1: no 32x32->64 multiply instruction
NARROW_PIECES_MAX = 4  # int32 multiplies per output the narrow requantization may take


def split_fits(bound: np.ndarray | int, m: np.ndarray | int, splits: tuple[int, ...], base: int, sign: bool) -> bool:
    """Whether every step of the narrow requantization (see narrow_split) stays in int32
    for |a| <= bound (scalars, or arrays of rows); `base` (the pre-shifted constant of
    the 64-bit form, or the rounding 2^30 alone) is added at the last step, minus 2^31
    when `sign` (a negative accumulator's s = -1)."""
    bound, m = np.asarray(bound, np.int64), np.asarray(m, np.int64)
    limit = 2**31 - 1
    for e, end in zip(splits, (*splits[1:], 31)):
        prefix = m & ((1 << end) - 1)  # t_j = floor(a · prefix / 2^e)
        t = -(-bound * prefix // (1 << e))  # its largest magnitude (< 2^62: no int64 overflow)
        if end == 31:
            const = max(abs(base), abs(base - 2**31) if sign else 0) >> e
            if const > limit:
                return False
            t = t + const
        if np.any(t > limit):
            return False
    return True


def narrow_split(plan: Int8Plan, with_offset: bool) -> tuple[int, ...] | None:
    """Split points 0 = e_0 < e_1 < ... of the multipliers for the 32-bit requantization,
    or None when no split into at most NARROW_PIECES_MAX pieces fits the bounds.

    With d_j the bits [e_j, e_(j+1)) of m and a = acc·2^L (|a| <= bound·2^L), the sums
    t_0 = a·d_0,  t_j = a·d_j + (t_(j-1) >> (e_j - e_(j-1)))  equal floor(a·(m mod 2^e_(j+1)) / 2^e_j)
    (nested floors), so SRDHM(a, m) = (t_last + 2^(30 - e_last)) >> (31 - e_last), and with
    the offset folded in (per tensor) v = (t_last + C) >> (31 + r - e_last) with
    C = (2^30 + 2^31·(K + s)) >> e_last, as the 64-bit form (identity 8 of docs/codegen.md).
    `with_offset`: the constant of the 64-bit form (per-tensor layers) instead of 2^30."""
    bounds = plan.bound.astype(np.int64) << plan.left
    mults = plan.mult.astype(np.int64)
    right = int(plan.right.max())
    sign = with_offset and bool(right) and plan.sign_fix
    base = 2**30 + 2**31 * int(plan.offset[0]) if with_offset else 2**30
    for pieces in range(1, NARROW_PIECES_MAX + 1):
        best = None
        for inner in itertools.combinations(range(1, 31), pieces - 1):
            splits = (0, *inner)
            if with_offset and (right > splits[-1] or int(mults[0]) >> splits[-1] == 0):
                continue  # a shift by 32 or more; a zero top digit (the last step would differ)
            if not split_fits(bounds, mults, splits, base, sign):
                continue
            # fewest non-zero digits (a zero digit costs no multiply) when the multiplier is a constant
            cost = len(narrow_terms(int(mults[0]), splits)) if plan.per_tensor else pieces
            if best is None or cost < best[0]:
                best = (cost, splits)
        if best is not None:
            return best[1]
    return None


def narrow_terms(m: int, splits: tuple[int, ...], skip_zero: bool = True) -> list[tuple[int, int, int, int]]:
    """The pieces of multiplier `m` cut at `splits`: (shift from the previous kept piece,
    e_j, e_(j+1), d_j); zero digits are skipped (their shifts merge into the next one)."""
    terms, last = [], 0
    for e, end in zip(splits, (*splits[1:], 31)):
        d = (m >> e) & ((1 << (end - e)) - 1)
        if d or not skip_zero:
            terms.append((e - last, e, end, d))
            last = e
    return terms
