"""Keras model -> .tflite with TensorFlow Lite's converter: float32 and full-integer int8."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from toolkit.errors import ToolkitError
from toolkit.fileio import atomic_write
from toolkit.tf_env import captured_output, import_keras, import_tf

REPRESENTATIVE_SAMPLES = 500


@dataclass(frozen=True)
class QuantOptions:
    per_channel: bool = True  # per-channel weight scales (False: one scale per tensor)


def load_keras(path: str | Path):
    path = Path(path)
    if not path.exists():
        raise ToolkitError(f"{path}: no such file")
    keras = import_keras()
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many kinds; all mean the same to the user
        raise ToolkitError(f"{path}: cannot load Keras model ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})") from None


def input_name(k: int) -> str:
    """The name of model input k in the converter's signature."""
    return f"input_{k}"


def _converter(model):
    """A converter for batch size 1: static shapes, so Flatten becomes a plain RESHAPE."""
    tf = import_tf()
    keras = import_keras()
    inputs = [keras.Input(batch_shape=(1, *t.shape[1:]), name=input_name(k)) for k, t in enumerate(model.inputs)]
    outputs = model(inputs if len(inputs) > 1 else inputs[0])
    return tf.lite.TFLiteConverter.from_keras_model(keras.Model(inputs, outputs))


def _run(conv) -> bytes:
    with captured_output() as log:
        try:
            return conv.convert()
        except Exception as exc:
            error = f"TFLite conversion failed: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
    raise ToolkitError(error + (f" ({log.text.strip().splitlines()[-1][:200]})" if log.text.strip() else ""))


def to_float_tflite(model) -> bytes:
    return _run(_converter(model))


def to_float16_tflite(model) -> bytes:
    """float32 arithmetic with weights stored as float16 (half the bytes in the file)."""
    tf = import_tf()
    conv = _converter(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.target_spec.supported_types = [tf.float16]
    return _run(conv)


def to_int8_tflite(model, representative: np.ndarray | list[np.ndarray],
                   options: QuantOptions = QuantOptions(), int8_io: bool = True) -> bytes:
    """Full-integer int8 calibrated on `representative` inputs (an array of samples, or
    one such array per model input). int8_io: int8 inputs and outputs (else float ones,
    with QUANTIZE and DEQUANTIZE at the edges)."""
    tf = import_tf()
    per_input = representative if isinstance(representative, list) else [representative]
    samples = [np.asarray(r, np.float32) for r in per_input]
    if not samples or len(samples[0]) == 0:
        raise ToolkitError("the representative dataset is empty")

    def gen() -> Iterable[list[np.ndarray] | dict[str, np.ndarray]]:
        for i in range(min(len(samples[0]), REPRESENTATIVE_SAMPLES)):
            if len(samples) == 1:
                yield [samples[0][i][None]]
            else:  # by name: the converted model may order its inputs otherwise than Keras
                yield {input_name(k): s[i][None] for k, s in enumerate(samples)}

    conv = _converter(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = gen
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if int8_io:
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    if not options.per_channel:
        conv._experimental_disable_per_channel = True
        conv._experimental_disable_per_channel_quantization_for_dense_layers = True
    return _run(conv)


def convert_dir(keras_path: str | Path, out_dir: str | Path, representative: np.ndarray,
                options: QuantOptions = QuantOptions()) -> dict[str, Path]:
    model = load_keras(keras_path)
    out_dir = Path(out_dir)
    return {
        "float": atomic_write(out_dir / "model_float.tflite", to_float_tflite(model)),
        "float16": atomic_write(out_dir / "model_float16.tflite", to_float16_tflite(model)),
        "int8": atomic_write(out_dir / "model_int8.tflite", to_int8_tflite(model, representative, options)),
    }
