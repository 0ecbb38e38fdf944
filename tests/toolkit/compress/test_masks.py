import numpy as np
import pytest

from toolkit.compress.masks import magnitude_masks, sparsity_of
from toolkit.compress.weights import gradual_targets


@pytest.mark.parametrize("sparsity", [0.0, 0.3, 0.5, 0.8, 0.95])
def test_exact_count_per_layer_and_global(rng, sparsity):
    kernels = [rng.normal(size=(1, 16)), rng.normal(size=(16, 16)), rng.normal(size=(16, 1))]
    for k, m in zip(kernels, magnitude_masks(kernels, sparsity, "layer")):
        assert int((m == 0).sum()) == round(sparsity * k.size)
        if 0 < (m == 0).sum() < k.size:  # the zeroed weights are the smallest ones
            assert np.abs(k[m == 0]).max() <= np.abs(k[m == 1]).min()
    masks = magnitude_masks(kernels, sparsity, "global")
    assert sum(int((m == 0).sum()) for m in masks) == round(sparsity * 288)


def test_ties_still_give_the_exact_count():
    kernels = [np.zeros((4, 4)), np.ones((4, 4))]
    masks = magnitude_masks(kernels, 0.25, "global")
    assert sum(int((m == 0).sum()) for m in masks) == 8


def test_gradual_schedule_ramps_to_the_target():
    steps = gradual_targets(0.8, 50)
    assert len(steps) == 50 and steps == sorted(steps)
    assert steps[0] < 0.2 and steps[-1] == pytest.approx(0.8) and steps[29] == pytest.approx(0.8)


def test_sparsity_of():
    assert sparsity_of([np.array([0.0, 1.0]), np.array([0.0, 0.0, 2.0, 3.0])]) == 0.5
