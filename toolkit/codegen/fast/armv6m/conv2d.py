"""CONV_2D, int8, on ARMv6-M (Cortex-M0/M0+, RP2040): per output pixel, its window into
arena scratch as biased bytes (mac.py), then four output channels per pass of the
generated multiply-accumulate assembly (13 instructions per 4 MACs), then per channel
the correction and the requantization of the portable C (32-bit multiplies on ARMv6-M,
identity 8 of docs/codegen.md). Any filter size, strides and SAME/VALID padding; the
window's rows are copied whole (words when the input is word-aligned and the channels a
multiple of 4), border windows tap by tap with the input zero point. Not taken: float
layers, dilation, windows over mac.N_MAX values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolkit.codegen.fast import FAMILIES, FastPath, register
from toolkit.codegen.fast.armv6m import mac
from toolkit.codegen.fast.armv6m.requant import conv_plan, output_requant, record_c, records
from toolkit.ops.conv2d import indent_c

if TYPE_CHECKING:
    from toolkit.codegen.context import CContext

GUARD = FAMILIES["armv6m"]


def _applicable(op: Any, ctx: "CContext") -> bool:
    return (op.kind == "CONV_2D" and op.input.dtype == "int8" and op.rows.dilation == 1 and op.cols.dilation == 1
            and mac.applicable(op.taps) and conv_plan(op) is not None)


def scratch_bytes(op: Any) -> int:
    if not _applicable(op, None):  # type: ignore[arg-type]
        return 0
    return mac.scratch_accs(op.out_channels) + mac.padded(op.taps)


def _cost(op: Any, ctx: "CContext") -> float:
    pixels = op.output.size // op.out_channels
    n_pad = mac.padded(op.taps)
    per_block = n_pad // mac.UNROLL * 108 + 25
    return float(pixels * (mac.blocks(op.out_channels) * per_block + 3 * op.taps + 40 * op.out_channels + 30))


def _window_c(op: Any, words: bool) -> list[str]:
    """C filling `col` and `s` with the window at (iy0, ix0)."""
    r, c = op.rows, op.cols
    _, ih, iw, ch = op.input.shape
    run = c.filter_size * ch
    inside = [*(["uint32_t s2 = 0;"] if words else []), "uint8_t *c = col;"]
    for ky in range(r.filter_size):
        inside += mac.copy_c(f"x + ((iy0 + {ky}) * {iw} + ix0) * {ch}", run, words)
    if words:
        inside.append(mac.FOLD)
    inside += mac.zero_tail(op.taps)
    if not op.clipped():
        return inside
    pad = (op.input.zero_point + 128) & 255
    tap = mac.copy_c(f"x + (iy * {iw} + ix) * {ch}", ch, words)
    border = [*(["uint32_t s2 = 0;"] if words else []), "uint8_t *c = col;",
              f"for (int32_t ky = 0; ky < {r.filter_size}; ++ky) {{",
              "    const int32_t iy = iy0 + ky;",
              f"    for (int32_t kx = 0; kx < {c.filter_size}; ++kx) {{",
              "        const int32_t ix = ix0 + kx;",
              f"        if ((uint32_t)iy < {ih}u && (uint32_t)ix < {iw}u) {{", *indent_c(tap, 3), "        } else {",
              f"            for (int32_t i = 0; i < {ch}; ++i) c[i] = {pad};",
              f"            s += {pad * ch}u;", f"            c += {ch};", "        }", "    }", "}"]
    if words:
        border.append(mac.FOLD)
    border += mac.zero_tail(op.taps)
    cond = f"(uint32_t)iy0 <= {ih - r.filter_size}u && (uint32_t)ix0 <= {iw - c.filter_size}u"
    return [f"if ({cond}) {{", *indent_c(inside), "} else {", *indent_c(border), "}"]


def _emit(op: Any, ctx: "CContext", srcs: list[str], dst: str) -> None:
    r, c = op.rows, op.cols
    _, oh, ow, oc = op.output.shape
    ch = op.in_channels
    rows = op.filter_rows()
    words = ctx.src_aligned and ch % 4 == 0 and mac.word_sum_fits(op.taps)
    fn = ctx.function("dot6m", mac.dot_function(op.taps), GUARD)
    w = ctx.const_array("w6m", "uint8_t", mac.stream(rows), path="armv6m")
    plan = conv_plan(op)
    assert plan is not None, "emitted without being applicable"
    rec = records(plan, mac.corrected_bias(rows, op.int8_params()["folded"]))
    q = ctx.const_array("q6m", "int32_t", rec, path="armv6m")
    row = [*record_c(plan, "accs[j]"), *output_requant(plan, "acc"), "yp[o] = (int8_t)v;"]
    per_pixel = [f"const int32_t ix0 = ox * {c.stride} - {c.pad_before};", "uint32_t s = 0;",
                 *_window_c(op, words), "const uint32_t sh = s << 7;", f"const TM_ROM int32_t *q = {q};",
                 f"int8_t *yp = y + (oy * {ow} + ox) * {oc};",
                 *mac.blocks_c(fn, w, op.taps, oc, rec.shape[1], row)]
    lines = [f"const int8_t *x = {srcs[0]};", f"int8_t *y = {dst};",
             f"int32_t *accs = (int32_t *){ctx.scratch};",
             f"uint8_t *col = (uint8_t *)accs + {mac.scratch_accs(oc)};",
             f"for (int32_t oy = 0; oy < {oh}; ++oy) {{",
             f"    const int32_t iy0 = oy * {r.stride} - {r.pad_before};",
             f"    for (int32_t ox = 0; ox < {ow}; ++ox) {{", *indent_c(per_pixel, 2), "    }", "}"]
    ctx.stmts(["{", *indent_c(lines), "}"])
    ctx.notes.append(f"M0/M0+: window as biased bytes{' (words)' if words else ''}, 4 channels per pass, "
                     f"{mac.padded(op.taps)} taps, assembly {fn}")


PATH = register(FastPath("CONV_2D", "armv6m", "biased bytes, 4 channels per pass, MULS into r8-r11",
                         _applicable, _cost, _emit, scratch_bytes))
