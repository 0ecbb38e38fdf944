"""The script generator on the host: the model part of the script runs on CPython, and its
int8 arithmetic equals the numpy references (TF Lite Micro's) bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from tests.toolkit.graphmodels import GraphCase
from toolkit.errors import UnsupportedModelError
from toolkit.micropython.script import generate, run_on_host
from toolkit.tflite.reader import read_tflite

MLP_TANH = GraphCase("mp_mlp_tanh", lambda k, x: k.layers.Dense(1)(k.layers.Activation("tanh")(k.layers.Dense(12)(x))),
                     inputs=((6,),))
SOFTMAX = GraphCase("mp_softmax", lambda k, x: k.layers.Softmax()(k.layers.Dense(4)(x)), inputs=((6,),))


def numpy_reference(model, inputs: np.ndarray) -> np.ndarray:
    """Every op's numpy reference in turn (a chain of single-input ops)."""
    out = []
    for row in inputs:
        values = {id(model.input): row.reshape(model.input.shape)}
        for op in model.ops:
            values[id(op.outputs[0])] = op.reference(values[id(op.inputs[0])])
        out.append(np.asarray(values[id(model.output)]).ravel())
    return np.stack(out)


def test_int8_hello_world_is_bit_exact_on_the_host(reference_models):
    model = read_tflite(reference_models["int8"])
    script = generate(model)
    inputs = np.arange(-128, 128, dtype=np.int8).reshape(256, 1)
    ours = np.array(run_on_host(script, inputs, "int8", model.output.size), np.int8)
    assert np.array_equal(ours, numpy_reference(model, inputs))
    assert "def requantize(acc, multiplier, shift):" in script.text and "import tinyml" in script.harness
    assert "tinyml" not in script.model_part


@pytest.mark.parametrize("weights", ["list", "array"])
def test_float_hello_world_on_the_host(reference_models, weights):
    model = read_tflite(reference_models["float"])
    script = generate(model, weights)
    inputs = np.linspace(-8, 8, 33, dtype=np.float32).reshape(-1, 1)
    ours = np.array(run_on_host(script, inputs, "float32", model.output.size), np.float32)
    np.testing.assert_allclose(ours, numpy_reference(model, inputs), atol=1e-5)
    assert ("list(array('f', b'" in script.text) == (weights == "list")


def test_per_channel_int8_mlp_with_tanh(graph_models):
    """Per-channel multipliers as data, TANH as a 256-entry table: exact."""
    model = read_tflite(graph_models(MLP_TANH))
    assert [op.kind for op in model.ops] == ["FULLY_CONNECTED", "TANH", "FULLY_CONNECTED"]
    script = generate(model)
    inputs = np.random.default_rng(0).integers(-128, 128, size=(64, 6)).astype(np.int8)
    ours = np.array(run_on_host(script, inputs, "int8", model.output.size), np.int8)
    assert np.array_equal(ours, numpy_reference(model, inputs))
    assert "M_LAYER1 = [" in script.text and "T_LAYER2 = array('b', [" in script.text


def test_an_unsupported_op_is_named_in_one_line(graph_models):
    model = read_tflite(graph_models(SOFTMAX))
    with pytest.raises(UnsupportedModelError, match="does not support SOFTMAX") as err:
        generate(model)
    assert "\n" not in str(err.value)
