"""One model with every supported op, and graphs with several inputs and outputs:
bit-exact with TFLM (int8) or within 1e-5 of LiteRT (float) on the host and on every
emulated core."""

from __future__ import annotations

import pytest

from tests.toolkit.graph.harness import EMULATED_CORES, check_model
from tests.toolkit.graphmodels import GraphCase
from toolkit.codegen import generate_c
from toolkit.ops import OPS
from toolkit.tflite.reader import read_tflite


def every_op(k, x):
    """12x12x3 in, 5 classes out; each line makes the ops named in its comment."""
    init = {"bias_initializer": "random_normal"}
    a = k.layers.Conv2D(8, 3, padding="same", activation="relu", **init)(x)  # CONV_2D
    b = k.layers.DepthwiseConv2D(3, strides=2, padding="same", activation="relu6", **init)(a)  # DEPTHWISE_CONV_2D
    c = k.layers.MaxPooling2D(2)(a)  # MAX_POOL_2D
    d = k.layers.Add()([b, c])  # ADD
    e = k.layers.Subtract()([b, c])  # SUB
    f = k.layers.Multiply()([d, e])  # MUL
    g = k.layers.Concatenate()([f, k.layers.Activation("sigmoid")(d), k.layers.Activation("tanh")(e)])  # CONCATENATION, LOGISTIC, TANH
    h = k.layers.LeakyReLU(negative_slope=0.1)(k.layers.Activation("hard_swish")(g))  # HARD_SWISH, LEAKY_RELU
    p = k.layers.ZeroPadding2D(1)(h)  # PAD
    p = k.ops.pad(p, [[0, 0], [1, 0], [0, 1], [0, 0]], constant_values=0.5)  # PADV2
    q = k.layers.AveragePooling2D(3, strides=3)(p)  # AVERAGE_POOL_2D
    m = k.layers.GlobalAveragePooling2D(keepdims=True)(q)  # MEAN
    r = k.layers.ReLU(max_value=6.0)(k.ops.squeeze(m, axis=1))  # SQUEEZE, RELU6
    r = k.layers.ReLU()(k.ops.expand_dims(k.layers.Flatten()(r), axis=1))  # RESHAPE, EXPAND_DIMS, RELU
    y = k.layers.Dense(5, **init)(k.layers.Flatten()(r))  # FULLY_CONNECTED
    return k.layers.Softmax()(y)  # SOFTMAX


EVERY_OP = [GraphCase("every_op", every_op, inputs=((12, 12, 3),), quant=q) for q in ("int8", "mixed", "float")]


def two_in_two_out(k, a, b):
    """Two image inputs, a shared trunk and two heads."""
    t = k.layers.Concatenate()([k.layers.Conv2D(4, 3, padding="same")(a), b])
    t = k.layers.Conv2D(6, 1, activation="relu", bias_initializer="random_normal")(t)
    head1 = k.layers.Dense(3, bias_initializer="random_normal")(k.layers.Flatten()(t))
    head2 = k.layers.GlobalAveragePooling2D()(k.layers.Add()([t, k.layers.Conv2D(6, 1)(b)]))
    return [head1, head2]


MULTI_IO = [GraphCase("two_in_two_out", two_in_two_out, inputs=((6, 6, 2), (6, 6, 3)), quant=q) for q in ("int8", "float")]


@pytest.mark.parametrize("case", EVERY_OP, ids=str)
def test_every_op_on_the_host(graph_models, tmp_path, case):
    model = check_model(graph_models(case), tmp_path)
    kinds = {op.kind for op in model.ops}
    if case.quant == "mixed":
        missing = set(OPS) - kinds - SHAPE_ONLY
        assert not missing, f"the every-op model lacks {sorted(missing)}: the converter fused or rewrote them"


# The converter drops shape-only ops next to elementwise ones or folds them into
# FULLY_CONNECTED, and writes SQUEEZE/EXPAND_DIMS as RESHAPE; these share one module
# (toolkit/ops/reshape.py) and are tested through Flatten models (tests/toolkit/ops).
SHAPE_ONLY = {"RESHAPE", "SQUEEZE", "EXPAND_DIMS"}


@pytest.mark.parametrize("arch", EMULATED_CORES)
def test_every_op_on_every_core(graph_models, tmp_path, arch):
    from toolkit.emulate import emulate

    for case in EVERY_OP:
        report = emulate(graph_models(case), arch, tmp_path / case.quant, n_inputs=4)
        assert report.comparison.passed, (case.slug(), arch, report.comparison)


@pytest.mark.parametrize("case", MULTI_IO, ids=str)
def test_several_inputs_and_outputs(graph_models, tmp_path, case):
    from toolkit.emulate import emulate

    path = graph_models(case)
    model = check_model(path, tmp_path / "host")
    assert len(model.inputs) == 2 and len(model.outputs) == 2
    header = generate_c(read_tflite(path)).header
    assert "MODEL_INPUT_COUNT 2" in header and "MODEL_OUTPUT1_OFFSET" in header
    report = emulate(path, "cortex-m4", tmp_path / "m4", n_inputs=5)
    assert report.comparison.passed, report.comparison
