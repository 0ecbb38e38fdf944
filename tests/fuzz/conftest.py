"""Seed models for the fuzzing harness: the repository's hello_world models, tiny models
converted in the session (an int8 conv/depthwise/pool/add/softmax graph, its float and
float16-weight versions) and, with FUZZ_CNN=1 (`make fuzz`), the keyword-spotting DS-CNN
of the CNN tests (drawn rarely: a case of it takes ~0.4 s against ~10 ms)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.toolkit.conftest import graph_models  # noqa: F401 -- the fixture, for the seeds
from tests.toolkit.graphmodels import GraphCase

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "models"


def tiny_cnn(k, x):
    """6x6x2 in, 3 classes out: CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D, ADD, RESHAPE,
    FULLY_CONNECTED, SOFTMAX."""
    init = {"bias_initializer": "random_normal"}
    a = k.layers.Conv2D(3, 3, padding="same", activation="relu", **init)(x)
    b = k.layers.DepthwiseConv2D(3, strides=2, padding="same", **init)(a)
    c = k.layers.MaxPooling2D(2)(a)
    d = k.layers.Add()([b, c])
    y = k.layers.Dense(3, **init)(k.layers.Flatten()(d))
    return k.layers.Softmax()(y)


TINY = [GraphCase("fuzz_tiny_cnn", tiny_cnn, inputs=((6, 6, 2),), quant=q) for q in ("int8", "int8-pt", "float")]


def _float16(path: Path) -> bytes:
    from toolkit.convert import to_float16_tflite
    from toolkit.tf_env import import_keras

    keras = import_keras()
    keras.utils.set_random_seed(0)
    x = keras.Input(shape=(6, 6, 2), batch_size=1)
    return to_float16_tflite(keras.Model(x, tiny_cnn(keras, x)))


@pytest.fixture(scope="session")
def fuzz_seeds(graph_models, tmp_path_factory) -> dict[str, bytes]:  # noqa: F811
    seeds = {p.stem: p.read_bytes() for p in sorted(REFERENCE.glob("hello_world_*.tflite"))}
    for case in TINY:
        seeds[case.slug()] = graph_models(case).read_bytes()
    f16 = graph_models.root / "fuzz_tiny_cnn_float16.tflite"
    if not f16.exists():
        tmp = f16.with_suffix(".part")
        tmp.write_bytes(_float16(f16))
        tmp.rename(f16)
    seeds["fuzz_tiny_cnn_float16"] = f16.read_bytes()
    if os.environ.get("FUZZ_CNN") == "1":
        from tests.toolkit.cnnmodels import KWS

        seeds[LARGE_SEED] = graph_models(KWS).read_bytes()
    return seeds


LARGE_SEED = "kws_dscnn"  # drawn once per LARGE_WEIGHT draws of each small seed (test_fuzz.py)
LARGE_WEIGHT = 8
