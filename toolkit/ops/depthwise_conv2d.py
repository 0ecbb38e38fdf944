"""DEPTHWISE_CONV_2D: each input channel convolved with its own `depth_multiplier`
filters; NHWC, batch 1, float32 or int8 (per-tensor or per-channel weights along axis
3), any filter size, strides, SAME/VALID padding and dilation (see conv2d.py).

The C is specialised per layer: the filter stored [channel][ky][kx], each channel's taps
written out at constant offsets from its window's origin (UNROLL_TAPS), for int8 the
input zero point folded into the bias. A pixel whose window lies inside the input reads
it in place; a border pixel first gathers its window into scratch, padded with the input
zero point (0.0 for float), which adds nothing, as TFLM's skipped taps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from toolkit.ops.base import float_range
from toolkit.ops.conv2d import DW_FIELDS, ConvBase, origin_c
from toolkit.ops.conv2d import indent_c as _indent

UNROLL_TAPS = 32  # interior windows with at most this many taps are written out


@dataclass(eq=False)
class DepthwiseConv2D(ConvBase):
    """Filter [1, kh, kw, in_c · multiplier]; output channel c·multiplier + m reads input channel c."""

    multiplier: int = 1

    kind: ClassVar[str] = "DEPTHWISE_CONV_2D"
    quant_axis: ClassVar[int] = 3

    @classmethod
    def from_tflite(cls, raw) -> "DepthwiseConv2D":
        p = cls._parse(raw, DW_FIELDS)
        x, w, y = p["x"], p["w"], p["y"]
        mult = p["options"]["depth_multiplier"]
        if w.shape[0] != 1:
            raise raw.fail(f"filter shape {list(w.shape)}; a depthwise filter is [1, height, width, channels]")
        if mult < 1 or w.shape[3] != x.shape[3] * mult or y.shape[3] != w.shape[3]:
            raise raw.fail(f"depth_multiplier {mult} does not match input channels {x.shape[3]}, "
                           f"filter channels {w.shape[3]} and output channels {y.shape[3]}")
        op = cls(inputs=[x], outputs=[y], weights=w, bias=p["b"], activation=p["activation"],
                 rows=p["rows"], cols=p["cols"], multiplier=mult)
        op._check_output(raw)
        return op

    @property
    def taps(self) -> int:
        return self.rows.filter_size * self.cols.filter_size

    def reference(self, x: np.ndarray) -> np.ndarray:
        w = self.weights.data[0]  # [kh, kw, out_c]
        if self.input.dtype == "int8":
            # padded values count as the input zero point: they add nothing, as TFLM skips them
            xs = np.asarray(x, np.int64) - self.input.zero_point
            acc = np.zeros(self.output.shape[1:], np.int64)
            for ky, kx, patch in self.patches(xs, 0):
                acc += np.repeat(patch, self.multiplier, axis=-1) * w[ky, kx].astype(np.int64)
            return self.finish_int8(acc)
        # float32: summed tap by tap in LiteRT's order (filter y, x), then the bias
        total = np.zeros(self.output.shape[1:], np.float32)
        for ky, kx, patch in self.patches(np.asarray(x, np.float32), 0.0):
            total = (total + np.repeat(patch, self.multiplier, axis=-1) * w[ky, kx]).astype(np.float32)
        return self.finish_float(total)

    # -- C --------------------------------------------------------------------------

    def filter_rows(self) -> np.ndarray:
        return np.ascontiguousarray(np.transpose(self.weights.data[0], (2, 0, 1))).reshape(self.out_channels, -1)

    def scratch_bytes(self) -> int:
        return self.taps * self.in_channels * np.dtype(self.input.dtype).itemsize if self.clipped() else 0

    def emit_c(self, ctx, srcs: list[str], dst: str) -> None:
        r, c = self.rows, self.cols
        _, ih, iw, ic = self.input.shape
        _, oh, ow, oc = self.output.shape
        int8 = self.input.dtype == "int8"
        ctype = "int8_t" if int8 else "float"
        # [oc][ky][kx]: a channel's taps contiguous
        w = ctx.const_array("weights", ctype, self.filter_rows(), path=ctx.branch)
        if int8:
            bias = ctx.const_array("bias", "int32_t", self.int8_params()["folded"], path=ctx.branch)
            finish = self.requant_c(ctx, "acc", "yp[oc]")
        else:
            bias = ctx.const_array("bias", "float", self.bias.data, path=ctx.branch) if self.bias is not None else None
            low, high = (ctx.float_literal(v) for v in float_range(self.activation))
            finish = [*([f"acc += {bias}[oc];"] if bias else []),
                      f"if (acc < {low}) acc = {low};", f"if (acc > {high}) acc = {high};", "yp[oc] = acc;"]
        init = f"int32_t acc = {bias}[oc];" if int8 else "float acc = 0.0f;"
        inside = self._channels(w, init, finish, ctype, c.in_size * ic, ic, f"x + (iy0 * {iw} + ix0) * {ic}")
        lines = [f"const {ctype} *x = {srcs[0]};", f"{ctype} *y = {dst};"]
        per_pixel = [f"const int32_t ix0 = {origin_c('ox', c)};", f"{ctype} *yp = y + (oy * {ow} + ox) * {oc};"]
        if not self.clipped():
            per_pixel += inside
            ctx.notes.append("every window inside the input")
        else:
            # border pixels: the window gathered into scratch, padded with the input zero point (0.0)
            lines.append(f"{ctype} *col = ({ctype} *){ctx.scratch};")
            gather = ctx.kernel(f"conv_gather_{'s8' if int8 else 'f32'}")
            pad = self.input.zero_point if int8 else "0.0f"
            border = [f"{gather}(x, {ih}, {iw}, {ic}, iy0, ix0, {r.filter_size}, {c.filter_size}, "
                      f"{r.dilation}, {c.dilation}, {pad}, col);",
                      *self._channels(w, init, finish, ctype, c.filter_size * ic, ic, "col", dilated=False)]
            per_pixel += [f"if (row_inside && ix0 >= 0 && ix0 <= {iw - c.effective_filter}) {{", *_indent(inside),
                          "} else {", *_indent(border), "}"]
            ctx.notes.append("windows at the border gathered into scratch")
        row_inside = [f"    const int32_t row_inside = iy0 >= 0 && iy0 <= {ih - r.effective_filter};"]
        lines += [f"for (int32_t oy = 0; oy < {oh}; ++oy) {{",
                  f"    const int32_t iy0 = {origin_c('oy', r)};",
                  *(row_inside if self.clipped() else []),
                  f"    for (int32_t ox = 0; ox < {ow}; ++ox) {{", *_indent(per_pixel, 2), "    }", "}"]
        ctx.stmts(["{", *_indent(lines), "}"])

    def _channels(self, w: str, init: str, finish: list[str], ctype: str, row: int, col: int, origin: str,
                  dilated: bool = True) -> list[str]:
        """Every output channel of one pixel from the window at `origin`, whose taps lie
        `row` elements apart between filter rows and `col` between columns (times the
        dilation when `dilated`, for a window in the input; a gathered one is dense)."""
        r, c = self.rows, self.cols
        dy, dx = (r.dilation, c.dilation) if dilated else (1, 1)
        offsets = [ky * dy * row + kx * dx * col for ky in range(r.filter_size) for kx in range(c.filter_size)]
        if self.taps <= UNROLL_TAPS:  # constant offsets from the window origin
            taps = [f"acc += wk[{t}] * xw[{o}];" for t, o in enumerate(offsets)]
        else:
            taps = [f"for (int32_t ky = 0; ky < {r.filter_size}; ++ky) {{",
                    f"    const {ctype} *xr = xw + ky * {dy * row};",
                    f"    const TM_ROM {ctype} *wr = wk + ky * {c.filter_size};",
                    f"    for (int32_t kx = 0; kx < {c.filter_size}; ++kx) acc += wr[kx] * xr[kx * {dx * col}];",
                    "}"]
        body = [init, *taps, *finish, f"wk += {self.taps};"]
        m = self.multiplier
        if m > 1:
            body = [f"for (int32_t mi = 0; mi < {m}; ++mi, ++oc) {{", *_indent(body), "}"]
            loop = f"for (int32_t ci = 0, oc = 0; ci < {self.in_channels}; ++ci, ++xw) {{"
        else:
            loop = f"for (int32_t oc = 0; oc < {self.in_channels}; ++oc, ++xw) {{"
        return [f"const TM_ROM {ctype} *wk = {w};", f"const {ctype} *xw = {origin};", loop, *_indent(body), "}"]
