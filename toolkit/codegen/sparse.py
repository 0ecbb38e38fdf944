"""Sparse encodings of pruned int8 weights, chosen per layer and per code path.

Zero weights are exact to skip: the accumulator is an integer sum. For each layer the
generator estimates, per code path, the instructions per inference and the flash bytes
(constants plus code) of the dense kernel and of the sparse one, and takes the sparse
one only when it is no worse on both (``mode="auto"``); ``mode="sparse"`` takes it
whenever the layer has a zero weight, ``mode="dense"`` never.

- DSP path ("sparse rows written out"): the input stays in registers as int16 pairs;
  each row is straight-line code holding only the SMLADs of its non-zero weight words,
  and the stream holds the bias and those words only (layers of up to 16 inputs).
- portable path, and DSP path for layers of more than 16 inputs ("sparse rows"): per
  row, a count, the non-zero int8 values and their column indices (uint8 when the
  layer has at most 256 inputs, else uint16).

Dense SMLAD costs about 0.6 instructions per weight on the DSP path, so on those cores
sparse code only pays (in instructions and flash at once) from about 75-80 % of zero
weights; see docs/codegen.md for measured figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MODES = ("auto", "dense", "sparse")


@dataclass
class Cost:
    instructions: float
    nbytes: float

    def beats(self, other: "Cost") -> bool:
        return self.instructions <= other.instructions and self.nbytes <= other.nbytes and (
            self.instructions < other.instructions or self.nbytes < other.nbytes)


@dataclass
class Encoding:
    dsp: str = "dense"  # "dense" or "unrolled"
    portable: str = "dense"  # "dense" or "rows"
    costs: dict = field(default_factory=dict)  # (path, encoding) -> Cost


def word_mask(plan, order: list[int]) -> np.ndarray:
    """[out, words] bool: the DSP weight word (two int16 lanes in `order`) is non-zero."""
    lanes = np.zeros((plan.out_n, len(order)), bool)
    for j, col in enumerate(order):
        if col >= 0:
            lanes[:, j] = plan.weights[:, col] != 0
    return lanes[:, 0::2] | lanes[:, 1::2]


def _dsp_costs(plan, order: list[int], xr: bool) -> tuple[Cost, Cost | None]:
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


def _portable_costs(plan) -> tuple[Cost, Cost]:
    out, n = plan.out_n, plan.in_n
    nnz = int(np.count_nonzero(plan.weights))
    unrolled = n <= 16
    dense = Cost(out * ((3 if unrolled else 5) * n + 12), out * n + 4 * out + (10 * n if unrolled else 40) + 40)
    idx = 1 if n <= 256 else 2
    cnt = 1 if np.count_nonzero(plan.weights, axis=1).max(initial=0) <= 255 else 2
    rows = Cost(6 * nnz + 14 * out, nnz * (1 + idx) + out * (cnt + 4) + 70)
    return dense, rows


def choose_int8(plan, mode: str = "auto", xr_max_words: int = 8, fusion: Cost | None = None) -> Encoding:
    """Encoding per path. fusion: how the pair (previous layer, this one) changes when this
    layer stays dense and the previous one hands its outputs over in registers (only a
    dense kernel takes them), added to the dense estimate."""
    from toolkit.codegen.fc_int8 import input_order

    if mode not in MODES:
        raise ValueError(f"sparse mode must be one of {', '.join(MODES)}")
    enc = Encoding()
    order = input_order(plan.in_n)
    xr = len(order) // 2 <= xr_max_words and plan.out_n > 1
    dsp_dense, dsp_unrolled = _dsp_costs(plan, order, xr)
    if fusion is not None:
        dsp_dense = Cost(dsp_dense.instructions + fusion.instructions, dsp_dense.nbytes + fusion.nbytes)
    port_dense, port_rows = _portable_costs(plan)
    enc.costs = {("dsp", "dense"): dsp_dense, ("portable", "dense"): port_dense, ("portable", "rows"): port_rows}
    if dsp_unrolled is not None:
        enc.costs[("dsp", "unrolled")] = dsp_unrolled
    dsp_rows = Cost(port_rows.instructions, port_rows.nbytes)  # the same loop, compiled for the DSP cores
    enc.costs[("dsp", "rows")] = dsp_rows
    has_zero = bool(np.any(plan.weights == 0))
    if mode == "dense" or not has_zero:
        return enc
    if dsp_unrolled is not None and (mode == "sparse" or dsp_unrolled.beats(dsp_dense)):
        enc.dsp = "unrolled"
    elif dsp_unrolled is None and (mode == "sparse" or dsp_rows.beats(dsp_dense)):
        enc.dsp = "rows"
    if mode == "sparse" or port_rows.beats(port_dense):
        enc.portable = "rows"
    return enc


def _stored(plan) -> str:
    total = plan.weights.size
    nnz = int(np.count_nonzero(plan.weights))
    return f"{nnz} of {total} weights stored"


def dsp_sparse(plan, ctx, src: str, dst: str, enc: Encoding,
               fused_in: list[str] | None = None) -> tuple[list[str], str]:
    """Rows written out: inputs in registers, only the SMLADs of non-zero weight words."""
    from toolkit.codegen import fc_int8 as F

    order = F.natural_order(plan.in_n) if fused_in else F.input_order(plan.in_n)
    rows = F.packed_rows(plan, order)
    mask = word_mask(plan, order)
    words = rows.shape[1]
    rq = F.requant_words(plan)
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
        lines += ["    " + s for s in F._x_words_setup(src, ctx.src_aligned, plan.in_n, words)]
    lines += [f"    const TM_ROM int32_t *w = {name};", f"    int8_t *y = {dst};"]
    for o in range(plan.out_n):
        nz = [k for k in range(words) if mask[o, k]]
        tokens = head + [f"w{k}" for k in nz]
        row = [f"int32_t {', '.join(tokens)};"]
        row += F._row_loads(tokens, "w", {f"w{k}": [f"acc = tm_smlad(x{k}, w{k}, acc);"] for k in nz})
        row += F.dsp_requant(plan, "acc", qm, qr)
        row += [f"y[{o}] = (int8_t)v;"]
        lines += ["    {", *("        " + s for s in row), "    }"]
    lines.append("}")
    stored = int(mask.sum())
    note = f"sparse rows written out, {stored} of {mask.size} weight words stored ({_stored(plan)})"
    return lines, note


def portable_sparse(plan, ctx, src: str, dst: str, enc: Encoding, path: str = "portable") -> tuple[list[str], str]:
    """Per row: a count, then the non-zero values and their column indices."""
    from toolkit.codegen import fc_int8 as F

    nz_rows = [np.flatnonzero(plan.weights[o]) for o in range(plan.out_n)]
    values = np.concatenate([plan.weights[o, cols] for o, cols in enumerate(nz_rows)] + [np.zeros(0, np.int64)])
    columns = np.concatenate(nz_rows + [np.zeros(0, np.int64)])
    counts = np.array([len(c) for c in nz_rows], np.int64)
    idx_t = "uint8_t" if plan.in_n <= 256 else "uint16_t"
    cnt_t = "uint8_t" if counts.max(initial=0) <= 255 else "uint16_t"
    v = ctx.const_array("values", "int8_t", values, path=path)
    c = ctx.const_array("columns", idx_t, columns, path=path)
    n = ctx.const_array("counts", cnt_t, counts, path=path)
    b = ctx.const_array("bias", "int32_t", plan.bias, path=path)
    channel = F.portable_channel_arrays(plan, ctx, path)
    body = [f"int32_t acc = {b}[o];",
            f"for (int j = {n}[o]; j > 0; --j) acc += (int32_t)*val++ * x[*c++];"]
    body += F.portable_requant(plan, "acc", channel)
    body += ["y[o] = (int8_t)v;"]
    lines = [
        "{",
        f"    const int8_t *x = {src};",
        f"    int8_t *y = {dst};",
        f"    const TM_ROM int8_t *val = {v};",
        f"    const TM_ROM {idx_t} *c = {c};",
        f"    for (int o = 0; o < {plan.out_n}; ++o) {{",
        *("        " + s for s in body),
        "    }",
        "}",
    ]
    return lines, f"sparse rows, {_stored(plan)}, {idx_t} column indices"
