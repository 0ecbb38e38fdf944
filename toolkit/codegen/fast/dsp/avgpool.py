"""AVERAGE_POOL_2D, int8, over the whole input (the global pooling of the CNN heads), on
ARMv7E-M with the DSP extension (Cortex-M4/M7/M33).

Eight channels at a time, the taps' sums in int16 lanes: per tap one LDRD of the eight
channels (post-indexed by the channel count) and four SXTAB16 (two with ROR 8), which
sign-extend bytes (0, 2) and (1, 3) and add them to the lanes: 5 instructions for 8
values, against about 7 per value in the portable loop. The lanes cannot overflow with at
most 255 taps (|sum| <= 255·128). Then per channel the lane, and TFLM's rounded division
by the tap count (a constant: a multiplication) and the clamp, as the portable C.
Not taken: windows other than the whole input, batches, more than 255 taps, channels not
a multiple of 8 or above 1020 (LDRD's post-index), an input not word-aligned.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolkit.codegen.fast import FastPath, register

if TYPE_CHECKING:
    from toolkit.codegen.context import CContext

CHANNELS = 8  # per pass: four words of int16 lanes
TAPS_WRITTEN_MAX = 8  # taps of a pass written out per loop iteration


def _global(op: Any) -> tuple[int, int] | None:
    """(taps, channels) of a global int8 average pool this path takes, else None."""
    if op.input.dtype != "int8":
        return None
    n, ih, iw, c = op.input.shape
    if n != 1 or tuple(op.output.shape[1:3]) != (1, 1):
        return None
    if op.h.filter_size != ih or op.w.filter_size != iw or op.h.out_size != 1 or op.w.out_size != 1:
        return None
    if len(op.h.taps(0)) != ih or len(op.w.taps(0)) != iw:
        return None
    taps = ih * iw
    if taps > 255 or c % CHANNELS or c > 1020:
        return None
    return taps, c


def _applicable(op: Any, ctx: "CContext") -> bool:
    return ctx.src_aligned and _global(op) is not None


def _unroll(taps: int) -> int:
    return max(d for d in range(1, TAPS_WRITTEN_MAX + 1) if taps % d == 0)


def _cost(op: Any, ctx: "CContext") -> float:
    got = _global(op)
    if got is None:
        return float("inf")
    taps, c = got
    u = _unroll(taps)
    per_pass = taps * 5 + (2 * taps // u if taps > u else 0) + CHANNELS * 10 + 4
    return float(c // CHANNELS * per_pass + 6)


def _sums_asm(taps: int, c: int) -> list[str]:
    """The taps of one pass: s0..s3 += the lanes of eight channels, p past the taps."""
    u = _unroll(taps)
    step = [f"ldrd %[w0], %[w1], [%[p]], #{c}", "sxtab16 %[s0], %[s0], %[w0]", "sxtab16 %[s1], %[s1], %[w0], ror #8",
            "sxtab16 %[s2], %[s2], %[w1]", "sxtab16 %[s3], %[s3], %[w1], ror #8"]
    body = step * u
    if taps > u:
        body = ["1:", *body, "cmp %[p], %[e]", "bne 1b"]
    outputs = ", ".join([*(f'[s{k}] "+r"(s{k})' for k in range(4)), '[w0] "=&r"(w0)', '[w1] "=&r"(w1)',
                         '[p] "+r"(p)'])
    inputs = '[e] "r"(e)' if taps > u else ""
    return ["__asm__ volatile(", *(f'    "{s}\\n\\t"' for s in body), f"    : {outputs}", f"    : {inputs}",
            '    : "cc", "memory");']


def _emit(op: Any, ctx: "CContext", srcs: list[str], dst: str) -> None:
    got = _global(op)
    assert got is not None, "emitted without being applicable"
    taps, c = got
    lo, hi = op.act_range()
    lanes = [("s0", "lo"), ("s1", "lo"), ("s0", "hi"), ("s1", "hi"), ("s2", "lo"), ("s3", "lo"), ("s2", "hi"),
             ("s3", "hi")]  # channel k of the pass: the lane SXTAB16 put it in
    per_channel = []
    for k, (s, half) in enumerate(lanes):
        lane = f"(int32_t)(int16_t){s}" if half == "lo" else f"({s} >> 16)"
        per_channel += ["{", f"    int32_t acc = {lane};",
                        f"    acc = acc > 0 ? (acc + {taps // 2}) / {taps} : (acc - {taps // 2}) / {taps};",
                        *([f"    if (acc < {lo}) acc = {lo};"] if lo > -128 else []),
                        *([f"    if (acc > {hi}) acc = {hi};"] if hi < 127 else []),
                        f"    y[{k}] = (int8_t)acc;", "}"]
    loop = ["const int8_t *p = x + ch;", "int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, w0, w1;"]
    if taps > _unroll(taps):
        loop.append(f"const int8_t *const e = p + {taps * c};")
    loop += [*_sums_asm(taps, c), *per_channel]
    lines = ["{", f"    const int8_t *x = {srcs[0]};", f"    int8_t *y = {dst};",
             f"    for (int32_t ch = 0; ch < {c}; ch += {CHANNELS}, y += {CHANNELS}) {{",
             *("        " + s for s in loop), "    }", "}"]
    ctx.stmts(lines)
    ctx.notes.append(f"M4/M7/M33: {CHANNELS} channels per pass, SXTAB16 sums of {taps} taps in int16 lanes")


PATH = register(FastPath("AVERAGE_POOL_2D", "dsp", "global, SXTAB16 into int16 lanes", _applicable, _cost, _emit))
