"""The multiply-accumulate kernel of the RV32 CONV_2D and FULLY_CONNECTED paths.

acc[8·b + j] = Σ_t x[t]·w[b][t][j]: per block of eight rows, per tap one LB of x and,
per row, LB of the weight, MUL, ADD (25 instructions for 8 MACs), four taps per loop
iteration. The weights are the file's int8, eight rows interleaved per tap (padding taps
and rows 0), so every load is an immediate offset from one pointer.
"""

from __future__ import annotations

import numpy as np

ROWS = 8
UNROLL = 4


def padded(n: int) -> int:
    return -(-n // UNROLL) * UNROLL


def blocks(out_n: int) -> int:
    return -(-out_n // ROWS)


def stream(rows: np.ndarray) -> np.ndarray:
    """int8 [blocks, n_pad, ROWS]: rows interleaved per tap, padding 0."""
    out_n, n = rows.shape
    n_pad = padded(n)
    w = np.zeros((blocks(out_n) * ROWS, n_pad), np.int64)
    w[:out_n, :n] = rows
    return np.ascontiguousarray(w.reshape(-1, ROWS, n_pad).transpose(0, 2, 1)).reshape(-1).astype(np.int8)


def dot_function(n: int) -> str:
    """C text of `{name}(x, w, acc, blocks)` for windows of n values (padded)."""
    n_pad = padded(n)
    accs = ", ".join(f"a{j} = 0" for j in range(ROWS))
    taps = []
    for k in range(UNROLL):
        taps.append(f"v = x[{k}];" if k else "int32_t v = x[0];")
        taps += [f"a{j} += v * w[{ROWS * k + j}];" for j in range(ROWS)]
    stores = [f"acc[{j}] = a{j};" for j in range(ROWS)]
    lines = [f"for (int32_t b = 0; b < blocks; ++b, acc += {ROWS}) {{",
             f"    int32_t {accs};",
             "    const int8_t *xp = x;",
             f"    for (int32_t i = 0; i < {n_pad // UNROLL}; ++i, xp += {UNROLL}, w += {ROWS * UNROLL}) {{",
             "        const int8_t *x = xp;", *("        " + t for t in taps), "    }",
             *("    " + s for s in stores), "}"]
    return (f"/* Eight rows per block, {n_pad} taps (generated: toolkit/codegen/fast/rv32/mac.py). */\n"
            "static void __attribute__((noinline)) {name}(const int8_t *x, const TM_ROM int8_t *w, int32_t *acc, "
            "int32_t blocks)\n"
            "{\n" + "\n".join("    " + s for s in lines) + "\n}\n")


GROUP = 4  # blocks per call: their sums in scratch (the arena is planned for every core)


def scratch_accs(out_n: int) -> int:
    return 4 * ROWS * min(blocks(out_n), GROUP)


def calls_c(fn: str, x: str, w: str, n: int, out_n: int, row: list[str]) -> list[str]:
    """C calling `fn` on up to GROUP blocks at a time, then `row` (output `o`, accs[j]) for each of their rows."""
    per_call = ROWS * min(blocks(out_n), GROUP)
    nb = blocks(out_n)
    count = str(per_call) if out_n % per_call == 0 else f"({out_n} - o0 < {per_call} ? {out_n} - o0 : {per_call})"
    left = str(min(nb, GROUP))
    if nb > GROUP and nb % GROUP:
        left = f"({nb} - o0 / {ROWS} < {GROUP} ? {nb} - o0 / {ROWS} : {GROUP})"
    return [f"const TM_ROM int8_t *wp = {w};",
            f"for (int32_t o0 = 0; o0 < {out_n}; o0 += {per_call}, wp += {per_call * padded(n)}) {{",
            f"    {fn}({x}, wp, accs, {left});",
            f"    for (int32_t j = 0, o = o0; j < {count}; ++j, ++o) {{", *("        " + s for s in row), "    }", "}"]
