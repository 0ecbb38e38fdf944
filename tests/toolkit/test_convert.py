import numpy as np

from toolkit.convert import QuantOptions, load_keras, to_int8_tflite
from toolkit.datasets import Dataset
from toolkit.tflite.reader import parse_tflite, read_tflite


def test_convert_writes_float_and_full_int8(trained_sine):
    f = read_tflite(trained_sine / "model_float.tflite")
    q = read_tflite(trained_sine / "model_int8.tflite")
    assert f.input.dtype == "float32" and f.params == 321
    assert q.input.dtype == q.output.dtype == "int8"
    assert all(layer.kind == "FULLY_CONNECTED" for layer in q.layers)  # no QUANTIZE: int8 io
    assert all(layer.weights.quant.per_channel for layer in q.layers[:2])
    x = Dataset.load(trained_sine / "dataset.npz").x["train"]
    # the input scale covers the representative (training) inputs' range, [0, 2*pi]
    lo = (-128 - q.input.zero_point) * q.input.scale
    hi = (127 - q.input.zero_point) * q.input.scale
    assert lo <= x.min() + 0.05 and hi >= x.max() - 0.05


def test_per_tensor_option(trained_sine):
    model = load_keras(trained_sine / "model.keras")
    rep = Dataset.load(trained_sine / "dataset.npz").x["train"]
    q = parse_tflite(to_int8_tflite(model, rep, QuantOptions(per_channel=False)))
    assert not any(layer.weights.quant.per_channel for layer in q.layers)
    assert np.all(np.abs(q.layers[1].weights.data).max() == 127)
