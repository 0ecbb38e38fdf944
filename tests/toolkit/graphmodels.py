"""Small Keras graphs converted with the real TFLite converter, for op and model tests.

A `GraphCase` names a builder (Keras layers on the inputs) and how to convert it. The
.tflite files are cached in the session's shared temporary directory with a file lock,
so pytest-xdist workers convert each case once between them.
"""

from __future__ import annotations

import fcntl
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class GraphCase:
    name: str  # unique: the cache key (with quant and seed)
    build: Callable = field(compare=False, hash=False, repr=False)  # (keras, *inputs) -> output(s)
    inputs: tuple[tuple[int, ...], ...] = ((8,),)  # shapes without the batch dimension
    quant: str = "int8"  # "int8" (per-channel weights), "int8-pt" (per-tensor), "mixed" (int8 inside,
    # float inputs/outputs: QUANTIZE and DEQUANTIZE at the edges), "float"
    seed: int = 0
    scale: float = 2.0  # representative inputs ~ N(0, scale)

    def slug(self) -> str:
        return f"{self.name}_{self.quant}_{self.seed}"

    def __str__(self) -> str:
        return self.slug()


def convert_case(case: GraphCase) -> bytes:
    from toolkit.convert import QuantOptions, to_float_tflite, to_int8_tflite
    from toolkit.tf_env import import_keras

    keras = import_keras()
    keras.utils.set_random_seed(case.seed)
    inputs = [keras.Input(shape=s, batch_size=1) for s in case.inputs]
    outputs = case.build(keras, *inputs)
    model = keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs)
    if case.quant == "float":
        return to_float_tflite(model)
    rng = np.random.default_rng(case.seed)
    rep = [rng.normal(0, case.scale, size=(200, *s)).astype(np.float32) for s in case.inputs]
    return to_int8_tflite(model, rep, QuantOptions(per_channel=case.quant != "int8-pt"), int8_io=case.quant != "mixed")


class GraphModels:
    """case -> path of its .tflite, converted once per session across workers."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def __call__(self, case: GraphCase) -> Path:
        key = hashlib.sha1(case.slug().encode()).hexdigest()[:8]
        path = self.root / f"{case.slug()}-{key}.tflite"
        with open(self.root / f"{path.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not path.exists():
                tmp = path.with_suffix(".part")
                tmp.write_bytes(convert_case(case))
                tmp.rename(path)
        return path
