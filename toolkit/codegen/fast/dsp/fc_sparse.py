"""Sparse encodings of pruned int8 weights on the DSP path (policy: toolkit/codegen/sparse.py).

- "unrolled" ("sparse rows written out"): the input stays in registers as int16 pairs;
  each row is straight-line code holding only the SMLADs of its non-zero weight words,
  and the stream holds the bias and those words only (layers of up to 16 inputs).
- "rows" (layers of more than 16 inputs): the portable sparse rows loop
  (fc_portable.portable_sparse), compiled for the DSP cores with its own arrays.

Dense SMLAD costs about 0.6 instructions per weight, so on these cores sparse code only
pays (in instructions and flash at once) from about 75-80 % of zero weights; see
docs/codegen.md for measured figures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from toolkit.codegen.fast.dsp.fc_layout import (
    XR_MAX_WORDS,
    input_order,
    natural_order,
    packed_rows,
    row_loads,
    x_words_setup,
)
from toolkit.codegen.fast.dsp.fc_requant import dsp_requant, requant_words
from toolkit.codegen.fc_plan import Int8Plan
from toolkit.codegen.sparse import Cost, may_be_sparse, portable_costs, stored

if TYPE_CHECKING:
    from toolkit.codegen.context import CContext


def word_mask(plan: Int8Plan, order: list[int]) -> np.ndarray:
    """[out, words] bool: the DSP weight word (two int16 lanes in `order`) is non-zero."""
    lanes = np.zeros((plan.out_n, len(order)), bool)
    for j, col in enumerate(order):
        if col >= 0:
            lanes[:, j] = plan.weights[:, col] != 0
    return lanes[:, 0::2] | lanes[:, 1::2]


def dsp_costs(plan: Int8Plan, order: list[int], xr: bool) -> tuple[Cost, Cost | None]:
    """Estimated instructions and flash bytes of the dense and the unrolled sparse kernel."""
    out, words = plan.out_n, len(order) // 2
    extra = 0 if plan.per_tensor else 2
    loads = (1 + extra + words + 1) // 2
    unroll = 2 if out % 2 == 0 and words > 4 else 4
    row_code = 4 * (loads + words) + 14
    dense = Cost(out * (loads + words + 4 + 2 / unroll), 4 * out * (1 + extra + words + 1) + unroll * row_code + 30)
    if not xr:
        # streamed input: per 4 bytes one word load, two SXTB16, an LDRD and two SMLADs
        return Cost(out * (2.75 * words + 8), 4 * out * (1 + extra + words) + 120), None
    nz = word_mask(plan, order).sum(axis=1)
    instr = sum((1 + extra + int(n) + 1) // 2 + int(n) + 4 for n in nz)
    code = sum(4 * ((1 + extra + int(n) + 1) // 2 + int(n)) + 14 for n in nz)
    nbytes = 4 * (out * (1 + extra) + int(nz.sum())) + code + 20
    return dense, Cost(instr, nbytes)


ROWS_PER_NONZERO = 8.8  # instructions per stored weight of the sparse rows loop, measured on the M4


def dsp_rows_instructions(plan: Int8Plan) -> float:
    """The sparse rows loop compiled for the DSP cores, as measured on the M4 (the
    portable estimate, sparse.portable_costs, is low there)."""
    return ROWS_PER_NONZERO * int(np.count_nonzero(plan.weights)) + 14 * plan.out_n


def choose_dsp(plan: Int8Plan, mode: str = "auto", fusion: Cost | None = None) -> tuple[str, Cost]:
    """The DSP path's encoding ("dense", "unrolled" or "rows") and its estimate.

    fusion: how the pair (previous layer, this one) changes when this layer stays dense
    and the previous one hands its outputs over in registers (only a dense kernel takes
    them), added to the dense estimate."""
    order = input_order(plan.in_n)
    xr = len(order) // 2 <= XR_MAX_WORDS and plan.out_n > 1
    dense, unrolled = dsp_costs(plan, order, xr)
    if fusion is not None:
        dense = Cost(dense.instructions + fusion.instructions, dense.nbytes + fusion.nbytes)
    if not may_be_sparse(plan, mode):
        return "dense", dense
    if unrolled is not None:
        return ("unrolled", unrolled) if mode == "sparse" or unrolled.beats(dense) else ("dense", dense)
    rows = portable_costs(plan)[1]  # the same loop, compiled for the DSP cores
    return ("rows", rows) if mode == "sparse" or rows.beats(dense) else ("dense", dense)


def dsp_sparse(plan: Int8Plan, ctx: "CContext", src: str, dst: str,
               fused_in: list[str] | None = None) -> tuple[list[str], str]:
    """Rows written out: inputs in registers, only the SMLADs of non-zero weight words."""
    order = natural_order(plan.in_n) if fused_in else input_order(plan.in_n)
    rows = packed_rows(plan, order)
    mask = word_mask(plan, order)
    words = rows.shape[1]
    rq = requant_words(plan)
    stream = []
    for o in range(plan.out_n):
        stream += [int(plan.bias[o] << (plan.left[o] + 1)), *[int(q) for q in rq[o]]]
        stream += [int(rows[o, k]) for k in range(words) if mask[o, k]]
    name = ctx.const_array("sq", "int32_t", np.array(stream, np.int64), path="dsp")
    head = ["acc"] + ["qm", "qr"][: rq.shape[1]]
    qm, qr = (head[1:] + [None, None])[:2]
    lines = ["{"]
    if fused_in:
        lines += [f"    const int32_t {', '.join(f'x{k} = {n}' for k, n in enumerate(fused_in))};"]
    else:
        lines += ["    " + s for s in x_words_setup(src, ctx.src_aligned, plan.in_n, words)]
    lines += [f"    const TM_ROM int32_t *w = {name};", f"    int8_t *y = {dst};"]
    for o in range(plan.out_n):
        nz = [k for k in range(words) if mask[o, k]]
        tokens = head + [f"w{k}" for k in nz]
        row = [f"int32_t {', '.join(tokens)};"]
        row += row_loads(tokens, "w", {f"w{k}": [f"acc = tm_smlad(x{k}, w{k}, acc);"] for k in nz})
        row += dsp_requant(plan, "acc", qm, qr)
        row += [f"y[{o}] = (int8_t)v;"]
        lines += ["    {", *("        " + s for s in row), "    }"]
    lines.append("}")
    note = f"sparse rows written out, {int(mask.sum())} of {mask.size} weight words stored ({stored(plan)})"
    return lines, note
