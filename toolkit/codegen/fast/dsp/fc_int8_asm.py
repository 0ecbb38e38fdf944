"""The generated inline assembly of the int8-weight DSP FULLY_CONNECTED path (fc_int8.py):
the dot products of ROWS output rows with the input, pre-widened to int16 lanes.

The stream holds, per pass of R rows (R = ROWS, or the 1-3 rows left over), the R
pre-scaled biases and then, per group of four inputs, the R rows' weight words side by
side (four int8 weights each, in their natural order). One step: LDRD of the two input
words (x0, x2) and (x1, x3), one LDM of the R weight words, and per row SXTB16 into a
temporary, SMLAD, SXTB16 ROR 8 in place, SMLAD: 2 + 4R instructions for 4R
multiply-accumulates.
"""

from __future__ import annotations

ROWS = 4  # output rows per pass
STEPS_WRITTEN_MAX = 8  # steps of the dot product written out (before and in its loop)
W_REGS = ("r8", "r9", "r10", "r11")  # the LDM's registers (ascending, as LDM wants them)


def unroll(steps: int) -> tuple[int, int]:
    """(steps written out before the loop, steps per loop iteration): the fewest loop
    instructions (CMP and BNE per iteration) within STEPS_WRITTEN_MAX steps of code, then
    the least code."""
    if steps <= STEPS_WRITTEN_MAX:
        return steps, 0
    options = [(2 * (steps // u), steps % u + u, u) for u in range(2, STEPS_WRITTEN_MAX + 1)
               if steps % u + u <= STEPS_WRITTEN_MAX]
    _, code, u = min(options)
    return code - u, u


def step_instructions(rows: int) -> int:
    return 2 + 4 * rows


def _loads(rows: int, dst: list[str]) -> list[str]:
    """Load `rows` consecutive words of the stream into `dst`, advancing wp."""
    out = []
    k = 0
    while rows - k >= 2:
        out.append(f"ldrd {dst[k]}, {dst[k + 1]}, [%[wp]], #8")
        k += 2
    if k < rows:
        out.append(f"ldr {dst[k]}, [%[wp]], #4")
    return out


def _step(rows: int) -> list[str]:
    regs = list(W_REGS[:rows])
    lines = ["ldrd %[x0], %[x1], [%[xp]], #8"]
    lines += [f"ldmia %[wp]!, {{{', '.join(regs)}}}"] if rows > 2 else _loads(rows, regs)
    for k, w in enumerate(regs):
        a = f"%[a{k}]"
        lines += [f"sxtb16 %[t], {w}", f"smlad {a}, %[x0], %[t], {a}",
                  f"sxtb16 {w}, {w}, ror #8", f"smlad {a}, %[x1], {w}, {a}"]
    return lines


def sub_immediate(v: int) -> bool:
    """Whether SUB can take `v` as an immediate (SUBW's 12 bits, or 8 bits shifted)."""
    return v <= 4095 or any(v == (v >> n << n) and v >> n < 256 for n in range(24))


def dot_rows_asm(rows: int, groups: int) -> list[str]:
    """C: the inline assembly of one pass: a0..a{rows-1} = bias + Σ w·x over `groups`
    groups of four inputs. wp moves past the pass's biases and weights; xp comes back to
    the first input word when SUB takes the distance as an immediate (else the caller
    resets it). `xe` (a C variable) holds the end of the input words."""
    body = _loads(rows, [f"%[a{k}]" for k in range(rows)])
    pre, u = unroll(groups)
    for _ in range(pre):
        body += _step(rows)
    if u:
        # the end of the input words is read from memory: with it in a register the
        # assembly would take 14 of them, and at -O0 (r7 the frame pointer) only 13 are left
        body += ["1:", *(s for _ in range(u) for s in _step(rows)), "ldr %[t], %[e]", "cmp %[xp], %[t]", "bne 1b"]
    if sub_immediate(8 * groups):
        body.append(f"sub %[xp], %[xp], #{8 * groups}")
    outputs = [f'[a{k}] "=&r"(a{k})' for k in range(rows)]
    outputs += ['[t] "=&r"(t)', '[x0] "=&r"(x0)', '[x1] "=&r"(x1)', '[wp] "+r"(wp)', '[xp] "+r"(xp)']
    inputs = ['[e] "m"(xe)'] if u else []
    clobbers = [*W_REGS[:rows], "cc", "memory"]
    return ["__asm__ volatile(", *(f'    "{s}\\n\\t"' for s in body),
            f"    : {', '.join(outputs)}", f"    : {', '.join(inputs)}",
            f"    : {', '.join(chr(34) + c + chr(34) for c in clobbers)});"]


def pass_instructions(rows: int, groups: int) -> int:
    """Instructions of dot_rows_asm: bias loads, steps, loop, the reset of xp."""
    _, u = unroll(groups)
    loops = (groups - unroll(groups)[0]) // u if u else 0
    return (rows + 1) // 2 + groups * step_instructions(rows) + 3 * loops + 1


def widen_asm(groups: int, doubled: bool) -> list[str]:
    """C: inline assembly widening `groups` groups of four input bytes (from s) into two
    words of int16 lanes each (to d): LDR, SXTB16, SXTB16 ROR 8 (two SADD16 when
    `doubled`), STRD; the loop unrolled within the code budget of the dot product."""
    u = max(d for d in range(1, STEPS_WRITTEN_MAX + 1) if groups % d == 0)
    body = []
    for _ in range(u):
        body += ["ldr %[b], [%[s]], #4", "sxtb16 %[t], %[b]", "sxtb16 %[b], %[b], ror #8"]
        if doubled:
            body += ["sadd16 %[t], %[t], %[t]", "sadd16 %[b], %[b], %[b]"]
        body.append("strd %[t], %[b], [%[d]], #8")
    if groups > u:
        body = ["1:", *body, "cmp %[d], %[e]", "bne 1b"]
    inputs = ['[e] "r"(e)'] if groups > u else []
    return ["__asm__ volatile(", *(f'    "{s}\\n\\t"' for s in body),
            '    : [s] "+r"(s), [d] "+r"(d), [b] "=&r"(b), [t] "=&r"(t)', f"    : {', '.join(inputs)}",
            '    : "cc", "memory");']


def widen_instructions(groups: int, doubled: bool) -> int:
    u = max(d for d in range(1, STEPS_WRITTEN_MAX + 1) if groups % d == 0)
    return groups * (4 + 2 * doubled) + (2 * (groups // u) if groups > u else 0)
