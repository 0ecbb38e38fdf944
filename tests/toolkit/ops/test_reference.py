"""The numpy reference of every op equals the TFLM interpreter, bit for bit."""

import numpy as np
import pytest

from tests.toolkit.modelfactory import ModelSpec
from toolkit.tflite.reader import read_tflite
from toolkit.validation import make_inputs, reference_outputs


@pytest.mark.parametrize(
    "spec",
    [ModelSpec((4, 32, 8, 3)), ModelSpec((4, 32, 8, 3), quant="mixed"), ModelSpec((4, 8, 3), input_shape=(2, 2)),
     ModelSpec((3, 6, 2), activation="relu6", per_channel=False)],
    ids=lambda s: s.slug(),
)
def test_numpy_reference_equals_tflm(model_factory, spec):
    path = model_factory(spec)
    model = read_tflite(path)
    inputs = make_inputs(model, 300, seed=5)
    ours = np.stack([model.run(x.reshape(model.input.shape)).reshape(-1) for x in inputs])
    name, ref = reference_outputs(model, path, inputs)
    assert name == "tflm" and np.array_equal(ours, ref)


def test_numpy_reference_of_the_hello_world_model(reference_models):
    model = read_tflite(reference_models["int8"])
    inputs = make_inputs(model, 256)
    ours = np.stack([model.run(x.reshape(1, 1)).reshape(-1) for x in inputs])
    assert np.array_equal(ours, reference_outputs(model, reference_models["int8"], inputs)[1])
