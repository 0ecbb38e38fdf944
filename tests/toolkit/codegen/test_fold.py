"""Pruned-away units are folded out of the generated C, exactly."""

import numpy as np
import pytest

from toolkit.codegen import generate_c
from toolkit.codegen.fold import fold_units
from toolkit.compress.prune import prune_model
from toolkit.convert import convert_dir
from toolkit.datasets import Dataset
from toolkit.emulate import emulate
from toolkit.tflite.reader import read_tflite
from toolkit.validation import make_inputs, reference_outputs


@pytest.fixture(scope="module")
def pruned_sine(trained_sine, tmp_path_factory):
    """The trained sine model with 50 % of its weights pruned (per layer) and with 50 % of its neurons."""
    out = {}
    for method in ("weight", "neuron"):
        d = tmp_path_factory.mktemp(method)
        prune_model(trained_sine / "model.keras", method, 0.5, d, epochs=5)
        convert_dir(d / "model.keras", d, Dataset.load(d / "dataset.npz").x["train"])
        out[method] = d / "model_int8.tflite"
    return out


@pytest.mark.parametrize("method", ["weight", "neuron"])
def test_folding_is_exact(pruned_sine, method):
    model = read_tflite(pruned_sine[method])
    folded, notes = fold_units(model)
    assert notes and folded.params < model.params
    x = make_inputs(model, 256)
    ours = np.stack([folded.run(xi.reshape(model.input.shape)).reshape(-1) for xi in x])
    assert np.array_equal(ours, reference_outputs(model, pruned_sine[method], x)[1])
    assert "Pruned units:" in generate_c(model).header


def test_neuron_pruning_shrinks_the_layers(pruned_sine):
    folded, _ = fold_units(read_tflite(pruned_sine["neuron"]))
    assert [layer.weights.shape for layer in folded.layers] == [(8, 1), (8, 8), (1, 8)]


@pytest.mark.parametrize("arch", ["cortex-m4", "cortex-m0plus"])
def test_half_pruned_sine_is_smaller_and_faster_on_the_chip(trained_sine, pruned_sine, tmp_path, arch):
    dense = emulate(trained_sine / "model_int8.tflite", arch, tmp_path / "dense").to_json()
    pruned = emulate(pruned_sine["weight"], arch, tmp_path / "pruned").to_json()
    assert dense["mismatches"] == 0 and pruned["mismatches"] == 0 and pruned["n_inputs"] == 256
    assert pruned["instructions"] < dense["instructions"]
    assert pruned["flash_bytes"] < dense["flash_bytes"]


def test_fold_can_be_turned_off(pruned_sine):
    model = read_tflite(pruned_sine["weight"])
    assert "Pruned units" not in generate_c(model, fold=False).header
