"""Randomly initialised Keras MLPs converted with the real TFLite converter."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class ModelSpec:
    widths: tuple[int, ...]  # e.g. (4, 32, 8, 3): input, hidden..., output
    activation: str = "relu"  # of the hidden layers: relu, relu6, linear
    quant: str = "int8"  # "int8" (int8 io), "mixed" (float io, int8 inside), "float"
    per_channel: bool = True
    input_shape: tuple[int, ...] | None = None  # e.g. (2, 2): Flatten first (a RESHAPE op)
    output_activation: str | None = None  # e.g. "elu" for an unsupported op
    seed: int = 0

    def slug(self) -> str:
        return "-".join(map(str, self.widths)) + f"_{self.activation}_{self.quant}_{'pc' if self.per_channel else 'pt'}_{self.seed}" + (
            "_reshape" if self.input_shape else "") + (f"_{self.output_activation}" if self.output_activation else "")


def build_tflite(spec: ModelSpec, path: Path) -> Path:
    from toolkit.convert import QuantOptions, to_float_tflite, to_int8_tflite
    from toolkit.tf_env import import_keras

    keras = import_keras()
    keras.utils.set_random_seed(spec.seed)
    n_in = spec.widths[0]
    layers: list = [keras.Input(shape=spec.input_shape or (n_in,))]
    if spec.input_shape:
        layers.append(keras.layers.Flatten())
    act = {"relu": "relu", "relu6": keras.activations.relu6, "linear": None}[spec.activation]
    for width in spec.widths[1:-1]:
        layers.append(keras.layers.Dense(width, activation=act, bias_initializer="random_normal"))
    layers.append(keras.layers.Dense(spec.widths[-1], activation=spec.output_activation, bias_initializer="random_normal"))
    model = keras.Sequential(layers)
    rep = np.random.default_rng(spec.seed).normal(0, 2, size=(300, *(spec.input_shape or (n_in,)))).astype(np.float32)
    if spec.quant == "float":
        data = to_float_tflite(model)
    elif spec.quant == "int8":
        data = to_int8_tflite(model, rep, QuantOptions(spec.per_channel))
    else:  # int8 arithmetic with float input and output: the converter adds QUANTIZE/DEQUANTIZE
        data = to_int8_tflite(model, rep, QuantOptions(spec.per_channel), int8_io=False)
    path.write_bytes(data)
    return path
