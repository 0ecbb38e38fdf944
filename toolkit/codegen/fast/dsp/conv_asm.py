"""The generated inline assembly of the DSP CONV_2D path (conv2d.py): the im2col of a
window into int16 lanes and the SMLAD multiply of four pixels by one output channel,
with the unrolling that keeps each within a small code budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from toolkit.codegen.fast.dsp.conv2d import ConvGeometry

PIXELS = 4  # output pixels per pass
STEPS_WRITTEN_MAX = 10  # steps of the multiply written out (before and in its loop), 52 bytes each
FILL_UNROLL_MAX = 12  # groups of four window bytes per loop iteration of the im2col
X_REGS = ("r8", "r9", "r10", "r11")  # the LDM's registers (two pixels' words of one step)


def _unroll(steps: int) -> tuple[int, int]:
    """(steps written out before the loop, steps per loop iteration) after the first step:
    the fewest loop instructions (CMP and BNE per iteration) within STEPS_WRITTEN_MAX
    steps of code, then the least code."""
    rest = steps - 1
    if rest <= STEPS_WRITTEN_MAX:
        return rest, 0
    options = [(2 * (rest // u), rest % u + u, u) for u in range(2, STEPS_WRITTEN_MAX + 1)
               if rest % u + u <= STEPS_WRITTEN_MAX]
    _, code, u = min(options)
    return code - u, u


def _fill_unroll(groups: int) -> int:
    """Groups of a window row per loop iteration of the im2col."""
    if groups <= FILL_UNROLL_MAX:
        return groups
    return max((d for d in range(4, FILL_UNROLL_MAX + 1) if groups % d == 0), default=1)


def _step(first: bool) -> list[str]:
    """One step: four int8 weights, two LDMs of the pixels' words, eight SMLADs."""
    lines = ["ldr %[wh], [%[wp]], #4", "sxtb16 %[wl], %[wh]", "sxtb16 %[wh], %[wh], ror #8"]
    for half in range(2):
        lines.append(f"ldmia %[xp]!, {{{', '.join(X_REGS)}}}")
        for k in range(2):
            a = f"%[a{2 * half + k}]"
            lo, hi = X_REGS[2 * k], X_REGS[2 * k + 1]
            lines += [f"smlad {a}, {lo}, %[wl], {'%[b]' if first else a}", f"smlad {a}, {hi}, %[wh], {a}"]
    return lines


def _sub_immediate(v: int) -> bool:
    """Whether SUB can take `v` as an immediate (SUBW's 12 bits, or 8 bits shifted)."""
    return v <= 4095 or any(v == (v >> n << n) and v >> n < 256 for n in range(24))


def _asm(body: list[str], outputs: list[str], inputs: list[str], clobbers: list[str]) -> list[str]:
    return ["__asm__ volatile(", *(f'    "{s}\\n\\t"' for s in body),
            f"    : {', '.join(outputs)}", f"    : {', '.join(inputs)}",
            f"    : {', '.join(chr(34) + c + chr(34) for c in clobbers)});"]


def dot_asm(steps: int) -> list[str]:
    """The inline assembly of one output channel over the column buffer: a0..a3 = bias +
    Σ w·x for the four pixels; wp moves past the channel's weights, xp comes back."""
    pre, u = _unroll(steps)
    body = _step(True)
    for _ in range(pre):
        body += _step(False)
    rest = steps - 1 - pre
    if u:
        body += [f"add %[b], %[wp], #{4 * rest}", "1:"]
        for _ in range(u):
            body += _step(False)
        body += ["cmp %[wp], %[b]", "bne 1b"]
    back = 8 * PIXELS * steps
    if _sub_immediate(back):
        body.append(f"sub %[xp], %[xp], #{back}")
    outputs = [f'[a{k}] "=&r"(a{k})' for k in range(4)] + ['[wl] "=&r"(wl)', '[wh] "=&r"(wh)', '[wp] "+r"(wp)',
                                                            '[xp] "+r"(xp)', '[b] "+r"(b)']
    return _asm(body, outputs, [], [*X_REGS, "cc", "memory"])


def dot_asm_few(steps: int, n: int) -> list[str]:
    """The inline assembly of one output channel for the last n (1 or 2) pixels: per step
    LDR, two SXTB16, and per pixel an LDRD of its two words and two SMLADs."""
    def step(first: bool) -> list[str]:
        lines = ["ldr %[wh], [%[wp]], #4", "sxtb16 %[wl], %[wh]", "sxtb16 %[wh], %[wh], ror #8"]
        for p in reversed(range(n)):
            lines.append("ldrd %[x0], %[x1], [%[xp]], #32" if p == 0 else f"ldrd %[x0], %[x1], [%[xp], #{8 * p}]")
            a = f"%[a{p}]"
            lines += [f"smlad {a}, %[x0], %[wl], {'%[b]' if first else a}", f"smlad {a}, %[x1], %[wh], {a}"]
        return lines

    pre, u = _unroll(steps)
    body = step(True)
    for _ in range(pre):
        body += step(False)
    if u:
        body += [f"add %[b], %[wp], #{4 * (steps - 1 - pre)}", "1:", *(line for _ in range(u) for line in step(False)),
                 "cmp %[wp], %[b]", "bne 1b"]
    outputs = [f'[a{p}] "=&r"(a{p})' for p in range(n)] + ['[wl] "=&r"(wl)', '[wh] "=&r"(wh)', '[x0] "=&r"(x0)',
                                                           '[x1] "=&r"(x1)', '[wp] "+r"(wp)', '[xp] "+r"(xp)',
                                                           '[b] "+r"(b)']
    return _asm(body, outputs, [], ["cc", "memory"])


def window_asm(g: ConvGeometry, aligned: bool, x2: bool) -> list[str]:
    """Inline assembly copying the whole groups of one window (origin s) into a pixel's
    column (d): per group LDR (LDRD for two when aligned), two SXTB16 (and two SADD16
    doubling the lanes when `x2`) and an STRD."""
    groups = g.full // 4
    if not groups:
        return []
    u = _fill_unroll(groups)
    pair = aligned and u % 2 == 0
    body = []
    for k in range(0, u, 2 if pair else 1):
        if pair:
            body.append("ldrd %[b0], %[b1], [%[s]], #8")
        else:
            body.append("ldr %[b0], [%[s]], #4")
        for b in (["%[b0]", "%[b1]"] if pair else ["%[b0]"]):
            body += [f"sxtb16 %[t], {b}", f"sxtb16 {b}, {b}, ror #8"]
            if x2:
                body += ["sadd16 %[t], %[t], %[t]", f"sadd16 {b}, {b}, {b}"]
            body.append(f"strd %[t], {b}, [%[d]], #32")
    inner = groups // u
    if inner > 1:
        body = ["mov %[m], #" + str(inner), "2:", *body, "subs %[m], %[m], #1", "bne 2b"]
    skip = g.in_w * g.ch - g.full
    if g.k_h > 1:
        body = ["1:", *body, "add %[s], %[s], %[skip]", "subs %[n], %[n], #1", "bne 1b"]
    outputs = ['[s] "+r"(s)', '[d] "+r"(d)', '[b0] "=&r"(b0)', '[b1] "=&r"(b1)', '[t] "=&r"(t)']
    if inner > 1:
        outputs.append('[m] "=&r"(m)')
    inputs = []
    if g.k_h > 1:
        outputs.append('[n] "+r"(n)')
        inputs.append(f'[skip] "r"({skip})')
    decl = [f"const int8_t *s = {'o'};", "int32_t *d = col + 2 * p, b0, b1, t" + (", m" if inner > 1 else "")
            + (f", n = {g.k_h}" if g.k_h > 1 else "") + ";"]
    return ["{", *("    " + s for s in decl + _asm(body, outputs, inputs, ["cc", "memory"])), "}"]
