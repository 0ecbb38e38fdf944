"""C for a float32 FULLY_CONNECTED layer, specialised at generation time.

Sizes are constants; short inner products are written out (the input values stay in
registers); products are summed in TFLite's reference order (inputs in order, then the
bias) with -ffp-contract=off semantics, so results match LiteRT's reference kernel.
The clamps of RELU/RELU6/RELU_N1_TO_1 are kept; ±FLT_MAX (no activation) is not
applied, which only differs when a sum overflows to infinity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from toolkit.codegen.context import CContext

UNROLL_MAX = 16  # inner products this long are written out


def _layer(in_n: int, out_n: int, batches: int, w: str, b: str | None, clamp: list[str], src: str, dst: str,
           unroll: bool) -> list[str]:
    body = []
    pre = []
    if unroll:
        # inputs loaded once per layer: with an FPU they stay in s-registers
        if out_n > 1 and batches == 1:
            pre = [f"const float {', '.join(f'x{i} = x[{i}]' for i in range(in_n))};"]
            xs = [f"x{i}" for i in range(in_n)]
        else:
            xs = [f"x[{i}]" for i in range(in_n)]
        body.append(f"float t = {xs[0]} * w[0];")
        body += [f"t += {xs[i]} * w[{i}];" for i in range(1, in_n)]
    else:
        body += ["float t = x[0] * w[0];", f"for (int i = 1; i < {in_n}; ++i) t += x[i] * w[i];"]
    if b:
        body.append(f"t += {b}[o];")
    body += clamp
    body.append("*y++ = t;")
    return [
        "{",
        f"    const float *x = {src};",
        f"    float *y = {dst};",
        *("    " + s for s in pre),
        f"    for (int n = 0; n < {batches}; ++n, x += {in_n}) {{" if batches > 1 else "    {",
        f"        const TM_ROM float *w = {w};",
        f"        for (int o = 0; o < {out_n}; ++o, w += {in_n}) {{",
        *("            " + s for s in body),
        "        }",
        "    }",
        "}",
    ]


def emit_float(layer: Any, ctx: "CContext", src: str, dst: str) -> None:
    """The C of a float32 FullyConnected (toolkit/ops/fully_connected.py), on every core."""
    w_data = layer.weights.data.astype(np.float32)
    out_n, in_n = w_data.shape
    batches = layer.batches
    w = ctx.const_array("weights", "float", w_data)
    b = ctx.const_array("bias", "float", layer.bias.data) if layer.bias is not None else None
    low, high = layer.float_range()
    fmax = float(np.finfo(np.float32).max)
    clamp = []
    if low > -fmax:
        clamp.append(f"if (t < {ctx.float_literal(low)}) t = {ctx.float_literal(low)};")
    if high < fmax:
        clamp.append(f"if (t > {ctx.float_literal(high)}) t = {ctx.float_literal(high)};")
    if in_n > UNROLL_MAX:
        ctx.stmts(_layer(in_n, out_n, batches, w, b, clamp, src, dst, unroll=False))
        ctx.notes.append("dense float")
        return
    unrolled = _layer(in_n, out_n, batches, w, b, clamp, src, dst, unroll=True)
    # Without an FPU every operation is a library call: the shared kernel keeps flash down.
    ctx.kernel("fpu")
    fn = ctx.kernel("fc_f32", guard="!TM_FPU")
    shared = [f"{fn}({src}, {dst}, {batches}, {in_n}, {out_n}, {w}, {b or '0'}, "
              f"{ctx.float_literal(max(low, -fmax))}, {ctx.float_literal(min(high, fmax))});"]
    ctx.stmts(["#if TM_FPU", *unrolled, "#else", *shared, "#endif"])
    ctx.notes.append("dense float, inner product unrolled with the inputs in registers (FPU); shared loop otherwise")
