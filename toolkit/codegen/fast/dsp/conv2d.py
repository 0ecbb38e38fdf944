"""CONV_2D, int8, on ARMv7E-M with the DSP extension (Cortex-M4/M7/M33): im2col into
int16 and a matrix multiply of four output pixels by one output channel at a time.

The technique of CMSIS-NN's arm_convolve_s8 (arm_nn_mat_mult_kernel_s8_s16), specialised
per layer:
- im2col: the windows of four consecutive output pixels go into an int16 column buffer
  in arena scratch, side by side. Four window bytes load as one word (two with LDRD when
  the input is word-aligned) and SXTB16 / SXTB16 ROR 8 make two words of int16 lanes
  (b0, b2), (b1, b3), stored with STRD (generated assembly, rows in a loop). Each window
  row's bytes beyond a multiple of 4 (C = 3 or 1 first layers) are packed together after
  the rows, so that no lane is wasted but the last group's. A 1x1 layer is the same with
  one run per pixel (a matrix multiply over pixels). Windows with taps outside the input
  go through tm_dsp_gather_s8 (kernels/dsp_conv_s8.c), which pads with the input zero point.
- matrix multiply: per output channel, per step of four window values, one LDR of four
  int8 weights, SXTB16 and SXTB16 ROR 8 (the same lane order: the weights stay int8 in
  flash, in their natural order), two LDMs of the four pixels' words and eight SMLADs:
  13 instructions for 16 multiply-accumulates. The first step adds onto the bias, the
  others run in a loop unrolled within a small code budget (inline assembly: GCC neither
  emits LDM nor keeps four accumulators, two weight lanes and four input words in
  registers by itself).
- requantization per output with the channel's m, K and r (conv_requant.py), ReLU folded
  into the clamp; the channel's constants stream around its weights (one int32 array:
  folded bias, the weight words, m and K·2^8 + r where they differ per channel: the bytes
  of the portable C's arrays). Where the window is short against the output channels the
  im2col doubles the lanes (SADD16) instead of one LSL per output.
The layer is a function of its shapes and constants only (arrays and buffers are its
arguments), so layers of the same geometry share it. When the pixel count is not a
multiple of 4, 1 or 2 pixels left over get a pass of their own (one LDRD and two SMLADs
per pixel and step); 3 make the last group of four overlap the one before (outputs
recomputed, identical). Not taken: dilation, fewer than four output pixels, left shifts
that differ per channel, bounds that fail (conv_requant.conv_plan).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from toolkit.codegen.fast import FastPath, register
from toolkit.codegen.fast.dsp.conv_asm import PIXELS, _sub_immediate, _unroll, dot_asm, dot_asm_few, window_asm
from toolkit.codegen.fast.dsp.conv_requant import (
    channel_c,
    channel_columns,
    channel_values,
    conv_plan,
    requant_instructions,
    requant_store,
)
from toolkit.codegen.fc_plan import Int8Plan
from toolkit.ops.conv2d import indent_c

if TYPE_CHECKING:
    from toolkit.codegen.context import CContext

FEW_PIXELS = (1, 2)  # pixels left over that get a pass of their own (3: an overlapping group of four)


@dataclass(frozen=True)
class ConvGeometry:
    in_h: int
    in_w: int
    ch: int
    k_h: int
    k_w: int
    stride_h: int
    stride_w: int
    pad_top: int
    pad_left: int
    out_h: int
    out_w: int
    out_ch: int

    @property
    def run(self) -> int:
        """Bytes of one window row."""
        return self.k_w * self.ch

    @property
    def full(self) -> int:
        """The row's bytes in whole groups of four."""
        return self.run - self.run % 4

    @property
    def tail(self) -> int:
        return self.run % 4

    @property
    def depth(self) -> int:
        """Lanes of one window in the column buffer: the rows' groups, then their tails."""
        return self.k_h * self.full + -(-self.k_h * self.tail // 4) * 4

    @property
    def steps(self) -> int:
        return self.depth // 4

    @property
    def pixels(self) -> int:
        return self.out_h * self.out_w

    def pointwise(self) -> bool:
        """1x1, stride 1: the windows of consecutive pixels are consecutive runs."""
        return self.k_h == self.k_w == self.stride_h == self.stride_w == 1

    def clipped(self) -> bool:
        """Whether some window has taps outside the input."""
        def axis(n_out: int, stride: int, pad: int, k: int, size: int) -> bool:
            return any(o * stride - pad < 0 or o * stride - pad + k > size for o in range(n_out))
        return (axis(self.out_h, self.stride_h, self.pad_top, self.k_h, self.in_h)
                or axis(self.out_w, self.stride_w, self.pad_left, self.k_w, self.in_w))

    def lanes(self) -> list[tuple[int, int] | None]:
        """(filter row, byte of the row's run) of each lane in logical order (None: padding)."""
        order: list[tuple[int, int] | None] = [(ky, i) for ky in range(self.k_h) for i in range(self.full)]
        order += [(ky, i) for ky in range(self.k_h) for i in range(self.full, self.run)]
        return order + [None] * (self.depth - len(order))


def geometry(op: Any) -> ConvGeometry:
    r, c = op.rows, op.cols
    _, ih, iw, ch = op.input.shape
    _, oh, ow, oc = op.output.shape
    return ConvGeometry(ih, iw, ch, r.filter_size, c.filter_size, r.stride, c.stride, r.pad_before, c.pad_before,
                        oh, ow, oc)


def _plan(op: Any) -> tuple[ConvGeometry, Int8Plan] | None:
    if op.kind != "CONV_2D" or op.rows.dilation != 1 or op.cols.dilation != 1:
        return None
    g = geometry(op)
    if g.pixels < PIXELS or g.steps > 1024 or 3 * g.out_ch > 4095:
        return None
    plan = conv_plan(op)
    return None if plan is None else (g, plan)


def doubled(g: ConvGeometry, plan: Int8Plan) -> bool:
    """Whether the column buffer holds 2x (SADD16 in the im2col, D/2 instructions per
    pixel) instead of the requantization doubling each accumulator (one LSL per output)."""
    return int(plan.left[0]) == 0 and g.depth // 2 < g.out_ch


def scratch_bytes(op: Any) -> int:
    """The column buffer: four pixels' windows as int16 lanes."""
    got = _plan(op)
    return 0 if got is None else 2 * PIXELS * got[0].depth


def _cost(op: Any, ctx: "CContext") -> float:
    got = _plan(op)
    if got is None:
        return float("inf")
    g, plan = got
    pre, u = _unroll(g.steps)
    loops = (g.steps - 1 - pre) // u if u else 0
    x2 = doubled(g, plan)
    channel = 13 * g.steps + 2 * loops + 8 + PIXELS * requant_instructions(plan, x2)
    fill = PIXELS * ((4 + 2 * x2) * g.k_h * g.full // 4 + 3 * g.k_h + 6 * g.k_h * g.tail + 15)
    groups = -(-g.pixels // PIXELS)
    return float(groups * (fill + g.out_ch * channel))


def _applicable(op: Any, ctx: "CContext") -> bool:
    return _plan(op) is not None


def stream(g: ConvGeometry, plan: Int8Plan, rows: np.ndarray) -> np.ndarray:
    """[out, 1 + steps + 0-2] int32 words: folded bias, the weights (four int8 per word in
    the lanes' logical order, zeros at padding lanes), then m and r where they differ
    between channels (conv_requant.channel_columns)."""
    w = rows.astype(np.int8).reshape(g.out_ch, g.k_h, g.run)
    lanes = np.zeros((g.out_ch, g.depth), np.int8)
    for j, lane in enumerate(g.lanes()):
        if lane is not None:
            lanes[:, j] = w[:, lane[0], lane[1]]
    words = np.ascontiguousarray(lanes).view("<i4").astype(np.int64)
    bias = plan.bias << int(doubled(g, plan))
    return np.concatenate([bias[:, None], words, channel_values(plan, channel_columns(plan))], axis=1)


def tail_c(g: ConvGeometry, x2: bool) -> list[str]:
    """C packing the rows' tail bytes (window origin o) into the pixel's last groups."""
    if not g.tail:
        return []
    row = g.in_w * g.ch
    vals = [f"o[{ky * row + i}]" + (" * 2" if x2 else "") for ky in range(g.k_h) for i in range(g.full, g.run)]
    vals += ["0"] * (-len(vals) % 4)
    lines = [f"int32_t *tc = col + 2 * p + {8 * (g.k_h * g.full // 4)};"]
    for q in range(0, len(vals), 4):
        b0, b1, b2, b3 = vals[q : q + 4]
        lines.append(f"tc[{2 * q}] = (int32_t)((uint32_t)(uint16_t)({b0}) | ((uint32_t)({b2}) << 16));")
        lines.append(f"tc[{2 * q + 1}] = {b1};" if b3 == "0" else
                     f"tc[{2 * q + 1}] = (int32_t)((uint32_t)(uint16_t)({b1}) | ((uint32_t)({b3}) << 16));")
    return ["{", *("    " + s for s in lines), "}"]


def _fill(op: Any, g: ConvGeometry, aligned: bool, x2: bool, n: int = PIXELS) -> tuple[list[str], str]:
    """C filling the column buffer with the windows of pixels start..start+n-1; a note."""
    copy = [*window_asm(g, aligned, x2), *tail_c(g, x2)]
    if g.pointwise():
        return [f"for (int32_t p = 0; p < {n}; ++p) {{", f"    const int8_t *o = x + (start + p) * {g.ch};",
                *("    " + s for s in copy), "}"], "pointwise"
    lines = [f"for (int32_t p = 0; p < {n}; ++p) {{",
             f"    const int32_t pix = start + p, oy = pix / {g.out_w}, ox = pix - oy * {g.out_w};",
             f"    const int32_t iy0 = oy * {g.stride_h} - {g.pad_top}, ix0 = ox * {g.stride_w} - {g.pad_left};"]
    origin = f"const int8_t *o = x + (iy0 * {g.in_w} + ix0) * {g.ch};"
    if not g.clipped():
        return lines + [f"    {origin}", *("    " + s for s in copy), "}"], "im2col"
    gather = (f"tm_dsp_gather_s8(x, {g.in_h}, {g.in_w}, {g.ch}, iy0, ix0, {g.k_h}, {g.k_w}, {g.full}, {g.tail}, "
              f"{op.input.zero_point}, {1 + x2}, col + 2 * p);")
    lines += [f"    if ((uint32_t)iy0 <= {g.in_h - g.k_h}u && (uint32_t)ix0 <= {g.in_w - g.k_w}u) {{",
              f"        {origin}", *("        " + s for s in copy), "    } else {", f"        {gather}", "    }"]
    return lines + ["}"], "im2col, border windows gathered"


def layer_function(op: Any, g: ConvGeometry, plan: Int8Plan, aligned: bool) -> tuple[str, str]:
    """C of the layer as a function of (x, y, col, wq), and a note."""
    x2 = doubled(g, plan)
    fill, note = _fill(op, g, aligned, x2)
    cols = channel_columns(plan)
    per_channel, m, k, r = channel_c(plan, cols, "wp")
    if cols:
        per_channel.append(f"wp += {len(cols)};")
    rq = []
    for p in range(PIXELS):
        rq += requant_store(plan, f"a{p}", m, k, r, f"yp[{p * g.out_ch}]", x2)
    reset = [] if _sub_immediate(8 * PIXELS * g.steps) else ["xp = col;"]
    channel = [*reset, "int32_t a0, a1, a2, a3, wl, wh, b = *wp++;", *dot_asm(g.steps), *per_channel, *rq]
    rest = g.pixels % PIXELS
    few = rest if rest in FEW_PIXELS else 0  # else the last group of four overlaps the one before
    # this loop form (with the clamp, even where it never applies) compiles to fewer
    # instructions than a counted loop
    last = g.pixels - few - PIXELS
    lines = ["for (int32_t start = 0;; start += 4) {",
             f"    if (start > {last}) start = {last};",
             *("    " + s for s in fill),
             *("    " + s for s in _channels(g, channel)),
             f"    if (start == {last}) break;", "}"]
    if few:
        tail_fill, _ = _fill(op, g, aligned, x2, few)
        rq = []
        for p in range(few):
            rq += requant_store(plan, f"a{p}", m, k, r, f"yp[{p * g.out_ch}]", x2)
        decl = f"int32_t {', '.join(f'a{p}' for p in range(few))}, wl, wh, x0, x1, b = *wp++;"
        channel = ["xp = col;", decl, *dot_asm_few(g.steps, few), *per_channel, *rq]
        lines += ["{", f"    const int32_t start = {g.pixels - few};", *("    " + s for s in tail_fill),
                  *("    " + s for s in _channels(g, channel)), "}"]
    text = ("/* CONV_2D on the DSP cores (toolkit/codegen/fast/dsp/conv2d.py): "
            f"{g.in_h}x{g.in_w}x{g.ch} -> {g.out_h}x{g.out_w}x{g.out_ch}, "
            f"{g.k_h}x{g.k_w}/{g.stride_h}x{g.stride_w}. */\n"
            "static void __attribute__((noinline)) {name}(const int8_t *x, int8_t *y, int32_t *col, "
            "const TM_ROM int32_t *wq)\n{\n" + "\n".join(indent_c(lines)) + "\n}\n")
    return text, note + (", doubled lanes" if x2 else "")


def _channels(g: ConvGeometry, channel: list[str]) -> list[str]:
    """The loop over output channels (`channel`: one channel's statements) of a pixel group."""
    return ["const TM_ROM int32_t *wp = wq;", "const int32_t *xp = col;", f"int8_t *yp = y + start * {g.out_ch};",
            f"int32_t n = {g.out_ch};", "do {", *("    " + s for s in channel), "    ++yp;", "} while (--n);"]


def _emit(op: Any, ctx: "CContext", srcs: list[str], dst: str) -> None:
    got = _plan(op)
    assert got is not None, "emitted without being applicable"
    g, plan = got
    if not g.pointwise() and g.clipped():  # border windows go through its gather (else it would be unused)
        ctx.kernel("dsp_conv_s8", "TM_DSP")
    aligned = ctx.src_aligned and g.ch % 4 == 0
    text, note = layer_function(op, g, plan, aligned)
    fn = ctx.function("conv", text, "TM_DSP")
    wq = ctx.const_array("wq", "int32_t", stream(g, plan, op.filter_rows()), path="dsp")
    ctx.stmt(f"{fn}({srcs[0]}, {dst}, (int32_t *){ctx.scratch}, {wq});")
    shared = "" if fn == f"{ctx.prefix}_l{ctx.layer}_conv" else f", the code of {fn}"
    ctx.notes.append(f"M4/M7/M33: {note} into int16, {PIXELS} pixels x 1 channel per pass, "
                     f"{g.depth} lanes per window, SMLAD{shared}")


PATH = register(FastPath("CONV_2D", "dsp", "im2col int16, 4 pixels per pass, SMLAD", _applicable, _cost, _emit,
                         scratch_bytes))
