"""C for an int8 FULLY_CONNECTED layer, specialised at generation time.

Every size, zero point, multiplier and shift is a constant of the emitted code. Two
paths are emitted under `#if TM_DSP` (see kernels/dsp.c):

- DSP (Cortex-M4/M7/M33): weights pre-scaled by 2^(1+L) and stored as int16 pairs
  (in SXTB16 lane order) behind each row's bias, so one LDRD loads two words and one
  SMLAD does two multiply-accumulates; the requantization is SMMULR, one add and SSAT
  (see toolkit/quantization.py for the identities). Up to XR_MAX_WORDS input words
  are held in registers for the whole layer; a small layer can hand its outputs to
  the next one in registers.
- portable (host, Cortex-M0+/M3): int8 weights, the folded int32 bias, and the same
  requantization as one 64-bit multiply-add and a shift; on ARMv6-M (no 32x32->64
  multiply) from 32-bit multiplies of pieces of the multiplier when the layer's bounds
  allow it (narrow_split).

Both need accumulator bounds that the generator checks from the weights (|acc| <=
|bias| + 128·Σ|w|); a layer that fails them gets the general kernel (tm_requant,
gemmlowp's arithmetic step by step), as does a layer with batches.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from toolkit import quantization as Q
from toolkit.codegen.context import int64_literal, int_literal
from toolkit.codegen import sparse as SP

XR_MAX_WORDS = 8  # DSP path: input words kept in registers (r4-r11) across the rows
UNROLL_PORTABLE_MAX = 16  # portable path: inner products this long are written out
DSP_EXTRA_BYTES_MAX = 4096  # above this, a layer keeps int8 weights on the DSP cores too


@dataclass
class Int8Plan:
    """Integer constants of a layer and whether the fast paths' bounds hold."""

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


def plan_int8(layer) -> Int8Plan:
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


# -- requantization, as C ---------------------------------------------------------------


def _clamp(plan: Int8Plan, v: str, saturated: bool = True) -> list[str]:
    """Clamp to the activation range; `saturated`: v is already within int8 (SSAT)."""
    lines = []
    if plan.lo > Q.INT8_MIN or not saturated:
        lines.append(f"if ({v} < {plan.lo}) {v} = {plan.lo};")
    if plan.hi < Q.INT8_MAX or not saturated:
        lines.append(f"if ({v} > {plan.hi}) {v} = {plan.hi};")
    return lines


def dsp_requant(plan: Int8Plan, acc: str, m: str | None = None, r: str | None = None, fused: bool = False,
                k: str | None = None, layout: str = "r") -> list[str]:
    """`int32_t v = ...` from a pre-scaled accumulator; m/r name per-channel values.

    fused: SMMLAR adds the offset in the multiply (costs a register for it).
    layout (per channel, see requant_layouts): "r": r streamed, K computed from it;
    "kr": `k` names the word K·2^8 + r (ADD of k ASR #8, ASR by register: only the bottom
    byte of k counts); "k_r": `k` names K and `r` the shift (SMMLAR, ASR by register)."""
    if layout == "kr":
        fix = f" + ({acc} >> 31)" if plan.sign_fix else ""
        return [f"int32_t v = tm_ssat8(tm_asr(tm_smmulr({acc}, {m}) + ({k} >> 8){fix}, {k}));", *_clamp(plan, "v")]
    if layout == "k_r":
        fix = f" + ({acc} >> 31)" if plan.sign_fix else ""
        return [f"int32_t v = tm_ssat8(tm_smmlar({acc}, {m}, {k}{fix}) >> {r});", *_clamp(plan, "v")]
    m = m or int_literal(plan.mult[0])
    no_shift = r is None and int(plan.right.max()) == 0
    if no_shift:
        k = str(plan.zero_point)
    elif r is None:
        k = int_literal(plan.offset[0])
    else:
        k = channel_offset(plan, r)
    fix = f" + ({acc} >> 31)" if plan.sign_fix and not no_shift else ""
    h = f"tm_smmlar({acc}, {m}, {k}{fix})" if fused else f"tm_smmulr({acc}, {m}) + {k}{fix}"
    if no_shift:
        expr = f"tm_ssat8({h})"
    else:
        expr = f"tm_ssat8(({h}) >> {r or int(plan.right[0])})"
    return [f"int32_t v = {expr};", *_clamp(plan, "v")]


NARROW_GUARD = "defined(__ARM_ARCH_6M__)"  # Cortex-M0/M0+/M1: no 32x32->64 multiply instruction
NARROW_PIECES_MAX = 4  # int32 multiplies per output the narrow requantization may take


def _split_fits(bound, m, splits: tuple[int, ...], base: int, sign: bool) -> bool:
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
            if not _split_fits(bounds, mults, splits, base, sign):
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


def portable_requant(plan: Int8Plan, acc: str, channel: str | None = None) -> list[str]:
    """`int32_t v = ...` from the folded (not pre-scaled) accumulator.

    On cores without a 32x32->64 multiply instruction (NARROW_GUARD) the product is
    computed from 32-bit multiplies when the layer's bounds allow it (narrow_split)."""
    wide = _portable_requant_wide(plan, acc, channel)
    splits = narrow_split(plan, channel is None)
    if splits is None:
        return wide
    return [f"#if {NARROW_GUARD}", *_portable_requant_narrow(plan, acc, channel, splits), "#else", *wide, "#endif"]


def _portable_requant_narrow(plan: Int8Plan, acc: str, channel, splits: tuple[int, ...]) -> list[str]:
    if channel is None:
        m, left, right = int(plan.mult[0]), int(plan.left[0]), int(plan.right[0])
        a = f"(int32_t)((uint32_t){acc} << {left})" if left else acc
        lines, t, e = _narrow_steps(f"({a})" if left else a, m, splits)
        base = 2**30 + 2**31 * int(plan.offset[0])
        c = int_literal(base >> e)
        if right and plan.sign_fix:
            c = f"({acc} < 0 ? {int_literal((base - 2**31) >> e)} : {c})"
        add = f" - {int_literal(-(base >> e))}" if base < 0 and c[0] != "(" else f" + {c}"
        return [*lines, f"int32_t v = ({t}{add}) >> {31 + right - e};", *_clamp(plan, "v", False)]
    mult, shift = channel
    if np.any(plan.left > 0):
        head = [f"const int32_t s = {shift}, l = s > 0 ? s : 0, r = s > 0 ? 0 : -s;",
                f"const int32_t a = (int32_t)((uint32_t){acc} << l), m = {mult};"]
    else:
        head = [f"const int32_t r = -{shift}, a = {acc}, m = {mult};"]
    lines, t, e = _narrow_steps("a", "m", splits)
    head += [*lines, f"const int32_t h = ({t} + {int_literal(2**(30 - e))}) >> {31 - e};"]
    fix = ""
    if plan.sign_fix:
        fix = f" + ({acc} >> 31)" if np.all(plan.right > 0) else f" + (r > 0 ? ({acc} >> 31) : 0)"
    return [*head, f"int32_t v = (h + {channel_offset(plan, 'r')}{fix}) >> r;", *_clamp(plan, "v", False)]


def _portable_requant_wide(plan: Int8Plan, acc: str, channel: str | None = None) -> list[str]:
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
        return [f"int32_t v = {expr};", *_clamp(plan, "v", False)]
    # per channel: multiplier and shift arrays, indexed by `channel`
    mult, shift = channel
    if np.any(plan.left > 0):
        head = [f"const int32_t s = {shift}, l = s > 0 ? s : 0, r = s > 0 ? 0 : -s;",
                f"const int32_t h = (int32_t)(((int64_t)(int32_t)((uint32_t){acc} << l) * {mult} + ((int64_t)1 << 30)) >> 31);"]
    else:
        head = [f"const int32_t r = -{shift};",
                f"const int32_t h = (int32_t)(((int64_t){acc} * {mult} + ((int64_t)1 << 30)) >> 31);"]
    fix = ""
    if plan.sign_fix:
        fix = f" + ({acc} >> 31)" if np.all(plan.right > 0) else f" + (r > 0 ? ({acc} >> 31) : 0)"
    return [*head, f"int32_t v = (h + {channel_offset(plan, 'r')}{fix}) >> r;", *_clamp(plan, "v", False)]


# -- weight layouts -------------------------------------------------------------------------


def input_order(in_n: int) -> list[int]:
    """Column of each int16 lane of the DSP input words (-1: padding).

    Each group of four input bytes loads as one word and SXTB16 splits it into lanes
    (0, 2) and (1, 3); a tail of 1-3 bytes is packed in natural pairs.
    """
    order = []
    full = in_n - in_n % 4 if in_n > 1 else 0
    for g in range(0, full, 4):
        order += [g, g + 2, g + 1, g + 3]
    order += list(range(full, in_n))
    if len(order) % 2:
        order.append(-1)
    return order


def packed_rows(plan: Int8Plan, order: list[int]) -> np.ndarray:
    """[out, words] int32: the pre-scaled weights as int16 pairs in `order`."""
    w = plan.weights << (plan.left + 1)[:, None]
    lanes = np.zeros((plan.out_n, len(order)), np.int64)
    for j, col in enumerate(order):
        if col >= 0:
            lanes[:, j] = w[:, col]
    lo = lanes[:, 0::2] & 0xFFFF
    hi = lanes[:, 1::2] & 0xFFFF
    words = lo | (hi << 16)
    return np.where(words >= 2**31, words - 2**32, words)


def requant_words(plan: Int8Plan, layout: str = "r") -> np.ndarray:
    """[out, 0-3] per-channel words in each DSP row (see requant_layouts): the
    multiplier, then per layout the right shift r ("r": K is computed from it), the word
    K·2^8 + r ("kr") or K and r ("k_r")."""
    if plan.per_tensor:
        return np.zeros((plan.out_n, 0), np.int64)
    if np.all(plan.right == 0):
        return plan.mult[:, None]
    if layout == "kr":
        return np.stack([plan.mult, (plan.offset << 8) + plan.right], axis=1)
    if layout == "k_r":
        return np.stack([plan.mult, plan.offset, plan.right], axis=1)
    if layout == "imm":
        return plan.mult[:, None]
    return np.stack([plan.mult, plan.right], axis=1)


def requant_layouts(plan: Int8Plan, rows_unrolled: bool = False) -> list[str]:
    """Layouts of the per-channel requantization constants a layer can use on the DSP path.

    - "r": multiplier and shift streamed; K = 2^(r-1)·(2zp + 1) computed per row (LSL by
      register of a constant held in a register, ASR #1 in the add).
    - "kr": multiplier and one word K·2^8 + r (needs |K| < 2^23): K is its ASR #8, folded
      into the add, and the shift reads the word itself (ASR by register uses its bottom
      byte only): one instruction and one register fewer than "r", the same flash.
    - "k_r": multiplier, K and r: SMMLAR adds K in the multiply, then ASR by register,
      SSAT #8; one word more per row than "kr", one instruction fewer.
    - "imm" (rows written out only): the multiplier streamed, K and r constants of each
      row's code (ADD of an immediate, SSAT #8 with ASR #r), as for a per-tensor layer.
    Only "" (nothing per channel) or "m" (no right shift) when the layer needs none."""
    if plan.per_tensor:
        return [""]
    if np.all(plan.right == 0):
        return ["m"]
    out = ["r"]
    if np.all(np.abs(plan.offset) < 2**23):
        out.append("kr")
    out.append("k_r")
    if rows_unrolled:
        out.append("imm")
    return out


_REQUANT_INSTRUCTIONS = {"": 3, "m": 2, "r": 5, "kr": 4, "k_r": 3, "imm": 3}


def dsp_row_cost(plan: Int8Plan, words: int, layout: str, xr: bool, rows_unrolled: bool, u: int = 2):
    """Estimated (instructions per inference, flash bytes) of a dense DSP layer whose
    per-channel constants use `layout`: LDRD loads, SMLADs, requantization, store, loop;
    code at about 3 bytes per instruction (Thumb-2 mixes 16- and 32-bit encodings)."""
    from toolkit.codegen.sparse import Cost

    n_rq = requant_words(plan, layout).shape[1]
    stream = 1 + words + n_rq
    loads = (stream + 1) // 2
    row = loads + words + _REQUANT_INSTRUCTIONS[layout] + int(plan.sign_fix) + 1
    if xr and not rows_unrolled:
        # inputs in registers, with the stream pointer, the output pointer and the loop end:
        # a row that keeps more than the registers left alive spills (a reload per word short)
        live = {"": 3, "m": 3, "r": 4, "kr": 3, "k_r": 4}[layout]
        row += max(0, words + 3 + live - 14)
    instructions = plan.out_n * (row + (0 if rows_unrolled else 2 / u))
    code = 3 * row * (plan.out_n if rows_unrolled else u)
    return Cost(instructions, 4 * plan.out_n * stream + code)


def _row_requant_imm(plan: Int8Plan, o: int, acc: str, m: str) -> list[str]:
    """`int32_t v = ...` of row `o` with its K and r as constants of the code."""
    r, k = int(plan.right[o]), int(plan.offset[o])
    if r == 0:
        return [f"int32_t v = tm_ssat8(tm_smmulr({acc}, {m}) + {plan.zero_point});", *_clamp(plan, "v")]
    fix = f" + ({acc} >> 31)" if plan.sign_fix else ""
    return [f"int32_t v = tm_ssat8((tm_smmulr({acc}, {m}) + {int_literal(k)}{fix}) >> {r});", *_clamp(plan, "v")]


def choose_requant_layout(plan: Int8Plan, words: int, xr: bool, rows_unrolled: bool) -> str:
    """The per-channel layout to emit: starting from "r", a layout is taken when its
    estimate is no worse in instructions and in flash and better in one (as for the
    sparse encodings); "k_r" (one word more per row) only wins where it saves code."""
    from toolkit.codegen.sparse import Cost

    options = requant_layouts(plan, rows_unrolled)
    best = options[0]
    cost: Cost = dsp_row_cost(plan, words, best, xr, rows_unrolled)
    for lay in options[1:]:
        c = dsp_row_cost(plan, words, lay, xr, rows_unrolled)
        if c.beats(cost):
            best, cost = lay, c
    return best


def channel_offset(plan: Int8Plan, r: str) -> str:
    """K = 2^(r-1) + zp·2^r for a right shift held in variable `r` (>= 1), as C."""
    return f"((int32_t)((uint32_t){2 * plan.zero_point + 1} << {r}) >> 1)"


# -- DSP path ---------------------------------------------------------------------------------


def _x_words_setup(src: str, aligned: bool, in_n: int, words: int) -> list[str]:
    """Declare and load x0..x{words-1}: the input as int16 lanes, in registers."""
    names = [f"x{k}" for k in range(words)]
    return [f"int32_t {', '.join(names)};", *_s8_words(src, aligned, in_n, "x")]


def _s8_words(src: str, aligned: bool, in_n: int, names: str = "x") -> list[str]:
    """Words of int8 input lanes in the order of input_order(in_n)."""
    lines = []
    full = in_n - in_n % 4 if in_n > 1 else 0
    groups = full // 4
    g = 0
    if aligned and groups >= 2:
        lines.append(f"const int32_t *xp = (const int32_t *)({src});")
        while groups - g >= 2:
            lines.append(f"{{ int32_t b0, b1; TM_LDRD(b0, b1, xp); "
                         f"{names}{2 * g} = tm_sxtb16(b0); {names}{2 * g + 1} = tm_sxtb16_ror8(b0); "
                         f"{names}{2 * g + 2} = tm_sxtb16(b1); {names}{2 * g + 3} = tm_sxtb16_ror8(b1); }}")
            g += 2
    while g < groups:
        lines.append(f"{{ int32_t b; __builtin_memcpy(&b, {src} + {4 * g}, 4); "
                     f"{names}{2 * g} = tm_sxtb16(b); {names}{2 * g + 1} = tm_sxtb16_ror8(b); }}")
        g += 1
    k = 2 * groups
    rest = list(range(full, in_n))
    while rest:
        if len(rest) >= 2:
            a, b = rest[:2]
            lines.append(f"{names}{k} = (int32_t)((uint32_t)(uint16_t){src}[{a}] | ((uint32_t){src}[{b}] << 16));")
            rest = rest[2:]
        else:
            # one lane: the upper half (the sign extension) meets a zero weight
            lines.append(f"{names}{k} = {src}[{rest[0]}];")
            rest = []
        k += 1
    return lines


def _row_loads(tokens: list[str], ptr: str, uses: dict[str, list[str]] | None = None) -> list[str]:
    """Load the row words named by `tokens` with LDRD pairs; after each load, the
    statements in `uses` that consume the loaded words (keeps few words live)."""
    uses = uses or {}
    lines = []
    for i in range(0, len(tokens), 2):
        pair = tokens[i : i + 2]
        lines.append(f"TM_LDRD({pair[0]}, {pair[1]}, {ptr});" if len(pair) == 2 else f"{pair[0]} = *{ptr}++;")
        for t in pair:
            lines += uses.get(t, [])
    return lines


def _unroll(rows: int, body_instructions: int, budget: int = 48) -> int:
    """Rows per loop iteration: the largest power of two dividing `rows` within `budget`."""
    u = 1
    while rows % (2 * u) == 0 and 2 * u * body_instructions <= budget:
        u *= 2
    return u


def natural_order(in_n: int) -> list[int]:
    return list(range(in_n)) + [-1] * (in_n % 2)


def dsp_dense(plan: Int8Plan, ctx, src: str, dst: str, fused_in: list[str] | None = None,
              fuse_out: str | None = None) -> tuple[list[str], str]:
    """Dense SMLAD kernel; returns (statements, strategy note).

    fused_in: the input words are already in these variables (natural lane order).
    fuse_out: write the outputs as int16 pairs into variables `{fuse_out}{k}` instead of
    memory, rows unrolled (the next layer reads them from registers)."""
    order = natural_order(plan.in_n) if fused_in else input_order(plan.in_n)
    rows = packed_rows(plan, order)
    words = rows.shape[1]
    xr = words <= XR_MAX_WORDS and plan.out_n > 1
    layout = choose_requant_layout(plan, words, xr, fuse_out is not None)
    rq = requant_words(plan, layout)
    # "kr"/"k_r": the per-channel words close the row (after its last SMLAD they are
    # all that is live besides the accumulator)
    rq_tail = layout in ("kr", "k_r", "imm")
    # With inputs in registers, r0-r12/lr run out from ~7 words on: then the multiplier
    # rides in the row when it pairs into an LDRD for free, and the offset is an
    # immediate; with registers to spare SMMLAR adds the offset.
    m_in_row = plan.per_tensor and xr and words >= 6 and (1 + words) % 2 == 1
    fused = words <= 4
    cols = [(plan.bias << (plan.left + 1))[:, None], rq, rows]
    if rq_tail:
        cols = [cols[0], rows, rq]
    if m_in_row:
        cols.append(plan.mult[:, None])
    stream = np.concatenate(cols, axis=1)
    stride = stream.shape[1]
    name = ctx.const_array("wq", "int32_t", stream, path="dsp")
    ytype = "int8_t"
    head = ["acc"] + ["qm", "qr"][: rq.shape[1]]
    qm, qr = (head[1:] + [None, None])[:2]
    qk = None
    if m_in_row:
        qm = "qm"
    tail = ["qm"] if m_in_row else []
    if rq_tail:
        head = ["acc"]
        tail = ["qm"] + ([] if layout == "imm" else ["qk"]) + (["qr"] if layout == "k_r" else [])
        qm, qk, qr = "qm", "qk", ("qr" if layout == "k_r" else None)
    lines = ["{"]
    row: list[str] = []
    if xr:
        if fused_in:
            lines += [f"    const int32_t {', '.join(f'x{k} = {n}' for k, n in enumerate(fused_in))};"]
        else:
            lines += ["    " + s for s in _x_words_setup(src, ctx.src_aligned, plan.in_n, words)]
        tokens = head + [f"w{k}" for k in range(words)] + tail
        row += [f"int32_t {', '.join(tokens)};"]
        row += _row_loads(tokens, "w", {f"w{k}": [f"acc = tm_smlad(x{k}, w{k}, acc);"] for k in range(words)})
        note = f"dense, SMLAD, {words} input word(s) in registers"
    else:
        row += [f"int32_t {', '.join(head)};"]
        row += _row_loads(head, "w")
        row += _streamed_mac(src, ctx.src_aligned, plan.in_n, words)
        if tail:
            row += [f"int32_t {', '.join(tail)};", *_row_loads(tail, "w")]
        note = f"dense, SMLAD, {words} input word(s) streamed"
    if layout == "imm":
        note += ", per-channel m streamed, K and r immediates"
    elif rq_tail:
        row += dsp_requant(plan, "acc", qm, qr, k=qk, layout=layout)
        note += f", per-channel {' '.join(['m', 'K<<8|r'] if layout == 'kr' else ['m', 'K', 'r'])} streamed"
    else:
        row += dsp_requant(plan, "acc", qm, qr, fused=fused)
    if fuse_out:
        # rows written out; each pair of outputs becomes one word (PKHBT)
        lines += [f"    const TM_ROM int32_t *w = {name};", "    int32_t v0;"]
        for o in range(plan.out_n):
            lines += ["    {", *("        " + s for s in row)]
            if layout == "imm":
                lines += ["        " + s for s in _row_requant_imm(plan, o, "acc", qm)]
            k = o // 2
            if o % 2 == 0:
                lines.append("        v0 = v;" if o + 1 < plan.out_n else f"        {fuse_out}{k} = v;")
            else:
                lines.append(f"        {fuse_out}{k} = (int32_t)(((uint32_t)v0 & 0xFFFFu) | ((uint32_t)v << 16));")
            lines.append("    }")
        lines.append("}")
        n_words = (plan.out_n + 1) // 2
        decl = f"int32_t {', '.join(f'{fuse_out}{k}' for k in range(n_words))};"
        return [decl, *lines], note + ", rows unrolled, outputs kept in registers for the next layer"
    row += [f"*y++ = ({ytype})v;"]
    lines += [f"    const TM_ROM int32_t *w = {name};", f"    {ytype} *y = {dst};"]
    if plan.out_n == 1:
        lines += ["    {", *("        " + s for s in row), "    }", "}"]
        return lines, note
    # per-channel words in the row: unrolled like the per-tensor row (multiplier in the row)
    u = _unroll(plan.out_n, (len(row) - (1 + words + len(tail) + 1) // 2 + (words + 3) // 2 if rq_tail and xr else len(row)) + words)
    body = []
    for _ in range(u):
        body += ["{", *("    " + s for s in row), "}"]
    lines += [
        "    do {",
        *("        " + s for s in body),
        f"    }} while (w != {name} + {plan.out_n * stride});",
        "}",
    ]
    return lines, note + (f", {u} rows per iteration" if u > 1 else "")


def _streamed_mac(src: str, aligned: bool, in_n: int, words: int) -> list[str]:
    """Inner product over the input read from memory on each row (SXTB16 per 4 bytes)."""
    groups = in_n // 4 if in_n > 1 else 0
    lines = []
    if aligned:
        lines.append(f"const int32_t *xp = (const int32_t *)({src});")
        step = ["{ int32_t b0, b1, p, q; TM_LDRD(b0, b1, xp);",
                "  TM_LDRD(p, q, w);",
                "  acc = tm_smlad(tm_sxtb16(b0), p, acc); acc = tm_smlad(tm_sxtb16_ror8(b0), q, acc);",
                "  TM_LDRD(p, q, w);",
                "  acc = tm_smlad(tm_sxtb16(b1), p, acc); acc = tm_smlad(tm_sxtb16_ror8(b1), q, acc); }"]
        per, odd = groups // 2, groups % 2
        single = ["{ int32_t b = *xp++, p, q; TM_LDRD(p, q, w); "
                  "acc = tm_smlad(tm_sxtb16(b), p, acc); acc = tm_smlad(tm_sxtb16_ror8(b), q, acc); }"]
    else:
        lines.append(f"const int8_t *xb = {src};")
        step = ["{ int32_t b, p, q; __builtin_memcpy(&b, xb, 4); xb += 4; TM_LDRD(p, q, w);",
                "  acc = tm_smlad(tm_sxtb16(b), p, acc); acc = tm_smlad(tm_sxtb16_ror8(b), q, acc); }"]
        per, odd = groups, 0
        single = []
    if per > 2:
        lines.append(f"for (int k = 0; k < {per // 2}; ++k) {{")
        lines += ["    " + s for s in step * 2]
        lines.append("}")
        lines += step * (per % 2)
    else:
        lines += step * per
    lines += single * odd
    tail = words - 2 * groups
    if tail:
        lines.append("{")
        lines.append(f"    int32_t {', '.join(f't{k}' for k in range(tail))};")
        lines += ["    " + s for s in _s8_words(f"({src} + {4 * groups})", False, in_n - 4 * groups, "t")]
        lines += [f"    acc = tm_smlad(t{k}, *w++, acc);" for k in range(tail)]
        lines.append("}")
    return lines


# -- portable path ---------------------------------------------------------------------------


def portable_dense(plan: Int8Plan, ctx, src: str, dst: str, path: str | None = "portable") -> tuple[list[str], str]:
    w = ctx.const_array("weights", "int8_t", plan.weights, path=path)
    b = ctx.const_array("bias", "int32_t", plan.bias, path=path)
    channel = portable_channel_arrays(plan, ctx, path)
    n = plan.in_n
    body = [f"int32_t acc = {b}[o];"]
    if n <= UNROLL_PORTABLE_MAX:
        body += [f"acc += (int32_t)w[{i}] * x[{i}];" for i in range(n)]
    else:
        body += [f"for (int i = 0; i < {n}; ++i) acc += (int32_t)w[i] * x[i];"]
    body += portable_requant(plan, "acc", channel)
    body += ["y[o] = (int8_t)v;"]
    lines = [
        "{",
        f"    const int8_t *x = {src};",
        f"    int8_t *y = {dst};",
        f"    const TM_ROM int8_t *w = {w};",
        f"    for (int o = 0; o < {plan.out_n}; ++o, w += {n}) {{",
        *("        " + s for s in body),
        "    }",
        "}",
    ]
    return lines, "dense"


def portable_channel_arrays(plan: Int8Plan, ctx, path: str | None) -> tuple[str, str] | None:
    """Per-channel multiplier (int32) and shift (int8) arrays, as `(mult[o], shift[o])`."""
    if plan.per_tensor:
        return None
    m = ctx.const_array("mult", "int32_t", plan.mult, path=path)
    s = ctx.const_array("shift", "int8_t", plan.shift, path=path)
    return f"{m}[o]", f"{s}[o]"


def dsp_extra_bytes(plan: Int8Plan) -> int:
    """Bytes the DSP layout (int16 weight pairs, per-channel words) adds over int8."""
    words = len(input_order(plan.in_n)) // 2
    dsp = 4 * plan.out_n * (1 + words + requant_words(plan).shape[1])
    portable = plan.out_n * (plan.in_n + 4) + (0 if plan.per_tensor else 5 * plan.out_n)
    return dsp - portable


# -- general kernel (bounds failed, or batches) ------------------------------------------------


def emit_general(layer, plan: Int8Plan, ctx, src: str, dst: str) -> None:
    fn = ctx.kernel("requant")
    w = ctx.const_array("weights", "int8_t", plan.weights)
    b = ctx.const_array("bias", "int32_t", plan.bias)
    m = ctx.const_array("mult", "int32_t", plan.mult)
    s = ctx.const_array("shift", "int8_t", plan.shift)
    xtype, ytype = "int8_t", "int8_t"
    n, batches = plan.in_n, layer.batches
    ctx.stmts([
        "{",
        f"    const {xtype} *x = {src};",
        f"    {ytype} *y = {dst};",
        f"    for (int n = 0; n < {batches}; ++n, x += {n}) {{",
        f"        const TM_ROM int8_t *w = {w};",
        f"        for (int o = 0; o < {plan.out_n}; ++o, w += {n}) {{",
        f"            int32_t acc = {b}[o];",
        f"            for (int i = 0; i < {n}; ++i) acc += (int32_t)w[i] * x[i];",
        f"            int32_t v = {fn}(acc, {m}[o], {s}[o]) + {plan.zero_point};",
        f"            if (v < {plan.lo}) v = {plan.lo};",
        f"            if (v > {plan.hi}) v = {plan.hi};",
        f"            *y++ = ({ytype})v;",
        "        }",
        "    }",
        "}",
    ])
    ctx.notes.append(f"general kernel ({plan.reason})")


def emit_int8(layer, ctx, src: str, dst: str) -> None:
    plan = plan_int8(layer)
    if not plan.fast:
        emit_general(layer, plan, ctx, src, dst)
        return
    ctx.kernel("dsp")
    decided = ctx.fused if ctx.fused and ctx.fused["layer"] is layer else None
    enc = decided["encoding"] if decided else SP.choose_int8(plan, ctx.sparse, XR_MAX_WORDS)
    fused_in = None
    if decided and decided["names"]:
        fused_in = decided["names"]
    ctx.fused = None
    fuse_out = None
    nxt = _next_int8(layer, plan, ctx) if enc.dsp == "dense" and dsp_extra_bytes(plan) <= DSP_EXTRA_BYTES_MAX else None
    if nxt is not None:
        # decide the next layer's encoding now: a dense one takes this layer's outputs in registers
        nplan, fusion = nxt
        nenc = SP.choose_int8(nplan, ctx.sparse, XR_MAX_WORDS, fusion)
        names = []
        if nenc.dsp == "dense":
            fuse_out = f"l{ctx.layer}_y"
            names = [f"{fuse_out}{k}" for k in range((plan.out_n + 1) // 2)]
        ctx.fused = {"layer": ctx.consumer, "names": names, "encoding": nenc}
    if enc.dsp == "dense" and enc.portable == "dense" and not fused_in and dsp_extra_bytes(plan) > DSP_EXTRA_BYTES_MAX:
        # int16 weights would cost too much flash: the int8 layout on every core
        lines, note = portable_dense(plan, ctx, src, dst, path=None)
        ctx.stmts(lines)
        ctx.notes.append(f"dense, int8 weights on every core (int16 pairs would add {dsp_extra_bytes(plan):,} bytes)")
        return
    if enc.dsp == "dense":
        dsp, dsp_note = dsp_dense(plan, ctx, src, dst, fused_in, fuse_out)
    elif enc.dsp == "rows":
        dsp, dsp_note = SP.portable_sparse(plan, ctx, src, dst, enc, path="dsp")
    else:
        dsp, dsp_note = SP.dsp_sparse(plan, ctx, src, dst, enc, fused_in)
    if enc.portable == "dense":
        portable, portable_note = portable_dense(plan, ctx, src, dst)
    else:
        portable, portable_note = SP.portable_sparse(plan, ctx, src, dst, enc)
    ctx.by_path(dsp, portable)
    ctx.notes.append(f"M4/M7/M33: {dsp_note}; other cores: {portable_note}")


def _next_int8(layer, plan: Int8Plan, ctx):
    """(plan of the next layer, cost change of fusing) when this layer could keep its
    outputs in registers for it (DSP path), else None.

    When this layer is cheap to unroll (one or two input words, at most 16 rows) and the
    next int8 layer holds its whole input in registers anyway, the int8 round trip
    through the arena (STRB, LDRD, SXTB16) is skipped, at the price of unrolled rows."""
    nxt = ctx.consumer
    if nxt is None or getattr(nxt, "kind", "") != "FULLY_CONNECTED" or nxt.input.dtype != "int8":
        return None
    words = (plan.in_n + 1) // 2
    if words > 2 or plan.out_n > 16 or nxt.in_features != plan.out_n:
        return None
    nplan = plan_int8(nxt)
    nwords = (nplan.in_n + 1) // 2
    if not (nplan.fast and nwords <= XR_MAX_WORDS and nplan.out_n > 1):
        return None
    loads = (1 + words + 1) // 2 + (0 if plan.per_tensor else 1)
    row_code = 4 * (loads + words + 3) + 2
    u = _unroll(plan.out_n, loads + words + 5)
    instructions = -(plan.out_n * (1 + 2 / u)) + plan.out_n / 2 - (nwords + (nwords + 1) // 2)
    nbytes = (plan.out_n - u) * row_code + 2 * plan.out_n - 6 * nwords
    return nplan, SP.Cost(instructions, nbytes)
