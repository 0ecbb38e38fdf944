"""A model directory: what `train`, `prune` and `distill` write and the other commands read.

    model.keras         the Keras model
    dataset.npz         train / val / test splits (inputs, noisy and clean targets)
    metrics.json        test MSE against the clean function, parameter counts, ...
    history.json        training curves (when trained here)
    train_config.json   how it was trained (when trained here)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from toolkit.datasets import Dataset
from toolkit.errors import ToolkitError
from toolkit.fileio import write_json


def keras_params(model) -> tuple[int, int]:
    """(all parameters, nonzero parameters) of a Keras model."""
    weights = [w for layer in model.layers for w in layer.get_weights()]
    return sum(w.size for w in weights), sum(int(np.count_nonzero(w)) for w in weights)


def clean_mse(model, data: Dataset) -> float:
    """MSE on the test split against the noise-free function."""
    pred = model.predict(data.x["test"], verbose=0)
    return float(np.mean((pred - data.y_clean["test"]) ** 2))


def save_model_dir(out_dir: str | Path, model, data: Dataset, metrics: dict[str, Any] | None = None,
                   history: dict[str, list[float]] | None = None, config: dict[str, Any] | None = None) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / ".model.tmp.keras"
    model.save(tmp)
    tmp.replace(out_dir / "model.keras")
    data.save(out_dir / "dataset.npz")
    params, nonzero = keras_params(model)
    base = {"test_mse": clean_mse(model, data), "params": params, "nonzero_params": nonzero, "float32_bytes": 4 * params}
    write_json(out_dir / "metrics.json", base | (metrics or {}))
    if history is not None:
        write_json(out_dir / "history.json", history)
    if config is not None:
        write_json(out_dir / "train_config.json", config)
    return out_dir


def load_model_dir(model_path: str | Path):
    """(Keras model, Dataset) from DIR/model.keras or DIR."""
    from toolkit.convert import load_keras

    path = Path(model_path)
    if path.is_dir():
        path = path / "model.keras"
    dataset = path.parent / "dataset.npz"
    if not dataset.exists():
        raise ToolkitError(f"no dataset.npz beside {path}: use a directory written by 'toolkit train'")
    return load_keras(path), Dataset.load(dataset)
