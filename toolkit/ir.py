"""The model IR: what every emitter, reference and report works from.

A `Model` is a chain of `Layer`s (see `toolkit.ops`), each reading one activation
tensor and writing one. Constant tensors (weights, biases) hang off their layer.
The IR holds numpy arrays and plain numbers only; it knows nothing about TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from toolkit.ops.base import Layer


@dataclass(frozen=True)
class Quant:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per channel."""

    scale: np.ndarray  # float32, one per channel (length 1 when per tensor)
    zero_point: np.ndarray  # int64, same length as scale
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1


@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: str  # numpy dtype name: "float32", "int8", "int32", ...
    quant: Quant | None = None
    data: np.ndarray | None = None  # set for constants (weights, biases)

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
    layers: list["Layer"]
    input: Tensor
    output: Tensor
    description: str = ""
    source: str = ""  # file the model was read from, for messages
    extra: dict = field(default_factory=dict)

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def weight_bytes(self) -> int:
        """Bytes of constant data (weights, biases) as stored in the .tflite."""
        return sum(t.nbytes for layer in self.layers for t in layer.constants())

    @property
    def is_int8(self) -> bool:
        return self.input.dtype == "int8" and self.output.dtype == "int8"

    def run(self, x: np.ndarray) -> np.ndarray:
        """Run the numpy reference of every layer on one input (shape of `input`)."""
        for layer in self.layers:
            x = layer.reference(x)
        return x
