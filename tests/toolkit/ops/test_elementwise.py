"""ADD, SUB, MUL and the activations (RELU, RELU6, LEAKY_RELU, LOGISTIC, TANH, HARD_SWISH):
numpy reference == TFLM (int8, bit-exact) / LiteRT (float), host C == reference, and the
emulated cores == the interpreter."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.toolkit.graph.harness import CROSS_COMPILERS, assert_cross_compiles, check_model
from tests.toolkit.graphmodels import GraphCase
from toolkit.codegen import generate_c
from toolkit.errors import UnsupportedModelError
from toolkit.ir import Quant, Tensor
from toolkit.ops import OPS
from toolkit.ops import _fixedpoint as F
from toolkit.ops.arithmetic import broadcast_plan
from toolkit.tflite.reader import RawOp, read_tflite
from toolkit.validation import reference_outputs

# -- models ---------------------------------------------------------------------------------


# -- builders -------------------------------------------------------------------------------


def add(keras, a, b):
    return keras.layers.Add()([a, b])


def sub(keras, a, b):
    return keras.layers.Subtract()([a, b])


def mul(keras, a, b):
    return keras.layers.Multiply()([a, b])


def channels(op):
    """a (4, 4, 3) op b (3,), b reshaped to (1, 1, 3): broadcast over rows and columns."""
    return lambda keras, a, b: op(keras, a, keras.layers.Reshape((1, 1, 3))(b))


def channels_first(op):
    """(1, 1, 3) op (4, 4, 3): the broadcast operand first."""
    return lambda keras, a, b: op(keras, keras.layers.Reshape((1, 1, 3))(b), a)


def rows(op):
    """a (4, 4, 3) op b (4, 3) reshaped to (4, 1, 3): broadcast over the middle axis."""
    return lambda keras, a, b: op(keras, a, keras.layers.Reshape((4, 1, 3))(b))


def add_relu(keras, a, b):
    return keras.layers.ReLU()(keras.layers.Add()([a, b]))  # fused into ADD


def sub_relu6(keras, a, b):
    return keras.layers.ReLU(max_value=6)(keras.layers.Subtract()([a, b]))


def plus_const(keras, a):
    return a + keras.ops.convert_to_tensor(np.array([0.5, -1.25, 2.0], np.float32))


def const_minus(keras, a):
    return 1.5 - a  # the constant is SUB's first operand


def times_scalar(keras, a):
    return a * 0.7


def times_const(keras, a):
    return a * keras.ops.convert_to_tensor(np.array([0.5, -2.0, 1.5], np.float32))


def add_then_sigmoid(keras, a, b):
    """LOGISTIC computed in place over ADD's output, LEAKY_RELU over LOGISTIC's."""
    y = keras.layers.Activation("sigmoid")(keras.layers.Add()([a, b]))
    return keras.layers.LeakyReLU(negative_slope=0.1)(y)


def tanh_times(keras, a, b):
    """MUL computed in place over TANH's output, b broadcast."""
    y = keras.layers.Multiply()([keras.layers.Activation("tanh")(a), keras.layers.Reshape((1, 1, 3))(b)])
    return keras.layers.LeakyReLU(negative_slope=0.1)(y)


def act(name):
    return lambda keras, x: keras.layers.Activation(name)(x)


def relu_max6(keras, x):
    return keras.layers.ReLU(max_value=6)(x)


def leaky(alpha):
    return lambda keras, x: keras.layers.LeakyReLU(negative_slope=alpha)(x)


IMG, CH = (4, 4, 3), (3,)

BINARY = [
    GraphCase("add_same", add, inputs=(IMG, IMG), seed=0),
    GraphCase("add_same", add, inputs=(IMG, IMG), seed=1, scale=0.3),
    GraphCase("add_channels", channels(add), inputs=(IMG, CH), seed=2, scale=5.0),
    GraphCase("add_rows", rows(add), inputs=(IMG, (4, 3)), seed=3),
    GraphCase("add_relu", add_relu, inputs=((10,), (10,)), seed=4),
    GraphCase("add_const", plus_const, inputs=(IMG,), seed=5),
    GraphCase("sub_same", sub, inputs=((12,), (12,)), seed=6),
    GraphCase("sub_same", sub, inputs=((12,), (12,)), seed=7, scale=8.0),
    GraphCase("sub_channels", channels(sub), inputs=(IMG, CH), seed=8),
    GraphCase("sub_relu6", sub_relu6, inputs=((10,), (10,)), seed=9, scale=6.0),
    GraphCase("sub_const_first", const_minus, inputs=(IMG,), seed=10),
    GraphCase("mul_same", mul, inputs=(IMG, IMG), seed=11),
    GraphCase("mul_same", mul, inputs=(IMG, IMG), seed=12, scale=0.2),
    GraphCase("mul_channels", channels(mul), inputs=(IMG, CH), seed=13, scale=3.0),
    GraphCase("mul_channels_first", channels_first(mul), inputs=(IMG, CH), seed=18),
    GraphCase("mul_scalar", times_scalar, inputs=(IMG,), seed=14),
    GraphCase("mul_const", times_const, inputs=(IMG,), seed=15),
    GraphCase("add_sigmoid_leaky", add_then_sigmoid, inputs=(IMG, IMG), seed=16),
    GraphCase("tanh_mul_leaky", tanh_times, inputs=(IMG, CH), seed=17),
]
UNARY = [
    GraphCase("sigmoid", act("sigmoid"), inputs=((64,),), seed=20),
    GraphCase("sigmoid", act("sigmoid"), inputs=((64,),), seed=21, scale=0.4),
    GraphCase("sigmoid", act("sigmoid"), inputs=((64,),), seed=22, scale=12.0),
    GraphCase("tanh", act("tanh"), inputs=((64,),), seed=23),
    GraphCase("tanh", act("tanh"), inputs=((64,),), seed=24, scale=0.3),
    GraphCase("tanh", act("tanh"), inputs=((64,),), seed=25, scale=9.0),
    GraphCase("hard_swish", act("hard_swish"), inputs=((64,),), seed=26),
    GraphCase("hard_swish", act("hard_swish"), inputs=((64,),), seed=27, scale=0.5),
    GraphCase("hard_swish", act("hard_swish"), inputs=((64,),), seed=28, scale=10.0),
    GraphCase("relu", act("relu"), inputs=((64,),), seed=29),
    GraphCase("relu", act("relu"), inputs=((64,),), seed=30, scale=7.0),
    GraphCase("relu6", act("relu6"), inputs=((64,),), seed=31),
    GraphCase("relu_max6", relu_max6, inputs=((64,),), seed=32, scale=5.0),
    GraphCase("leaky", leaky(0.2), inputs=((64,),), seed=33),
    GraphCase("leaky", leaky(0.01), inputs=((64,),), seed=34, scale=0.6),
    GraphCase("leaky", leaky(1.7), inputs=((64,),), seed=35, scale=3.0),
]
KINDS = {"add": "ADD", "sub": "SUB", "mul": "MUL", "sigmoid": "LOGISTIC", "tanh": "TANH", "hard": "HARD_SWISH",
         "relu6": "RELU6", "relu": "RELU", "leaky": "LEAKY_RELU"}


def _kind(case: GraphCase) -> str:
    if case.name == "relu_max6":
        return "RELU6"
    return next(kind for prefix, kind in KINDS.items() if case.name.startswith(prefix))


def _float(cases):
    seen, out = set(), []
    for c in cases:
        if c.name not in seen:
            seen.add(c.name)
            out.append(replace(c, quant="float"))
    return out


CASES = BINARY + UNARY + _float(BINARY) + _float(UNARY)


def find_case(name: str, seed: int | None = None, quant: str = "int8") -> GraphCase:
    found = next(c for c in BINARY + UNARY if c.name == name and seed in (None, c.seed))
    return replace(found, quant=quant)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_elementwise(graph_models, tmp_path, case):
    model = check_model(graph_models(case), tmp_path)
    assert _kind(case) in [op.kind for op in model.ops]


@pytest.mark.parametrize("case", [c for c in UNARY if c.seed in (20, 22, 23, 25, 26, 28, 30, 31, 33, 35)], ids=str)
def test_int8_activation_on_all_256_values(graph_models, case):
    """The table the C holds is the reference on every int8 value: check all of them."""
    path = graph_models(case)
    model = read_tflite(path)
    size = model.input.size
    assert 256 % size == 0
    inputs = np.arange(-128, 128, dtype=np.int8).reshape(256 // size, size)
    name, ref = reference_outputs(model, path, inputs)
    ours = np.stack([model.run(x.reshape(model.input.shape)).reshape(-1) for x in inputs])
    assert name == "tflm" and np.array_equal(ours, ref)


@pytest.mark.parametrize("name", ["add_sigmoid_leaky", "tanh_mul_leaky"])
@pytest.mark.parametrize("quant", ["int8", "float"])
def test_computed_in_place(graph_models, tmp_path, name, quant):
    """The second op's output reuses its dying input's buffer, and the C is still exact."""
    path = graph_models(find_case(name, quant=quant))
    check_model(path, tmp_path)
    gen = generate_c(read_tflite(path))
    first = {"add_sigmoid_leaky": "LOGISTIC", "tanh_mul_leaky": "MUL"}[name]
    assert any(f"({first}): computed in place" in note for note in gen.plan.notes), gen.plan.notes


@pytest.mark.parametrize("name, kind, activation", [("add_relu", "ADD", "RELU"), ("sub_relu6", "SUB", "RELU6")])
@pytest.mark.parametrize("quant", ["int8", "float"])
def test_fused_activation(graph_models, name, kind, activation, quant):
    """The converter fuses a following ReLU into ADD/SUB (checked on the host above)."""
    model = read_tflite(graph_models(find_case(name, quant=quant)))
    assert [(op.kind, op.activation) for op in model.ops if op.kind == kind] == [(kind, activation)]


def test_commutative_operands_put_the_full_shape_first(graph_models):
    """(1,1,3) * (4,4,3): MUL is exact either way round, so the full-shape operand goes
    first (the output may then overwrite it in place); SUB keeps its order."""
    model = read_tflite(graph_models(find_case("mul_channels_first", quant="float")))
    op = next(op for op in model.ops if op.kind == "MUL")
    assert op.inputs[0].shape == (1, 4, 4, 3) and op.inputs[1].size == 3
    sub_op = next(op for op in read_tflite(graph_models(find_case("sub_const_first"))).ops if op.kind == "SUB")  # 1.5 - x
    assert sub_op.inputs[0].is_constant


EMULATED = [
    find_case("add_channels"),  # ADD int8, broadcast
    find_case("sub_const_first"),  # SUB int8, constant first
    find_case("tanh_mul_leaky"),  # TANH int8 + MUL int8 in place, broadcast
    find_case("add_sigmoid_leaky", quant="float"),  # ADD + LOGISTIC float
    find_case("mul_scalar", quant="float"),
    find_case("sub_channels", quant="float"),
    find_case("sigmoid", 20),
    find_case("hard_swish", 27),
    find_case("relu", 29),  # a table
    find_case("relu6", 31),  # a clamp
    find_case("leaky", 33),
    find_case("tanh", 23, quant="float"),
    find_case("hard_swish", 26, quant="float"),
    find_case("leaky", 34, quant="float"),
    find_case("relu_max6", quant="float"),
]


@pytest.mark.parametrize("case", EMULATED, ids=str)
@pytest.mark.parametrize("arch", ["cortex-m4", "cortex-m0plus"])
def test_elementwise_emulated(graph_models, tmp_path, case, arch):
    from toolkit.emulate import emulate

    report = emulate(graph_models(case), arch, tmp_path, n_inputs=20)
    assert report.comparison.passed, report.comparison


# -- the C builds with every target compiler (int is 16 bits on AVR) ---------------------------

CROSS = [find_case(n, quant=q) for n in ("add_channels", "sub_const_first", "mul_scalar", "mul_const", "tanh_mul_leaky",
                                         "add_sigmoid_leaky", "hard_swish", "relu", "relu6", "sub_relu6")
         for q in ("int8", "float")]


@pytest.mark.parametrize("compiler", list(CROSS_COMPILERS))
def test_cross_compiles(graph_models, tmp_path, compiler):
    assert_cross_compiles([graph_models(c) for c in CROSS], tmp_path, compiler)


# -- pieces ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "out, ins, dims, strides",
    [
        ((1, 4, 4, 3), [(1, 4, 4, 3), (1, 4, 4, 3)], [48], [[1], [1]]),
        ((1, 4, 4, 3), [(1, 4, 4, 3), (3,)], [16, 3], [[3, 1], [0, 1]]),
        ((1, 4, 4, 3), [(1, 4, 4, 3), ()], [48], [[1], [0]]),
        ((1, 4, 4, 3), [(1, 4, 1, 3), (1, 4, 4, 3)], [4, 4, 3], [[3, 0, 1], [12, 3, 1]]),
        ((2, 5), [(2, 1), (1, 5)], [2, 5], [[1, 0], [0, 1]]),
        ((1,), [(1,), ()], [1], [[0], [0]]),
    ],
)
def test_broadcast_plan(out, ins, dims, strides):
    assert broadcast_plan(out, ins) == (dims, strides)


def test_fixed_point_logistic_and_tanh_are_close_to_exact():
    a = np.arange(-(2**31) + 1, 2**31 - 1, 2**31 // 3000, dtype=np.int64)  # Q4.27 over (-16, 16)
    x = a / 2.0**27
    assert np.max(np.abs(F.logistic(a, 4) / 2.0**31 - 1 / (1 + np.exp(-x)))) < 1e-6
    assert np.max(np.abs(F.tanh(a, 4) / 2.0**31 - np.tanh(x))) < 1e-6
    assert F.logistic(np.array([0]), 4)[0] == 2**30 and F.tanh(np.array([0]), 4)[0] == 0


# -- what is refused ---------------------------------------------------------------------------


class _Options:
    def __init__(self, values: dict[int, float]) -> None:
        self.values = values

    def scalar(self, index: int, fmt: str, default=0):
        return self.values.get(index, default)


def _tensor(name, shape, dtype="int8", scale=0.05, zp=0):
    quant = Quant(np.array([scale], np.float32), np.array([zp], np.int64)) if dtype == "int8" else None
    return Tensor(name, shape, dtype, quant)


@pytest.mark.parametrize(
    "kind, inputs, output, options, words",
    [
        ("ADD", [_tensor("a", (4,)), _tensor("b", (4,))], _tensor("y", (4,)), {0: 4}, ["fused activation TANH"]),
        ("MUL", [_tensor("a", (4,)), _tensor("b", (4,))], _tensor("y", (4,)), {0: 5}, ["fused activation SIGN_BIT"]),
        ("SUB", [_tensor("a", (4,)), _tensor("b", (3,))], _tensor("y", (4,)), {}, ["[4] and [3] do not broadcast"]),
        ("ADD", [_tensor("a", (4, 1)), _tensor("b", (3,))], _tensor("y", (4,)), {}, ["broadcast to [4, 3]"]),
        ("ADD", [_tensor("a", (4,), "int16"), _tensor("b", (4,), "int16")], _tensor("y", (4,), "int16"), {}, ["int16"]),
        ("MUL", [_tensor("a", (4,), "float32"), _tensor("b", (4,))], _tensor("y", (4,), "float32"), {},
         ["'b' is int8"]),
        ("ADD", [_tensor("a", (4,), scale=1.0), _tensor("b", (4,))], _tensor("y", (4,), scale=1e-7), {},
         ["output scale"]),
        ("LOGISTIC", [_tensor("x", (4,))], _tensor("y", (4,), scale=1 / 256, zp=0), {}, ["zero point 0", "-128"]),
        ("TANH", [_tensor("x", (4,), scale=40.0)], _tensor("y", (4,), scale=1 / 128), {}, ["input scale 40"]),
        ("HARD_SWISH", [_tensor("x", (4,), scale=1.0)], _tensor("y", (4,), scale=1e-6), {}, ["output scale"]),
        ("RELU", [_tensor("x", (4,))], _tensor("y", (4,), "float32"), {}, ["is float32"]),
        ("LEAKY_RELU", [_tensor("x", (4,), "float32")], _tensor("y", (4,), "float32"), {0: float("nan")},
         ["alpha nan"]),
    ],
)
def test_unsupported_is_one_line(kind, inputs, output, options, words):
    raw = RawOp(kind=kind, inputs=inputs, outputs=[output], options=_Options(options), index=7)
    with pytest.raises(UnsupportedModelError) as info:
        OPS[kind].from_tflite(raw)
    msg = str(info.value)
    assert "\n" not in msg and f"{kind} (operator 7)" in msg, msg
    for word in words:
        assert word in msg, msg


def test_leaky_relu_negative_alpha_matches_tflm(graph_models, tmp_path):
    """Keras refuses alpha < 0; TFLM supports it (QuantizeLeakyRelu): patched into the file."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    src = graph_models(find_case("leaky", 33))
    m = schema.ModelT.InitFromPackedBuf(src.read_bytes(), 0)
    m.subgraphs[0].operators[0].builtinOptions.alpha = -0.3
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    path = tmp_path / "leaky_neg.tflite"
    path.write_bytes(bytes(b.Output()))
    model = check_model(path, tmp_path / "build")
    assert model.ops[0].alpha == pytest.approx(-0.3)
