"""Models built with Keras and the TFLite converter, shared across the toolkit tests."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.toolkit.graphmodels import GraphModels
from tests.toolkit.modelfactory import ModelSpec, build_tflite


@pytest.fixture(scope="session")
def trained_sine(tmp_path_factory) -> Path:
    """A freshly trained 1-16-16-1 sine model (few epochs) converted to float and int8."""
    from toolkit.convert import convert_dir
    from toolkit.datasets import Dataset
    from toolkit.train import TrainConfig, train

    out = tmp_path_factory.mktemp("sine")
    train(TrainConfig(function="sin", epochs=60, samples=1000, seed=1), out)
    convert_dir(out / "model.keras", out, Dataset.load(out / "dataset.npz").x["train"])
    return out


@pytest.fixture(scope="session")
def model_factory(tmp_path_factory):
    """build(spec) -> path of a .tflite made by the real converter, cached per spec."""
    cache: dict[ModelSpec, Path] = {}
    root = tmp_path_factory.mktemp("models")

    def build(spec: ModelSpec) -> Path:
        if spec not in cache:
            cache[spec] = build_tflite(spec, root / f"{spec.slug()}.tflite")
        return cache[spec]

    return build


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def graph_models(tmp_path_factory) -> GraphModels:
    """graph_models(GraphCase) -> .tflite path; shared by the xdist workers of one run
    (their base directories are siblings), never across runs."""
    base = tmp_path_factory.getbasetemp()
    return GraphModels((base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "graph-models")
