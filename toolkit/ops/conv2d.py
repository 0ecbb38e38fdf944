"""CONV_2D: y = act(conv(x, W) + b), NHWC, batch 1, float32 or int8 (per-tensor or
per-channel weights), any filter size, strides, SAME/VALID padding and dilation.

`ConvBase` holds what CONV_2D and DEPTHWISE_CONV_2D share (options, windows, integer
parameters, the numpy reference's windows, the requantization C); depthwise_conv2d.py
builds on it. A padded tap contributes nothing in TFLite (TFLM skips it); with the input
zero point folded into the bias (Σ w·(x − zp) + b = Σ w·x + (b − zp·Σ w)) that is a tap
reading the zero point, which is how the C pads windows.

The C: per output pixel, its window (im2col into scratch, padded with the input zero
point, or 0.0 for float; read in place when it is one contiguous run of the input), then
every output channel from it in a kernel that shares each input load between two
channels (kernels/conv_acc_s8.c, conv_pixel_f32.c), then the requantization specialised
per layer (toolkit/codegen/requant_c.py; tm_requant when the layer's bounds do not allow it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from toolkit import quantization as Q
from toolkit.ir import Tensor
from toolkit.ops.base import (
    Op,
    float_range,
    fused_activation,
    require_dtype,
    require_multipliers,
    require_per_tensor,
    single_io,
)
from toolkit.ops.window import Window, check_positive, padding_name

# Field numbers of the options tables (schema.fbs field order).
CONV_FIELDS = {"padding": 0, "stride_w": 1, "stride_h": 2, "activation": 3, "dilation_w": 4, "dilation_h": 5}
DW_FIELDS = {"padding": 0, "stride_w": 1, "stride_h": 2, "depth_multiplier": 3, "activation": 4,
             "dilation_w": 5, "dilation_h": 6}


def wrap_int32(x: np.ndarray) -> np.ndarray:
    return ((np.asarray(x, np.int64) + 2**31) % 2**32) - 2**31


@dataclass(eq=False)
class ConvBase(Op):
    """A sliding-window layer with a constant filter: shared checks, reference and C."""

    weights: Tensor = None  # type: ignore[assignment]
    bias: Tensor | None = None
    activation: str = "NONE"
    rows: Window = None  # type: ignore[assignment]  # the height axis
    cols: Window = None  # type: ignore[assignment]  # the width axis

    quant_axis: ClassVar[int] = 0  # the filter dimension per-channel scales run along

    # -- parsing ----------------------------------------------------------------------

    @classmethod
    def _parse(cls, raw, fields: dict[str, int]) -> dict:
        """Tensors, options and windows, checked; the op-specific shape checks come after."""
        x, y = single_io(raw, 2)
        w = raw.inputs[1]
        b = raw.inputs[2] if len(raw.inputs) > 2 else None
        if w is None or w.data is None or len(w.shape) != 4:
            raise raw.fail("the filter must be a constant 4-D tensor")
        if b is not None and b.data is None:
            raise raw.fail("the bias must be constant")
        if len(x.shape) != 4 or len(y.shape) != 4:
            raise raw.fail(f"input {list(x.shape)} and output {list(y.shape)} must be 4-D (NHWC)")
        if x.shape[0] != 1 or y.shape[0] != 1:
            raise raw.fail(f"batch size {max(x.shape[0], y.shape[0])}; only batch 1 is supported")
        opts = raw.options
        if opts is None:
            raise raw.fail("no options table (strides and padding are missing)")
        o = {name: raw.option(i, "b" if name in ("padding", "activation") else "i",
                              1 if name.startswith("dilation") else 0) for name, i in fields.items()}
        padding = padding_name(raw, o["padding"])
        activation = fused_activation(raw, o["activation"])
        check_positive(raw, stride_h=o["stride_h"], stride_w=o["stride_w"],
                       dilation_h=o["dilation_h"], dilation_w=o["dilation_w"])
        rows = Window(x.shape[1], w.shape[1], o["stride_h"], o["dilation_h"], padding)
        cols = Window(x.shape[2], w.shape[2], o["stride_w"], o["dilation_w"], padding)
        if rows.out_size < 1 or cols.out_size < 1:
            raise raw.fail(f"{padding} padding of a {w.shape[1]}x{w.shape[2]} filter (dilation {o['dilation_h']}x"
                           f"{o['dilation_w']}) leaves no output of a {x.shape[1]}x{x.shape[2]} input")
        cls._check_types(raw, x, w, b, y)
        return {"x": x, "y": y, "w": w, "b": b, "rows": rows, "cols": cols, "activation": activation, "options": o}

    @classmethod
    def _check_types(cls, raw, x: Tensor, w: Tensor, b: Tensor | None, y: Tensor) -> None:
        require_dtype(raw, x, ("float32", "int8"), "input")
        if x.dtype == "float32":
            for t, role in ((w, "filter"), (y, "output")) + (((b, "bias"),) if b is not None else ()):
                require_dtype(raw, t, ("float32",), role + " of a float layer (hybrid models are not supported)")
            return
        require_dtype(raw, w, ("int8",), "filter")
        require_dtype(raw, y, ("int8",), "output")
        if b is not None:
            require_dtype(raw, b, ("int32",), "bias")
        require_per_tensor(raw, x, "input")
        require_per_tensor(raw, y, "output")
        q = w.quant
        if q is None or np.any(q.zero_point != 0):
            raise raw.fail("int8 filters need zero points of 0 (TFLite's int8 specification)")
        require_multipliers(raw, x, w, y)
        channels = w.shape[cls.quant_axis]
        if q.per_channel and (q.axis != cls.quant_axis or len(q.scale) != channels):
            raise raw.fail(f"per-channel filter scales must run along axis {cls.quant_axis} ({channels} channels); "
                           f"the file has {len(q.scale)} along axis {q.axis}")

    def _check_output(self, raw) -> None:
        want = (1, self.rows.out_size, self.cols.out_size, self.out_channels)
        if tuple(self.output.shape) != want:
            raise raw.fail(f"output shape {list(self.output.shape)}; the options give {list(want)}")
        if self.bias is not None and (self.bias.size != self.out_channels or len(self.bias.shape) != 1):
            raise raw.fail(f"bias has shape {list(self.bias.shape)}; it must be [{self.out_channels}], one value per output channel")

    # -- shape and size -------------------------------------------------------------

    @property
    def in_channels(self) -> int:
        return self.input.shape[3]

    @property
    def out_channels(self) -> int:
        return self.output.shape[3]

    @property
    def taps(self) -> int:
        """Multiply-accumulates per output element."""
        raise NotImplementedError

    @property
    def macs(self) -> int:
        return self.output.size * self.taps

    def constants(self) -> list[Tensor]:
        return [self.weights] + ([self.bias] if self.bias is not None else [])

    def describe(self) -> str:
        r, c = self.rows, self.cols
        dil = f" dilation {r.dilation}x{c.dilation}" if r.dilation > 1 or c.dilation > 1 else ""
        _, h, w, ci = self.input.shape
        _, oh, ow, co = self.output.shape
        return (f"{self.kind} {r.filter_size}x{c.filter_size}/{r.stride}x{c.stride} {r.padding}{dil} "
                f"{h}x{w}x{ci}->{oh}x{ow}x{co} {self.activation} ({self.input.dtype})")

    # -- integer parameters, shared by reference and C ------------------------------

    def filter_rows(self) -> np.ndarray:
        """The filter as [out_c, taps], taps in the order the C reads them."""
        raise NotImplementedError

    def filter_sums(self) -> np.ndarray:
        """Σ w over every tap of each output channel (int64)."""
        return self.filter_rows().astype(np.int64).sum(axis=1)

    def int8_params(self) -> dict:
        """Raw and folded bias, per-channel multiplier/shift and clamp range.

        Folded bias (the C's): Σ w·(x − zp) + b = Σ w·x + (b − zp·Σ w), exact in int32;
        a tap outside the input then reads zp (TFLM skips it: the same sum)."""
        n = self.out_channels
        bias = self.bias.data.astype(np.int64) if self.bias is not None else np.zeros(n, np.int64)
        folded = wrap_int32(bias - self.input.zero_point * self.filter_sums())
        mult, shift = Q.conv_multipliers(self.input.scale, self.weights.quant.scale, self.output.scale, n)
        lo, hi = Q.activation_range_int8(self.activation, self.output.scale, self.output.zero_point)
        return {"bias": bias, "folded": folded, "mult": mult, "shift": shift, "act_min": lo, "act_max": hi}

    # -- numpy reference ------------------------------------------------------------

    def patches(self, x: np.ndarray, pad_value) -> list[tuple[int, int, np.ndarray]]:
        """(ky, kx, [OH, OW, C] input values under tap (ky, kx)), padded with `pad_value`."""
        r, c = self.rows, self.cols
        img = np.asarray(x).reshape(self.input.shape[1:])
        pads = []
        for win in (r, c):
            extent = (win.out_size - 1) * win.stride + win.effective_filter
            pads.append((win.pad_before, max(0, extent - win.in_size - win.pad_before)))
        img = np.pad(img, (*pads, (0, 0)), constant_values=pad_value)
        out = []
        for ky in range(r.filter_size):
            y0 = ky * r.dilation
            for kx in range(c.filter_size):
                x0 = kx * c.dilation
                out.append((ky, kx, img[y0 : y0 + (r.out_size - 1) * r.stride + 1 : r.stride,
                                        x0 : x0 + (c.out_size - 1) * c.stride + 1 : c.stride]))
        return out

    def finish_int8(self, acc: np.ndarray) -> np.ndarray:
        """acc (without bias) -> int8 output: bias, requantization, zero point, clamp."""
        p = self.int8_params()
        acc = wrap_int32(acc + p["bias"])
        v = Q.multiply_by_quantized_multiplier(acc, p["mult"], p["shift"]) + self.output.zero_point
        return np.clip(v, p["act_min"], p["act_max"]).astype(np.int8).reshape(self.output.shape)

    def finish_float(self, total: np.ndarray) -> np.ndarray:
        if self.bias is not None:
            total = (total + self.bias.data.astype(np.float32)).astype(np.float32)
        low, high = float_range(self.activation)
        out = np.minimum(np.maximum(total, np.float32(low)), np.float32(high))
        return out.astype(np.float32).reshape(self.output.shape)

    # -- C ------------------------------------------------------------------------------

    def clipped(self) -> bool:
        """Whether some window has taps outside the input."""
        return any(len(w.taps(o)) < w.filter_size for w in (self.rows, self.cols) for o in range(w.out_size))

    def requant_c(self, ctx, acc: str, out: str) -> list[str]:
        """C storing the requantized, clamped `acc` (variables acc and oc in scope) to `out`:
        the per-layer specialised form when the accumulator bounds allow it."""
        from toolkit.codegen.fc_plan import plan_int8
        from toolkit.codegen.requant_c import portable_requant

        p = self.int8_params()
        plan = plan_int8(_PlanView(self.filter_rows(), self.output, {**p, "bias": p["folded"]}))
        if plan.per_tensor and plan.fast:
            lines = portable_requant(plan, acc)
        else:
            mult = f"{ctx.const_array('mult', 'int32_t', p['mult'], path=ctx.branch)}[oc]"
            # one shift for every channel (common) is a constant: faster, and avr-gcc 5 warns
            # ("uninitialized variable put into program memory") on a __flash array of equal values
            if np.all(p["shift"] == p["shift"][0]):
                shift = f"({int(p['shift'][0])})"
            else:
                shift = f"{ctx.const_array('shift', 'int32_t', p['shift'], path=ctx.branch)}[oc]"
            if plan.fast:
                lines = portable_requant(plan, acc, (mult, shift))
            else:
                ctx.kernel("requant")
                zp = self.output.zero_point
                lines = [f"int32_t v = tm_requant({acc}, {mult}, {shift}) {'-' if zp < 0 else '+'} {abs(zp)};",
                         f"if (v < {p['act_min']}) v = {p['act_min']};", f"if (v > {p['act_max']}) v = {p['act_max']};"]
                ctx.notes.append(f"general requantization ({plan.reason})")
        return ["{", *indent_c(lines), f"    {out} = (int8_t)v;", "}"]


def origin_c(index: str, win: Window) -> str:
    """C of the first input index of the window at output `index` along `win`'s axis."""
    scaled = f"{index} * {win.stride}" if win.stride > 1 else index
    return f"{scaled} - {win.pad_before}" if win.pad_before else scaled


def _in(line: str, level: int = 1) -> str:
    """Indent a C line (preprocessor lines stay in column 0)."""
    return line if line.startswith("#") else "    " * level + line


def indent_c(lines: list[str], level: int = 1) -> list[str]:
    return [_in(line, level) for line in lines]


@dataclass
class _PlanView:
    """What toolkit/codegen/fc_plan.plan_int8 reads of a layer: the filter as rows."""

    rows: np.ndarray
    output: Tensor
    params: dict
    batches: int = 1

    @property
    def weights(self) -> Tensor:
        return Tensor("rows", self.rows.shape, "int8", data=self.rows)

    def int8_params(self) -> dict:
        return self.params


@dataclass(eq=False)
class Conv2D(ConvBase):
    """Filter [out_c, kh, kw, in_c]; per-channel scales along axis 0."""

    kind: ClassVar[str] = "CONV_2D"
    quant_axis: ClassVar[int] = 0

    @classmethod
    def from_tflite(cls, raw) -> "Conv2D":
        p = cls._parse(raw, CONV_FIELDS)
        x, w = p["x"], p["w"]
        if w.shape[3] != x.shape[3]:
            raise raw.fail(f"grouped convolution: input has {x.shape[3]} channels, the filter {w.shape[3]}; "
                           "only filters over every input channel are supported")
        op = cls(inputs=[x], outputs=[p["y"]], weights=w, bias=p["b"], activation=p["activation"],
                 rows=p["rows"], cols=p["cols"])
        if op.output.shape[3] != w.shape[0]:
            raise raw.fail(f"output has {op.output.shape[3]} channels, the filter {w.shape[0]}")
        op._check_output(raw)
        return op

    @property
    def taps(self) -> int:
        return self.rows.filter_size * self.cols.filter_size * self.in_channels

    def filter_rows(self) -> np.ndarray:
        return self.weights.data.reshape(self.out_channels, -1)  # [oc][ky][kx][ic]: the window's order

    def reference(self, x: np.ndarray) -> np.ndarray:
        w = self.weights.data
        if self.input.dtype == "int8":
            # padded values count as the input zero point: they add nothing, as TFLM skips them
            xs = np.asarray(x, np.int64) - self.input.zero_point
            parts = self.patches(xs, 0)
            cols = np.concatenate([p for _, _, p in parts], axis=-1)  # [OH, OW, taps] in (ky, kx, ic) order
            acc = cols @ w.astype(np.int64).reshape(self.out_channels, -1).T
            return self.finish_int8(acc)
        # float32: summed tap by tap in LiteRT's order (filter y, x, input channel), then the bias
        total = np.zeros(self.output.shape[1:], np.float32)
        for ky, kx, patch in self.patches(np.asarray(x, np.float32), 0.0):
            for ic in range(self.in_channels):
                total = (total + patch[:, :, ic : ic + 1] * w[None, None, :, ky, kx, ic]).astype(np.float32)
        return self.finish_float(total)

    # -- C --------------------------------------------------------------------------

    def gathers(self) -> bool:
        """Whether windows are copied to scratch: they are read in place when each is one
        contiguous run of the input (one row of touching taps, none outside)."""
        r, c = self.rows, self.cols
        return not (r.filter_size == 1 and (c.filter_size == 1 or c.dilation == 1) and not self.clipped())

    def scratch_bytes(self) -> int:
        """The pixel's int8 accumulators (4 bytes each, first: aligned), then its window."""
        accs = 4 * self.out_channels if self.input.dtype == "int8" else 0
        return accs + (self.taps * np.dtype(self.input.dtype).itemsize if self.gathers() else 0)

    def emit_c(self, ctx, srcs: list[str], dst: str) -> None:
        r, c = self.rows, self.cols
        _, ih, iw, ic = self.input.shape
        _, oh, ow, oc = self.output.shape
        int8 = self.input.dtype == "int8"
        ctype, sfx = ("int8_t", "s8") if int8 else ("float", "f32")
        w = ctx.const_array("weights", ctype, self.filter_rows(), path=ctx.branch)
        lines = [f"const {ctype} *x = {srcs[0]};", f"{ctype} *y = {dst};"]
        if int8:
            lines.append(f"int32_t *acc = (int32_t *){ctx.scratch};")
        if self.gathers():
            gather = ctx.kernel(f"conv_gather_{sfx}")
            lines.append(f"{ctype} *col = ({ctype} *){'(acc + %d)' % oc if int8 else ctx.scratch};")
            per_pixel = [f"{gather}(x, {ih}, {iw}, {ic}, iy0, ix0, {r.filter_size}, {c.filter_size}, "
                         f"{r.dilation}, {c.dilation}, {self.input.zero_point if int8 else '0.0f'}, col);"]
            window = "col"
            ctx.notes.append(f"im2col window of {self.taps} values per pixel")
        else:
            per_pixel, window = [], f"x + (iy0 * {iw} + ix0) * {ic}"
            ctx.notes.append("windows read in place")
        out = f"y + (oy * {ow} + ox) * {oc}"
        if int8:
            bias = ctx.const_array("bias", "int32_t", self.int8_params()["folded"], path=ctx.branch)
            per_pixel += [f"{ctx.kernel('conv_acc_s8')}({window}, {self.taps}, {w}, {oc}, {bias}, acc);",
                          f"int8_t *yp = {out};",
                          f"for (int32_t oc = 0; oc < {oc}; ++oc) {{",
                          *indent_c(self.requant_c(ctx, "acc[oc]", "yp[oc]")), "}"]
        else:
            low, high = float_range(self.activation)
            bias = ctx.const_array("bias", "float", self.bias.data, path=ctx.branch) if self.bias is not None else "0"
            per_pixel.append(f"{ctx.kernel('conv_pixel_f32')}({window}, {self.taps}, {w}, {oc}, {bias}, "
                             f"{ctx.float_literal(low)}, {ctx.float_literal(high)}, {out});")
        lines += [f"for (int32_t oy = 0; oy < {oh}; ++oy) {{",
                  f"    const int32_t iy0 = {origin_c('oy', r)};",
                  f"    for (int32_t ox = 0; ox < {ow}; ++ox) {{",
                  f"        const int32_t ix0 = {origin_c('ox', c)};",
                  *indent_c(per_pixel, 2), "    }", "}"]
        ctx.stmts(["{", *indent_c(lines), "}"])
