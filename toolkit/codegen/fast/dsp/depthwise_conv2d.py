"""DEPTHWISE_CONV_2D, int8, 3x3, channel multiplier 1, stride 1 or 2 along the width, on
ARMv7E-M with the DSP extension (Cortex-M4/M7/M33).

One channel at a time:
- its plane is copied into arena scratch as int16 (one LDRSB and one STRH per value, the
  offsets constants of the code), inside a border of the input zero point written once
  per layer (the bias has the zero point folded in: padding adds nothing, as TFLite skips
  it);
- its nine int8 weights become int16 pairs in registers, pre-scaled by 2^(1+L) so that
  the accumulator is the one SMMLAR requantizes (conv_requant.py);
- a row kernel (generated assembly, one per layer: the registers r0-r12 and lr are all
  needed) computes two neighbouring outputs per pass from one LDRD per filter row. With
  the row's values P0 = (v0, v1), P1 = (v2, v3) and weights A = (w0, w1), B = (w1, w2),
  stride 1 takes SMLAD(P0, A) + SMLABT(P1, B) for the first output and SMLATB(P0, A) +
  SMLAD(P1, B) for the second: 12 multiply instructions for 18 multiply-accumulates.
  Stride 2 reads a third word P2 = (v4, v5): SMLAD(P0, A) + w2·v2 and SMLAD(P1, A) + w2·v4.
  Then SMMLAR, ASR by the channel's shift, SSAT and STRB per output; an odd last output
  of a row is computed alone. Rows of up to ROW_PAIRS_WRITTEN_MAX pairs are straight-line
  code (the bias stays in lr, offsets are constants), longer ones a loop.
The layer (channel loop, plane copy) is a function of its shapes and constants, shared by
the layers of the same geometry, like the row kernel.
Not taken (the portable C runs): other filter sizes, multipliers, dilation, planes wider
than the LDRD offsets reach, bounds that fail (conv_requant.conv_plan).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from toolkit.codegen.fast import FastPath, register
from toolkit.codegen.fast.dsp.conv_requant import channel_c, channel_columns, channel_values, conv_plan
from toolkit.codegen.fc_plan import Int8Plan

if TYPE_CHECKING:
    from toolkit.codegen.context import CContext

FILL_UNROLL = 16  # plane values copied per loop iteration (written out)
ROW_PAIRS_WRITTEN_MAX = 12  # rows of up to this many output pairs are straight-line code
# word offsets in the row kernel's argument block
BIAS, MULT, OFFSET, SHIFT, ROWS = 6, 7, 8, 9, 10


@dataclass(frozen=True)
class DwGeometry:
    in_h: int
    in_w: int
    ch: int
    stride_h: int
    stride_w: int
    pad_top: int
    pad_left: int
    out_h: int
    out_w: int

    @property
    def pairs(self) -> int:
        return self.out_w // 2

    @property
    def single(self) -> bool:
        return self.out_w % 2 == 1

    @property
    def advance(self) -> int:
        """Bytes the plane pointer moves per pair of outputs."""
        return 4 * self.stride_w

    @property
    def plane_rows(self) -> int:
        return (self.out_h - 1) * self.stride_h + 3

    @property
    def plane_cols(self) -> int:
        """Columns the kernels read (a pair: 4 or 6 values from its first column; a single
        output: 4), rounded up to even so that every row starts on a word."""
        last = 0
        if self.pairs:
            last = (self.pairs - 1) * 2 * self.stride_w + (4 if self.stride_w == 1 else 6)
        if self.single:
            last = max(last, (self.out_w - 1) * self.stride_w + 4)
        return last + last % 2

    @property
    def row_bytes(self) -> int:
        return 2 * self.plane_cols

    def copied(self) -> tuple[range, range]:
        """Input rows and columns that land in the plane."""
        rows = range(max(0, -self.pad_top), min(self.in_h, self.plane_rows - self.pad_top))
        cols = range(max(0, -self.pad_left), min(self.in_w, self.plane_cols - self.pad_left))
        return rows, cols


def geometry(op: Any) -> DwGeometry:
    _, ih, iw, ch = op.input.shape
    _, oh, ow, _ = op.output.shape
    return DwGeometry(ih, iw, ch, op.rows.stride, op.cols.stride, op.rows.pad_before, op.cols.pad_before, oh, ow)


def _plan(op: Any) -> tuple[DwGeometry, Int8Plan] | None:
    if (op.kind != "DEPTHWISE_CONV_2D" or op.multiplier != 1 or op.rows.filter_size != 3 or op.cols.filter_size != 3
            or op.rows.dilation != 1 or op.cols.dilation != 1 or op.cols.stride not in (1, 2)):
        return None
    g = geometry(op)
    # LDRD reaches 1020 bytes (two rows down); STRB's post-index 255 (two outputs along)
    if 2 * g.row_bytes + 8 > 1020 or g.stride_h * g.row_bytes > 4095 or g.ch > 2047:
        return None
    plan = conv_plan(op)
    if plan is None or int(np.max(np.abs(plan.weights), initial=0)) << (int(plan.left[0]) + 1) > 32767:
        return None
    return g, plan


def scratch_bytes(op: Any) -> int:
    got = _plan(op)
    return 0 if got is None else 2 * got[0].plane_rows * got[0].plane_cols


def _requant_instructions(plan: Int8Plan) -> int:
    return 4 + (2 if _sign_fix(plan) else 0) + 3 * ((plan.lo > -128) + (plan.hi < 127))


def _sign_fix(plan: Int8Plan) -> bool:
    return bool(plan.sign_fix and np.all(plan.right > 0))


def _cost(op: Any, ctx: "CContext") -> float:
    got = _plan(op)
    if got is None:
        return float("inf")
    g, plan = got
    rq = _requant_instructions(plan)
    pair = 1 + (3 if g.stride_w == 1 else 6) + 12 + 3 + 2 * rq + 2 + (g.ch * 2 > 255)
    single = 1 + 3 + 6 + 3 + rq + (g.ch > 255)
    rows, cols = g.copied()
    fill = 2 * len(rows) * len(cols) + len(rows) * (4 + 3 * (len(cols) // FILL_UNROLL))
    per_channel = fill + g.out_h * (g.pairs * pair + g.single * single + 7) + 45
    return float(g.ch * per_channel + g.plane_rows * g.plane_cols // 2)


def _applicable(op: Any, ctx: "CContext") -> bool:
    return _plan(op) is not None


def _clamp_asm(plan: Int8Plan, reg: str) -> list[str]:
    lines = []
    if plan.lo > -128:
        lines += [f"cmp {reg}, #{plan.lo}", "it lt", f"movlt {reg}, #{plan.lo}"]
    if plan.hi < 127:
        lines += [f"cmp {reg}, #{plan.hi}", "it gt", f"movgt {reg}, #{plan.hi}"]
    return lines


def _requant_asm(plan: Int8Plan, accs: list[str]) -> list[str]:
    """Requantize the accumulators (r9, r10) with m, K, r from the argument block (r0);
    r11 and r12 are free."""
    lines = [f"ldrd r11, r12, [r0, #{4 * MULT}]"]
    for a in accs:
        if _sign_fix(plan):  # (h + K + (h >> 31)): h's sign serves for the accumulator's (identity 3)
            lines += [f"smmulr {a}, {a}, r11", f"add {a}, {a}, {a}, asr #31", f"add {a}, {a}, r12"]
        else:
            lines.append(f"smmlar {a}, {a}, r11, r12")
    lines.append(f"ldr r11, [r0, #{4 * SHIFT}]")
    lines += [f"asr {a}, {a}, r11" for a in accs]
    lines += [f"ssat {a}, #8, {a}" for a in accs]
    for a in accs:
        lines += _clamp_asm(plan, a)
    return lines


def _store_asm(g: DwGeometry, accs: list[str]) -> list[str]:
    """Store the outputs (channel stride apart) and move r2 past them."""
    step = g.ch * len(accs)
    lines = [f"strb {a}, [r2, #{k * g.ch}]" for k, a in enumerate(accs) if k > 0]
    if step <= 255:
        return lines + [f"strb {accs[0]}, [r2], #{step}"]
    return lines + [f"strb {accs[0]}, [r2]", f"add r2, r2, #{step}"]


def _rows_s1(g: DwGeometry, pair: bool, at: int | None, bias: str) -> list[str]:
    """Stride 1: weights A_k in r3, r5, r7 and B_k in r4, r6, r8 (rows 0-2). `at`: the
    byte offset of the outputs' first column from r1 (None: r1 itself, moved past a pair)."""
    rs = g.row_bytes
    lines = []
    for k in (2, 1, 0):
        a, b = f"r{3 + 2 * k}", f"r{4 + 2 * k}"
        if at is None and k == 0 and pair:
            lines.append(f"ldrd r11, r12, [r1], #{g.advance}")
        else:
            lines.append(f"ldrd r11, r12, [r1, #{k * rs + (at or 0)}]")
        acc0 = bias if k == 2 else "r9"
        lines += [f"smlad r9, r11, {a}, {acc0}"]
        if pair:
            lines += [f"smlatb r10, r11, {a}, {bias if k == 2 else 'r10'}"]
        lines += [f"smlabt r9, r12, {b}, r9"]
        if pair:
            lines += [f"smlad r10, r12, {b}, r10"]
    return lines


def _rows_s2(g: DwGeometry, pair: bool, at: int | None, bias: str) -> list[str]:
    """Stride 2: A_k in r3, r4, r5; w02 and w12 in r6 (low, high), w22 in r7's low half."""
    rs = g.row_bytes
    w2 = {0: ("r6", "b"), 1: ("r6", "t"), 2: ("r7", "b")}
    lines = []
    for k in (2, 1, 0):
        a = f"r{3 + k}"
        reg, half = w2[k]
        off = k * rs + (at or 0)
        if pair:
            lines.append(f"ldr r8, [r1, #{off + 8}]")
        if at is None and k == 0 and pair:
            lines.append(f"ldrd r11, r12, [r1], #{g.advance}")
        else:
            lines.append(f"ldrd r11, r12, [r1, #{off}]")
        acc0 = bias if k == 2 else "r9"
        lines += [f"smlad r9, r11, {a}, {acc0}"]
        if pair:
            lines += [f"smlad r10, r12, {a}, {bias if k == 2 else 'r10'}"]
        lines += [f"smlab{half} r9, r12, {reg}, r9"]
        if pair:
            lines += [f"smlab{half} r10, r8, {reg}, r10"]
    return lines


def written_out(g: DwGeometry) -> bool:
    """Whether each row is straight-line code (bias kept in lr, constant offsets): when
    the code stays small and the offsets fit LDRD (1020) and STRB (4095)."""
    return (g.pairs <= ROW_PAIRS_WRITTEN_MAX and 2 * g.row_bytes + g.pairs * g.advance + 8 <= 1020
            and g.out_w * g.ch <= 4095)


def row_kernel(g: DwGeometry, plan: Int8Plan) -> str:
    """The naked function (args r0, plane r1, output r2) computing one channel's outputs."""
    rows = _rows_s1 if g.stride_w == 1 else _rows_s2
    body = ["push {r4-r11, lr}", "ldm r0, {r3-r8}"]
    if written_out(g):
        body += [f"ldr lr, [r0, #{4 * BIAS}]", "2:"]
        for i in range(g.pairs):
            body += [*rows(g, True, i * g.advance, "lr"), *_requant_asm(plan, ["r9", "r10"]),
                     f"strb r10, [r2, #{(2 * i + 1) * g.ch}]", f"strb r9, [r2, #{2 * i * g.ch}]"]
        if g.single:
            body += [*rows(g, False, g.pairs * g.advance, "lr"), *_requant_asm(plan, ["r9"]),
                     f"strb r9, [r2, #{2 * g.pairs * g.ch}]"]
        body += [f"add r1, r1, #{g.stride_h * g.row_bytes}", f"add r2, r2, #{g.out_w * g.ch}"]
    else:
        body.append("2:")
        if g.pairs:
            body += [f"add lr, r1, #{g.pairs * g.advance}", "1:", f"ldr r10, [r0, #{4 * BIAS}]",
                     *rows(g, True, None, "r10"), *_requant_asm(plan, ["r9", "r10"]), *_store_asm(g, ["r9", "r10"]),
                     "cmp r1, lr", "bne 1b"]
        if g.single:
            body += [f"ldr r10, [r0, #{4 * BIAS}]", *rows(g, False, 0, "r10"), *_requant_asm(plan, ["r9"]),
                     *_store_asm(g, ["r9"])]
        skip = g.stride_h * g.row_bytes - g.pairs * g.advance
        if skip:
            body.append(f"add r1, r1, #{skip}")
    body += [f"ldr r11, [r0, #{4 * ROWS}]", "subs r11, r11, #1", f"str r11, [r0, #{4 * ROWS}]", "bne 2b",
             "pop {r4-r11, pc}"]
    asm = "\n".join(f'    "{s}\\n"' for s in body)
    return ("/* One channel of a 3x3 depthwise layer: args r0 (weight pairs, bias, m, K, r, rows), plane r1,\n"
            " * output r2 (generated: toolkit/codegen/fast/dsp/depthwise_conv2d.py). */\n"
            # the arguments are r0-r2 of the assembly: unused for C (-Wextra would warn)
            "static void __attribute__((naked, noinline)) {name}(int32_t *args __attribute__((unused)), "
            "const int16_t *plane __attribute__((unused)), int8_t *y __attribute__((unused)))\n"
            f"{{{{\n    __asm__ volatile(\n{asm});\n}}}}\n")


def _fill(g: DwGeometry, src: str) -> list[str]:
    """C copying channel c of the input into the plane's interior."""
    rows, cols = g.copied()
    n = len(cols)
    unroll = max(d for d in range(1, FILL_UNROLL + 1) if n % d == 0)
    if unroll < 4 and n > FILL_UNROLL:
        unroll = FILL_UNROLL  # a remainder is written out after the loop
    copy = [f"d[{k}] = s[{k * g.ch}];" for k in range(min(unroll, n))]
    inner = copy if n <= unroll else [
        f"for (int32_t j = 0; j < {n // unroll}; ++j, s += {unroll * g.ch}, d += {unroll}) {{",
        *("    " + c for c in copy), "}",
        *(f"d[{k}] = s[{k * g.ch}];" for k in range(n % unroll))]
    first = f"({rows.start + g.pad_top} * {g.plane_cols} + {cols.start + g.pad_left})"
    return [f"for (int32_t i = 0; i < {len(rows)}; ++i) {{",
            f"    const int8_t *s = {src} + c + (i + {rows.start}) * {g.in_w * g.ch} + {cols.start * g.ch};",
            f"    int16_t *d = plane + {first} + i * {g.plane_cols};",
            *("    " + s for s in inner), "}"]


def _weights_c(g: DwGeometry, scale: int) -> list[str]:
    """C setting the weight pairs of channel c (wk: its nine int8 weights) in args[0..5]."""
    def pair(a: str, b: str) -> str:
        return f"(int32_t)(((uint32_t)({a} * {scale}) & 0xFFFFu) | ((uint32_t)({b} * {scale}) << 16))"

    w = [f"wk[{k}]" for k in range(9)]
    if g.stride_w == 1:
        vals = [pair(w[3 * k], w[3 * k + 1]) if i == 0 else pair(w[3 * k + 1], w[3 * k + 2])
                for k in range(3) for i in range(2)]
    else:
        vals = [pair(w[0], w[1]), pair(w[3], w[4]), pair(w[6], w[7]), pair(w[2], w[5]), pair(w[8], "0"), "0"]
    return [f"args[{k}] = {v};" for k, v in enumerate(vals)]


def layer_function(g: DwGeometry, plan: Int8Plan, zp: int, kernel: str) -> str:
    """C of the layer as a function of (x, y, plane, weights, params); zp: the input's zero point."""
    pre = int(plan.left[0]) + 1
    zz = ((zp & 0xFFFF) | ((zp & 0xFFFF) << 16)) - (1 << 32 if zp < 0 else 0)
    words = g.plane_rows * g.plane_cols // 2
    cols = channel_columns(plan)
    channel, m, k, r = channel_c(plan, cols, "(q + 1)")
    r = r or str(int(plan.right[0]))
    lines = ["int32_t args[11];",
             f"for (int32_t i = 0; i < {words}; ++i) ((int32_t *)plane)[i] = {zz};  /* the border: zero points */",
             "const TM_ROM int8_t *wk = w;",
             f"for (int32_t c = 0; c < {g.ch}; ++c, wk += 9, q += {1 + len(cols)}) {{",
             *("    " + s for s in _fill(g, "x")),
             *("    " + s for s in _weights_c(g, 1 << pre)),
             *("    " + s for s in channel),
             f"    args[{BIAS}] = q[0];",
             f"    args[{MULT}] = {m};",
             f"    args[{OFFSET}] = {k};",
             f"    args[{SHIFT}] = {r};",
             f"    args[{ROWS}] = {g.out_h};",
             f"    {kernel}(args, plane, y + c);",
             "}"]
    return ("/* DEPTHWISE_CONV_2D 3x3 on the DSP cores (toolkit/codegen/fast/dsp/depthwise_conv2d.py): "
            f"{g.in_h}x{g.in_w}x{g.ch} -> {g.out_h}x{g.out_w}, stride {g.stride_h}x{g.stride_w}. */\n"
            "static void __attribute__((noinline)) {name}(const int8_t *x, int8_t *y, int16_t *plane, "
            "const TM_ROM int8_t *w, const TM_ROM int32_t *q)\n{\n" + "\n".join("    " + s for s in lines) + "\n}\n")


def _emit(op: Any, ctx: "CContext", srcs: list[str], dst: str) -> None:
    got = _plan(op)
    assert got is not None, "emitted without being applicable"
    g, plan = got
    pre = int(plan.left[0]) + 1
    kernel = ctx.function("dw_rows", row_kernel(g, plan), "TM_DSP")
    fn = ctx.function("dw", layer_function(g, plan, op.input.zero_point, kernel), "TM_DSP")
    weights = ctx.const_array("wdw", "int8_t", op.filter_rows(), path="dsp")
    per_channel = channel_values(plan, channel_columns(plan))
    params = ctx.const_array("qdw", "int32_t", np.concatenate([(plan.bias << pre)[:, None], per_channel], axis=1),
                             path="dsp")
    ctx.stmt(f"{fn}({srcs[0]}, {dst}, (int16_t *){ctx.scratch}, {weights}, {params});")
    shared = "" if fn == f"{ctx.prefix}_l{ctx.layer}_dw" else f", the code of {fn}"
    ctx.notes.append(f"M4/M7/M33: channel planes in int16 scratch, 2 outputs per pass (LDRD, SMLAD), "
                     f"stride {g.stride_w}, row kernel in assembly{shared}")


PATH = register(FastPath("DEPTHWISE_CONV_2D", "dsp", "3x3 planes, SMLAD pairs", _applicable, _cost, _emit,
                         scratch_bytes))
