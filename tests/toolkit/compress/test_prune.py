"""Pruning and distillation on a real trained model, through the real converter."""

import json

import numpy as np
import pytest

from toolkit.compress.distill import DistillSettings
from toolkit.compress.masks import dense_layers
from toolkit.compress.prune import distill_model, prune_model
from toolkit.convert import convert_dir
from toolkit.datasets import Dataset
from toolkit.modeldir import load_model_dir
from toolkit.tflite.reader import read_tflite


def kernels(model_dir):
    model, _ = load_model_dir(model_dir)
    return [layer.get_weights()[0] for layer in dense_layers(model)]


@pytest.mark.parametrize("scope, schedule", [("layer", "oneshot"), ("global", "oneshot"), ("layer", "gradual")])
def test_weight_sparsity_is_exact_and_kept_after_fine_tuning(trained_sine, tmp_path, scope, schedule):
    info = prune_model(trained_sine / "model.keras", "weight", 0.5, tmp_path, scope=scope, schedule=schedule, epochs=6)
    ks = kernels(tmp_path)
    assert sum(int((k == 0).sum()) for k in ks) == 144  # 50 % of 288 weights, after fine-tuning
    if scope == "layer":
        assert [int((k == 0).sum()) for k in ks] == [8, 128, 8]
    assert info["weight_sparsity"] == 0.5
    # the zeros survive conversion to int8
    convert_dir(tmp_path / "model.keras", tmp_path, Dataset.load(tmp_path / "dataset.npz").x["train"])
    q = read_tflite(tmp_path / "model_int8.tflite")
    assert sum(int((layer.weights.data == 0).sum()) for layer in q.layers) >= 144


def test_fine_tuning_changes_the_surviving_weights(trained_sine, tmp_path):
    before = kernels(trained_sine)
    prune_model(trained_sine / "model.keras", "weight", 0.5, tmp_path, epochs=4)
    after = kernels(tmp_path)
    alive = after[1] != 0
    assert not np.allclose(before[1][alive], after[1][alive])


@pytest.mark.parametrize("criterion", ["l1", "l2", "loss"])
def test_neuron_pruning_removes_whole_units(trained_sine, tmp_path, criterion):
    info = prune_model(trained_sine / "model.keras", "neuron", 0.5, tmp_path, criterion=criterion, epochs=3)
    assert info["kept_units"] == [8, 8]
    model, _ = load_model_dir(tmp_path)
    layers = dense_layers(model)
    for i in range(2):
        kernel, bias = layers[i].get_weights()
        dead = np.all(kernel == 0, axis=0) & (bias == 0)
        assert dead.sum() >= 8  # incoming weights and bias of 8 units are zero ...
        assert np.all(layers[i + 1].get_weights()[0][dead] == 0)  # ... and so are their outgoing weights


def test_structured_pruning_shrinks_the_exported_layers(trained_sine, tmp_path):
    info = prune_model(trained_sine / "model.keras", "structured", 0.5, tmp_path, epochs=5)
    assert info["hidden"] == [8, 8] and info["params"] == 1 * 8 + 8 + 8 * 8 + 8 + 8 + 1
    convert_dir(tmp_path / "model.keras", tmp_path, Dataset.load(tmp_path / "dataset.npz").x["train"])
    for name in ("model_int8.tflite", "model_float.tflite"):
        m = read_tflite(tmp_path / name)
        assert [layer.weights.shape for layer in m.layers] == [(8, 1), (8, 8), (1, 8)]
        assert m.params == 97
    dense = read_tflite(trained_sine / "model_int8.tflite")
    assert (tmp_path / "model_int8.tflite").stat().st_size < (trained_sine / "model_int8.tflite").stat().st_size
    assert read_tflite(tmp_path / "model_int8.tflite").macs < dense.macs
    assert json.loads((tmp_path / "metrics.json").read_text())["test_mse"] < 0.1


def test_distillation_reports_both_students(trained_sine, tmp_path):
    summary = distill_model(tmp_path, DistillSettings(hidden=(4, 4), epochs=8, seed=2), teacher_path=str(trained_sine / "model.keras"))
    assert summary["student_params"] == 1 * 4 + 4 + 4 * 4 + 4 + 4 + 1 and summary["teacher_params"] == 321
    assert summary["student_mse"] != summary["direct_mse"]  # same init, different targets
    for d in (tmp_path, tmp_path / "direct"):
        assert (d / "model.keras").exists() and (d / "dataset.npz").exists()
    assert json.loads((tmp_path / "distill.json").read_text())["direct_mse"] == summary["direct_mse"]


def test_distillation_with_alpha_one_equals_direct_training(trained_sine, tmp_path):
    summary = distill_model(tmp_path, DistillSettings(hidden=(4,), alpha=1.0, epochs=3, seed=5), teacher_path=str(trained_sine / "model.keras"))
    assert summary["student_mse"] == summary["direct_mse"]
