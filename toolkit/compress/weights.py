"""Weight (magnitude) pruning: zero the smallest weights, fine-tune with the zeros held."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from toolkit.compress.masks import dense_layers, mask_keeper, magnitude_masks
from toolkit.datasets import Dataset


@dataclass(frozen=True)
class PruneSettings:
    sparsity: float
    scope: str = "layer"  # "layer" or "global"
    schedule: str = "oneshot"  # "oneshot" or "gradual" (polynomial ramp, as in TF-MOT)
    epochs: int = 60  # fine-tuning epochs
    lr: float = 0.003
    batch_size: int = 32


def gradual_targets(final: float, epochs: int, ramp_fraction: float = 0.6) -> list[float]:
    """Sparsity at the start of each epoch: s_t = s_f * (1 - (1 - t/T)^3), then held."""
    ramp = max(1, int(epochs * ramp_fraction))
    return [final * (1 - (1 - min(t, ramp) / ramp) ** 3) for t in range(1, epochs + 1)]


def prune_weights(model, data: Dataset, settings: PruneSettings, callbacks: list = ()) -> dict:
    """Prune `model` in place; returns the history of fine-tuning."""
    from toolkit.tf_env import import_keras

    keras = import_keras()
    layers = dense_layers(model)
    model.compile(optimizer=keras.optimizers.Adam(settings.lr), loss="mse")
    targets = [settings.sparsity] if settings.schedule == "oneshot" else gradual_targets(settings.sparsity, settings.epochs)
    epochs_per_step = settings.epochs if settings.schedule == "oneshot" else 1
    history: dict[str, list[float]] = {"loss": [], "val_loss": [], "sparsity": []}
    for target in targets:
        kernels = [layer.get_weights()[0] for layer in layers]
        masks = magnitude_masks(kernels, target, settings.scope)
        keeper = mask_keeper({(layer, 0): mask for layer, mask in zip(layers, masks)})
        h = model.fit(
            data.x["train"], data.y["train"], validation_data=(data.x["val"], data.y["val"]),
            epochs=epochs_per_step, batch_size=settings.batch_size, verbose=0, callbacks=[keeper, *callbacks],
        )
        history["loss"] += [float(v) for v in h.history["loss"]]
        history["val_loss"] += [float(v) for v in h.history["val_loss"]]
        history["sparsity"] += [float(target)] * epochs_per_step
    return history


def layer_sparsity(model) -> list[float]:
    return [float(np.mean(layer.get_weights()[0] == 0)) for layer in dense_layers(model)]
