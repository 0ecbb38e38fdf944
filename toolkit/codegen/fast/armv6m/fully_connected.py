"""FULLY_CONNECTED, int8, on ARMv6-M (Cortex-M0/M0+, RP2040): the input copied once into
arena scratch as biased bytes, four rows per pass of the multiply-accumulate assembly
(mac.py: 13 instructions per 4 MACs), then per row the correction and the portable C's
requantization (32-bit multiplies, identity 8 of docs/codegen.md). The weights stay one
byte each (w + 128, four rows interleaved). Not taken: batches, layers whose bounds fail
the integer plan (fc_plan.py: the general kernel), inputs over mac.N_MAX values, layers
where the portable C is estimated faster (few or short rows) or the sparse policy
encodes pruned weights (the portable sparse rows).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolkit.codegen.fast import FAMILIES, FastPath, register
from toolkit.codegen.fast.armv6m import mac
from toolkit.codegen.fast.armv6m.requant import narrow, output_requant, record_c, records
from toolkit.codegen.fc_plan import Int8Plan, plan_int8
from toolkit.codegen.fc_portable import UNROLL_PORTABLE_MAX
from toolkit.codegen.sparse import choose_portable
from toolkit.ops.conv2d import indent_c

if TYPE_CHECKING:
    from toolkit.codegen.context import CContext

GUARD = FAMILIES["armv6m"]


def _plan(op: Any, sparse: str = "auto") -> Int8Plan | None:
    if op.kind != "FULLY_CONNECTED" or op.input.dtype != "int8":
        return None
    plan = narrow(plan_int8(op))
    # fewer inputs than a loop iteration's taps: mostly padding (and the portable C writes them out)
    if plan is None or plan.in_n < mac.UNROLL or not mac.applicable(plan.in_n):
        return None
    if _estimate(plan) >= _portable_estimate(plan):
        return None
    # pruned weights the sparse policy encodes: the portable sparse rows skip the zeros
    return plan if choose_portable(plan, sparse) == "dense" else None


def _estimate(plan: Int8Plan) -> float:
    """Instructions: the passes, the input copy, about 25 per row for the requantization."""
    passes = mac.blocks(plan.out_n) * (mac.padded(plan.in_n) // mac.UNROLL * 108 + 25)
    return passes + 3 * plan.in_n + 25 * plan.out_n + 20


def _portable_estimate(plan: Int8Plan) -> float:
    """The portable C's: a MAC in about 4 instructions in rows written out (up to
    UNROLL_PORTABLE_MAX inputs), 7 in its loop; per-channel digits extracted per row. It
    wins on short or few rows (the hello-world model's layers), where passes would be mostly padding."""
    per_mac = 4 if plan.in_n <= UNROLL_PORTABLE_MAX else 7
    return plan.out_n * (per_mac * plan.in_n + (25 if plan.per_tensor else 50))


def _applicable(op: Any, ctx: "CContext") -> bool:
    return _plan(op, ctx.sparse) is not None


def scratch_bytes(op: Any) -> int:
    plan = _plan(op)
    return 0 if plan is None else mac.scratch_accs(plan.out_n) + mac.padded(plan.in_n)


def _cost(op: Any, ctx: "CContext") -> float:
    plan = _plan(op)
    return float("inf") if plan is None else float(_estimate(plan))


def _emit(op: Any, ctx: "CContext", srcs: list[str], dst: str) -> None:
    plan = _plan(op, ctx.sparse)
    assert plan is not None, "emitted without being applicable"
    n, out_n = plan.in_n, plan.out_n
    words = ctx.src_aligned and n % 4 == 0 and mac.word_sum_fits(n)
    fn = ctx.function("dot6m", mac.dot_function(n), GUARD)
    w = ctx.const_array("w6m", "uint8_t", mac.stream(plan.weights), path="armv6m")
    rec = records(plan, mac.corrected_bias(plan.weights, plan.bias))
    q = ctx.const_array("q6m", "int32_t", rec, path="armv6m")
    row = [*record_c(plan, "accs[j]"), *output_requant(plan, "acc"), "y[o] = (int8_t)v;"]
    lines = [f"const int8_t *x = {srcs[0]};", f"int8_t *y = {dst};",
             f"int32_t *accs = (int32_t *){ctx.scratch};",
             f"uint8_t *col = (uint8_t *)accs + {mac.scratch_accs(out_n)};",
             "uint32_t s = 0;", *(["uint32_t s2 = 0;"] if words else []), "uint8_t *c = col;",
             *mac.copy_c("x", n, words), *([mac.FOLD] if words else []), *mac.zero_tail(n),

             "const uint32_t sh = s << 7;", f"const TM_ROM int32_t *q = {q};",
             *mac.blocks_c(fn, w, n, out_n, rec.shape[1], row)]
    ctx.stmts(["{", *indent_c(lines), "}"])
    ctx.notes.append(f"M0/M0+: input as biased bytes, 4 rows per pass, {mac.padded(n)} taps, assembly {fn}")


PATH = register(FastPath("FULLY_CONNECTED", "armv6m", "biased bytes, 4 rows per pass, MULS into r8-r11",
                         _applicable, _cost, _emit, scratch_bytes))
