"""Train the hello-world regression MLP: 1 -> Dense(h, relu)... -> Dense(1), MSE loss.

Seeded and reproducible. Two guards against the classic plateau of this model
(MSE ~0.14 on sin, where most first-layer ReLUs are dead or all bend at x = 0):
the first layer's biases are set so each unit's kink lies at a random training
input, and a run whose validation loss is still a large share of the target's
variance is restarted from a new initialisation, up to `MAX_RESTARTS` times.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from toolkit.datasets import Dataset, make_dataset
from toolkit.functions import parse_function
from toolkit.modeldir import clean_mse, save_model_dir
from toolkit.summary import LayerSize, dense_sizes
from toolkit.tf_env import import_keras

MAX_RESTARTS = 3
STUCK_FRACTION = 0.2  # val MSE above this share of var(y) counts as stuck


@dataclass
class TrainConfig:
    function: str = "sin"
    x_range: tuple[float, float] = (0.0, 2 * np.pi)
    hidden: tuple[int, ...] = (16, 16)
    epochs: int = 300
    samples: int = 1000
    noise: float = 0.0
    lr: float = 0.01
    batch_size: int = 32
    seed: int = 0


@dataclass
class TrainResult:
    config: TrainConfig
    test_mse: float  # against the clean function
    val_mse: float
    restarts: int
    layers: list[LayerSize]
    history: dict[str, list[float]] = field(repr=False, default_factory=dict)

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)


def build_mlp(hidden: tuple[int, ...], inputs: int = 1, outputs: int = 1, activation: str = "relu"):
    keras = import_keras()
    layers = [keras.Input(shape=(inputs,))]
    layers += [keras.layers.Dense(h, activation=activation, name=f"dense_{i}") for i, h in enumerate(hidden)]
    layers.append(keras.layers.Dense(outputs, name=f"dense_{len(hidden)}"))
    return keras.Sequential(layers)


def spread_first_layer_kinks(model, x: np.ndarray, rng: np.random.Generator) -> None:
    """Bias each first-layer unit so its ReLU switches at a random training input.

    With zero biases and inputs that are all positive (x in [0, 2*pi]), every unit
    is either linear over the whole range or dead, and training tends to stall.
    """
    first = model.layers[0]
    w, _ = first.get_weights()  # w: [inputs, units]
    centres = x[rng.integers(0, len(x), w.shape[1])]  # [units, inputs]
    first.set_weights([w, -np.einsum("iu,ui->u", w, centres).astype(np.float32)])


def fit(model, data: Dataset, epochs: int, lr: float, batch_size: int, verbose: int = 0, callbacks: list = ()):
    keras = import_keras()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr), loss="mse")
    callbacks = [keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=max(5, epochs // 20), min_lr=lr / 100), *callbacks]
    return model.fit(
        data.x["train"], data.y["train"], validation_data=(data.x["val"], data.y["val"]),
        epochs=epochs, batch_size=batch_size, verbose=verbose, callbacks=callbacks, shuffle=True,
    )


def train(cfg: TrainConfig, out_dir: str | Path, verbose: int = 0, callbacks: list = ()) -> TrainResult:
    keras = import_keras()
    fn = parse_function(cfg.function)
    data = make_dataset(fn, cfg.samples, cfg.x_range, cfg.noise, cfg.seed)
    target_var = float(np.var(data.y_clean["val"])) or 1.0

    for attempt in range(MAX_RESTARTS + 1):
        keras.utils.set_random_seed(cfg.seed + 7919 * attempt)
        model = build_mlp(cfg.hidden)
        spread_first_layer_kinks(model, data.x["train"], np.random.default_rng(cfg.seed + attempt))
        history = fit(model, data, cfg.epochs, cfg.lr, cfg.batch_size, verbose, callbacks)
        val_mse = float(history.history["val_loss"][-1])
        if val_mse < STUCK_FRACTION * target_var:
            break

    widths = [1, *cfg.hidden, 1]
    result = TrainResult(
        config=cfg,
        test_mse=clean_mse(model, data),
        val_mse=val_mse,
        restarts=attempt,
        layers=dense_sizes(widths, [layer.name for layer in model.layers]),
        history={k: [float(v) for v in vals] for k, vals in history.history.items()},
    )
    save_run(model, data, result, Path(out_dir))
    return result


def save_run(model, data: Dataset, result: TrainResult, out_dir: Path) -> None:
    save_model_dir(
        out_dir, model, data,
        metrics={"val_mse": result.val_mse, "restarts": result.restarts,
                 "layers": [asdict(layer) | {"params": layer.params} for layer in result.layers]},
        history=result.history,
        config=asdict(result.config),
    )


def load_config(run_dir: str | Path) -> TrainConfig | None:
    from toolkit.fileio import read_json

    raw = read_json(Path(run_dir) / "train_config.json")
    if raw is None:
        return None
    raw["x_range"] = tuple(raw["x_range"])
    raw["hidden"] = tuple(raw["hidden"])
    return TrainConfig(**raw)
