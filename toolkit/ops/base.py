"""What every operator provides: parse and check from TFLite, run in numpy, emit C.

An op module (toolkit/ops/<op>.py) holds one `Op` subclass (or a few closely related
ones), registered in `toolkit.ops.OPS` under the TFLite builtin name. Its three parts:

- `from_tflite(raw)`: check everything the op supports and build the op; anything else
  raises `raw.fail(...)`, a one-line error naming the operator, the option and its value.
- `reference(*xs)`: the definition, in numpy. int8 arithmetic exactly as TFLM's
  reference kernels; float32 as LiteRT's reference kernels.
- `emit_c(ctx, srcs, dst)`: portable C99 appended to `ctx` (see toolkit/codegen/context.py),
  sizes and parameters as constants. Faster variants per core family live apart, in
  toolkit/codegen/fast/, and are checked against the same reference.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from toolkit import quantization as Q
from toolkit.ir import Tensor
from toolkit.tflite import schema as S

if TYPE_CHECKING:
    from toolkit.codegen.context import CContext
    from toolkit.tflite.reader import RawOp


@dataclass(eq=False)
class Op(ABC):
    inputs: list[Tensor]  # operands, in the op's order (constant operands allowed: ADD x + c)
    outputs: list[Tensor]  # exactly one for every op we support

    kind: ClassVar[str]  # the TFLite builtin operator name
    # The output is the input's bytes under another shape (RESHAPE, SQUEEZE, EXPAND_DIMS):
    # no code, the memory plan gives both one buffer.
    aliases_input: ClassVar[bool] = False
    # The kernel reads element i of inputs[0] before it writes element i of the output, so
    # the output may take inputs[0]'s buffer when that input dies here (same shape and type).
    inplace: ClassVar[bool] = False

    @property
    def input(self) -> Tensor:
        return self.inputs[0]

    @property
    def output(self) -> Tensor:
        return self.outputs[0]

    @classmethod
    @abstractmethod
    def from_tflite(cls, raw: "RawOp") -> "Op":
        """Build the op, raising raw.fail(...) for anything the emitter cannot do."""

    @abstractmethod
    def reference(self, *xs: np.ndarray) -> np.ndarray:
        """The op in numpy (one array per entry of `inputs`), bit-exact with TFLM for integers."""

    @abstractmethod
    def emit_c(self, ctx: "CContext", srcs: list[str], dst: str) -> None:
        """Append C statements computing `dst` (output pointer) from `srcs` (one C
        expression per entry of `inputs`: a pointer, or a constant array's name)."""

    def scratch_bytes(self) -> int:
        """Bytes of kernel scratch (e.g. im2col) the C needs while the op runs; the memory
        plan places it in the arena and the generator passes it as `ctx.scratch`."""
        return 0

    def constants(self) -> list[Tensor]:
        """Constant tensors the op owns (weights, biases), for sizes and reports."""
        return []

    @property
    def params(self) -> int:
        return sum(t.size for t in self.constants())

    @property
    def macs(self) -> int:
        return 0

    def describe(self) -> str:
        shapes = ", ".join(str(list(t.shape)) for t in self.inputs)
        return f"{self.kind} {shapes} -> {list(self.output.shape)} ({self.output.dtype})"


Layer = Op  # the name the MLP-era code used


# -- checks shared by the op modules -----------------------------------------------------------


def single_io(raw: "RawOp", n_inputs: int = 1) -> tuple[Tensor, Tensor]:
    """The activation input and output of an op with (at least) `n_inputs` inputs and one output."""
    if len(raw.outputs) != 1 or raw.outputs[0] is None or len(raw.inputs) < n_inputs or raw.inputs[0] is None:
        raise raw.fail(f"expected {n_inputs} input(s) and one output")
    return raw.inputs[0], raw.outputs[0]


def require_dtype(raw: "RawOp", tensor: Tensor, allowed: tuple[str, ...], role: str) -> None:
    if tensor.dtype not in allowed:
        raise raw.fail(f"{role} '{tensor.name}' is {tensor.dtype}; supported: {', '.join(allowed)}")


def require_per_tensor(raw: "RawOp", tensor: Tensor, role: str) -> None:
    if tensor.quant is None:
        raise raw.fail(f"{role} '{tensor.name}' has no quantization parameters")
    if tensor.quant.per_channel:
        raise raw.fail(f"{role} '{tensor.name}' is quantized per channel; only weights may be")


MAX_MULTIPLIER = 2.0**16  # input scale * weight scale / output scale beyond this is no real model


def require_multipliers(raw: "RawOp", x: Tensor, w: Tensor, y: Tensor) -> None:
    """The effective rescale of an int8 layer with weights, input·weight/output per channel:
    finite and below MAX_MULTIPLIER, else the int32 rescaling in C overflows."""
    real = float(x.quant.scale[0]) * np.asarray(w.quant.scale, np.float64) / float(y.quant.scale[0])
    bad = np.flatnonzero(~(np.isfinite(real) & (real < MAX_MULTIPLIER)))
    if bad.size:
        c = int(bad[0])
        raise raw.fail(f"weight scale {float(w.quant.scale[c]):.6g} (channel {c}) with input scale {float(x.quant.scale[0]):.6g} "
                       f"and output scale {float(y.quant.scale[0]):.6g} gives a rescale of {real[c]:.6g}; it must be below {MAX_MULTIPLIER:g}")


def require_same_quant(raw: "RawOp", a: Tensor, b: Tensor) -> None:
    """int8 ops that move values without arithmetic need equal scales and zero points."""
    if a.dtype != b.dtype:
        raise raw.fail(f"input '{a.name}' is {a.dtype} but output '{b.name}' is {b.dtype}")
    if a.quant is None or b.quant is None:
        if (a.quant is None) != (b.quant is None) and a.dtype == "int8":
            raise raw.fail("input and output quantization differ")
        return
    if not np.array_equal(a.quant.scale, b.quant.scale) or not np.array_equal(a.quant.zero_point, b.quant.zero_point):
        raise raw.fail("input and output quantization differ")


def fused_activation(raw: "RawOp", code: int) -> str:
    """The name of a fused activation code; only those with a clamp are supported."""
    name = S.ACTIVATIONS[code] if 0 <= code < len(S.ACTIVATIONS) else f"ACTIVATION_{code}"
    if name not in Q.ACTIVATION_BOUNDS:
        raise raw.fail(f"fused activation {name}; supported: {', '.join(Q.ACTIVATION_BOUNDS)}")
    return name


def float_range(activation: str) -> tuple[float, float]:
    """The clamp of a fused activation on float32 values (±FLT_MAX when there is none)."""
    fmax = float(np.finfo(np.float32).max)
    low, high = Q.ACTIVATION_BOUNDS[activation]
    return (-fmax if low is None else low, fmax if high is None else high)
