"""The dense SMLAD kernel of an int8 FULLY_CONNECTED layer on the DSP path.

Each row of the constant stream holds the bias (pre-scaled), the weights as int16 pairs
and, per channel, the requantization words (fc_requant.py); one LDRD loads two words.
With registers to spare the input words stay in registers for the whole layer; rows
may be written out, and then a layer can keep its outputs in registers for the next one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from toolkit.codegen.fast.dsp import fc_requant as R  # a module: tests force a layout through it
from toolkit.codegen.fast.dsp.fc_layout import (
    XR_MAX_WORDS,
    input_order,
    natural_order,
    packed_rows,
    row_loads,
    streamed_mac,
    unroll,
    x_words_setup,
)
from toolkit.codegen.fc_plan import Int8Plan

if TYPE_CHECKING:
    from toolkit.codegen.context import CContext


def dsp_dense(plan: Int8Plan, ctx: "CContext", src: str, dst: str, fused_in: list[str] | None = None,
              fuse_out: str | None = None) -> tuple[list[str], str]:
    """Dense SMLAD kernel; returns (statements, strategy note).

    fused_in: the input words are already in these variables (natural lane order).
    fuse_out: write the outputs as int16 pairs into variables `{fuse_out}{k}` instead of
    memory, rows unrolled (the next layer reads them from registers)."""
    order = natural_order(plan.in_n) if fused_in else input_order(plan.in_n)
    rows = packed_rows(plan, order)
    words = rows.shape[1]
    xr = words <= XR_MAX_WORDS and plan.out_n > 1
    layout = R.choose_requant_layout(plan, words, xr, fuse_out is not None)
    rq = R.requant_words(plan, layout)
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
            lines += ["    " + s for s in x_words_setup(src, ctx.src_aligned, plan.in_n, words)]
        tokens = head + [f"w{k}" for k in range(words)] + tail
        row += [f"int32_t {', '.join(tokens)};"]
        row += row_loads(tokens, "w", {f"w{k}": [f"acc = tm_smlad(x{k}, w{k}, acc);"] for k in range(words)})
        note = f"dense, SMLAD, {words} input word(s) in registers"
    else:
        row += [f"int32_t {', '.join(head)};"]
        row += row_loads(head, "w")
        row += streamed_mac(src, ctx.src_aligned, plan.in_n, words)
        if tail:
            row += [f"int32_t {', '.join(tail)};", *row_loads(tail, "w")]
        note = f"dense, SMLAD, {words} input word(s) streamed"
    if layout == "imm":
        note += ", per-channel m streamed, K and r immediates"
    elif rq_tail:
        row += R.dsp_requant(plan, "acc", qm, qr, k=qk, layout=layout)
        note += f", per-channel {' '.join(['m', 'K<<8|r'] if layout == 'kr' else ['m', 'K', 'r'])} streamed"
    else:
        row += R.dsp_requant(plan, "acc", qm, qr, fused=fused)
    if fuse_out:
        # rows written out; each pair of outputs becomes one word (PKHBT)
        lines += [f"    const TM_ROM int32_t *w = {name};", "    int32_t v0;"]
        for o in range(plan.out_n):
            lines += ["    {", *("        " + s for s in row)]
            if layout == "imm":
                lines += ["        " + s for s in R.row_requant_imm(plan, o, "acc", qm)]
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
    row += ["*y++ = (int8_t)v;"]
    lines += [f"    const TM_ROM int32_t *w = {name};", f"    int8_t *y = {dst};"]
    if plan.out_n == 1:
        lines += ["    {", *("        " + s for s in row), "    }", "}"]
        return lines, note
    # per-channel words in the row: unrolled like the per-tensor row (multiplier in the row)
    size = len(row) - (1 + words + len(tail) + 1) // 2 + (words + 3) // 2 if rq_tail and xr else len(row)
    u = unroll(plan.out_n, size + words)
    body: list[str] = []
    for _ in range(u):
        body += ["{", *("    " + s for s in row), "}"]
    lines += [
        "    do {",
        *("        " + s for s in body),
        f"    }} while (w != {name} + {plan.out_n * stride});",
        "}",
    ]
    return lines, note + (f", {u} rows per iteration" if u > 1 else "")
