"""CONCATENATION of up to 10 tensors along any axis, float32 or int8.

TFLM's kernel (micro/kernels/concatenation.cc) copies bytes: it refuses int8 inputs
whose scale or zero point differs from the output's (no requantization), a fused
activation other than NONE, and more than 10 inputs. We refuse the same. Inputs may
be constant (emitted as flash arrays).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import ClassVar

import numpy as np

from toolkit.ops.base import Op, fused_activation, require_dtype, require_per_tensor
from toolkit.ops.pool2d import c_index

_AXIS, _ACTIVATION = 0, 1  # ConcatenationOptions fields
MAX_INPUTS = 10  # TFLM's kMaxInputNum


@dataclass(eq=False)
class Concatenation(Op):
    axis: int = 0  # normalized: 0 <= axis < rank

    kind: ClassVar[str] = "CONCATENATION"

    @classmethod
    def from_tflite(cls, raw) -> "Concatenation":
        if len(raw.outputs) != 1 or not raw.inputs or any(t is None for t in raw.inputs):
            raise raw.fail("expected one or more inputs and one output")
        xs, y = list(raw.inputs), raw.outputs[0]
        if len(xs) > MAX_INPUTS:
            raise raw.fail(f"{len(xs)} inputs; TFLM supports at most {MAX_INPUTS}")
        opts = raw.options
        given = opts.scalar(_AXIS, "i") if opts is not None else 0
        activation = fused_activation(raw, opts.scalar(_ACTIVATION, "b")) if opts is not None else "NONE"
        if activation != "NONE":
            raise raw.fail(f"fused activation {activation}; TFLM supports only NONE")
        rank = len(y.shape)
        axis = given + rank if given < 0 else given
        if not 0 <= axis < rank:
            raise raw.fail(f"axis {given} of a {rank}-D output")
        for k, x in enumerate(xs):
            same = len(x.shape) == rank and all(x.shape[j] == y.shape[j] for j in range(rank) if j != axis)
            if not same:
                raise raw.fail(f"input {k} '{x.name}' {list(x.shape)} does not fit output {list(y.shape)} "
                               f"on axis {axis}")
        if sum(x.shape[axis] for x in xs) != y.shape[axis]:
            raise raw.fail(f"inputs {[list(x.shape) for x in xs]} do not add up to output {list(y.shape)} "
                           f"on axis {axis}")
        require_dtype(raw, y, ("float32", "int8"), "output")
        for k, x in enumerate(xs):
            require_dtype(raw, x, (y.dtype,), f"input {k}")
        if y.dtype == "int8":
            require_per_tensor(raw, y, "output")
            for k, x in enumerate(xs):
                require_per_tensor(raw, x, f"input {k}")
                if float(x.scale) != float(y.scale) or x.zero_point != y.zero_point:
                    raise raw.fail(f"input {k} '{x.name}' has scale {x.scale:.9g}, zero point {x.zero_point}; "
                                   f"the output has scale {y.scale:.9g}, zero point {y.zero_point}; "
                                   "TFLM requires them equal (it does not requantize)")
        return cls(inputs=xs, outputs=[y], axis=axis)

    def describe(self) -> str:
        shapes = " + ".join(str(list(t.shape)) for t in self.inputs)
        return f"{self.kind} axis {self.axis} {shapes} -> {list(self.output.shape)} ({self.output.dtype})"

    # -- numpy reference ------------------------------------------------------------

    def reference(self, *xs: np.ndarray) -> np.ndarray:
        parts = [np.asarray(x).reshape(t.shape) for x, t in zip(xs, self.inputs)]
        return np.concatenate(parts, axis=self.axis).astype(self.output.dtype)

    # -- C --------------------------------------------------------------------------

    def emit_c(self, ctx, srcs: list[str], dst: str) -> None:
        out = self.output.shape
        outer = prod(out[: self.axis])
        inner = prod(out[self.axis + 1 :])
        row = out[self.axis] * inner  # output elements per outer index
        ctype = "int8_t" if self.output.dtype == "int8" else "float"
        lines = ["{", f"    {ctype} *y = {dst};"]
        for k, (t, src) in enumerate(zip(self.inputs, srcs)):
            rom = " TM_ROM" if t.is_constant else ""  # flash on AVR: read through a __flash pointer
            lines.append(f"    const{rom} {ctype} *x{k} = {src};")
        body, at = [], 0  # (input, first output element of its slice, its length) per outer index
        for k, t in enumerate(self.inputs):
            n = t.shape[self.axis] * inner
            body.append((k, f"y[{at} + i]" if at else "y[i]", n, at + n))
            at += n
        if outer == 1:
            for k, dst_i, n, end in body:
                lines.append(f"    for ({c_index(end + 1)} i = 0; i < {n}; ++i) {dst_i} = x{k}[i];")
        else:
            big = c_index(self.output.size + 1)
            lines.append(f"    for ({big} o = 0; o < {outer}; ++o, y += {row}) {{")
            for k, dst_i, n, end in body:
                lines.append(f"        for ({c_index(end + 1)} i = 0; i < {n}; ++i) {dst_i} = *x{k}++;")
            lines.append("    }")
        lines.append("}")
        ctx.stmts(lines)
