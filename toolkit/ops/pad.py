"""PAD and PADV2: constant padding of a tensor of rank 1 to 5, float32 or int8.

The paddings ([rank, 2], int32: before and after each axis) must be constant, as TFLM
requires. The value is 0.0 (float PAD), the output zero point (int8 PAD) or PADV2's
constant scalar, which for int8 must share the output's scale and zero point (TFLM's
PadPrepare). Values are copied, never rescaled, so an int8 input must have the
output's quantization too.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import ClassVar

import numpy as np

from toolkit.ops.base import Op, require_dtype, require_per_tensor, require_same_quant, single_io
from toolkit.ops.pool2d import c_index

MAX_RANK = 5  # TFLite's PadKernelMaxDimensionCount


@dataclass(eq=False)
class Pad(Op):
    paddings: tuple[tuple[int, int], ...] = ()  # (before, after) per axis
    value: float | int = 0  # the padding value, in the output's type (int8: quantized)

    kind: ClassVar[str] = "PAD"
    n_inputs: ClassVar[int] = 2

    @classmethod
    def from_tflite(cls, raw) -> "Pad":
        x, y = single_io(raw, 2)
        if len(raw.inputs) != cls.n_inputs:
            raise raw.fail(f"{len(raw.inputs)} inputs; {cls.kind} takes {cls.n_inputs}")
        pads = raw.inputs[1]
        if pads is None or pads.data is None:
            raise raw.fail("the paddings input must be a constant tensor")
        if pads.dtype != "int32":
            raise raw.fail(f"paddings tensor '{pads.name}' is {pads.dtype}; TFLM reads int32")
        rank = len(x.shape)
        if not 1 <= rank <= MAX_RANK or len(y.shape) != rank:
            raise raw.fail(f"input {list(x.shape)} and output {list(y.shape)}; supported: equal ranks 1 to {MAX_RANK}")
        if pads.size != 2 * rank:
            raise raw.fail(f"paddings shape {list(pads.shape)}; a {rank}-D input needs [{rank}, 2]")
        pairs = tuple((int(a), int(b)) for a, b in np.asarray(pads.data).reshape(rank, 2))
        if any(a < 0 or b < 0 for a, b in pairs):
            raise raw.fail(f"negative paddings {[list(p) for p in pairs]}")
        want = tuple(d + a + b for d, (a, b) in zip(x.shape, pairs))
        if tuple(y.shape) != want:
            raise raw.fail(f"output shape {list(y.shape)}; paddings {[list(p) for p in pairs]} of {list(x.shape)} "
                           f"give {list(want)}")
        require_dtype(raw, x, ("float32", "int8"), "input")
        require_dtype(raw, y, (x.dtype,), "output")
        if x.dtype == "int8":
            require_per_tensor(raw, x, "input")
            require_per_tensor(raw, y, "output")
            require_same_quant(raw, x, y)
        value = cls._value(raw, x, y)
        return cls(inputs=[x], outputs=[y], paddings=pairs, value=value)

    @classmethod
    def _value(cls, raw, x, y) -> float | int:
        if x.dtype == "float32":
            return 0.0
        if not -128 <= y.zero_point <= 127:
            raise raw.fail(f"output zero point {y.zero_point} is not an int8 value")
        return y.zero_point

    def describe(self) -> str:
        pads = ", ".join(f"{a}/{b}" for a, b in self.paddings)
        return f"{self.kind} [{pads}] {list(self.input.shape)} -> {list(self.output.shape)} ({self.input.dtype})"

    # -- numpy reference ------------------------------------------------------------

    def reference(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x).reshape(self.input.shape)
        dtype = np.dtype(self.output.dtype)
        return np.pad(x, self.paddings, constant_values=dtype.type(self.value)).astype(dtype)

    # -- C --------------------------------------------------------------------------

    def emit_c(self, ctx, srcs: list[str], dst: str) -> None:
        shape, out = self.input.shape, self.output.shape
        rank = len(shape)
        ctype = "int8_t" if self.output.dtype == "int8" else "float"
        value = ctx.float_literal(self.value) if ctype == "float" else str(int(self.value))
        ostride = [prod(out[j + 1:]) for j in range(rank)]
        # The innermost padded axis m: from there on the input is one contiguous block
        # per index of the axes before m, written at a constant output stride.
        padded = [j for j, (a, b) in enumerate(self.paddings) if a or b]
        big = c_index(self.output.size + 1)
        lines = ["{", f"    const {ctype} *x = {srcs[0]};", f"    {ctype} *y = {dst};"]
        if not padded:
            lines += [f"    for ({big} i = 0; i < {self.output.size}; ++i) y[i] = x[i];", "}"]
            ctx.stmts(lines)
            return
        m = padded[-1]
        unit = prod(shape[m:])
        base = sum(self.paddings[j][0] * ostride[j] for j in range(m + 1))
        lines.append(f"    for ({big} i = 0; i < {self.output.size}; ++i) y[i] = {value};")
        ind = "    "
        offset = [str(base)] if base else []
        for j in range(m):
            if shape[j] > 1:
                lines.append(f"{ind}for ({big} i{j} = 0; i{j} < {shape[j]}; ++i{j}) {{")
                ind += "    "
                offset.append(f"i{j} * {ostride[j]}")
        lines += [f"{ind}{ctype} *o = y + {' + '.join(offset) or '0'};",
                  f"{ind}for ({c_index(unit + 1)} i = 0; i < {unit}; ++i) o[i] = *x++;"]
        while len(ind) > 4:
            ind = ind[:-4]
            lines.append(f"{ind}}}")
        lines.append("}")
        ctx.stmts(lines)


@dataclass(eq=False)
class PadV2(Pad):
    kind: ClassVar[str] = "PADV2"
    n_inputs: ClassVar[int] = 3

    @classmethod
    def _value(cls, raw, x, y) -> float | int:
        v = raw.inputs[2]
        if v is None or v.data is None:
            raise raw.fail("the constant_values input must be a constant tensor")
        if v.size != 1:
            raise raw.fail(f"constant_values '{v.name}' has {v.size} values; it must be a scalar")
        require_dtype(raw, v, (x.dtype,), "constant_values")
        if x.dtype == "float32":
            return float(np.asarray(v.data).reshape(-1)[0])
        if v.quant is None or v.quant.per_channel or v.zero_point != y.zero_point or float(v.scale) != float(y.scale):
            q = v.quant
            got = "none" if q is None else f"scale {q.scale.tolist()}, zero point {q.zero_point.tolist()}"
            raise raw.fail(f"constant_values quantization ({got}) differs from the output's (scale {y.scale:.9g}, "
                           f"zero point {y.zero_point}); TFLM requires them equal")
        return int(np.asarray(v.data).reshape(-1)[0])
