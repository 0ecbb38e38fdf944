"""ADD, SUB, MUL: two operands (either may be constant), NumPy-style broadcasting, a fused
activation; float32 or int8.

int8 is TFLM's arithmetic (micro/kernels/add_common.cc, sub_common.cc, mul_common.cc and
reference/integer_ops/add.h, mul.h, reference/sub.h):
- ADD/SUB rescale both inputs to a common scale 2·max(s1, s2) with 20 bits of headroom
  (left_shift = 20), add or subtract, and rescale the sum to the output. ADD computes its
  multipliers in double, SUB in float32: both are reproduced.
- MUL: (x1 - zp1)·(x2 - zp2) rescaled by one multiplier s1·s2/s_out.

The C walks the output in order with the broadcast collapsed to the fewest loops (dims
with the same broadcast pattern merged); an operand of one element is read once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar

import numpy as np

from toolkit import quantization as Q
from toolkit.codegen.context import int_literal
from toolkit.ir import Tensor
from toolkit.ops.base import Op, float_range, fused_activation, require_dtype, require_per_tensor

MAX_RANK = 8  # TFLM's broadcast loop (reference/broadcast_loop.h, kMaxRank)
LEFT_SHIFT = 20  # ADD/SUB headroom for int8 (CalculateOpDataAdd)


# -- C helpers shared with the unary ops ------------------------------------------------------


def c_pointer(tensor: Tensor, name: str, expr: str) -> str:
    """Declaration of a read pointer to an operand; constants live in flash (TM_ROM)."""
    ctype = "float" if tensor.dtype == "float32" else "int8_t"
    rom = "TM_ROM " if tensor.is_constant else ""
    return f"const {rom}{ctype} *{name} = {expr};"


def plus(value: int) -> str:
    """' + v', ' - |v|' or nothing, for adding an integer literal."""
    return f" + {value}" if value > 0 else f" - {-value}" if value < 0 else ""


def clamp_int(var: str, lo: int, hi: int) -> str:
    return f"{var} = {var} < {lo} ? {lo} : ({var} > {hi} ? {hi} : {var});"


def broadcast_plan(out_shape: tuple[int, ...], in_shapes: list[tuple[int, ...]]) -> tuple[list[int], list[list[int]]]:
    """Loop sizes over the output (row-major) and each input's element stride per loop.

    Output dims of size 1 are dropped and neighbours with the same broadcast pattern
    merged: (1,4,4,3) + (3,) becomes two loops, 16 x 3, strides [3, 1] and [0, 1]."""
    rank = len(out_shape)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in in_shapes]
    dims: list[int] = []
    flags: list[tuple[bool, ...]] = []
    for d, n in enumerate(out_shape):
        if n == 1:
            continue
        f = tuple(p[d] == 1 for p in padded)
        if flags and flags[-1] == f:
            dims[-1] *= n
        else:
            dims.append(n)
            flags.append(f)
    if not dims:
        return [1], [[0] for _ in in_shapes]
    strides = []
    for k in range(len(in_shapes)):
        acc, s = 1, []
        for n, f in zip(reversed(dims), reversed(flags)):
            s.append(0 if f[k] else acc)
            acc *= 1 if f[k] else n
        strides.append(s[::-1])
    return dims, strides


def _index(strides: list[int]) -> str:
    terms = [f"i{l}" if s == 1 else f"i{l} * {s}" for l, s in enumerate(strides) if s]
    return " + ".join(terms) or "0"


def emit_loops(ctx, dims: list[int], in_strides: list[list[int]], body: Callable[[list[str], str], list[str]]) -> None:
    """Nested loops over the output; `body(input index exprs, output index expr)` -> lines."""
    out_strides = [int(np.prod(dims[l + 1 :])) for l in range(len(dims))]
    lines = []
    for l, n in enumerate(dims):
        lines.append("    " * l + f"for (int32_t i{l} = 0; i{l} < {int_literal(n)}; ++i{l}) {{")
    depth = len(dims)
    lines += ["    " * depth + ln for ln in body([_index(s) for s in in_strides], _index(out_strides))]
    lines += ["    " * l + "}" for l in reversed(range(depth))]
    ctx.stmts(lines)


# -- the ops ------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Binary(Op):
    activation: str = "NONE"

    # Element i of the output reads element i of inputs[0] when their shapes match (the
    # memory plan only reuses the buffer then), before writing it.
    inplace: ClassVar[bool] = True
    commutative: ClassVar[bool] = True
    symbol: ClassVar[str] = "+"

    @classmethod
    def from_tflite(cls, raw) -> "_Binary":
        if len(raw.inputs) != 2 or any(t is None for t in raw.inputs) or len(raw.outputs) != 1:
            raise raw.fail("expected two inputs and one output")
        a, b = raw.inputs
        y = raw.outputs[0]
        require_dtype(raw, y, ("float32", "int8"), "output")
        for t, role in ((a, "first input"), (b, "second input")):
            if t.dtype != y.dtype:
                raise raw.fail(f"{role} '{t.name}' is {t.dtype} but the output is {y.dtype}")
            if y.dtype == "int8":
                require_per_tensor(raw, t, role)
        if y.dtype == "int8":
            require_per_tensor(raw, y, "output")
        try:
            shape = np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
        except ValueError:
            raise raw.fail(f"input shapes {list(a.shape)} and {list(b.shape)} do not broadcast") from None
        if tuple(shape) != tuple(y.shape):
            raise raw.fail(f"inputs {list(a.shape)} and {list(b.shape)} broadcast to {list(shape)}, "
                           f"not the output's {list(y.shape)}")
        if len(y.shape) > MAX_RANK:
            raise raw.fail(f"{len(y.shape)} dimensions; TFLM broadcasts up to {MAX_RANK}")
        activation = fused_activation(raw, raw.options.scalar(0, "b")) if raw.options is not None else "NONE"
        # Exact either way round; with the full-shape variable operand first, the output
        # may be computed in place over it.
        full = [not t.is_constant and tuple(t.shape) == tuple(y.shape) for t in (a, b)]
        if cls.commutative and full[1] and not full[0]:
            a, b = b, a
        op = cls(inputs=[a, b], outputs=[y], activation=activation)
        if y.dtype == "int8":
            op.check_int8(raw)
        return op

    def describe(self) -> str:
        act = "" if self.activation == "NONE" else f" {self.activation}"
        return super().describe() + act

    # -- int8 ---------------------------------------------------------------------------

    def check_int8(self, raw) -> None:
        for t in self.inputs:
            if not Q.INT8_MIN <= t.zero_point <= Q.INT8_MAX:
                raise raw.fail(f"input '{t.name}' has zero point {t.zero_point}, outside int8")

    def act_range(self) -> tuple[int, int]:
        return Q.activation_range_int8(self.activation, self.output.scale, self.output.zero_point)

    def int8_raw(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Output before the zero point and the clamp, from int64 inputs."""
        raise NotImplementedError

    def reference(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        shape = self.output.shape
        a, b = np.asarray(a).reshape(self.inputs[0].shape), np.asarray(b).reshape(self.inputs[1].shape)
        if self.output.dtype == "float32":
            v = self.float_op(a.astype(np.float32), b.astype(np.float32)).astype(np.float32)
            if self.activation != "NONE":  # NONE: no clamp (TFLite clamps ±inf to ±FLT_MAX)
                low, high = float_range(self.activation)
                v = np.minimum(np.maximum(v, np.float32(low)), np.float32(high))
            return np.broadcast_to(v, shape).astype(np.float32)
        lo, hi = self.act_range()
        v = self.int8_raw(a.astype(np.int64), b.astype(np.int64)) + self.output.zero_point
        return np.broadcast_to(np.clip(v, lo, hi), shape).astype(np.int8)

    def float_op(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    # -- C --------------------------------------------------------------------------------

    def emit_c(self, ctx, srcs: list[str], dst: str) -> None:
        dims, strides = broadcast_plan(self.output.shape, [t.shape for t in self.inputs])
        ctype = "float" if self.output.dtype == "float32" else "int8_t"
        ctx.stmt("{")
        ctx.stmts(["    " + c_pointer(t, f"x{k}", s) for k, (t, s) in enumerate(zip(self.inputs, srcs))])
        ctx.stmt(f"    {ctype} *y = {dst};")
        # An operand of one element is read (and, for int8, rescaled) once.
        single = [t.size == 1 for t in self.inputs]
        pre, terms = self.c_terms(ctx, [f"x{k}[0]" for k in range(2)], single)
        ctx.stmts(["    " + ln for ln in pre])
        def body(ix: list[str], iy: str) -> list[str]:
            return self.c_body(ctx, [f"x{k}[{ix[k]}]" for k in range(2)], terms, f"y[{iy}]")

        with ctx.capture() as loop:
            emit_loops(ctx, dims, strides, body)
        ctx.stmts(["    " + ln for ln in loop])
        ctx.stmt("}")

    def c_terms(self, ctx, scalars: list[str], single: list[bool]) -> tuple[list[str], list[str | None]]:
        """Statements before the loop and, per operand, the name of its hoisted term (or None)."""
        pre, terms = [], []
        for k in range(2):
            terms.append(f"t{k}" if single[k] else None)
            if single[k]:
                pre.append(f"const float t{k} = {scalars[k]};" if self.output.dtype == "float32"
                           else f"const int32_t t{k} = {self.c_term_int8(ctx, k, scalars[k])};")
        return pre, terms

    def c_term_int8(self, ctx, k: int, value: str) -> str:
        """The part of the int8 arithmetic that depends on operand k alone."""
        raise NotImplementedError

    def c_body(self, ctx, values: list[str], terms: list[str | None], out: str) -> list[str]:
        if self.output.dtype == "float32":
            a, b = (terms[k] or values[k] for k in range(2))
            lines = [f"float v = {a} {self.symbol} {b};"]
            if self.activation != "NONE":
                low, high = float_range(self.activation)
                lo, hi = ctx.float_literal(low), ctx.float_literal(high)
                lines += [f"v = v < {lo} ? {lo} : v;", f"v = {hi} < v ? {hi} : v;"]
            return lines + [f"{out} = v;"]
        lo, hi = self.act_range()
        return self.c_int8(ctx, values, terms) + [clamp_int("v", lo, hi), f"{out} = (int8_t)v;"]

    def c_int8(self, ctx, values: list[str], terms: list[str | None]) -> list[str]:
        raise NotImplementedError


@dataclass(eq=False)
class Add(_Binary):
    kind: ClassVar[str] = "ADD"

    def int8_params(self) -> dict[str, int]:
        """CalculateOpDataAdd: the multipliers in double."""
        s1, s2, so = (float(t.quant.scale[0]) for t in (*self.inputs, self.output))
        twice_max = 2.0 * max(s1, s2)
        return self._quantized(s1 / twice_max, s2 / twice_max, twice_max / ((1 << LEFT_SHIFT) * so))

    def _quantized(self, r1: float, r2: float, ro: float) -> dict[str, int]:
        p: dict[str, int] = {}
        for key, real in (("1", r1), ("2", r2), ("o", ro)):
            p["m" + key], p["s" + key] = Q.quantize_multiplier(real)
        return p

    def check_int8(self, raw) -> None:
        super().check_int8(raw)
        p = self.int8_params()
        if max(p["s1"], p["s2"], p["so"]) > 0:  # QuantizeMultiplierSmallerThanOneExp's check
            raise raw.fail(f"output scale {self.output.scale:g} is too small for the input scales "
                           f"(the output multiplier must be below 1, as TFLM checks)")

    def int8_raw(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        p = self.int8_params()
        x1 = Q.multiply_by_quantized_multiplier((a - self.inputs[0].zero_point) << LEFT_SHIFT, p["m1"], p["s1"])
        x2 = Q.multiply_by_quantized_multiplier((b - self.inputs[1].zero_point) << LEFT_SHIFT, p["m2"], p["s2"])
        return Q.multiply_by_quantized_multiplier(self.combine(x1, x2), p["mo"], p["so"])

    def combine(self, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        return x1 + x2

    def _scaled(self, fn: str, k: int, value: str) -> str:
        p = self.int8_params()
        zp = self.inputs[k].zero_point
        return f"{fn}(((int32_t){value}{plus(-zp)}) * (int32_t)1048576, {p['m' + str(k + 1)]}, {p['s' + str(k + 1)]})"

    def c_term_int8(self, ctx, k, value):
        return self._scaled(ctx.kernel("requant"), k, value)

    def c_int8(self, ctx, values, terms):
        fn = ctx.kernel("requant")
        p = self.int8_params()
        a, b = (terms[k] or self._scaled(fn, k, values[k]) for k in range(2))
        return [f"int32_t v = {fn}({a} {self.symbol} {b}, {p['mo']}, {p['so']}){plus(self.output.zero_point)};"]


@dataclass(eq=False)
class Sub(Add):
    kind: ClassVar[str] = "SUB"
    commutative: ClassVar[bool] = False
    symbol: ClassVar[str] = "-"

    def int8_params(self) -> dict[str, int]:
        """CalculateOpDataSub: unlike ADD, the multipliers are computed in float32."""
        s1, s2, so = (np.float32(t.quant.scale[0]) for t in (*self.inputs, self.output))
        twice_max = np.float32(2) * max(s1, s2)
        ro = twice_max / (np.float32(1 << LEFT_SHIFT) * so)
        return self._quantized(float(s1 / twice_max), float(s2 / twice_max), float(ro))

    def combine(self, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        return x1 - x2

    def float_op(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a - b


@dataclass(eq=False)
class Mul(_Binary):
    kind: ClassVar[str] = "MUL"
    symbol: ClassVar[str] = "*"

    def int8_params(self) -> tuple[int, int]:
        """CalculateOpDataMul: s1·s2/s_out in double."""
        s1, s2, so = (float(t.quant.scale[0]) for t in (*self.inputs, self.output))
        return Q.quantize_multiplier(s1 * s2 / so)

    def float_op(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a * b

    @property
    def macs(self) -> int:
        return self.output.size

    def int8_raw(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        mult, shift = self.int8_params()
        prod = (a - self.inputs[0].zero_point) * (b - self.inputs[1].zero_point)
        return Q.multiply_by_quantized_multiplier(prod, mult, shift)

    def c_term_int8(self, ctx, k, value):
        return f"(int32_t){value}{plus(-self.inputs[k].zero_point)}"

    def c_int8(self, ctx, values, terms):
        fn = ctx.kernel("requant")
        mult, shift = self.int8_params()
        a, b = (terms[k] or f"({self.c_term_int8(ctx, k, values[k])})" for k in range(2))
        return [f"int32_t v = {fn}({a} * {b}, {mult}, {shift}){plus(self.output.zero_point)};"]
