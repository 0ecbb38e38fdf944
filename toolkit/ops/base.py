"""What every layer kind provides: parse from TFLite, run in numpy, emit C."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from toolkit.ir import Tensor

if TYPE_CHECKING:
    from toolkit.codegen.context import CContext
    from toolkit.tflite.reader import RawOp


@dataclass
class Layer(ABC):
    input: Tensor
    output: Tensor

    kind: ClassVar[str]  # the TFLite builtin operator name
    aliases_input: ClassVar[bool] = False  # output shares the input's memory (no code)

    @classmethod
    @abstractmethod
    def from_tflite(cls, op: "RawOp") -> "Layer":
        """Build the layer, raising op.fail(...) for anything the emitter cannot do."""

    @abstractmethod
    def reference(self, x: np.ndarray) -> np.ndarray:
        """The layer in numpy, bit-exact with TFLM for integer types."""

    @abstractmethod
    def emit_c(self, ctx: "CContext", src: str, dst: str) -> None:
        """Append C statements computing `dst` (output pointer) from `src` (input pointer)."""

    def constants(self) -> list[Tensor]:
        return []

    @property
    def params(self) -> int:
        return sum(t.size for t in self.constants())

    @property
    def macs(self) -> int:
        return 0

    def describe(self) -> str:
        return f"{self.kind} {self.input.shape} -> {self.output.shape}"


def single_io(op: "RawOp", n_inputs: int = 1) -> tuple[Tensor, Tensor]:
    """The activation input and output of an op with one of each."""
    if len(op.outputs) != 1 or len(op.inputs) < n_inputs or op.inputs[0] is None:
        raise op.fail(f"expected {n_inputs} input(s) and one output")
    return op.inputs[0], op.outputs[0]


def require_dtype(op: "RawOp", tensor: Tensor, allowed: tuple[str, ...], role: str) -> None:
    if tensor.dtype not in allowed:
        raise op.fail(f"{role} '{tensor.name}' is {tensor.dtype}; supported: {', '.join(allowed)}")


def require_per_tensor(op: "RawOp", tensor: Tensor, role: str) -> None:
    if tensor.quant is None:
        raise op.fail(f"{role} '{tensor.name}' has no quantization parameters")
    if tensor.quant.per_channel:
        raise op.fail(f"{role} '{tensor.name}' is quantized per channel; only weights may be")
