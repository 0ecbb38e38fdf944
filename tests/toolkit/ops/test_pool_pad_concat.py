"""AVERAGE_POOL_2D, MAX_POOL_2D, MEAN, PAD, PADV2, CONCATENATION: numpy reference ==
TFLM (int8, bit-exact) / LiteRT (float), host C == reference, emulated cores ==
the interpreter, the C builds for every target compiler, and what is refused."""

from __future__ import annotations


import numpy as np
import pytest

from tests.toolkit.graph.harness import CROSS_COMPILERS, assert_cross_compiles, check_model
from tests.toolkit.graphmodels import GraphCase
from tests.toolkit.tflite.patching import patch_output_quant
from toolkit.errors import UnsupportedModelError
from toolkit.ir import Quant, Tensor
from toolkit.ops import OPS
from toolkit.tflite.reader import RawOp, read_tflite


def layer(name: str, *args, then=None, **kwargs):
    """A builder applying keras.layers.<name>(*args, **kwargs), then an optional layer."""
    def build(keras, x):
        y = getattr(keras.layers, name)(*args, **kwargs)(x)
        return then(keras)(y) if then else y
    return build


def pad(pads, value=None):
    def build(keras, x):
        return keras.ops.pad(x, pads) if value is None else keras.ops.pad(x, pads, constant_values=value)
    return build


def concat(axis=-1, mode="inputs"):
    def build(keras, x, y=None):
        if mode == "dense":  # three branches: an input, a Dense of the other, the other
            return keras.layers.Concatenate(axis=axis)([x, keras.layers.Dense(x.shape[-1])(y), y])
        if mode == "const":  # a constant operand
            return keras.ops.concatenate([x, keras.ops.ones((1, x.shape[1], 2)) * 0.5], axis=axis)
        return keras.layers.Concatenate(axis=axis)([x, y])
    return build


C = {  # name -> (builder, input shapes, the op it must produce)
    "avg2s2": (layer("AveragePooling2D", 2), ((6, 6, 3),), "AVERAGE_POOL_2D"),
    "max2s2": (layer("MaxPooling2D", 2), ((6, 6, 3),), "MAX_POOL_2D"),
    "avg3s1same": (layer("AveragePooling2D", 3, 1, "same"), ((5, 5, 2),), "AVERAGE_POOL_2D"),
    "max3s1same": (layer("MaxPooling2D", 3, 1, "same"), ((5, 5, 2),), "MAX_POOL_2D"),
    "avg3s2valid": (layer("AveragePooling2D", 3, 2), ((7, 7, 3),), "AVERAGE_POOL_2D"),
    "max3s2valid": (layer("MaxPooling2D", 3, 2), ((7, 7, 3),), "MAX_POOL_2D"),
    "avg3s2same_odd": (layer("AveragePooling2D", 3, 2, "same"), ((7, 9, 2),), "AVERAGE_POOL_2D"),
    "max2x3s12same": (layer("MaxPooling2D", (2, 3), (1, 2), "same"), ((5, 6, 2),), "MAX_POOL_2D"),
    "avg_global": (layer("AveragePooling2D", (5, 4)), ((5, 4, 4),), "AVERAGE_POOL_2D"),
    "avg_relu": (layer("AveragePooling2D", 2, 1, "same", then=lambda k: k.layers.ReLU()), ((5, 5, 2),),
                 "AVERAGE_POOL_2D"),
    "max_relu6": (layer("MaxPooling2D", 3, 2, "same", then=lambda k: k.layers.ReLU(6.0)), ((6, 6, 2),),
                  "MAX_POOL_2D"),
    "gap": (layer("GlobalAveragePooling2D"), ((5, 5, 3),), "MEAN"),
    "gap_keep": (layer("GlobalAveragePooling2D", keepdims=True), ((4, 6, 5),), "MEAN"),
    "gap_big": (layer("GlobalAveragePooling2D"), ((12, 12, 4),), "MEAN"),
    "mean_neg_axes": (lambda k, x: k.ops.mean(x, axis=(-2, -3), keepdims=True), ((3, 7, 2),), "MEAN"),
    "zeropad1": (layer("ZeroPadding2D", 1), ((4, 4, 3),), "PAD"),
    "zeropad_asym": (layer("ZeroPadding2D", ((1, 2), (0, 1))), ((4, 5, 3),), "PAD"),
    "pad_channels": (pad(((0, 0), (0, 0), (1, 0), (2, 1))), ((3, 4, 2),), "PAD"),
    "pad_rank2": (pad(((0, 0), (2, 3))), ((6,),), "PAD"),
    "pad_batch": (pad(((1, 1), (0, 0), (1, 2))), ((3, 2),), "PAD"),
    "padv2_half": (pad(((0, 0), (1, 1), (2, 0), (0, 0)), 0.5), ((4, 5, 3),), "PADV2"),
    "padv2_neg": (pad(((0, 0), (0, 1), (1, 1), (0, 0)), -1.25), ((3, 3, 2),), "PADV2"),
    "concat_last": (concat(), ((4, 3), (4, 5)), "CONCATENATION"),
    "concat_dense_axis1": (concat(1, "dense"), ((4, 3), (4, 3)), "CONCATENATION"),
    "concat_channels": (concat(), ((3, 3, 2), (3, 3, 3)), "CONCATENATION"),
    "concat_rows": (concat(1), ((2, 3, 2), (1, 3, 2)), "CONCATENATION"),
    "concat_const": (concat(mode="const"), ((4, 3),), "CONCATENATION"),
}


def case(name: str, quant: str = "int8", seed: int = 0, scale: float = 2.0) -> GraphCase:
    build, shapes, _ = C[name]
    return GraphCase(f"ppc_{name}", build, inputs=shapes, quant=quant, seed=seed, scale=scale)


CASES = [case(n, q) for n in C for q in ("int8", "float")] + [
    case("avg3s2same_odd", seed=1, scale=6.0), case("gap_keep", seed=2, scale=0.5),
    case("max_relu6", seed=1, scale=5.0)]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_op(graph_models, tmp_path, case):
    model = check_model(graph_models(case), tmp_path)
    kind = C[case.name.removeprefix("ppc_")][2]
    assert kind in [op.kind for op in model.ops], [op.kind for op in model.ops]


def test_parsed_parameters(graph_models):
    op = read_tflite(graph_models(case("avg3s2same_odd"))).ops[0]
    assert (op.h.filter_size, op.w.stride, op.h.padding, op.h.pad_before, op.w.pad_before) == (3, 2, "SAME", 1, 1)
    assert read_tflite(graph_models(case("max_relu6", "float"))).ops[0].activation == "RELU6"
    assert read_tflite(graph_models(case("avg_relu"))).ops[0].activation == "RELU"
    assert read_tflite(graph_models(case("gap_keep"))).ops[0].keep_dims
    assert not read_tflite(graph_models(case("gap"))).ops[0].keep_dims
    assert read_tflite(graph_models(case("zeropad_asym"))).ops[0].paddings == ((0, 0), (1, 2), (0, 1), (0, 0))
    padv2 = read_tflite(graph_models(case("padv2_half"))).ops[0]
    assert padv2.kind == "PADV2" and padv2.value == padv2.output.zero_point + round(0.5 / padv2.output.scale)
    assert read_tflite(graph_models(case("padv2_neg", "float"))).ops[0].value == -1.25
    cat = read_tflite(graph_models(case("concat_const"))).ops[0]
    assert cat.axis == 2 and cat.inputs[1].is_constant


# -- MEAN with the output quantization changed in the file: equal scales, larger, tiny ------


@pytest.mark.parametrize("name", ["gap", "gap_big"])
@pytest.mark.parametrize("ratio, zp", [(1.0, None), (1.0, 7), (3.0, -20), (2.0**-28, 0)],
                         ids=["equal", "equal_scale", "finer", "tiny"])
def test_mean_output_quantization(graph_models, tmp_path, name, ratio, zp):
    """reduce_common.cc takes the QuantizedMeanOrSum path for every quantization; the
    'tiny' ratio makes the multiplier shift hit its -31 limit (shift clamped)."""
    src = graph_models(case(name))
    x = read_tflite(src).input
    path = tmp_path / "patched.tflite"
    path.write_bytes(patch_output_quant(src.read_bytes(), x.scale / ratio, x.zero_point if zp is None else zp))
    model = check_model(path, tmp_path / "c")
    mean = model.ops[0]
    assert mean.kind == "MEAN" and np.isclose(mean.output.scale, x.scale / ratio)
    if ratio < 1e-6:
        assert mean.int8_params()[1] == -31


# -- emulated cores ---------------------------------------------------------------------------


EMULATED = [case("avg3s2same_odd"), case("max_relu6", "float"), case("gap_big"), case("gap_keep", "float"),
            case("zeropad_asym"), case("padv2_neg", "float"), case("concat_dense_axis1"), case("concat_const", "float")]


@pytest.mark.parametrize("case", EMULATED, ids=str)
@pytest.mark.parametrize("arch", ["cortex-m4", "cortex-m0plus"])
def test_emulated(graph_models, tmp_path, case, arch):
    from toolkit.emulate import emulate

    report = emulate(graph_models(case), arch, tmp_path, n_inputs=20)
    assert report.comparison.passed, report.comparison


# -- the C builds with every target compiler (int is 16 bits on AVR) --------------------------

CROSS = [case(n, q) for n in ("avg3s2same_odd", "max2x3s12same", "gap_big", "zeropad_asym", "padv2_half",
                              "concat_dense_axis1", "concat_const") for q in ("int8", "float")]


@pytest.mark.parametrize("compiler", list(CROSS_COMPILERS))
def test_cross_compiles(graph_models, tmp_path, compiler):
    assert_cross_compiles([graph_models(c) for c in CROSS], tmp_path, compiler)


# -- what is refused --------------------------------------------------------------------------


class _Options:
    """Stands for an options table: field number -> value."""

    def __init__(self, at: dict[int, int]) -> None:
        self.at = at

    def scalar(self, index: int, fmt: str, default=0):
        return self.at.get(index, default)


def _opts(*values: int) -> _Options:
    return _Options(dict(enumerate(values)))


def _t(name: str, shape, dtype="int8", scale=0.05, zp=0, data=None) -> Tensor:
    q = Quant(np.array([scale], np.float32), np.array([zp], np.int64)) if dtype == "int8" else None
    return Tensor(name, tuple(shape), dtype, q, None if data is None else np.asarray(data).astype(dtype))


def _pool(kind="AVERAGE_POOL_2D", y_scale=0.05, y_zp=0, act=0, y_shape=(1, 3, 3, 2), padding=1, filt=2):
    return RawOp(kind, [_t("x", (1, 6, 6, 2))], [_t("y", y_shape, scale=y_scale, zp=y_zp)],
                 _opts(padding, 2, 2, filt, filt, act), 3)


def _mean(axes, y_shape=(1, 2)):
    return RawOp("MEAN", [_t("x", (1, 4, 4, 2)), _t("axis", (len(axes),), "int32", data=axes)],
                 [_t("y", y_shape, scale=0.02)], None, 3)


def _pad(pads, y_shape, kind="PAD", value=None, y_zp=0):
    ins = [_t("x", (1, 4, 4, 2)), _t("paddings", (len(pads), 2), "int32", data=pads)]
    if value is not None:
        ins.append(value)
    return RawOp(kind, ins, [_t("y", y_shape, zp=y_zp)], None, 3)


def _concat(xs, y_shape=(1, 4, 5), axis=-1, act=0, dtype="int8"):
    return RawOp("CONCATENATION", xs, [_t("y", y_shape, dtype)], _opts(axis, act), 3)


def test_well_formed_fake_ops_are_accepted():
    assert OPS["AVERAGE_POOL_2D"].from_tflite(_pool(y_scale=0.0500001)).h.out_size == 3  # TFLM's 1e-6 tolerance
    assert OPS["MEAN"].from_tflite(_mean([2, -3])).count == 16
    batch = OPS["PAD"].from_tflite(_pad([[1, 0], [0, 0], [0, 0], [0, 0]], (2, 4, 4, 2)))
    x = np.arange(32, dtype=np.int8).reshape(1, 4, 4, 2)
    assert np.array_equal(batch.reference(x), np.concatenate([np.zeros_like(x), x]))
    op = OPS["CONCATENATION"].from_tflite(_concat([_t("a", (1, 4, 3)), _t("b", (1, 4, 2))], axis=-1))
    assert op.axis == 2


@pytest.mark.parametrize(
    "raw, words",
    [
        (_pool(y_scale=0.06), ["AVERAGE_POOL_2D", "scale", "TFLM requires them equal"]),
        (_pool("MAX_POOL_2D", y_zp=3), ["MAX_POOL_2D", "zero point 3"]),
        (_pool(act=4), ["fused activation TANH"]),
        (_pool(padding=3), ["padding code 3"]),
        (_pool(filt=0), ["filter_width 0"]),
        (_pool(y_shape=(1, 2, 2, 2)), ["output shape [1, 2, 2, 2]", "[1, 3, 3, 2]"]),
        (_mean([3], (1, 4, 4, 1)), ["MEAN", "axes [3]", "supported: axes [1, 2]"]),
        (_mean([1]), ["axes [1]"]),
        (_mean([1, 2], (1, 1, 1, 2)), ["output shape [1, 1, 1, 2]", "keep_dims=False"]),
        (_pad([[0, 0], [1, -1], [0, 0], [0, 0]], (1, 4, 4, 2)), ["PAD", "negative paddings"]),
        (_pad([[0, 0], [1, 1]], (1, 6, 4, 2)), ["paddings shape [2, 2]"]),
        (_pad([[0, 0], [1, 1], [0, 0], [0, 0]], (1, 6, 4, 2), y_zp=5), ["quantization differ"]),
        (_pad([[0, 0], [1, 1], [0, 0], [0, 0]], (1, 6, 4, 2), "PADV2", _t("v", (), scale=0.1, data=3)),
         ["PADV2", "constant_values quantization", "TFLM requires them equal"]),
        (_pad([[0, 0], [1, 1], [0, 0], [0, 0]], (1, 6, 4, 2), "PADV2", _t("v", (1,), zp=0)),
         ["constant_values input must be a constant"]),
        (_concat([_t("a", (1, 4, 3)), _t("b", (1, 4, 2), scale=0.1)]),
         ["CONCATENATION", "input 1 'b'", "TFLM requires them equal"]),
        (_concat([_t("a", (1, 4, 3)), _t("b", (1, 4, 2), zp=1)]), ["zero point 1"]),
        (_concat([_t("a", (1, 4, 3)), _t("b", (1, 4, 2))], act=1), ["fused activation RELU", "only NONE"]),
        (_concat([_t(f"a{i}", (1, 4, 1)) for i in range(11)], (1, 4, 11)), ["11 inputs", "at most 10"]),
        (_concat([_t("a", (1, 4, 3)), _t("b", (1, 3, 2))]), ["input 1 'b' [1, 3, 2]", "axis 2"]),
        (_concat([_t("a", (1, 4, 3)), _t("b", (1, 4, 2), "float32")]), ["input 1 'b' is float32"]),
        (_concat([_t("a", (1, 4, 3))], axis=3, y_shape=(1, 4, 3)), ["axis 3 of a 3-D output"]),
    ],
    ids=lambda v: v.kind if isinstance(v, RawOp) else None,
)
def test_unsupported_is_one_line(raw, words):
    with pytest.raises(UnsupportedModelError) as info:
        OPS[raw.kind].from_tflite(raw)
    msg = str(info.value)
    assert "\n" not in msg and f"{raw.kind} (operator 3)" in msg, msg
    for word in words:
        assert word in msg, msg
