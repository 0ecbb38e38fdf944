"""Requantization on the DSP path: the accumulator (weights pre-scaled by 2^(1+L)) to int8
with SMMULR (or SMMLAR), one add and SSAT (identities in toolkit/quantization.py), and
the layouts of a per-channel layer's constants in its weight rows.
"""

from __future__ import annotations

import numpy as np

from toolkit.codegen.context import int_literal
from toolkit.codegen.fc_plan import Int8Plan
from toolkit.codegen.requant_c import channel_offset, clamp
from toolkit.codegen.sparse import Cost


def dsp_requant(plan: Int8Plan, acc: str, m: str | None = None, r: str | None = None, fused: bool = False,
                k: str | None = None, layout: str = "r") -> list[str]:
    """`int32_t v = ...` from a pre-scaled accumulator; m/r name per-channel values.

    fused: SMMLAR adds the offset in the multiply (costs a register for it).
    layout (per channel, see requant_layouts): "r": r streamed, K computed from it;
    "kr": `k` names the word K·2^8 + r (ADD of k ASR #8, ASR by register: only the bottom
    byte of k counts); "k_r": `k` names K and `r` the shift (SMMLAR, ASR by register)."""
    if layout == "kr":
        fix = f" + ({acc} >> 31)" if plan.sign_fix else ""
        return [f"int32_t v = tm_ssat8(tm_asr(tm_smmulr({acc}, {m}) + ({k} >> 8){fix}, {k}));", *clamp(plan, "v")]
    if layout == "k_r":
        fix = f" + ({acc} >> 31)" if plan.sign_fix else ""
        return [f"int32_t v = tm_ssat8(tm_smmlar({acc}, {m}, {k}{fix}) >> {r});", *clamp(plan, "v")]
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
    return [f"int32_t v = {expr};", *clamp(plan, "v")]


def row_requant_imm(plan: Int8Plan, o: int, acc: str, m: str) -> list[str]:
    """`int32_t v = ...` of row `o` with its K and r as constants of the code."""
    r, k = int(plan.right[o]), int(plan.offset[o])
    if r == 0:
        return [f"int32_t v = tm_ssat8(tm_smmulr({acc}, {m}) + {plan.zero_point});", *clamp(plan, "v")]
    fix = f" + ({acc} >> 31)" if plan.sign_fix else ""
    return [f"int32_t v = tm_ssat8((tm_smmulr({acc}, {m}) + {int_literal(k)}{fix}) >> {r});", *clamp(plan, "v")]


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


def dsp_row_cost(plan: Int8Plan, words: int, layout: str, xr: bool, rows_unrolled: bool, u: int = 2) -> Cost:
    """Estimated (instructions per inference, flash bytes) of a dense DSP layer whose
    per-channel constants use `layout`: LDRD loads, SMLADs, requantization, store, loop;
    code at about 3 bytes per instruction (Thumb-2 mixes 16- and 32-bit encodings)."""
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


def choose_requant_layout(plan: Int8Plan, words: int, xr: bool, rows_unrolled: bool) -> str:
    """The per-channel layout to emit: starting from "r", a layout is taken when its
    estimate is no worse in instructions and in flash and better in one (as for the
    sparse encodings); "k_r" (one word more per row) only wins where it saves code."""
    options = requant_layouts(plan, rows_unrolled)
    best = options[0]
    cost = dsp_row_cost(plan, words, best, xr, rows_unrolled)
    for lay in options[1:]:
        c = dsp_row_cost(plan, words, lay, xr, rows_unrolled)
        if c.beats(cost):
            best, cost = lay, c
    return best
