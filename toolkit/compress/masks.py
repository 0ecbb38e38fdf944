"""Magnitude masks with an exact number of zeros, and fine-tuning that keeps them."""

from __future__ import annotations

import numpy as np


def dense_layers(model) -> list:
    return [layer for layer in model.layers if layer.__class__.__name__ == "Dense"]


def n_to_prune(size: int, sparsity: float) -> int:
    return int(round(sparsity * size))


def magnitude_masks(kernels: list[np.ndarray], sparsity: float, scope: str = "layer") -> list[np.ndarray]:
    """1/0 masks zeroing the smallest-magnitude weights: per layer, or across all layers.

    Exactly round(sparsity * n) weights are zeroed (ties broken by position), so the
    requested sparsity is met to the weight.
    """
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity must be in [0, 1), got {sparsity}")
    if scope == "layer":
        return [_mask_smallest(np.abs(k).reshape(-1), n_to_prune(k.size, sparsity)).reshape(k.shape) for k in kernels]
    if scope == "global":
        flat = np.concatenate([np.abs(k).reshape(-1) for k in kernels])
        mask = _mask_smallest(flat, n_to_prune(flat.size, sparsity))
        out, start = [], 0
        for k in kernels:
            out.append(mask[start : start + k.size].reshape(k.shape))
            start += k.size
        return out
    raise ValueError(f"scope must be 'layer' or 'global', got {scope!r}")


def _mask_smallest(magnitudes: np.ndarray, k: int) -> np.ndarray:
    mask = np.ones(magnitudes.size, np.float32)
    mask[np.argsort(magnitudes, kind="stable")[:k]] = 0.0
    return mask


def sparsity_of(kernels: list[np.ndarray]) -> float:
    total = sum(k.size for k in kernels)
    return sum(int(np.count_nonzero(k == 0)) for k in kernels) / total


def mask_keeper(masks: dict):
    """A Keras callback that re-applies fixed masks after every training batch.

    `masks` maps (layer, weight index) to a 0/1 array. The optimizer may move a pruned
    weight; multiplying by its mask right after each update puts it back to exactly
    zero, so the masks hold throughout fine-tuning.
    """
    from toolkit.tf_env import import_keras

    keras = import_keras()

    class MaskKeeper(keras.callbacks.Callback):
        def apply(self) -> None:
            for (layer, index), mask in masks.items():
                var = layer.weights[index]
                var.assign(var.numpy() * mask)

        def on_train_begin(self, logs=None):
            self.apply()

        def on_train_batch_end(self, batch, logs=None):
            self.apply()

    return MaskKeeper()
