"""Neuron and structured pruning: score hidden units, then mask them or cut them out.

Neuron pruning zeroes a unit's incoming weights, bias and outgoing weights (the layer
keeps its shape; the zeros are skipped by the generated C). Structured pruning rebuilds
the network with only the kept units, so the exported layers really are smaller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from toolkit.compress.masks import dense_layers, mask_keeper
from toolkit.datasets import Dataset

CRITERIA = ("l1", "l2", "loss")


@dataclass(frozen=True)
class NeuronSettings:
    sparsity: float  # fraction of hidden units removed in each hidden layer
    criterion: str = "l2"
    epochs: int = 60
    lr: float = 0.003
    batch_size: int = 32


def unit_scores(model, data: Dataset, criterion: str) -> list[np.ndarray]:
    """Importance of every unit of every hidden layer (higher: keep)."""
    layers = dense_layers(model)[:-1]
    if criterion in ("l1", "l2"):
        order = 1 if criterion == "l1" else 2
        # a unit matters through what it receives and what it sends on
        scores = []
        for i, layer in enumerate(layers):
            w_in = layer.get_weights()[0]
            w_out = dense_layers(model)[i + 1].get_weights()[0]
            scores.append(np.linalg.norm(w_in, ord=order, axis=0) * np.linalg.norm(w_out, ord=order, axis=1))
        return scores
    if criterion == "loss":
        return [_ablation_scores(model, data, layer) for layer in layers]
    raise ValueError(f"criterion must be one of {', '.join(CRITERIA)}")


def _ablation_scores(model, data: Dataset, layer) -> np.ndarray:
    """Increase of the validation loss when the unit is switched off."""
    x, y = data.x["val"], data.y["val"]
    base = float(np.mean((model.predict(x, verbose=0) - y) ** 2))
    kernel, bias = layer.get_weights()
    scores = np.zeros(kernel.shape[1])
    for unit in range(kernel.shape[1]):
        k, b = kernel.copy(), bias.copy()
        k[:, unit], b[unit] = 0.0, 0.0
        layer.set_weights([k, b])
        scores[unit] = float(np.mean((model.predict(x, verbose=0) - y) ** 2)) - base
    layer.set_weights([kernel, bias])
    return scores


def kept_units(scores: list[np.ndarray], sparsity: float) -> list[np.ndarray]:
    """Indices (sorted) of the units to keep in each hidden layer; at least one each."""
    kept = []
    for s in scores:
        n_keep = max(1, len(s) - int(round(sparsity * len(s))))
        kept.append(np.sort(np.argsort(-s, kind="stable")[:n_keep]))
    return kept


def prune_neurons(model, data: Dataset, settings: NeuronSettings, callbacks: list = ()) -> tuple[dict, list[np.ndarray]]:
    """Mask the least important units in place and fine-tune; returns history, kept units."""
    from toolkit.tf_env import import_keras

    keras = import_keras()
    kept = kept_units(unit_scores(model, data, settings.criterion), settings.sparsity)
    layers = dense_layers(model)
    # one mask per weight tensor; a hidden kernel is masked twice (its own units' inputs
    # and the previous layer's pruned units' outputs), so the masks multiply
    masks = {(layer, index): np.ones_like(w) for layer in layers for index, w in enumerate(layer.get_weights())}
    for i, keep in enumerate(kept):
        alive = np.zeros(layers[i].units, np.float32)
        alive[keep] = 1.0
        masks[(layers[i], 0)] *= alive[None, :]  # incoming weights
        masks[(layers[i], 1)] *= alive  # bias
        masks[(layers[i + 1], 0)] *= alive[:, None]  # outgoing weights
    model.compile(optimizer=keras.optimizers.Adam(settings.lr), loss="mse")
    h = model.fit(data.x["train"], data.y["train"], validation_data=(data.x["val"], data.y["val"]),
                  epochs=settings.epochs, batch_size=settings.batch_size, verbose=0, callbacks=[mask_keeper(masks), *callbacks])
    return {k: [float(v) for v in vals] for k, vals in h.history.items()}, kept


def prune_structured(model, data: Dataset, settings: NeuronSettings, callbacks: list = ()):
    """A new, smaller model holding only the most important units; fine-tuned."""
    from toolkit.tf_env import import_keras
    from toolkit.train import build_mlp

    keras = import_keras()
    kept = kept_units(unit_scores(model, data, settings.criterion), settings.sparsity)
    layers = dense_layers(model)
    small = build_mlp(tuple(len(k) for k in kept), inputs=layers[0].get_weights()[0].shape[0],
                      outputs=layers[-1].units, activation=layers[0].activation.__name__)
    rows = np.arange(layers[0].get_weights()[0].shape[0])
    for i, (old, new) in enumerate(zip(layers, dense_layers(small))):
        kernel, bias = old.get_weights()
        cols = kept[i] if i < len(kept) else np.arange(kernel.shape[1])
        new.set_weights([kernel[np.ix_(rows, cols)], bias[cols]])
        rows = cols
    small.compile(optimizer=keras.optimizers.Adam(settings.lr), loss="mse")
    h = small.fit(data.x["train"], data.y["train"], validation_data=(data.x["val"], data.y["val"]),
                  epochs=settings.epochs, batch_size=settings.batch_size, verbose=0, callbacks=list(callbacks))
    return small, {k: [float(v) for v in vals] for k, vals in h.history.items()}
