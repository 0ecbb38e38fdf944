import json

import numpy as np
import pytest

from toolkit.summary import dense_sizes, size_table
from toolkit.train import TrainConfig, build_mlp, train


def test_default_network_size():
    layers = dense_sizes([1, 16, 16, 1])
    assert [layer.params for layer in layers] == [32, 272, 17]
    table = size_table(layers)
    assert "321" in table and "1,284 bytes" in table and "420 bytes as TFLite stores it" in table
    assert build_mlp((16, 16)).count_params() == 321


def test_training_writes_its_outputs(trained_sine):
    for name in ("model.keras", "history.json", "metrics.json", "dataset.npz", "train_config.json"):
        assert (trained_sine / name).exists()
    metrics = json.loads((trained_sine / "metrics.json").read_text())
    assert metrics["params"] == 321 and metrics["float32_bytes"] == 1284
    assert metrics["test_mse"] < 0.01  # 60 epochs: far below var(sin) = 0.5
    history = json.loads((trained_sine / "history.json").read_text())
    assert len(history["loss"]) == 60 and history["loss"][-1] < history["loss"][0]


def test_same_seed_same_weights(tmp_path):
    cfg = TrainConfig(epochs=3, samples=200, seed=11)
    a, b = train(cfg, tmp_path / "a"), train(cfg, tmp_path / "b")
    assert a.test_mse == b.test_mse and a.history == b.history


@pytest.mark.parametrize("seed", range(6))
def test_common_seeds_do_not_stall_on_a_plateau(tmp_path, seed):
    # The plateau sits at MSE ~0.14 for sin(x); a trained model is far below it.
    result = train(TrainConfig(epochs=40, samples=600, seed=seed), tmp_path)
    assert result.test_mse < 0.01, f"seed {seed}: test MSE {result.test_mse} (restarts {result.restarts})"


def test_expression_and_range(tmp_path):
    result = train(TrainConfig(function="sin(x) + 0.5*cos(2*x)", x_range=(-1.0, 1.0), hidden=(8,), epochs=5, samples=100, noise=0.1), tmp_path)
    from toolkit.datasets import Dataset

    data = Dataset.load(tmp_path / "dataset.npz")
    assert data.x["train"].min() >= -1 and data.x["train"].max() <= 1
    assert np.allclose(data.y_clean["test"], np.sin(data.x["test"]) + 0.5 * np.cos(2 * data.x["test"]), atol=1e-6)
    assert not np.allclose(data.y["train"], data.y_clean["train"])  # noise was added
    assert result.params == 8 * 1 + 8 + 8 + 1
