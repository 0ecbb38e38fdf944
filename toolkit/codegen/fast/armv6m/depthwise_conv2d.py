"""DEPTHWISE_CONV_2D, int8, channel multiplier 1, on ARMv6-M (Cortex-M0/M0+, RP2040).

One channel at a time:
- its plane is copied into arena scratch as biased bytes x ^ 0x80 inside a border of the
  input zero point (biased, written once per layer: padding adds what the folded bias
  expects, as TFLite's skipped taps), its weights into scratch as int32 (LDR with an
  immediate offset loads a signed weight), and its requantization constants (the digits
  of m, r, K: requant.py) into locals;
- per output row, generated assembly computes four outputs per pass (r8-r11): per tap one
  LDR of the weight, then per output LDRB, MULS, ADD: 13 instructions for 4 MACs. The
  raw sums Σ x_b·w = Σ x·w + 128·Σ w are corrected by the channel's constant
  (folded bias - 128·Σ w) and requantized in C. Rows are padded to whole passes (extra
  outputs computed from the border, not stored).
Any filter of at most 32 taps, strides and SAME/VALID padding. Not taken: multipliers,
dilation, bounds that fail the 32-bit requantization (requant.conv_plan).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from toolkit.codegen.fast import FAMILIES, FastPath, register
from toolkit.codegen.fast.armv6m.requant import channel_setup, conv_plan, output_requant
from toolkit.ops.conv2d import indent_c

if TYPE_CHECKING:
    from toolkit.codegen.context import CContext

GUARD = FAMILIES["armv6m"]
PASS = 4  # outputs per pass


@dataclass(frozen=True)
class Plane:
    in_h: int
    in_w: int
    ch: int
    k_h: int
    k_w: int
    stride_h: int
    stride_w: int
    pad_top: int
    pad_left: int
    out_h: int
    out_w: int

    @property
    def passes(self) -> int:
        return -(-self.out_w // PASS)

    @property
    def rows(self) -> int:
        return (self.out_h - 1) * self.stride_h + self.k_h

    @property
    def cols(self) -> int:
        """Columns the passes read, rounded so that `movs`/`lsls` build the row stride."""
        n = (self.passes * PASS - 1) * self.stride_w + self.k_w
        k = 0
        while -(-n >> k) > 255:
            k += 1
        return -(-n >> k) << k

    @property
    def plane_bytes(self) -> int:
        return -(-self.rows * self.cols // 4) * 4

    def copied(self) -> tuple[range, range]:
        rows = range(max(0, -self.pad_top), min(self.in_h, self.rows - self.pad_top))
        cols = range(max(0, -self.pad_left), min(self.in_w, self.cols - self.pad_left))
        return rows, cols


def geometry(op: Any, transposed: bool | None = None) -> Plane:
    """The plane, transposed (passes down the columns) when that wastes fewer outputs on
    padding passes (the KWS maps are 25 high, 5 wide)."""
    _, ih, iw, ch = op.input.shape
    _, oh, ow, _ = op.output.shape
    r, c = op.rows, op.cols
    g = Plane(ih, iw, ch, r.filter_size, c.filter_size, r.stride, c.stride, r.pad_before, c.pad_before, oh, ow)
    t = Plane(iw, ih, ch, c.filter_size, r.filter_size, c.stride, r.stride, c.pad_before, r.pad_before, ow, oh)
    if transposed is None:
        transposed = _fits(t) and (not _fits(g) or t.out_h * t.passes * PASS < g.out_h * g.passes * PASS)
    return t if transposed else g


def _fits(g: Plane) -> bool:
    """LDRB's immediate offsets reach the pass's taps; its advance is an immediate."""
    return (g.k_w - 1) + (PASS - 1) * g.stride_w <= 31 and PASS * g.stride_w <= 255


def is_transposed(op: Any, g: Plane) -> bool:
    return g.in_h != op.input.shape[1] or (g.k_h, g.stride_h, g.pad_top) != (op.rows.filter_size, op.rows.stride,
                                                                             op.rows.pad_before)


def _applicable(op: Any, ctx: "CContext") -> bool:
    if (op.kind != "DEPTHWISE_CONV_2D" or op.input.dtype != "int8" or op.multiplier != 1
            or op.rows.dilation != 1 or op.cols.dilation != 1 or op.taps > 32):
        return False
    return _fits(geometry(op)) and conv_plan(op) is not None


def scratch_bytes(op: Any) -> int:
    if not _applicable(op, None):  # type: ignore[arg-type]
        return 0
    g = geometry(op)
    return g.plane_bytes + 4 * op.taps + 4 * PASS * g.passes


def _cost(op: Any, ctx: "CContext") -> float:
    g = geometry(op)
    per_pass = op.taps * 13 + (g.k_h - 1) + 16
    return float(g.ch * (g.out_h * (g.passes * per_pass + 10) + g.out_h * g.out_w * 35 + 5 * g.rows * g.cols))


def _const(value: int, reg: str) -> list[str]:
    k = 0
    while value >> k > 255 or (value >> k) << k != value:
        k += 1
    return [f"movs {reg}, #{value >> k}", *([f"lsls {reg}, {reg}, #{k}"] if k else [])]


def row_function(g: Plane) -> str:
    """C text of `{name}(plane_row, weights, accs, accs_end)`: raw sums of one output row."""
    body = [".syntax unified", "push {r4-r7, lr}", "mov r4, r8", "mov r5, r9", "mov r6, r10", "mov r7, r11",
            "push {r4-r7}", "mov r12, r3", "mov r7, r2", *_const(g.cols, "r5"), "1:"]
    for ky in range(g.k_h):
        base = "r0" if ky == 0 else "r4"
        if ky == 1:
            body.append("adds r4, r0, r5")
        elif ky > 1:
            body.append("adds r4, r4, r5")
        for kx in range(g.k_w):
            t = ky * g.k_w + kx
            body.append(f"ldr r3, [r1, #{4 * t}]")
            for j in range(PASS):
                body += [f"ldrb r2, [{base}, #{kx + j * g.stride_w}]", "muls r2, r3, r2",
                         f"mov r{8 + j}, r2" if t == 0 else f"add r{8 + j}, r{8 + j}, r2"]
    for j in range(PASS):
        body += [f"mov r2, r{8 + j}", f"str r2, [r7, #{4 * j}]"]
    body += [f"adds r7, #{4 * PASS}", f"adds r0, #{PASS * g.stride_w}", "cmp r7, r12", "beq 2f", "b 1b", "2:",
             "pop {r4-r7}", "mov r8, r4", "mov r9, r5", "mov r10, r6", "mov r11, r7", "pop {r4-r7, pc}"]
    asm = "\n".join(f'    "{s}\\n"' for s in body)
    return (f"/* One output row of a {g.k_h}x{g.k_w} depthwise layer, {PASS} outputs per pass "
            "(generated: toolkit/codegen/fast/armv6m/depthwise_conv2d.py). */\n"
            "static void __attribute__((naked, noinline)) {name}(const uint8_t *row __attribute__((unused)), "
            "const int32_t *w __attribute__((unused)), int32_t *acc __attribute__((unused)), "
            "const int32_t *acc_end __attribute__((unused)))\n"
            f"{{\n    __asm__ volatile(\n{asm});\n}}\n")


def _emit(op: Any, ctx: "CContext", srcs: list[str], dst: str) -> None:
    g = geometry(op)
    plan = conv_plan(op)
    assert plan is not None, "emitted without being applicable"
    rows, cols = g.copied()
    fn = ctx.function("dwrow6m", row_function(g), GUARD)
    weights = op.filter_rows()  # [channel][ky][kx]
    t = is_transposed(op, g)
    taps = weights.reshape(-1, op.rows.filter_size, op.cols.filter_size)
    w = ctx.const_array("w6m", "int8_t", taps.transpose(0, 2, 1) if t else taps, path="armv6m")
    iw, ow = op.input.shape[2], op.output.shape[2]
    in_a, in_b = (g.ch, iw * g.ch) if t else (iw * g.ch, g.ch)  # input steps along the plane's rows, columns
    out_a, out_b = (g.ch, ow * g.ch) if t else (ow * g.ch, g.ch)
    corrected = np.asarray(op.int8_params()["folded"], np.int64) - 128 * weights.astype(np.int64).sum(axis=1)
    bias = ctx.const_array("b6m", "int32_t", ((corrected + 2**31) % 2**32) - 2**31, path="armv6m")
    setup = []
    if not plan.per_tensor:
        mult = ctx.const_array("mult", "int32_t", plan.mult, path="armv6m")
        shift = ctx.const_array("shift", "int8_t", plan.shift, path="armv6m")
        setup = channel_setup(plan, f"{mult}[c]", f"{shift}[c]")
    zpb = (op.input.zero_point + 128) & 255
    first = (rows.start + g.pad_top) * g.cols + cols.start + g.pad_left
    copy = [f"for (int32_t i = 0; i < {len(rows)}; ++i) {{",
            f"    const uint8_t *s = (const uint8_t *)x + c + (i + {rows.start}) * {in_a} + {cols.start * in_b};",
            f"    uint8_t *d = plane + {first} + i * {g.cols};",
            f"    for (int32_t j = 0; j < {len(cols)}; ++j, s += {in_b}) d[j] = (uint8_t)(*s ^ 0x80u);", "}"]
    out_row = [f"{fn}(plane + oy * {g.stride_h * g.cols}, wb, accs, accs + {PASS * g.passes});",
               f"int8_t *yp = y + oy * {out_a} + c;",
               f"for (int32_t ox = 0; ox < {g.out_w}; ++ox, yp += {out_b}) {{",
               "    const int32_t acc = (int32_t)((uint32_t)accs[ox] + (uint32_t)b);",
               *indent_c(output_requant(plan, "acc")), "    *yp = (int8_t)v;", "}"]
    channel = [f"for (int32_t k = 0; k < {op.taps}; ++k) wb[k] = {w}[c * {op.taps} + k];",
               f"const int32_t b = {bias}[c];", *setup, *copy,
               f"for (int32_t oy = 0; oy < {g.out_h}; ++oy) {{", *indent_c(out_row), "}"]
    lines = [f"const int8_t *x = {srcs[0]};", f"int8_t *y = {dst};",
             f"uint8_t *plane = (uint8_t *){ctx.scratch};",
             f"int32_t *wb = (int32_t *)(void *)(plane + {g.plane_bytes});",
             f"int32_t *accs = wb + {op.taps};",
             f"for (int32_t i = 0; i < {g.plane_bytes}; ++i) plane[i] = {zpb};",
             f"for (int32_t c = 0; c < {g.ch}; ++c) {{", *indent_c(channel), "}"]
    ctx.stmts(["{", *indent_c(lines), "}"])
    ctx.notes.append(f"M0/M0+: channel plane as biased bytes ({g.rows}x{g.cols}{', transposed' if t else ''}), "
                     f"{PASS} outputs per pass, "
                     f"assembly {fn}")


PATH = register(FastPath("DEPTHWISE_CONV_2D", "armv6m", "channel planes of biased bytes, 4 outputs per pass",
                         _applicable, _cost, _emit, scratch_bytes))
