"""FULLY_CONNECTED: y = act(x · Wᵀ + b), float32 or int8 (per-tensor or per-channel weights)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from toolkit import quantization as Q
from toolkit.ir import Tensor
from toolkit.ops.base import (
    Op,
    float_range,
    fused_activation,
    require_dtype,
    require_multipliers,
    require_per_tensor,
    single_io,
)
from toolkit.tflite import schema as S


@dataclass(eq=False)
class FullyConnected(Op):
    weights: Tensor = None  # type: ignore[assignment]  # [out_features, in_features]
    bias: Tensor | None = None
    activation: str = "NONE"

    kind: ClassVar[str] = "FULLY_CONNECTED"

    @classmethod
    def from_tflite(cls, op) -> "FullyConnected":
        x, y = single_io(op, 2)
        w = op.inputs[1]
        b = op.inputs[2] if len(op.inputs) > 2 else None
        if w is None or w.data is None or len(w.shape) != 2:
            raise op.fail("weights must be a constant 2-D tensor")
        if b is not None and b.data is None:
            raise op.fail("bias must be constant")
        opts = op.options
        activation = "NONE"
        if opts is not None:
            activation = fused_activation(op, opts.scalar(S.FullyConnectedOptions.FUSED_ACTIVATION, "b"))
            if opts.scalar(S.FullyConnectedOptions.WEIGHTS_FORMAT, "b") != 0:
                raise op.fail("shuffled weights format")
        out_n, in_n = w.shape
        if x.size % in_n or y.size != x.size // in_n * out_n:
            raise op.fail(f"shapes do not agree: input {x.shape}, weights {w.shape}, output {y.shape}")
        if b is not None and (b.size != out_n or len(b.shape) != 1):
            raise op.fail(f"bias has shape {list(b.shape)}; it must be [{out_n}], one value per output")

        require_dtype(op, x, ("float32", "int8"), "input")
        if x.dtype == "float32":
            for t, role in ((w, "weights"), (y, "output")) + (((b, "bias"),) if b is not None else ()):
                require_dtype(op, t, ("float32",), role + " of a float layer (hybrid models are not supported)")
        else:
            require_dtype(op, w, ("int8",), "weights")
            require_dtype(op, y, ("int8",), "output")
            if b is not None:
                require_dtype(op, b, ("int32",), "bias")
            require_per_tensor(op, x, "input")
            require_per_tensor(op, y, "output")
            if w.quant is None or np.any(w.quant.zero_point != 0):
                raise op.fail("int8 weights need zero points of 0 (TFLite's int8 specification)")
            if w.quant.per_channel and (w.quant.axis != 0 or len(w.quant.scale) != out_n):
                raise op.fail("per-channel weights must have one scale per output channel")
            require_multipliers(op, x, w, y)
        return cls(inputs=[x], outputs=[y], weights=w, bias=b, activation=activation)

    # -- shape and size -------------------------------------------------------------

    @property
    def in_features(self) -> int:
        return self.weights.shape[1]

    @property
    def out_features(self) -> int:
        return self.weights.shape[0]

    @property
    def batches(self) -> int:
        return self.input.size // self.in_features

    @property
    def macs(self) -> int:
        return self.batches * self.weights.size

    def constants(self) -> list[Tensor]:
        return [self.weights] + ([self.bias] if self.bias is not None else [])

    def describe(self) -> str:
        return f"{self.kind} {self.in_features}->{self.out_features} {self.activation} ({self.input.dtype})"

    # -- integer parameters, shared by reference and C ------------------------------

    def int8_params(self) -> dict[str, np.ndarray | int]:
        """Folded bias, per-channel multiplier/shift and clamp range for the int8 kernel.

        The input zero point is folded into the bias at build time:
        Σ w·(x − zp) + b = Σ w·x + (b − zp·Σ w), exact in int32.
        """
        w = self.weights.data.astype(np.int64)
        bias = self.bias.data.astype(np.int64) if self.bias is not None else np.zeros(self.out_features, np.int64)
        folded = bias - self.input.zero_point * w.sum(axis=1)
        folded = ((folded + 2**31) % 2**32) - 2**31  # int32 wrap-around, as the C accumulator
        mult, shift = Q.fc_multipliers(self.input.scale, self.weights.quant.scale, self.output.scale)
        if len(mult) == 1:
            mult, shift = np.repeat(mult, self.out_features), np.repeat(shift, self.out_features)
        act_min, act_max = Q.activation_range_int8(self.activation, self.output.scale, self.output.zero_point)
        return {"bias": folded, "mult": mult, "shift": shift, "act_min": act_min, "act_max": act_max}

    def float_range(self) -> tuple[float, float]:
        return float_range(self.activation)

    # -- numpy reference ------------------------------------------------------------

    def reference(self, x: np.ndarray) -> np.ndarray:
        xb = np.asarray(x).reshape(self.batches, self.in_features)
        if self.input.dtype == "float32":
            acc = xb.astype(np.float32) @ self.weights.data.T.astype(np.float32)
            if self.bias is not None:
                acc = acc + self.bias.data
            low, high = self.float_range()
            return np.clip(acc, low, high).astype(np.float32).reshape(self.output.shape)
        p = self.int8_params()
        acc = xb.astype(np.int64) @ self.weights.data.T.astype(np.int64) + p["bias"]
        acc = Q.multiply_by_quantized_multiplier(acc, p["mult"], p["shift"]) + self.output.zero_point
        return np.clip(acc, p["act_min"], p["act_max"]).astype(np.int8).reshape(self.output.shape)

    # -- C --------------------------------------------------------------------------

    def emit_c(self, ctx, srcs: list[str], dst: str) -> None:
        """Portable C specialised at generation time (toolkit/codegen/fc_portable.py, fc_float.py);
        the DSP path of the int8 layer is toolkit/codegen/fast/dsp/fully_connected.py."""
        src = srcs[0]
        if self.input.dtype == "float32":
            from toolkit.codegen.fc_float import emit_float

            emit_float(self, ctx, src, dst)
        else:
            from toolkit.codegen.fc_portable import emit_int8

            emit_int8(self, ctx, src, dst)
