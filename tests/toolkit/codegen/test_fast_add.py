"""The DSP path of int8 ADD and SUB (toolkit/codegen/fast/dsp/add.py): its arithmetic against
TFLM's over every pair of int8 inputs (the converted layers and patched scales), which
layers take it, and bit-exactness with TFLM on the emulated Cortex-M4, M7 and M33."""

from __future__ import annotations

import numpy as np
import pytest

from tests.toolkit.graphmodels import GraphCase
from toolkit.codegen.context import CContext
from toolkit.codegen.fast import choose
from toolkit.codegen.fast.dsp import add as A
from toolkit.ir import Quant
from toolkit.tflite.reader import read_tflite


def residual(keras, a, b):
    """ADD with a fused ReLU, plain ADD, SUB: same shapes (41 elements: a tail of 1)."""
    s = keras.layers.ReLU()(keras.layers.Add()([a, b]))
    t = keras.layers.Add()([s, a])
    return keras.layers.Subtract()([t, b])


def broadcast(keras, a, b):
    return keras.layers.Add()([a, keras.layers.Dense(1)(b)])  # [41] + [1]: the portable C


RESIDUAL = GraphCase("fastadd_residual", residual, inputs=((41,), (41,)))
BROADCAST = GraphCase("fastadd_broadcast", broadcast, inputs=((41,), (41,)))


def _pairs() -> tuple[np.ndarray, np.ndarray]:
    a, b = np.meshgrid(np.arange(-128, 128), np.arange(-128, 128))
    return a.reshape(-1).astype(np.int64), b.reshape(-1).astype(np.int64)


def _tflm(op, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lo, hi = op.act_range()
    return np.clip(op.int8_raw(a, b) + op.output.zero_point, lo, hi)


def test_arithmetic_is_tflms_for_every_input_pair(graph_models):
    a, b = _pairs()
    ops = [op for op in read_tflite(graph_models(RESIDUAL)).ops if op.kind in ("ADD", "SUB")]
    assert sorted(op.kind for op in ops) == ["ADD", "ADD", "SUB"]
    for op in ops:
        assert np.array_equal(A.model(op, a, b), _tflm(op, a, b)), op.describe()


@pytest.mark.parametrize("seed", range(6))
def test_arithmetic_with_patched_scales(graph_models, seed):
    """Scales and zero points drawn at random (input ratios up to 50, outputs smaller or
    larger than the inputs): the identities hold wherever the path applies."""
    rng = np.random.default_rng(seed)
    a, b = _pairs()
    for op in read_tflite(graph_models(RESIDUAL)).ops:
        if op.kind not in ("ADD", "SUB"):
            continue
        for t in (*op.inputs, op.output):
            t.quant = Quant(np.array([10 ** rng.uniform(-3, -1)]), np.array([int(rng.integers(-128, 128))]))
        if A._params(op) is None:
            continue
        assert np.array_equal(A.model(op, a, b), _tflm(op, a, b)), (seed, op.describe())


def test_path_taken_where_it_applies(graph_models):
    for case, expected in ((RESIDUAL, True), (BROADCAST, False)):
        for op in read_tflite(graph_models(case)).ops:
            if op.kind in ("ADD", "SUB"):
                assert (choose(op, "dsp", CContext("model")) is not None) == expected, op.describe()


@pytest.mark.parametrize("case", [RESIDUAL, BROADCAST], ids=str)
@pytest.mark.parametrize("arch", ["cortex-m4", "cortex-m7", "cortex-m33"])
def test_bit_exact_on_dsp_cores(graph_models, tmp_path, case, arch):
    from toolkit.emulate import emulate

    report = emulate(graph_models(case), arch, tmp_path, n_inputs=20)
    assert report.comparison.passed and report.to_json()["mismatches"] == 0, report.comparison
