"""SOFTMAX: numpy reference == TFLM (int8, bit-exact) / LiteRT (float), host C == reference,
and the emulated cores == the interpreter."""

from __future__ import annotations

import struct
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.toolkit.graph.harness import check_model
from tests.toolkit.graphmodels import GraphCase
from toolkit.errors import UnsupportedModelError
from toolkit.ir import Tensor
from toolkit.ops._fixedpoint import exp_on_negative_values
from toolkit.ops.softmax import BETA_FIELD, Softmax, get_reciprocal
from toolkit.tflite import schema as S
from toolkit.tflite.flatbuffer import Table
from toolkit.tflite.reader import RawOp, _op_name, read_tflite


def dense_softmax(units: int):
    def build(keras, x):
        y = keras.layers.Dense(units, bias_initializer="random_normal")(x)
        return keras.layers.Softmax()(y)

    return build


def softmax_only(keras, x):
    return keras.layers.Softmax(axis=-1)(x)


def dense_then_softmax_4d(keras, x):
    y = keras.layers.Dense(6, bias_initializer="random_normal")(x)  # on the last axis of [1, 2, 3, 5]
    return keras.layers.Softmax(axis=-1)(y)


CASES = [
    GraphCase("sm_dense12", dense_softmax(12), inputs=((16,),), seed=0),
    GraphCase("sm_dense12", dense_softmax(12), inputs=((16,),), seed=1, scale=8.0),
    GraphCase("sm_dense2", dense_softmax(2), inputs=((5,),), seed=2, scale=0.3),
    GraphCase("sm_dense10", dense_softmax(10), inputs=((32,),), seed=3, scale=20.0),
    GraphCase("sm_dense33", dense_softmax(33), inputs=((8,),), seed=4, quant="int8-pt"),
    GraphCase("sm_2d", softmax_only, inputs=((4, 7),), seed=5),
    GraphCase("sm_2d", softmax_only, inputs=((4, 7),), seed=6, scale=0.05),
    GraphCase("sm_4d", dense_then_softmax_4d, inputs=((2, 3, 5),), seed=7),
    GraphCase("sm_4d", softmax_only, inputs=((3, 2, 9),), seed=8, scale=4.0),
]
FLOAT_CASES = [
    GraphCase("sm_dense12", dense_softmax(12), inputs=((16,),), quant="float", seed=0),
    GraphCase("sm_2d", softmax_only, inputs=((4, 7),), quant="float", seed=5),
    GraphCase("sm_4d", dense_then_softmax_4d, inputs=((2, 3, 5),), quant="float", seed=7),
]


@pytest.mark.parametrize("case", CASES + FLOAT_CASES, ids=str)
def test_softmax(graph_models, tmp_path, case):
    model = check_model(graph_models(case), tmp_path)
    assert any(op.kind == "SOFTMAX" for op in model.ops)


def _softmax_beta_position(data: bytes) -> int:
    """Absolute offset of the SOFTMAX operator's beta (a float32) in the file."""
    root = Table.root(data)
    codes = [_op_name(c) for c in root.tables(S.Model.OPERATOR_CODES)]
    for op in root.tables(S.Model.SUBGRAPHS)[0].tables(S.SubGraph.OPERATORS):
        if codes[op.scalar(S.Operator.OPCODE_INDEX, "I")] == "SOFTMAX":
            at = op.table(S.Operator.BUILTIN_OPTIONS)._field(BETA_FIELD)
            assert at, "beta is stored"
            return at
    raise AssertionError("no SOFTMAX in the model")


@pytest.mark.parametrize("beta", [0.5, 2.0, 7.3])
@pytest.mark.parametrize("quant", ["int8", "float"])
def test_softmax_beta(graph_models, tmp_path, beta, quant):
    """beta != 1 (Keras always writes 1): patched into the file, checked by both interpreters."""
    data = bytearray(graph_models(GraphCase("sm_dense12", dense_softmax(12), inputs=((16,),), quant=quant, seed=0)).read_bytes())
    at = _softmax_beta_position(bytes(data))
    assert struct.unpack_from("<f", data, at)[0] == 1.0
    struct.pack_into("<f", data, at, beta)
    path = tmp_path / "beta.tflite"
    path.write_bytes(bytes(data))
    model = check_model(path, tmp_path / "build")
    assert next(op for op in model.ops if op.kind == "SOFTMAX").beta == pytest.approx(beta)


@pytest.mark.parametrize("case", [CASES[0], FLOAT_CASES[2]], ids=str)
@pytest.mark.parametrize("arch", ["cortex-m4", "cortex-m0plus"])
def test_softmax_emulated(graph_models, tmp_path, case, arch):
    from toolkit.emulate import emulate

    report = emulate(graph_models(case), arch, tmp_path, n_inputs=20)
    assert report.comparison.passed, report.comparison


# -- the fixed-point pieces against their real-valued definitions ---------------------------


def test_softmax_exp_and_reciprocal_are_close_to_exact():
    a = -np.arange(0, 2**31, 2**31 // 4000, dtype=np.int64)[1:]  # Q5.26 over (-32, 0)
    exact = np.exp(a / 2.0**26)
    assert np.max(np.abs(exp_on_negative_values(a, 5) / 2.0**31 - exact)) < 1e-6
    assert exp_on_negative_values(np.array([0]), 5)[0] == 2**31 - 1
    for total in (1 << 19, 3 << 19, 123456789, (1 << 31) - 1):  # Q12.19 sums of exps
        scale, bits = get_reciprocal(total, 12)
        assert abs(scale / 2.0**31 * 2.0**-bits / (2.0**19 / total) - 1) < 1e-8


# -- what is refused -------------------------------------------------------------------------


class _Options:
    def __init__(self, beta: float) -> None:
        self.beta = beta

    def scalar(self, index: int, fmt: str, default=0):
        return self.beta if index == BETA_FIELD else default


def _raw(graph_models, beta: float = 1.0, out_scale: float | None = None, out_zp: int | None = None,
         out_dtype: str = "int8") -> RawOp:
    model = read_tflite(graph_models(CASES[0]))
    op = next(op for op in model.ops if op.kind == "SOFTMAX")
    y = op.output
    if out_scale is not None or out_zp is not None or out_dtype != "int8":
        q = replace(y.quant, scale=np.array([out_scale or y.scale], np.float32),
                    zero_point=np.array([y.zero_point if out_zp is None else out_zp], np.int64))
        y = Tensor(y.name, y.shape, out_dtype, q)
    return RawOp(kind="SOFTMAX", inputs=[op.input], outputs=[y], options=_Options(beta), index=4)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"out_scale": 1 / 128}, ["scale 0.0078125", "1/256"]),
        ({"out_zp": 0}, ["zero point 0", "-128"]),
        ({"beta": 0.0}, ["beta 0"]),
        ({"beta": -1.0}, ["beta -1"]),
        ({"out_dtype": "int16"}, ["output", "int16", "supported: int8"]),
    ],
)
def test_unsupported_softmax_is_one_line(graph_models, kwargs, words):
    with pytest.raises(UnsupportedModelError) as info:
        Softmax.from_tflite(_raw(graph_models, **kwargs))
    msg = str(info.value)
    assert "\n" not in msg and "SOFTMAX (operator 4)" in msg
    for word in words:
        assert word in msg


def test_tflite_reader_finds_softmax(graph_models):
    path: Path = graph_models(CASES[0])
    assert [op.kind for op in read_tflite(path).ops] == ["FULLY_CONNECTED", "SOFTMAX"]
