"""CONV_2D, int8, on RV32IMC: per output pixel its window (read in place when it is one
contiguous run of whole loop iterations, else copied into arena scratch, border taps
padded with the input zero point, which the folded bias expects), eight output
channels per pass of the multiply-accumulate kernel (mac.py), then per channel the
portable C's requantization (MUL/MULH). Not taken: float layers, dilation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolkit.codegen.fast import FAMILIES, FastPath, register
from toolkit.codegen.fast.rv32 import mac
from toolkit.ops.conv2d import indent_c

if TYPE_CHECKING:
    from toolkit.codegen.context import CContext

GUARD = FAMILIES["rv32"]


def _applicable(op: Any, ctx: "CContext") -> bool:
    return op.kind == "CONV_2D" and op.input.dtype == "int8" and op.rows.dilation == 1 and op.cols.dilation == 1


def in_place(op: Any) -> bool:
    """Each window one run of the input (one filter row, no tap outside), a whole number
    of loop iterations (the kernel reads no byte past it)."""
    return op.rows.filter_size == 1 and not op.clipped() and op.taps % mac.UNROLL == 0


def scratch_bytes(op: Any) -> int:
    if not _applicable(op, None):  # type: ignore[arg-type]
        return 0
    return mac.scratch_accs(op.out_channels) + (0 if in_place(op) else mac.padded(op.taps))


def _cost(op: Any, ctx: "CContext") -> float:
    pixels = op.output.size // op.out_channels
    per_block = mac.padded(op.taps) // mac.UNROLL * 103 + 20
    return float(pixels * (mac.blocks(op.out_channels) * per_block + 3 * op.taps + 20 * op.out_channels))


def _gather_c(op: Any) -> list[str]:
    """C filling `col` with the window at (iy0, ix0), padded taps with the input zero point."""
    r, c = op.rows, op.cols
    _, ih, iw, ch = op.input.shape
    zp = op.input.zero_point
    lines = ["int8_t *d = col;",
             f"for (int32_t ky = 0; ky < {r.filter_size}; ++ky) {{",
             "    const int32_t iy = iy0 + ky;",
             f"    for (int32_t kx = 0; kx < {c.filter_size}; ++kx, d += {ch}) {{",
             "        const int32_t ix = ix0 + kx;",
             f"        const int8_t *s = x + (iy * {iw} + ix) * {ch};",
             f"        const int32_t inside = (uint32_t)iy < {ih}u && (uint32_t)ix < {iw}u;",
             f"        for (int32_t i = 0; i < {ch}; ++i) d[i] = inside ? s[i] : {zp};", "    }", "}"]
    tail = mac.padded(op.taps) - op.taps
    if tail:
        lines.append(f"for (int32_t i = 0; i < {tail}; ++i) d[i] = 0;")
    return lines


def _emit(op: Any, ctx: "CContext", srcs: list[str], dst: str) -> None:
    r, c = op.rows, op.cols
    _, oh, ow, oc = op.output.shape
    ch = op.in_channels
    rows = op.filter_rows()
    fn = ctx.function("dotrv", mac.dot_function(op.taps), GUARD)
    w = ctx.const_array("wrv", "int8_t", mac.stream(rows), path="rv32")
    bias = ctx.const_array("brv", "int32_t", op.int8_params()["folded"], path="rv32")
    lines = [f"const int8_t *x = {srcs[0]};", f"int8_t *y = {dst};", f"int32_t *accs = (int32_t *){ctx.scratch};"]
    if in_place(op):
        window, src = [], f"x + (iy0 * {op.input.shape[2]} + ix0) * {ch}"
    else:
        lines.append(f"int8_t *col = (int8_t *)accs + {mac.scratch_accs(oc)};")
        window, src = _gather_c(op), "col"
    row = ["const int32_t oc = o;", f"const int32_t acc = (int32_t)((uint32_t)accs[j] + (uint32_t){bias}[o]);",
           *op.requant_c(ctx, "acc", "yp[oc]")]
    per_pixel = [f"const int32_t ix0 = ox * {c.stride} - {c.pad_before};", *window,
                 f"int8_t *yp = y + (oy * {ow} + ox) * {oc};", *mac.calls_c(fn, src, w, op.taps, oc, row)]
    lines += [f"for (int32_t oy = 0; oy < {oh}; ++oy) {{",
              f"    const int32_t iy0 = oy * {r.stride} - {r.pad_before};",
              f"    for (int32_t ox = 0; ox < {ow}; ++ox) {{", *indent_c(per_pixel, 2), "    }", "}"]
    ctx.stmts(["{", *indent_c(lines), "}"])
    ctx.notes.append(f"RV32: {'window in place' if in_place(op) else 'window gathered'}, {mac.ROWS} channels "
                     f"per pass, {fn}")


PATH = register(FastPath("CONV_2D", "rv32", "8 channels per pass, LB/MUL", _applicable, _cost, _emit, scratch_bytes))
