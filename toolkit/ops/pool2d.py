"""AVERAGE_POOL_2D and MAX_POOL_2D on NHWC tensors, float32 or int8.

int8 is TFLM's reference_integer_ops::AveragePool / MaxPool: the raw int8 values are
summed (or compared) over the taps that fall inside the input, the average is
rounded half away from zero with C's truncating division by the number of those taps,
then clamped to the fused activation's range. TFLM requires the input and output to
share scale and zero point (no rescaling is done). float32 is TFLite's
reference_ops::AveragePool / MaxPool (sum in filter-row order, divide by the count).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from toolkit import quantization as Q
from toolkit.ops.base import Op, float_range, fused_activation, require_dtype, require_per_tensor, single_io
from toolkit.ops.window import Window, check_positive, padding_name

# Pool2DOptions fields (schema.fbs order)
_PADDING, _STRIDE_W, _STRIDE_H, _FILTER_W, _FILTER_H, _ACTIVATION = range(6)


def c_index(limit: int) -> str:
    """The C type of an index below `limit`: int is 16 bits on AVR."""
    return "int" if limit <= 32767 else "int32_t"


def check_pool_quant(raw, x, y) -> None:
    """PoolingPrepare: |input scale - output scale| <= 1e-6 (in float) and equal zero points."""
    require_per_tensor(raw, x, "input")
    require_per_tensor(raw, y, "output")
    diff = abs(float(np.float32(x.scale) - np.float32(y.scale)))
    if diff > 1e-6 or x.zero_point != y.zero_point:
        raise raw.fail(f"input quantization (scale {x.scale:.9g}, zero point {x.zero_point}) differs from the "
                       f"output's (scale {y.scale:.9g}, zero point {y.zero_point}); TFLM requires them equal")


@dataclass(eq=False)
class _Pool2D(Op):
    h: Window = None  # type: ignore[assignment]
    w: Window = None  # type: ignore[assignment]
    activation: str = "NONE"

    needs_count: ClassVar[bool] = False  # the C body divides by the number of taps

    @classmethod
    def from_tflite(cls, raw) -> "_Pool2D":
        x, y = single_io(raw)
        opts = raw.options
        if opts is None:
            raise raw.fail("missing Pool2DOptions")
        padding = padding_name(raw, opts.scalar(_PADDING, "b"))
        sw, sh = opts.scalar(_STRIDE_W, "i"), opts.scalar(_STRIDE_H, "i")
        fw, fh = opts.scalar(_FILTER_W, "i"), opts.scalar(_FILTER_H, "i")
        check_positive(raw, stride_w=sw, stride_h=sh, filter_width=fw, filter_height=fh)
        activation = fused_activation(raw, opts.scalar(_ACTIVATION, "b"))
        if len(x.shape) != 4 or len(y.shape) != 4:
            raise raw.fail(f"input {list(x.shape)} and output {list(y.shape)} must be 4-D (NHWC)")
        h = Window(x.shape[1], fh, sh, 1, padding)
        w = Window(x.shape[2], fw, sw, 1, padding)
        want = (x.shape[0], h.out_size, w.out_size, x.shape[3])
        if tuple(y.shape) != want:
            raise raw.fail(f"output shape {list(y.shape)}; {padding} padding of {list(x.shape)} with filter "
                           f"{fh}x{fw}, strides {sh}x{sw} gives {list(want)}")
        require_dtype(raw, x, ("float32", "int8"), "input")
        require_dtype(raw, y, (x.dtype,), "output")
        if x.dtype == "int8":
            check_pool_quant(raw, x, y)
        return cls(inputs=[x], outputs=[y], h=h, w=w, activation=activation)

    def describe(self) -> str:
        return (f"{self.kind} {self.h.filter_size}x{self.w.filter_size}/{self.h.stride}x{self.w.stride} "
                f"{self.h.padding} {list(self.input.shape)} -> {list(self.output.shape)} {self.activation} "
                f"({self.input.dtype})")

    def act_range(self) -> tuple[int, int] | tuple[float, float]:
        if self.input.dtype == "int8":
            return Q.activation_range_int8(self.activation, self.output.scale, self.output.zero_point)
        return float_range(self.activation)

    # -- numpy reference ------------------------------------------------------------

    def _pool(self, x: np.ndarray, oy: int, ox: int) -> np.ndarray:
        raise NotImplementedError

    def reference(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x).reshape(self.input.shape)
        out = np.empty(self.output.shape, self.output.dtype)
        lo, hi = self.act_range()
        for oy in range(self.h.out_size):
            for ox in range(self.w.out_size):
                v = self._pool(x, oy, ox)
                out[:, oy, ox, :] = np.minimum(np.maximum(v, lo), hi)
        return out

    def _window(self, x: np.ndarray, oy: int, ox: int) -> list[np.ndarray]:
        """The in-bounds taps of one output position, filter row by filter row, each [N, C]."""
        return [x[:, iy, ix, :] for _, iy in self.h.taps(oy) for _, ix in self.w.taps(ox)]

    # -- C --------------------------------------------------------------------------

    def _body(self, ctype: str, ctx, big: str) -> list[str]:
        """Per-channel statements; `x`, `ch`, `iy0`, `ix0`, `ky0..ky1`, `kx0..kx1` (and
        `count`) are in scope."""
        raise NotImplementedError

    def emit_c(self, ctx, srcs: list[str], dst: str) -> None:
        n, ih, iw, c = self.input.shape
        h, w = self.h, self.w
        ctype = "int8_t" if self.input.dtype == "int8" else "float"
        big = c_index(self.input.size + 1)
        lines = ["{", f"    const {ctype} *x = {srcs[0]};", f"    {ctype} *y = {dst};"]
        # An axis whose windows never leave the input has constant tap bounds; when both
        # have, the tap count is a literal and the division becomes a multiplication.
        inside = [all(len(win.taps(o)) == win.filter_size for o in range(win.out_size)) for win in (h, w)]
        ind = "    "
        if n > 1:
            lines.append(f"    for ({big} b = 0; b < {n}; ++b, x += {ih * iw * c}) {{")
            ind += "    "

        def bounds(o: str, i: str, k: str, win: Window, full: bool) -> list[str]:
            start = f"{o} * {win.stride}" + (f" - {win.pad_before}" if win.pad_before else "")
            if full:
                return [f"const int {i}0 = {start};", f"const int {k}0 = 0;", f"const int {k}1 = {win.filter_size};"]
            room = f"{win.in_size} - {i}0"  # taps left before the input's end
            return [f"const int {i}0 = {start};", f"const int {k}0 = {i}0 < 0 ? -{i}0 : 0;",
                    f"const int {k}1 = {room} < {win.filter_size} ? {room} : {win.filter_size};"]

        lines += [f"{ind}for (int oy = 0; oy < {h.out_size}; ++oy) {{",
                  *(f"{ind}    {s}" for s in bounds("oy", "iy", "ky", h, inside[0])),
                  f"{ind}    for (int ox = 0; ox < {w.out_size}; ++ox) {{",
                  *(f"{ind}        {s}" for s in bounds("ox", "ix", "kx", w, inside[1]))]
        if self.needs_count:
            count = str(h.filter_size * w.filter_size) if all(inside) else "(int32_t)(ky1 - ky0) * (kx1 - kx0)"
            lines.append(f"{ind}        const int32_t count = {count};")
        lines += [
            f"{ind}        for (int ch = 0; ch < {c}; ++ch) {{",
            *(f"{ind}            {s}" for s in self._body(ctype, ctx, big)),
            f"{ind}        }}",
            f"{ind}    }}",
            f"{ind}}}",
        ]
        if n > 1:
            lines.append("    }")
        lines.append("}")
        ctx.stmts(lines)

    def _tap_loops(self, big: str, stmt: str) -> list[str]:
        """`stmt` for each in-bounds tap, filter row by filter row; `v` is the tap's value."""
        iw, c = self.input.shape[2], self.input.shape[3]
        ctype = "int8_t" if self.input.dtype == "int8" else "float"
        return ["for (int ky = ky0; ky < ky1; ++ky) {",
                f"    const {big} row = (({big})(iy0 + ky) * {iw} + ix0) * {c} + ch;",
                "    for (int kx = kx0; kx < kx1; ++kx) {",
                f"        const {ctype} v = x[row + kx * {c}];",
                f"        {stmt}",
                "    }",
                "}"]

    def _clamp(self, ctx, var: str) -> list[str]:
        lo, hi = self.act_range()
        if self.input.dtype == "int8":
            return ([f"if ({var} < {lo}) {var} = {lo};"] if lo > Q.INT8_MIN else []) + \
                   ([f"if ({var} > {hi}) {var} = {hi};"] if hi < Q.INT8_MAX else [])
        # always, as TFLite: ±FLT_MAX (NONE) turns an infinite result into FLT_MAX
        return [f"if ({var} < {ctx.float_literal(lo)}) {var} = {ctx.float_literal(lo)};",
                f"if ({var} > {ctx.float_literal(hi)}) {var} = {ctx.float_literal(hi)};"]


@dataclass(eq=False)
class AveragePool2D(_Pool2D):
    kind: ClassVar[str] = "AVERAGE_POOL_2D"
    needs_count: ClassVar[bool] = True

    def _pool(self, x: np.ndarray, oy: int, ox: int) -> np.ndarray:
        taps = self._window(x, oy, ox)
        count = len(taps)
        if self.input.dtype == "float32":
            total = np.zeros(taps[0].shape, np.float32)
            for t in taps:  # the reference kernel's order, in float32
                total = (total + t).astype(np.float32)
            return (total / np.float32(count)).astype(np.float32)
        acc = np.sum([t.astype(np.int64) for t in taps], axis=0)
        half = count // 2
        # acc > 0 ? (acc + n/2) / n : (acc - n/2) / n, C division truncating toward zero
        return np.where(acc > 0, (acc + half) // count, -((half - acc) // count))

    def _body(self, ctype: str, ctx, big: str) -> list[str]:
        if ctype == "float":
            return ["float total = 0.0f;", *self._tap_loops(big, "total += v;"),
                    "total = total / (float)count;", *self._clamp(ctx, "total"), "*y++ = total;"]
        return ["int32_t acc = 0;", *self._tap_loops(big, "acc += v;"),
                "acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;",  # rounded, as TFLM
                *self._clamp(ctx, "acc"), "*y++ = (int8_t)acc;"]


@dataclass(eq=False)
class MaxPool2D(_Pool2D):
    kind: ClassVar[str] = "MAX_POOL_2D"

    def _pool(self, x: np.ndarray, oy: int, ox: int) -> np.ndarray:
        return np.max(np.stack(self._window(x, oy, ox)), axis=0)

    def _body(self, ctype: str, ctx, big: str) -> list[str]:
        init = "-128" if ctype == "int8_t" else ctx.float_literal(float(np.finfo(np.float32).min))
        return [f"{ctype} m = {init};", *self._tap_loops(big, "if (v > m) m = v;"), *self._clamp(ctx, "m"), "*y++ = m;"]
