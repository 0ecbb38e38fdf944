"""ADD and SUB, int8, same shapes, on ARMv6-M (Cortex-M0/M0+, RP2040).

TFLM rescales each input ((x - zp)·2^20 times its multiplier: ops/arithmetic.py), adds
(or subtracts) and rescales the sum to the output. Each input's rescaled value depends on
its byte only: two tables of 256 int32 made at generation time replace the first two
requantizations (LDRB, LSLS, LDR per input). The output's SRDHM(s, m) needs a 64-bit
product; with |s| < 2^28 it is exact from three 32-bit ones (s = sh·2^15 + sl,
m = mh·2^16 + ml, nested floors):

    SRDHM(s, m) = sh·mh + floor((U - 2^29) / 2^16),
    U = sh·ml + 2·sl·mh + ((sl·ml + 2^30) >> 15) + 2^29   (0 <= U < 2^32, uint32)

then the rounding shift with the output zero point folded in, (h + K + (s >> 31)) >> r
(identities 3-4 of docs/codegen.md), and the clamp. About 35 instructions per element,
against some 280 for the portable C's 64-bit multiplies (__aeabi_lmul).
Not taken: broadcasting, a constant operand, sums that may reach 2^28.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from toolkit import quantization as Q
from toolkit.codegen.context import int_literal
from toolkit.codegen.fast import FastPath, register

if TYPE_CHECKING:
    from toolkit.codegen.context import CContext

S_MAX = 2**28  # |s| below this: the partial products fit (see the docstring)


def tables(op: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The two inputs' rescaled values by byte (index: the byte as unsigned), the second
    negated for SUB; None when the path does not apply."""
    if op.output.dtype != "int8" or any(t.is_constant or t.size != op.output.size for t in op.inputs):
        return None
    p = op.int8_params()
    if max(p["s1"], p["s2"], p["so"]) > 0 or min(p["m1"], p["m2"], p["mo"]) < 0:
        return None
    x = np.arange(256).astype(np.uint8).view(np.int8).astype(np.int64)
    out = []
    for t, m, s in ((op.inputs[0], p["m1"], p["s1"]), (op.inputs[1], p["m2"], p["s2"])):
        out.append(np.asarray(Q.multiply_by_quantized_multiplier((x - t.zero_point) << 20, m, s), np.int64))
    if op.kind == "SUB":
        out[1] = -out[1]
    if int(np.abs(out[0]).max() + np.abs(out[1]).max()) >= S_MAX:
        return None
    return out[0], out[1]


def model(op: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The emitted arithmetic in numpy (each step checked to fit its C type), for tests."""
    got = tables(op)
    assert got is not None
    t0, t1 = got
    p = op.int8_params()
    mh, ml, r = p["mo"] >> 16, p["mo"] & 0xFFFF, -p["so"]
    s = t0[np.asarray(a).astype(np.uint8)] + t1[np.asarray(b).astype(np.uint8)]
    sh, sl = s >> 15, s & 0x7FFF
    assert np.all(sl * ml + 2**30 < 2**32) and np.all(np.abs(sh * ml) < 2**31)
    u = sh * ml + 2 * sl * mh + ((sl * ml + 2**30) >> 15) + 2**29
    assert np.all((0 <= u) & (u < 2**32))
    h = sh * mh + (u >> 16) - 2**13
    zp = op.output.zero_point
    v = (h + Q.requant_offset(p["so"], zp) + (s >> 31)) >> r if r else h + zp
    lo, hi = op.act_range()
    return np.clip(v, lo, hi)


def _applicable(op: Any, ctx: "CContext") -> bool:
    return tables(op) is not None


def _cost(op: Any, ctx: "CContext") -> float:
    return 35.0 * op.output.size + 10


def _emit(op: Any, ctx: "CContext", srcs: list[str], dst: str) -> None:
    got = tables(op)
    assert got is not None, "emitted without being applicable"
    t0 = ctx.const_array("t0_6m", "int32_t", got[0], path="armv6m")
    t1 = ctx.const_array("t1_6m", "int32_t", got[1], path="armv6m")
    p = op.int8_params()
    mh, ml, r = p["mo"] >> 16, p["mo"] & 0xFFFF, -p["so"]
    zp = op.output.zero_point
    lo, hi = op.act_range()
    if r:
        v = f"int32_t v = (h + {int_literal(Q.requant_offset(p['so'], zp))} + (s >> 31)) >> {r};"
    else:
        v = f"int32_t v = h + {zp};"
    body = [f"const int32_t s = {t0}[(uint8_t)x0[i]] + {t1}[(uint8_t)x1[i]];",
            "const int32_t sh = s >> 15;", "const uint32_t sl = (uint32_t)s & 0x7FFFu;",
            (f"const uint32_t u = (uint32_t)(sh * {ml}) + {2 * mh}u * sl + ((sl * {ml}u + 0x40000000u) >> 15) "
             "+ 0x20000000u;"),
            f"const int32_t h = sh * {mh} + (int32_t)(u >> 16) - 8192;", v,
            f"if (v < {lo}) v = {lo};", f"if (v > {hi}) v = {hi};", "y[i] = (int8_t)v;"]
    ctx.stmts(["{", f"    const int8_t *x0 = {srcs[0]}, *x1 = {srcs[1]};", f"    int8_t *y = {dst};",
               f"    for (int32_t i = 0; i < {op.output.size}; ++i) {{", *("        " + s for s in body), "    }", "}"])
    ctx.notes.append("M0/M0+: inputs rescaled by table, output from 16-bit partial products")


for _kind in ("ADD", "SUB"):
    register(FastPath(_kind, "armv6m", "rescaling tables, 16-bit partial products", _applicable, _cost, _emit))
