"""Int16 weight layouts of the DSP FULLY_CONNECTED path, and the C that loads int8 inputs as int16 lanes.

Weights are pre-scaled by 2^(1+L) and stored as int16 pairs in the lane order of the
input words, so one SMLAD does two multiply-accumulates: each group of four input bytes
loads as one word and SXTB16 splits it into lanes (0, 2) and (1, 3). Up to XR_MAX_WORDS
input words are held in registers for the whole layer.
"""

from __future__ import annotations

import numpy as np

from toolkit.codegen.fc_plan import Int8Plan

XR_MAX_WORDS = 8  # input words kept in registers (r4-r11) across the rows


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


def natural_order(in_n: int) -> list[int]:
    """Lane order of inputs handed over in registers (PKHBT pairs of outputs)."""
    return list(range(in_n)) + [-1] * (in_n % 2)


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


def x_words_setup(src: str, aligned: bool, in_n: int, words: int) -> list[str]:
    """Declare and load x0..x{words-1}: the input as int16 lanes, in registers."""
    names = [f"x{k}" for k in range(words)]
    return [f"int32_t {', '.join(names)};", *s8_words(src, aligned, in_n, "x")]


def s8_words(src: str, aligned: bool, in_n: int, names: str = "x") -> list[str]:
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


def row_loads(tokens: list[str], ptr: str, uses: dict[str, list[str]] | None = None) -> list[str]:
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


def unroll(rows: int, body_instructions: int, budget: int = 48) -> int:
    """Rows per loop iteration: the largest power of two dividing `rows` within `budget`."""
    u = 1
    while rows % (2 * u) == 0 and 2 * u * body_instructions <= budget:
        u *= 2
    return u


def streamed_mac(src: str, aligned: bool, in_n: int, words: int) -> list[str]:
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
        lines += ["    " + s for s in s8_words(f"({src} + {4 * groups})", False, in_n - 4 * groups, "t")]
        lines += [f"    acc = tm_smlad(t{k}, *w++, acc);" for k in range(tail)]
        lines.append("}")
    return lines
