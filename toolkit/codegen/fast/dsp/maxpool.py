"""MAX_POOL_2D, int8, on ARMv7E-M with the DSP extension (Cortex-M4/M7/M33): four channels
per word.

Per output position and group of four channels: the first tap's word, then per tap an
LDR, SSUB8 (the GE flags: per byte, tap >= max) and SEL (per byte, the larger): 3
instructions for 4 values, against about 5 per value in the portable loop. The clamp
to the fused activation's range is the same pair against a constant word. Windows that
never leave the input have their taps written out at constant offsets; the others loop
over the taps inside the input, as the portable C. Not taken: channels not a multiple
of 4, batches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolkit.codegen.fast import FastPath, register

if TYPE_CHECKING:
    from toolkit.codegen.context import CContext

TAPS_WRITTEN_MAX = 16  # a window of at most this many taps, always inside the input, is written out


def _applicable(op: Any, ctx: "CContext") -> bool:
    n, _, _, c = op.input.shape
    return op.input.dtype == "int8" and n == 1 and c % 4 == 0


def _inside(op: Any) -> bool:
    return all(len(win.taps(o)) == win.filter_size for win in (op.h, op.w) for o in range(win.out_size))


def _cost(op: Any, ctx: "CContext") -> float:
    taps = op.h.filter_size * op.w.filter_size
    groups = op.output.size // 4
    written = _inside(op) and taps <= TAPS_WRITTEN_MAX
    return float(groups * (3 * taps + 6 + (0 if written else 4 * taps)))


def _max(w: str) -> str:
    """C: m = per byte max(m, w) (signed)."""
    return f'__asm__("ssub8 %[t], %[w], %[m]\\n\\tsel %[m], %[w], %[m]" : [m] "+r"(m), [t] "=&r"(t) : [w] "r"({w}) : "cc");'


def _bound(value: int, upper: bool) -> list[str]:
    """C: clamp each byte of m below (or above) `value`."""
    word = f"0x{(value & 0xFF) * 0x01010101:08X}"
    pick = "%[b], %[m]" if upper else "%[m], %[b]"  # GE set where m >= b
    return [(f'__asm__("ssub8 %[t], %[m], %[b]\\n\\tsel %[m], {pick}" : [m] "+r"(m), [t] "=&r"(t) '
             f': [b] "r"((int32_t){word}) : "cc");')]


def _emit(op: Any, ctx: "CContext", srcs: list[str], dst: str) -> None:
    _, _, iw, c = op.input.shape
    h, w = op.h, op.w
    lo, hi = op.act_range()
    row = iw * c
    clamp = [*(_bound(lo, False) if lo > -128 else []), *(_bound(hi, True) if hi < 127 else [])]
    taps = h.filter_size * w.filter_size
    if _inside(op) and taps <= TAPS_WRITTEN_MAX:
        offsets = [ky * row + kx * c for ky in range(h.filter_size) for kx in range(w.filter_size)]
        group = ["int32_t m, v, t;", f"__builtin_memcpy(&m, p + {offsets[0]}, 4);"]
        for off in offsets[1:]:
            group += [f"__builtin_memcpy(&v, p + {off}, 4);", _max("v")]
        origin = [f"const int8_t *o = x + (oy * {h.stride} * {iw} + ox * {w.stride}) * {c};"]
        where = "const int8_t *p = o + ch;"
        note = f"{taps} taps written out"
    else:
        def bounds(o: str, i: str, k: str, win: Any) -> list[str]:
            start = f"{o} * {win.stride}" + (f" - {win.pad_before}" if win.pad_before else "")
            return [f"const int {i}0 = {start};", f"const int {k}0 = {i}0 < 0 ? -{i}0 : 0;",
                    (f"const int {k}1 = {win.in_size} - {i}0 < {win.filter_size} ? {win.in_size} - {i}0 : "
                     f"{win.filter_size};")]
        origin = [*bounds("oy", "iy", "ky", h), *bounds("ox", "ix", "kx", w)]
        where = f"const int8_t *p = x + ((int32_t)(iy0 + ky0) * {iw} + ix0 + kx0) * {c} + ch;"
        group = ["int32_t m = (int32_t)0x80808080, v, t;",  # -128 in each byte: a tap is always larger or equal
                 f"for (int ky = ky0; ky < ky1; ++ky, p += {row}) {{",
                 "    for (int kx = 0; kx < kx1 - kx0; ++kx) {",
                 f"        __builtin_memcpy(&v, p + kx * {c}, 4);", f"        {_max('v')}", "    }", "}"]
        note = "taps inside the input in a loop"
    body = [where, *group, *clamp, "__builtin_memcpy(y, &m, 4);"]
    lines = ["{", f"    const int8_t *x = {srcs[0]};", f"    int8_t *y = {dst};",
             f"    for (int oy = 0; oy < {h.out_size}; ++oy) {{", f"        for (int ox = 0; ox < {w.out_size}; ++ox) {{",
             *("            " + s for s in origin),
             f"            for (int ch = 0; ch < {c}; ch += 4, y += 4) {{", *("                " + s for s in body),
             "            }", "        }", "    }", "}"]
    ctx.stmts(lines)
    ctx.notes.append(f"M4/M7/M33: four channels per word, SSUB8 + SEL, {note}")


PATH = register(FastPath("MAX_POOL_2D", "dsp", "four channels per word, SSUB8 + SEL", _applicable, _cost, _emit))
