"""The model IR: what every emitter, reference and report works from.

A `Model` is a graph: operators (see `toolkit.ops`) in topological order, each reading
a list of input tensors and writing a list of output tensors, plus the lists of the
model's input and output tensors. Constant tensors (weights, biases) hang off their
operator as fields; `Op.inputs` holds the tensors an operator reads as operands.
The IR holds numpy arrays and plain numbers only; it knows nothing about TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from toolkit.ops.base import Op


@dataclass(frozen=True)
class Quant:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per channel."""

    scale: np.ndarray  # float32, one per channel (length 1 when per tensor)
    zero_point: np.ndarray  # int64, same length as scale
    axis: int = 0  # the quantized dimension, as the file gives it

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1


@dataclass(eq=False)  # tensors are compared by identity: two tensors may hold equal values
class Tensor:
    name: str
    shape: tuple[int, ...]  # NHWC for images
    dtype: str  # numpy dtype name: "float32", "int8", "int32", ...
    quant: Quant | None = None
    data: np.ndarray | None = None  # set for constants (weights, biases, folded subgraphs)

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(self.dtype).itemsize

    @property
    def scale(self) -> float:
        """Per-tensor scale (raises for an unquantized tensor)."""
        assert self.quant is not None, f"tensor {self.name} is not quantized"
        return float(self.quant.scale[0])

    @property
    def zero_point(self) -> int:
        assert self.quant is not None, f"tensor {self.name} is not quantized"
        return int(self.quant.zero_point[0])


@dataclass
class Model:
    ops: list["Op"]  # topological order: every operand is computed before it is read
    inputs: list[Tensor]
    outputs: list[Tensor]
    description: str = ""
    source: str = ""  # file the model was read from, for messages
    extra: dict = field(default_factory=dict)

    @property
    def layers(self) -> list["Op"]:
        return self.ops

    @property
    def input(self) -> Tensor:
        """The first input tensor (the only one for most models)."""
        return self.inputs[0]

    @property
    def output(self) -> Tensor:
        return self.outputs[0]

    @property
    def params(self) -> int:
        return sum(op.params for op in self.ops)

    @property
    def macs(self) -> int:
        return sum(op.macs for op in self.ops)

    @property
    def weight_bytes(self) -> int:
        """Bytes of constant data (weights, biases) as stored in the .tflite."""
        return sum(t.nbytes for op in self.ops for t in op.constants())

    @property
    def is_int8(self) -> bool:
        return all(t.dtype == "int8" for t in self.inputs + self.outputs)

    def run_all(self, xs: list[np.ndarray]) -> list[np.ndarray]:
        """The numpy reference of every op on one set of inputs; returns every output."""
        values: dict[int, np.ndarray] = {id(t): np.asarray(x).reshape(t.shape) for t, x in zip(self.inputs, xs)}

        def value(t: Tensor) -> np.ndarray:
            return t.data if t.is_constant else values[id(t)]

        for op in self.ops:
            values[id(op.output)] = np.asarray(op.reference(*(value(t) for t in op.inputs))).reshape(op.output.shape)
        return [value(t) for t in self.outputs]

    def run(self, x: np.ndarray) -> np.ndarray:
        """The reference on one input of a one-input model; its outputs concatenated (flat
        when there are several)."""
        outs = self.run_all([x])
        return outs[0] if len(outs) == 1 else np.concatenate([o.reshape(-1) for o in outs])
