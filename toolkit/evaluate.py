"""Accuracy of a .tflite model on real-valued data, through the reference interpreters."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from toolkit.ir import Model
from toolkit.ops.quantize import dequantize_s8, quantize_f32
from toolkit.references import reference_for


def predict(model: Model, path: str | Path, x: np.ndarray) -> np.ndarray:
    """Real-valued outputs for real-valued inputs, quantizing and dequantizing at the edges."""
    x = np.asarray(x, np.float32).reshape(-1, model.input.size)
    if model.input.dtype == "int8":
        x = quantize_f32(x, model.input.scale, model.input.zero_point)
    _, run = reference_for(model)
    y = run(path, x, [model.input.shape])
    if model.output.dtype == "int8":
        y = dequantize_s8(y, model.output.scale, model.output.zero_point)
    return y.astype(np.float32)


def mse(model: Model, path: str | Path, x: np.ndarray, y_true: np.ndarray) -> float:
    y = predict(model, path, x)
    return float(np.mean((y.reshape(-1) - np.asarray(y_true).reshape(-1)) ** 2))
