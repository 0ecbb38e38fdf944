"""FULLY_CONNECTED, int8, on ARMv7E-M with the DSP extension, with the file's int8 weights
kept int8 in flash: any size, ROWS output rows per pass, SXTB16 unpacking, SMLAD.

- Once per layer the input is widened into arena scratch as int16 lanes, doubled (SADD16:
  the requantization's first doubling), in the lane order SXTB16 gives the weights: per
  four inputs the words (x0, x2) and (x1, x3); a tail of 1-3 inputs is padded with zeros.
- Per pass of ROWS rows (generated assembly, fc_int8_asm.py): the biases (input zero
  point folded in at generation time, doubled), then per four inputs one LDRD of the two
  input words, one LDM of the rows' weight words, and per row SXTB16, SMLAD, SXTB16 ROR 8,
  SMLAD: 18 instructions for 16 multiply-accumulates with 4 rows.
- Requantization per row as the DSP convolutions do it (conv_requant.requant_store), the
  per-channel constants streamed after the pass's weights; a ReLU whose lower clamp is
  the output zero point saturates the accumulator at 0 first (USAT #31: requantization
  is monotone and maps 0 to the zero point), which replaces the compare and the move.
The rows left over (out % ROWS) get a pass of their own. The stream is the portable C's
bytes: int8 weights (rows padded to whole words), int32 biases and per-channel words.

Taken where its estimate beats the int16-pair path (fully_connected.py), which stays
ahead for layers of up to 16 inputs (input words in registers). Not taken: fewer than
ROWS rows (the scratch, 2 bytes per input, would buy one pass only), batches,
bounds that fail (fc_plan.py), left shifts that differ per channel, sparse encodings the
sparse policy picks, and a layer whose inputs a previous layer hands over in registers.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from toolkit.codegen.fast import FastPath, register
from toolkit.codegen.fast.dsp.conv_requant import (
    channel_c,
    channel_columns,
    channel_values,
    requant_instructions,
    requant_store,
)
from toolkit.codegen.fast.dsp.fc_int8_asm import (
    ROWS,
    dot_rows_asm,
    pass_instructions,
    step_instructions,
    sub_immediate,
    unroll,
    widen_asm,
    widen_instructions,
)
from toolkit.codegen.fast.dsp.fc_sparse import choose_dsp, dsp_rows_instructions
from toolkit.codegen.fc_plan import Int8Plan, plan_int8
from toolkit.codegen.sparse import Cost
from toolkit.ops.conv2d import indent_c

if TYPE_CHECKING:
    from toolkit.codegen.context import CContext

IN_MIN = 17  # up to 16 inputs the int16-pair path keeps the input in registers: faster


def fc_plan(op: Any) -> Int8Plan | None:
    """The integer plan of a layer this path can compute exactly, else None."""
    if (op.kind != "FULLY_CONNECTED" or op.input.dtype != "int8" or op.batches != 1 or op.in_features < IN_MIN
            or op.out_features < ROWS):
        return None  # fewer rows than a pass: widening the input would not pay for its RAM
    plan = plan_int8(op)
    if not plan.fast or np.any(plan.left != plan.left[0]) or int(plan.left[0]) > 7:
        return None
    return plan


def _groups(plan: Int8Plan) -> int:
    return -(-plan.in_n // 4)


def scratch_bytes(op: Any) -> int:
    """The input as int16 lanes: two words per group of four inputs."""
    plan = fc_plan(op)
    return 0 if plan is None else 8 * _groups(plan)


def relu_at_zero(plan: Int8Plan) -> bool:
    """The lower clamp is the output zero point (a ReLU): USAT #31 on the accumulator."""
    return plan.lo == plan.zero_point and plan.lo > -128


def _usable(op: Any, ctx: "CContext") -> Int8Plan | None:
    plan = fc_plan(op)
    if plan is None:
        return None
    passed = ctx.handoff.peek(op)
    if passed is not None and passed.names:
        return None  # the previous layer left the input in registers for the int16-pair path
    encoding, sparse = choose_dsp(plan, ctx.sparse)
    if encoding == "rows":
        sparse = Cost(dsp_rows_instructions(plan), sparse.nbytes)
    if encoding != "dense" and (ctx.sparse == "sparse" or sparse.beats(_estimate(plan))):
        return None  # a sparse encoding of pruned weights, by request or as it saves both
    return plan


def _estimate(plan: Int8Plan) -> Cost:
    """Instructions per inference and flash bytes (the stream, code at ~3 bytes per
    instruction of the written-out steps and the requantization)."""
    g, cols = _groups(plan), channel_columns(plan)
    per_row = requant_instructions(plan, doubled(plan)) + len(cols) + (-1 if relu_at_zero(plan) else 0)
    passes, rest = divmod(plan.out_n, ROWS)
    total = widen_instructions(plan.in_n // 4, doubled(plan)) + 10 * (plan.in_n % 4 > 0) + 12  # widening, call
    total += passes * (pass_instructions(ROWS, g) + ROWS * per_row + 4)
    code = 3 * (unroll(g)[0] + unroll(g)[1]) * step_instructions(ROWS) + 3 * ROWS * per_row + 120
    if rest:
        total += pass_instructions(rest, g) + rest * per_row + 2
        code += 3 * (unroll(g)[0] + unroll(g)[1]) * step_instructions(rest) + 3 * rest * per_row
    return Cost(float(total), 4 * plan.out_n * (1 + g + len(cols)) + code)


def _cost(op: Any, ctx: "CContext") -> float:
    plan = _usable(op, ctx)
    return float("inf") if plan is None else _estimate(plan).instructions


def _applicable(op: Any, ctx: "CContext") -> bool:
    return _usable(op, ctx) is not None


def stream(plan: Int8Plan) -> np.ndarray:
    """int32 words: per pass the doubled biases, then per group of four inputs each row's
    weight word, then the rows' per-channel words (conv_requant.channel_columns)."""
    g = _groups(plan)
    w8 = np.zeros((plan.out_n, 4 * g), np.int8)
    w8[:, : plan.in_n] = plan.weights
    words = w8.view("<i4").astype(np.int64)  # [out, groups]
    channel = channel_values(plan, channel_columns(plan))
    parts = []
    for r0 in range(0, plan.out_n, ROWS):
        rows = slice(r0, min(r0 + ROWS, plan.out_n))
        parts += [plan.bias[rows] << int(doubled(plan)), words[rows].T.reshape(-1), channel[rows].reshape(-1)]
    return np.concatenate(parts)


def doubled(plan: Int8Plan) -> bool:
    """Whether the widened input holds 2x (two SADD16 per four inputs) instead of the
    requantization doubling each accumulator (one LSL per output)."""
    return plan.in_n // 2 < plan.out_n


def widen_c(plan: Int8Plan) -> list[str]:
    """C: the input `x` into `xs` as int16 lanes (x0, x2), (x1, x3) per four inputs, doubled
    where `doubled`; a tail of 1-3 inputs padded with zeros."""
    full, rest = divmod(plan.in_n, 4)
    x2 = doubled(plan)
    lines = []
    if full:
        loop = full > max(d for d in range(1, 9) if full % d == 0)
        lines += ["{", "    const int8_t *s = x;", "    int32_t *d = xs, b, t;"]
        if loop:
            lines.append(f"    int32_t *const e = xs + {2 * full};")
        lines += [*("    " + s for s in widen_asm(full, x2)), "}"]
    if rest:
        v = [f"(x[{4 * full + j}]{' * 2' if x2 else ''})" if j < rest else None for j in range(4)]

        def pack(lo: str, hi: str | None) -> str:
            return f"(int32_t)(uint16_t){lo}" if hi is None else \
                f"(int32_t)((uint32_t)(uint16_t){lo} | ((uint32_t){hi} << 16))"

        lines += [f"xs[{2 * full}] = {pack(v[0], v[2])};",
                  f"xs[{2 * full + 1}] = {pack(v[1], v[3]) if v[1] else '0'};"]
    return lines


def _pass(plan: Int8Plan, rows: int, cols: list[str]) -> list[str]:
    """C of one pass of `rows` rows: the dot products, then each row's requantization."""
    g = _groups(plan)
    acc = [f"a{k}" for k in range(rows)]
    lines = [f"int32_t {', '.join(acc)}, t, x0, x1;", *dot_rows_asm(rows, g)]
    if not sub_immediate(8 * g):
        lines.append("xp = xs;")
    zero = relu_at_zero(plan)
    rq_plan = replace(plan, lo=-128) if zero else plan
    for k in range(rows):
        decl, m, kk, r = channel_c(plan, cols, f"(wp + {k * len(cols)})")
        body = [*decl, *([f"a{k} = __builtin_arm_usat(a{k}, 31);"] if zero else [])]
        body += requant_store(rq_plan, f"a{k}", m, kk, r, f"y[{k}]", doubled=doubled(plan))
        lines += ["{", *("    " + s for s in body), "}"] if decl else body
    if cols:
        lines.append(f"wp += {rows * len(cols)};")
    return lines


def layer_function(plan: Int8Plan) -> str:
    """C of the layer as a function of (x, y, xs, wq)."""
    cols = channel_columns(plan)
    passes, rest = divmod(plan.out_n, ROWS)
    lines = [*widen_c(plan), "const TM_ROM int32_t *wp = wq;", "const int32_t *xp = xs;"]
    if unroll(_groups(plan))[1]:  # the dot product's loop ends with the input words
        lines.append(f"const int32_t *const xe = xs + {2 * _groups(plan)};")
    if passes == 1:
        lines += ["{", *("    " + s for s in _pass(plan, ROWS, cols)), f"    y += {ROWS};", "}"]
    elif passes:
        lines += [f"int32_t n = {passes};", "do {", *("    " + s for s in _pass(plan, ROWS, cols)),
                  f"    y += {ROWS};", "} while (--n);"]
    if rest:
        lines += ["{", *("    " + s for s in _pass(plan, rest, cols)), "}"]
    return ("/* FULLY_CONNECTED on the DSP cores (toolkit/codegen/fast/dsp/fc_int8.py): "
            f"{plan.in_n} -> {plan.out_n}, int8 weights, {ROWS} rows per pass. */\n"
            "static void __attribute__((noinline)) {name}(const int8_t *x, int8_t *y, int32_t *xs, "
            "const TM_ROM int32_t *wq)\n{\n" + "\n".join(indent_c(lines)) + "\n}\n")


def _emit(op: Any, ctx: "CContext", srcs: list[str], dst: str) -> None:
    plan = _usable(op, ctx)
    assert plan is not None, "emitted without being applicable"
    ctx.handoff.take(op)
    fn = ctx.function("fc", layer_function(plan), "TM_DSP")
    wq = ctx.const_array("wq", "int32_t", stream(plan), path="dsp")
    ctx.stmt(f"{fn}({srcs[0]}, {dst}, (int32_t *){ctx.scratch}, {wq});")
    shared = "" if fn == f"{ctx.prefix}_l{ctx.layer}_fc" else f", the code of {fn}"
    ctx.notes.append(f"M4/M7/M33: int8 weights, input widened to int16 once, {ROWS} rows per pass, "
                     f"SXTB16 + SMLAD{', ReLU as USAT' if relu_at_zero(plan) else ''}{shared}")


PATH = register(FastPath("FULLY_CONNECTED", "dsp", "int8 weights, SXTB16, 4 rows per pass, SMLAD", _applicable,
                         _cost, _emit, scratch_bytes))
