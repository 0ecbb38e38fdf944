"""ADD and SUB, int8, same shapes, on ARMv7E-M with the DSP extension (Cortex-M4/M7/M33).

TFLM's arithmetic (ops/arithmetic.py: each input (x - zp)·2^20 rescaled by its
multiplier, the sum rescaled to the output) in SMMLAR steps, exact by the identities of
the requantization (toolkit/quantization.py, docs/codegen.md):
- SRDHM(d·2^20, m) = SMMULR(d·2^21, m), as |d·2^21| < 2^29;
- RDBPOT(h, r) = (h + 2^(r-1) + [h < 0]·(-1)) >> r, and h has the sign of d (or is 0,
  which either way gives 0), so the sign term is t >> 31 of t = d·2^21 = (x << 21) - zp·2^21;
  SMMLAR adds 2^(r-1) + (t >> 31) in the multiply;
- the output the same on 2·(x1 ± x2) (|x1 ± x2| < 2^28), with its zero point folded
  into the offset (K = 2^(r-1) + zp·2^r) and SSAT #8 on the shifted value.
Per element: two LDRSB, per input ADD (shifted operand), ADD, SMMLAR, ASR; the sum and
its doubling, ADD, SMMLAR, SSAT (with ASR), STRB: 16 instructions, four elements per
loop iteration. SIMD does not pay here: every step is a 32-bit multiply.
Not taken: broadcasting, a constant operand (the portable C reads it once).
Operands of the output's size (whatever their shapes) are read element by element.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from toolkit import quantization as Q
from toolkit.codegen.context import int_literal
from toolkit.codegen.fast import FastPath, register
from toolkit.codegen.requant_c import clamp

if TYPE_CHECKING:
    from toolkit.codegen.context import CContext

UNROLL = 4  # elements per loop iteration


def _params(op: Any) -> dict[str, int] | None:
    """The layer's constants, or None when the path does not apply."""
    # operands of the output's size: no dimension is broadcast, element i reads element i
    if op.output.dtype != "int8" or any(t.is_constant or t.size != op.output.size for t in op.inputs):
        return None
    p = op.int8_params()
    if max(p["s1"], p["s2"], p["so"]) > 0 or min(p["m1"], p["m2"], p["mo"]) < 0:
        return None
    lo, hi = op.act_range()
    return {**p, "zp1": op.inputs[0].zero_point, "zp2": op.inputs[1].zero_point, "zpo": op.output.zero_point,
            "lo": lo, "hi": hi}


def _round_term(r: int) -> int:
    return (1 << (r - 1)) if r else 0


def model(op: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The emitted arithmetic in numpy (int64 emulating the 32-bit steps), for tests."""
    p = _params(op)
    assert p is not None

    def smmlar(x: np.ndarray, m: int, c: np.ndarray | int) -> np.ndarray:
        return ((x * m + (1 << 31)) >> 32) + c

    def rescale(x: np.ndarray, zp: int, m: int, s: int) -> np.ndarray:
        t = (x.astype(np.int64) << 21) - (zp << 21)
        return smmlar(t, m, _round_term(-s) + (t >> 31)) >> -s

    x1 = rescale(a, p["zp1"], p["m1"], p["s1"])
    x2 = rescale(b, p["zp2"], p["m2"], p["s2"])
    s = x1 + x2 if op.kind == "ADD" else x1 - x2
    ro = -p["so"]
    v = smmlar(2 * s, p["mo"], Q.requant_offset(p["so"], p["zpo"]) + (s >> 31)) >> ro
    return np.clip(v, p["lo"], p["hi"]).astype(np.int8)


def _element(op: Any, p: dict[str, int], k: int) -> list[str]:
    """C of element i + k: both inputs rescaled, combined, requantized, stored."""
    lines = []
    for n, (src, zp, m, s) in enumerate((("x0", p["zp1"], p["m1"], p["s1"]), ("x1", p["zp2"], p["m2"], p["s2"]))):
        lines.append(f"const int32_t t{n} = (int32_t)((uint32_t)(int32_t){src}[{k}] << 21){_plus(-(zp << 21))};")
        r = -s
        rnd = f"{_round_term(r)} + " if r else ""
        h = f"tm_smmlar(t{n}, {int_literal(m)}, {rnd}(t{n} >> 31))" if r else f"tm_smmulr(t{n}, {int_literal(m)})"
        lines.append(f"const int32_t h{n} = {h}{f' >> {r}' if r else ''};")
    sign = "+" if op.kind == "ADD" else "-"
    ro = -p["so"]
    lines.append(f"const int32_t s = h0 {sign} h1;")
    k_o = int_literal(Q.requant_offset(p["so"], p["zpo"]))
    v = f"tm_smmlar(s * 2, {int_literal(p['mo'])}, {k_o} + (s >> 31))" if ro else \
        f"tm_smmulr(s * 2, {int_literal(p['mo'])}) + {p['zpo']}"
    lines.append(f"int32_t v = tm_ssat8({v}{f' >> {ro}' if ro else ''});")
    lines += clamp(_Range(p["lo"], p["hi"]), "v")
    lines.append(f"y[{k}] = (int8_t)v;")
    return ["{", *("    " + s for s in lines), "}"]


class _Range:
    """The clamp range, as requant_c.clamp reads it from a plan."""

    def __init__(self, lo: int, hi: int) -> None:
        self.lo, self.hi = lo, hi


def _plus(v: int) -> str:
    return f" + {int_literal(v)}" if v > 0 else f" - {int_literal(-v)}" if v < 0 else ""


def _applicable(op: Any, ctx: "CContext") -> bool:
    return _params(op) is not None


def _cost(op: Any, ctx: "CContext") -> float:
    return 17.0 * op.output.size + 10


def _emit(op: Any, ctx: "CContext", srcs: list[str], dst: str) -> None:
    p = _params(op)
    assert p is not None, "emitted without being applicable"
    n = op.output.size
    full, rest = divmod(n, UNROLL)
    lines = ["{", f"    const int8_t *x0 = {srcs[0]}, *x1 = {srcs[1]};", f"    int8_t *y = {dst};"]
    if full:
        body = [s for k in range(UNROLL) for s in _element(op, p, k)]
        head = f"    for (int8_t *const e = y + {UNROLL * full}; y != e; x0 += {UNROLL}, x1 += {UNROLL}, y += {UNROLL}) {{"
        lines += [head, *("        " + s for s in body), "    }"]
    lines += ["    " + s for k in range(rest) for s in _element(op, p, k)]
    lines.append("}")
    ctx.stmts(lines)
    ctx.notes.append(f"M4/M7/M33: SMMLAR rescaling, {UNROLL} elements per iteration")


for _kind in ("ADD", "SUB"):
    register(FastPath(_kind, "dsp", "SMMLAR rescaling, 4 elements per iteration", _applicable, _cost, _emit))
