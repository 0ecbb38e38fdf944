"""Portable C of an int8 FULLY_CONNECTED layer (every core; the `#else` of its fast paths).

- dense: int8 weights, the folded int32 bias and the requantization of requant_c.py
  (one 64-bit multiply-add and a shift; from 32-bit multiplies on ARMv6-M);
- sparse rows (pruned weights, see sparse.py): per row a count, the non-zero values and
  their column indices;
- general kernel (the plan's bounds fail, or batches): tm_requant step by step.

Constant arrays go under the branch being emitted (`ctx.branch`): "portable" when a fast
path covers some cores (each build holds only its own arrays), None when this C is the
only one. The DSP path reuses the sparse rows loop for its own branch (path="dsp").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from toolkit.codegen.fc_plan import Int8Plan, dsp_extra_bytes, plan_int8
from toolkit.codegen.requant_c import Channel, portable_requant
from toolkit.codegen.sparse import choose_portable, stored

if TYPE_CHECKING:
    from toolkit.codegen.context import CContext

UNROLL_PORTABLE_MAX = 16  # inner products this long are written out


def emit_int8(layer: Any, ctx: "CContext", src: str, dst: str) -> None:
    """The portable C of an int8 FullyConnected (toolkit/ops/fully_connected.py)."""
    plan = plan_int8(layer)
    if not plan.fast:
        emit_general(layer, plan, ctx, src, dst)
        return
    path = ctx.branch
    if choose_portable(plan, ctx.sparse) == "dense":
        lines, note = portable_dense(plan, ctx, src, dst, path)
    else:
        lines, note = portable_sparse(plan, ctx, src, dst, path)
    ctx.stmts(lines)
    if path is None:
        # the DSP path declined the layer: its int16 weight pairs would cost too much flash
        ctx.notes.append(f"{note}, int8 weights on every core (int16 pairs would add {dsp_extra_bytes(plan):,} bytes)")
    else:
        ctx.notes.append(f"other cores: {note}")


def portable_dense(plan: Int8Plan, ctx: "CContext", src: str, dst: str,
                   path: str | None = "portable") -> tuple[list[str], str]:
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


def portable_sparse(plan: Int8Plan, ctx: "CContext", src: str, dst: str,
                    path: str | None = "portable") -> tuple[list[str], str]:
    """Per row: a count, then the non-zero values and their column indices."""
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
    channel = portable_channel_arrays(plan, ctx, path)
    body = [f"int32_t acc = {b}[o];",
            f"for (int j = {n}[o]; j > 0; --j) acc += (int32_t)*val++ * x[*c++];"]
    body += portable_requant(plan, "acc", channel)
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
    return lines, f"sparse rows, {stored(plan)}, {idx_t} column indices"


def portable_channel_arrays(plan: Int8Plan, ctx: "CContext", path: str | None) -> Channel | None:
    """Per-channel multiplier (int32) and shift (int8) arrays, as `(mult[o], shift[o])`."""
    if plan.per_tensor:
        return None
    m = ctx.const_array("mult", "int32_t", plan.mult, path=path)
    s = ctx.const_array("shift", "int8_t", plan.shift, path=path)
    return f"{m}[o]", f"{s}[o]"


def emit_general(layer: Any, plan: Int8Plan, ctx: "CContext", src: str, dst: str) -> None:
    """Any layer (the bounds fail, or batches): tm_requant, gemmlowp's steps, on every core."""
    fn = ctx.kernel("requant")
    w = ctx.const_array("weights", "int8_t", plan.weights)
    b = ctx.const_array("bias", "int32_t", plan.bias)
    m = ctx.const_array("mult", "int32_t", plan.mult)
    s = ctx.const_array("shift", "int8_t", plan.shift)
    n, batches = plan.in_n, layer.batches
    ctx.stmts([
        "{",
        f"    const int8_t *x = {src};",
        f"    int8_t *y = {dst};",
        f"    for (int n = 0; n < {batches}; ++n, x += {n}) {{",
        f"        const TM_ROM int8_t *w = {w};",
        f"        for (int o = 0; o < {plan.out_n}; ++o, w += {n}) {{",
        f"            int32_t acc = {b}[o];",
        f"            for (int i = 0; i < {n}; ++i) acc += (int32_t)w[i] * x[i];",
        f"            int32_t v = {fn}(acc, {m}[o], {s}[o]) + {plan.zero_point};",
        f"            if (v < {plan.lo}) v = {plan.lo};",
        f"            if (v > {plan.hi}) v = {plan.hi};",
        "            *y++ = (int8_t)v;",
        "        }",
        "    }",
        "}",
    ])
    ctx.notes.append(f"general kernel ({plan.reason})")
