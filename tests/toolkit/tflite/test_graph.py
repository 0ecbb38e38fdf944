"""Operator order, dead operators, malformed graphs, and constant folding at read time."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.errors import ModelFormatError, UnsupportedModelError
from toolkit.ir import Tensor
from toolkit.tflite.constfold import fold_constant
from toolkit.tflite.graph import graph_order
from toolkit.tflite.reader import RawOp


def t(name: str, shape=(4,), data=None, dtype="int8") -> Tensor:
    return Tensor(name, shape, dtype, data=data)


def op(index: int, ins, outs, kind: str = "RELU") -> RawOp:
    return RawOp(kind=kind, inputs=list(ins), outputs=list(outs), options=None, index=index)


def test_operators_listed_out_of_order_are_sorted():
    x, a, b, y = t("x"), t("a"), t("b"), t("y")
    ops = [op(0, [a, b], [y], "ADD"), op(1, [a], [b]), op(2, [x], [a])]
    assert [o.index for o in graph_order(ops, [x], [y], "m")] == [2, 1, 0]


def test_operators_nothing_needs_are_dropped():
    x, a, dead, y = t("x"), t("a"), t("dead"), t("y")
    ops = [op(0, [x], [a]), op(1, [a], [dead]), op(2, [a], [y])]
    assert [o.index for o in graph_order(ops, [x], [y], "m")] == [0, 2]


@pytest.mark.parametrize("case", ["cycle", "unknown", "twice", "writes-input", "const-output"])
def test_malformed_graphs_are_one_line_errors(case):
    x, a, b, y = t("x"), t("a"), t("b"), t("y")
    expect = ModelFormatError
    if case == "cycle":
        ops, outs, what = [op(0, [x, b], [a], "ADD"), op(1, [a], [b]), op(2, [b], [y])], [y], "cycle"
    elif case == "unknown":
        ops, outs, what = [op(0, [a], [y])], [y], "reads tensor 'a'"
    elif case == "twice":
        ops, outs, what = [op(0, [x], [y]), op(1, [x], [y])], [y], "computed by operators 0 and 1"
    elif case == "writes-input":
        ops, outs, what = [op(0, [a], [x]), op(1, [x], [y])], [y], "writes the model input"
    else:
        c = t("c", data=np.zeros(4, np.int8))
        ops, outs, what, expect = [op(0, [x], [y])], [c], "is a constant", UnsupportedModelError
    with pytest.raises(expect, match=what) as info:
        graph_order(ops, [x], outs, "m.tflite")
    assert "\n" not in str(info.value)


def test_shape_strided_slice_pack_fold_to_a_constant():
    """Keras 3's Flatten: SHAPE -> STRIDED_SLICE -> PACK gives RESHAPE a constant shape."""
    x = t("x", (1, 3, 2, 5))
    shape = t("shape", (4,), dtype="int32")
    assert fold_constant(op(0, [x], [shape], "SHAPE"))
    assert shape.data.tolist() == [1, 3, 2, 5]
    consts = [t(n, (1,), np.array([v], np.int32), "int32") for n, v in (("b", 0), ("e", 1), ("s", 1))]
    first = t("first", (1,), dtype="int32")
    assert fold_constant(op(1, [shape, *consts], [first], "STRIDED_SLICE"))
    assert first.data.tolist() == [1]
    minus = t("m1", (1,), np.array([-1], np.int32), "int32")
    packed = t("packed", (2, 1), dtype="int32")
    assert fold_constant(op(2, [first, minus], [packed], "PACK"))
    assert packed.data.reshape(-1).tolist() == [1, -1]
    # an input that is not constant is left alone
    assert not fold_constant(op(3, [x, minus], [t("r", (30,))], "RESHAPE"))


def test_dequantize_of_float16_weights_folds():
    w16 = t("w16", (2, 2), np.array([[1.5, -2], [0.25, 8]], np.float16), "float16")
    w = t("w", (2, 2), dtype="float32")
    assert fold_constant(op(0, [w16], [w], "DEQUANTIZE"))
    assert w.data.dtype == np.float32 and w.data.tolist() == [[1.5, -2.0], [0.25, 8.0]]
