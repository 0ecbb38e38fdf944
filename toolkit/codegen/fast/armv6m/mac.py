"""The multiply-accumulate kernel the ARMv6-M CONV_2D and FULLY_CONNECTED paths share.

A window (an im2col column, or a dense layer's input) of n int8 values x is copied into
arena scratch as bytes x_b = x + 128 (x ^ 0x80), zero-padded to n_pad, with their sum S.
The weights are stored in flash as w_b = w + 128 (uint8), four rows interleaved per tap
(padding taps and rows 0). The generated assembly (one function per geometry) then runs,
per block of four rows, per tap: one LDRB of x_b, four LDRBs of weights (immediate
offsets from one pointer), four MULS and four ADDs into r8-r11: 13 instructions for 4
multiply-accumulates, eight taps per loop iteration. Every product is at most 255·255,
so the raw sum R = Σ x_b·w_b cannot overflow (n_pad·65025 < 2^31), and

    Σ x·w = R - 128·S - 128·Σ w        (Σ x_b·w_b = Σ x_b·w + 128·S,  Σ x_b·w = Σ x·w + 128·Σ w)

so each row's accumulator is R + B_c - 128·S with B_c = folded bias - 128·Σ w (int32
wrap-around: the true accumulator fits int32, so arithmetic modulo 2^32 gives it).
"""

from __future__ import annotations

import numpy as np

ROWS = 4  # rows per block (accumulators r8-r11)
UNROLL = 8  # taps per loop iteration: LDRB's immediate offsets reach 31 = 4·8 - 1
N_MAX = 33_000  # n_pad·255·255 < 2^31


def padded(n: int) -> int:
    """Taps rounded up so that the loop runs whole iterations and `movs`/`lsls` build n_pad."""
    n_pad = -(-n // UNROLL) * UNROLL
    k = 3
    while n_pad >> k > 255:
        k += 1
        n_pad = -(-n_pad >> k) << k
    return n_pad


def _end_c(n_pad: int) -> list[str]:
    """r7 = r0 + n_pad with Thumb-1 immediates (n_pad = q·2^k, q <= 255)."""
    k = 0
    while n_pad >> k > 255:
        k += 1
    lines = [f"movs r7, #{n_pad >> k}"]
    if k:
        lines.append(f"lsls r7, r7, #{k}")
    return [*lines, "add r7, r7, r0"]


def blocks(out_n: int) -> int:
    return -(-out_n // ROWS)


def stream(rows: np.ndarray) -> np.ndarray:
    """uint8 [blocks, n_pad, 4]: w + 128, rows interleaved per tap, padding 0."""
    out_n, n = rows.shape
    n_pad = padded(n)
    w = np.zeros((blocks(out_n) * ROWS, n_pad), np.int64)
    w[:out_n, :n] = rows.astype(np.int64) + 128
    return np.ascontiguousarray(w.reshape(-1, ROWS, n_pad).transpose(0, 2, 1)).reshape(-1).astype(np.uint8)


def corrected_bias(rows: np.ndarray, folded: np.ndarray) -> np.ndarray:
    """B_c = folded bias - 128·Σ w (int32 wrap-around)."""
    b = np.asarray(folded, np.int64) - 128 * rows.astype(np.int64).sum(axis=1)
    return ((b + 2**31) % 2**32) - 2**31


def applicable(n: int) -> bool:
    return 0 < padded(n) <= N_MAX


def dot_function(n: int) -> str:
    """C text of `{name}(col, w, acc, w_end)`: acc[4·b + j] = Σ_t col[t]·w[b][t][j] for
    every block b up to w_end (generated assembly; naked: the arguments are r0-r3)."""
    n_pad = padded(n)
    body = [".syntax unified", "push {r4-r7, lr}", "mov r4, r8", "mov r5, r9", "mov r6, r10", "mov r7, r11",
            "push {r4-r7}",
            "push {r2}", "mov r12, r0", "mov lr, r3", *_end_c(n_pad), "2:", "movs r2, #0", "mov r8, r2",
            "mov r9, r2", "mov r10, r2", "mov r11, r2", "mov r0, r12", "1:"]
    for k in range(UNROLL):
        body += [f"ldrb r2, [r0, #{k}]", *(f"ldrb r{3 + j}, [r1, #{4 * k + j}]" for j in range(ROWS))]
        for j in range(ROWS):
            body += [f"muls r{3 + j}, r2, r{3 + j}", f"add r{8 + j}, r{8 + j}, r{3 + j}"]
    body += [f"adds r0, #{UNROLL}", f"adds r1, #{4 * UNROLL}", "cmp r0, r7", "bne 1b", "ldr r3, [sp]"]
    for j in range(ROWS):
        body += [f"mov r2, r{8 + j}", f"str r2, [r3, #{4 * j}]"]
    body += ["adds r3, #16", "str r3, [sp]", "cmp r1, lr", "beq 3f", "b 2b", "3:", "add sp, #4", "pop {r4-r7}",
             "mov r8, r4", "mov r9, r5", "mov r10, r6", "mov r11, r7", "pop {r4-r7, pc}"]
    asm = "\n".join(f'    "{s}\\n"' for s in body)
    return (f"/* Four rows per block, {n_pad} biased taps (generated: toolkit/codegen/fast/armv6m/mac.py). */\n"
            "static void __attribute__((naked, noinline)) {name}(const uint8_t *col __attribute__((unused)), "
            "const TM_ROM uint8_t *w __attribute__((unused)), int32_t *acc __attribute__((unused)), "
            "const TM_ROM uint8_t *w_end __attribute__((unused)))\n"
            f"{{\n    __asm__ volatile(\n{asm});\n}}\n")


def copy_c(src: str, size: int, words: bool) -> list[str]:
    """C copying `size` bytes from `src` to `c` (uint8_t *, advanced) as x ^ 0x80 and
    summing them into `s` (uint32_t). `words`: `src` is word-aligned and size a multiple
    of 4: LDR, EOR, STR and a SWAR sum into `s` and `s2` (16-bit lanes; see FOLD)."""
    if words:
        return ["{", f"    const uint32_t *p = (const uint32_t *)(const void *)({src});",
                f"    for (int32_t i = 0; i < {size // 4}; ++i) {{",
                "        const uint32_t v = p[i] ^ 0x80808080u;",
                "        ((uint32_t *)(void *)c)[i] = v;",
                "        s += v & 0x00FF00FFu;", "        s2 += (v >> 8) & 0x00FF00FFu;", "    }",
                f"    c += {size};", "}"]
    return ["{", f"    const uint8_t *p = (const uint8_t *)({src});",
            f"    for (int32_t i = 0; i < {size}; ++i) {{",
            "        const uint32_t v = p[i] ^ 0x80u;", "        c[i] = (uint8_t)v;", "        s += v;", "    }",
            f"    c += {size};", "}"]


FOLD = "s = (s & 0xFFFFu) + (s >> 16) + (s2 & 0xFFFFu) + (s2 >> 16);"  # the SWAR lanes added up


def zero_tail(n: int) -> list[str]:
    tail = padded(n) - n
    return [f"for (int32_t i = 0; i < {tail}; ++i) c[i] = 0;"] if tail else []


def word_sum_fits(n: int) -> bool:
    """The SWAR sum's 16-bit lanes hold 255 per word: at most 257 words."""
    return n // 4 <= 257


def blocks_c(fn: str, w: str, n: int, out_n: int, width: int, row: list[str]) -> list[str]:
    """C running `fn` on up to GROUP blocks of four rows at a time (their accumulators in
    scratch: not one per row, as the arena is planned for every core) and `row` (the
    statements of output `o`, reading accs[j]) after each call; `q` walks the rows'
    records of `width` words."""
    per_call = ROWS * min(blocks(out_n), GROUP)
    step, total = per_call * padded(n), blocks(out_n) * ROWS * padded(n)
    count = str(per_call) if out_n % per_call == 0 else f"({out_n} - o0 < {per_call} ? {out_n} - o0 : {per_call})"
    end = "wp + " + (str(step) if total % step == 0 else f"({w} + {total} - wp < {step} ? {w} + {total} - wp : {step})")
    return [f"const TM_ROM uint8_t *wp = {w};",
            f"for (int32_t o0 = 0; o0 < {out_n}; o0 += {per_call}, wp += {step}) {{",
            f"    {fn}(col, wp, accs, {end});",
            f"    for (int32_t j = 0, o = o0; j < {count}; ++j, ++o, q += {width}) {{",
            *("        " + s for s in row), "    }", "}"]


GROUP = 4  # blocks per call of the assembly


def scratch_accs(out_n: int) -> int:
    return 4 * ROWS * min(blocks(out_n), GROUP)
