"""CONV_2D and DEPTHWISE_CONV_2D: numpy reference == TFLM (int8, bit-exact) / LiteRT
(float), host C == reference, and the emulated cores == the interpreter."""

from __future__ import annotations

import numpy as np
import pytest

from tests.toolkit.graph.harness import assert_agree, check_model, reference_rows
from tests.toolkit.graphmodels import GraphCase
from toolkit import quantization as Q
from toolkit.codegen import generate_c
from toolkit.errors import UnsupportedModelError
from toolkit.hostbuild import build_host
from toolkit.ir import Quant, Tensor
from toolkit.ops.conv2d import CONV_FIELDS, DW_FIELDS, Conv2D
from toolkit.ops.depthwise_conv2d import DepthwiseConv2D
from toolkit.tflite.reader import RawOp, read_tflite
from toolkit.validation import make_inputs, reference_outputs


def conv(filters: int, kernel, strides=1, padding="same", dilation=1, activation=None, bias=True):
    def build(keras, x):
        return keras.layers.Conv2D(filters, kernel, strides=strides, padding=padding, dilation_rate=dilation,
                                   activation=activation, use_bias=bias, bias_initializer="random_normal")(x)

    return build


def dwconv(kernel, strides=1, padding="same", multiplier=1, dilation=1, activation=None, bias=True):
    def build(keras, x):
        return keras.layers.DepthwiseConv2D(kernel, strides=strides, padding=padding, depth_multiplier=multiplier,
                                            dilation_rate=dilation, activation=activation, use_bias=bias,
                                            bias_initializer="random_normal")(x)

    return build


def relu_conv(keras, x):
    """A ReLU'd input (zero point -128 after quantization) into a padded convolution."""
    y = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    return keras.layers.Conv2D(6, 3, strides=2, padding="same", bias_initializer="random_normal")(y)


def ds_block(keras, x):
    """DS-CNN-like: strided first conv, depthwise + pointwise with ReLU6."""
    y = keras.layers.Conv2D(8, (10, 4), strides=2, padding="same", activation="relu")(x)
    y = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu6")(y)
    return keras.layers.Conv2D(8, 1, activation="relu6")(y)


C = {  # name -> (builder, input shape)
    "pw1x1": (conv(6, 1), (8, 8, 4)),
    "c3s1same": (conv(5, 3), (9, 9, 3)),
    "c3s2same": (conv(6, 3, strides=2), (9, 9, 3)),
    "c3s2valid": (conv(6, 3, strides=2, padding="valid"), (9, 9, 3)),
    "c10x4s2": (conv(8, (10, 4), strides=2), (13, 7, 1)),
    "c5d2": (conv(4, 5, dilation=2), (9, 9, 2)),
    "c3d2valid": (conv(4, 3, padding="valid", dilation=2), (9, 8, 3)),
    "c3relu6": (conv(4, 3, activation="relu6"), (8, 8, 4)),
    "c3relu_nobias": (conv(4, (3, 2), strides=(1, 2), activation="relu", bias=False), (7, 9, 3)),
    "c1x3valid": (conv(5, (1, 3), strides=(2, 1), padding="valid", activation="relu6"), (5, 7, 3)),  # windows in place
    "c_relu_in": (relu_conv, (9, 9, 3)),
    "dw3s1": (dwconv(3), (8, 8, 4)),
    "dw3s2": (dwconv(3, strides=2), (9, 9, 3)),
    "dw3s1m2": (dwconv(3, multiplier=2), (8, 8, 4)),
    "dw3s2m2valid": (dwconv(3, strides=2, padding="valid", multiplier=2), (9, 9, 3)),
    "dw3d2": (dwconv(3, dilation=2), (9, 9, 3)),
    "dw5relu6": (dwconv(5, activation="relu6"), (8, 8, 4)),
    "dw_wide": (dwconv((3, 10), multiplier=3, bias=False), (6, 12, 2)),
    "dw_big": (dwconv((7, 5), strides=(2, 1), multiplier=2, activation="relu"), (10, 9, 3)),  # taps in loops
    "ds_block": (ds_block, (13, 7, 1)),
}


def case(name: str, quant: str = "int8", seed: int = 0, scale: float = 2.0) -> GraphCase:
    build, shape = C[name]
    return GraphCase(f"conv_{name}", build, inputs=(shape,), quant=quant, seed=seed, scale=scale)


INT8 = [case(n) for n in C] + [case("c3s2same", seed=1, scale=6.0), case("dw3s1", seed=2, scale=0.5)]
PER_TENSOR = [case(n, "int8-pt") for n in ("pw1x1", "c3s2same", "c10x4s2", "dw3s1m2", "dw3s2", "c_relu_in")]
FLOAT = [case(n, "float") for n in ("pw1x1", "c3s1same", "c3s2valid", "c10x4s2", "c5d2", "c3relu6", "c3relu_nobias",
                                    "c1x3valid", "dw3s1", "dw3s2m2valid", "dw3d2", "dw5relu6", "dw_wide", "dw_big",
                                    "ds_block")]


@pytest.mark.parametrize("case", INT8 + PER_TENSOR + FLOAT, ids=str)
def test_conv(graph_models, tmp_path, case):
    model = check_model(graph_models(case), tmp_path)
    assert any(op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D") for op in model.ops)


@pytest.mark.parametrize("case", [case(n, "float") for n in ("c3s1same", "c5d2", "dw3s2m2valid", "ds_block")], ids=str)
def test_float_is_bit_exact(graph_models, tmp_path, case):
    """Summed in LiteRT's reference order (taps, then the bias): the same bits, not only close."""
    path = graph_models(case)
    model = read_tflite(path)
    inputs = make_inputs(model, 10, seed=4)
    _, litert = reference_outputs(model, path, inputs)
    ours = reference_rows(model, inputs)
    host = build_host(generate_c(model), tmp_path).invoke(inputs).reshape(litert.shape)
    assert np.array_equal(ours.view(np.int32), litert.view(np.int32))
    assert np.array_equal(host.view(np.int32), litert.view(np.int32))


def test_conv_multipliers_use_double_products():
    """TFLM's convolution Prepare multiplies input and filter scales in double for every
    channel, a per-tensor scale too (FULLY_CONNECTED's per-tensor product is float32):
    for these scales the two differ in the multiplier's last bits."""
    a, b, c = np.float32(0.064059205), np.float32(0.027708884), np.float32(0.005056379)
    mult, shift = Q.conv_multipliers(a, np.array([b]), c, 3)
    assert list(mult) == [Q.quantize_multiplier(float(a) * float(b) / float(c))[0]] * 3 == [1507720493] * 3
    assert list(shift) == [-1] * 3
    assert Q.fc_multipliers(a, np.array([b]), c)[0][0] == 1507720476


def test_dilated_layers_convert_to_one_dilated_op(graph_models):
    """The converter writes Keras dilation_rate=2 as the op's dilation factors, not as
    SPACE_TO_BATCH_ND -> CONV -> BATCH_TO_SPACE_ND: no graph rewrite is needed."""
    for name, kind in (("c5d2", "CONV_2D"), ("dw3d2", "DEPTHWISE_CONV_2D")):
        for quant in ("int8", "float"):
            ops = read_tflite(graph_models(case(name, quant))).ops
            assert [op.kind for op in ops] == [kind]
            assert (ops[0].rows.dilation, ops[0].cols.dilation) == (2, 2)


def test_parameters_and_macs(graph_models):
    op = read_tflite(graph_models(case("c10x4s2"))).ops[0]
    assert (op.rows.stride, op.cols.stride, op.rows.padding) == (2, 2, "SAME")
    assert op.output.shape == (1, 7, 4, 8) and op.macs == 7 * 4 * 8 * 10 * 4 * 1
    assert op.weights.quant.per_channel and op.weights.quant.axis == 0
    dw = read_tflite(graph_models(case("dw3s1m2"))).ops[0]
    assert dw.multiplier == 2 and dw.output.shape == (1, 8, 8, 8) and dw.macs == 8 * 8 * 8 * 9
    assert dw.weights.quant.per_channel and dw.weights.quant.axis == 3
    pt = read_tflite(graph_models(case("c3s2same", "int8-pt"))).ops[0]
    assert not pt.weights.quant.per_channel
    assert "3x3/2x2 SAME" in pt.describe()


@pytest.mark.parametrize("case", [case("c3s2same"), case("c5d2"), case("c_relu_in"), case("dw3s1m2"), case("dw3d2"),
                                  case("ds_block"), case("dw3s2", "int8-pt"), case("c10x4s2", "float"),
                                  case("dw3s2m2valid", "float")], ids=str)
@pytest.mark.parametrize("arch", ["cortex-m4", "cortex-m0plus"])
def test_conv_emulated(graph_models, tmp_path, case, arch):
    from toolkit.emulate import emulate

    report = emulate(graph_models(case), arch, tmp_path, n_inputs=20)
    assert report.comparison.passed, report.comparison


# -- requantization paths the converted cases do not reach -----------------------------------


def _huge_bias(op):
    op.bias.data = np.where(np.arange(op.out_channels) % 2, 2**30, -(2**30)).astype(np.int32)


def _small_output_scale(op):  # multipliers above 1: left shifts
    op.output.quant = Quant(op.output.quant.scale / 300, op.output.quant.zero_point)


def _mixed_shifts(op):  # filter scales 2^12 apart per channel: multipliers above and below 1, left and right shifts
    q = op.weights.quant
    op.weights.quant = Quant(q.scale * np.where(np.arange(len(q.scale)) % 2, 2.0**-2, 2.0**10).astype(np.float32),
                             q.zero_point, q.axis)


@pytest.mark.parametrize("tweak, general", [(_huge_bias, True), (_small_output_scale, False), (_mixed_shifts, True)],
                         ids=lambda v: getattr(v, "__name__", str(v)))
@pytest.mark.parametrize("name", ["c3s2same", "dw3s1m2", "c_relu_in"])
def test_requantization_paths(graph_models, tmp_path, name, tweak, general):
    """The IR patched so that the specialised requantization's bounds fail (tm_requant) or
    its rarer branches run: host C == the numpy reference."""
    model = read_tflite(graph_models(case(name)))
    for op in model.ops:
        tweak(op)
    gen = generate_c(model)
    assert ("tm_requant(" in gen.source) == general
    inputs = make_inputs(model, 12, seed=5)
    ours = reference_rows(model, inputs)
    assert_agree(model, build_host(gen, tmp_path).invoke(inputs), ours, "host C vs reference")
    if tweak is not _huge_bias:  # that one saturates: the point is the general kernel's bounds
        assert len(np.unique(ours)) > 2, "the patched layer still computes something"


# -- what is refused -------------------------------------------------------------------------


class _Options:
    def __init__(self, fields: dict[str, int], **values: int) -> None:
        self.at = {fields[k]: v for k, v in values.items()}

    def scalar(self, index: int, fmt: str, default=0):
        return self.at.get(index, default)


def _tensor(name: str, shape, dtype="int8", scale=(0.05,), axis=0, data=None) -> Tensor:
    q = Quant(np.array(scale, np.float32), np.zeros(len(scale), np.int64), axis)
    return Tensor(name, tuple(shape), dtype, q if dtype != "float32" else None, data)


def _conv_raw(x_shape=(1, 9, 9, 3), w_shape=(4, 3, 3, 3), y_shape=(1, 9, 9, 4), w_scale=(0.01,), axis=0,
              dtype="int8", **opts) -> RawOp:
    opts = {"padding": 0, "stride_w": 1, "stride_h": 1, **opts}
    x = _tensor("x", x_shape, dtype)
    w = _tensor("w", w_shape, dtype, w_scale, axis, np.ones(w_shape, dtype))
    y = _tensor("y", y_shape, dtype)
    return RawOp("CONV_2D", [x, w, None], [y], _Options(CONV_FIELDS, **opts), 3)


def _dw_raw(multiplier=1, x_shape=(1, 8, 8, 4), w_shape=(1, 3, 3, 4), y_shape=(1, 8, 8, 4)) -> RawOp:
    opts = {"padding": 0, "stride_w": 1, "stride_h": 1, "depth_multiplier": multiplier}
    x, y = _tensor("x", x_shape), _tensor("y", y_shape)
    w = _tensor("w", w_shape, data=np.ones(w_shape, np.int8), axis=3)
    return RawOp("DEPTHWISE_CONV_2D", [x, w, None], [y], _Options(DW_FIELDS, **opts), 3)


def test_a_well_formed_fake_op_is_accepted():
    assert Conv2D.from_tflite(_conv_raw()).macs == 9 * 9 * 4 * 27
    assert DepthwiseConv2D.from_tflite(_dw_raw()).macs == 8 * 8 * 4 * 9
    assert Conv2D.from_tflite(_conv_raw(dtype="float32")).input.dtype == "float32"


@pytest.mark.parametrize(
    "raw, words",
    [
        (_conv_raw(x_shape=(1, 9, 9, 6)), ["grouped convolution", "6 channels", "filter 3"]),
        (_conv_raw(x_shape=(2, 9, 9, 3), y_shape=(2, 9, 9, 4)), ["batch size 2"]),
        (_conv_raw(stride_w=0), ["stride_w 0"]),
        (_conv_raw(dilation_h=-1), ["dilation_h -1"]),
        (_conv_raw(padding=2), ["padding code 2"]),
        (_conv_raw(activation=4), ["fused activation TANH"]),
        (_conv_raw(y_shape=(1, 5, 5, 4)), ["output shape [1, 5, 5, 4]", "[1, 9, 9, 4]"]),
        (_conv_raw(w_scale=(0.1, 0.2, 0.3, 0.4), axis=3), ["axis 0", "axis 3"]),
        (_dw_raw(multiplier=2), ["depth_multiplier 2"]),
        (_dw_raw(w_shape=(1, 3, 3, 8), y_shape=(1, 8, 8, 8)), ["depth_multiplier 1", "filter channels 8"]),
        (_dw_raw(w_shape=(2, 3, 3, 4)), ["[1, height, width, channels]"]),
    ],
    ids=lambda v: v.kind if isinstance(v, RawOp) else None,
)
def test_unsupported_is_one_line(raw, words):
    cls = Conv2D if raw.kind == "CONV_2D" else DepthwiseConv2D
    with pytest.raises(UnsupportedModelError) as info:
        cls.from_tflite(raw)
    msg = str(info.value)
    assert "\n" not in msg and f"{raw.kind} (operator 3)" in msg, msg
    for word in words:
        assert word in msg, msg


def test_hybrid_filter_is_refused():
    raw = _conv_raw(dtype="float32")
    raw.inputs[1] = _tensor("w", (4, 3, 3, 3), "int8", data=np.ones((4, 3, 3, 3), np.int8))
    with pytest.raises(UnsupportedModelError, match="hybrid"):
        Conv2D.from_tflite(raw)
