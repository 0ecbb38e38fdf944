"""Every crash the fuzzing harness found, as a small deterministic test (issue 15).

Each test rebuilds the mutated file -- by the recorded (kind, seed) steps on a reference
seed, or by patching one field of a session model -- and checks that the toolkit now
either refuses it with one line naming the operator/tensor, the field and the value, or
accepts it and generates C that compiles and agrees with the numpy reference.
"""

from __future__ import annotations

import struct

import pytest

from tests.fuzz.conftest import REFERENCE
from tests.fuzz.property import check_bytes, check_host
from toolkit.errors import ModelFormatError, ToolkitError
from toolkit.tflite import schema as S
from toolkit.tflite.flatbuffer import Table
from toolkit.tflite.reader import parse_tflite

INT8_SEED = "fuzz_tiny_cnn_int8_0"


def _reference(name: str) -> bytes:
    path = REFERENCE / f"{name}.tflite"
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path.read_bytes()


def _refused(data: bytes, *words: str) -> str:
    with pytest.raises(ToolkitError) as exc:
        parse_tflite(data, source="m.tflite")
    msg = str(exc.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, msg
    return msg


def _graph(data: bytes) -> Table:
    return Table.root(data).tables(S.Model.SUBGRAPHS)[0]


def set_index(data: bytes, field: int, k: int, value: int, op: int | None = None) -> bytes:
    """Entry k of an operator's (op given) or the subgraph's inputs/outputs vector."""
    table = _graph(data) if op is None else _graph(data).tables(S.SubGraph.OPERATORS)[op]
    start, n = table._vector(field)
    assert k < n
    buf = bytearray(data)
    struct.pack_into("<i", buf, start + 4 * k, value)
    return bytes(buf)


def set_quant(data: bytes, tensor: int, scale: float | None = None, zero_point: int | None = None) -> bytes:
    q = _graph(data).tables(S.SubGraph.TENSORS)[tensor].table(S.Tensor.QUANTIZATION)
    buf = bytearray(data)
    if scale is not None:
        struct.pack_into("<f", buf, q._vector(S.Quantization.SCALE)[0], scale)
    if zero_point is not None:
        struct.pack_into("<q", buf, q._vector(S.Quantization.ZERO_POINT)[0], zero_point)
    return bytes(buf)


def _first_op_output(data: bytes) -> int:
    op = _graph(data).tables(S.SubGraph.OPERATORS)[0]
    return int(op.numpy(S.Operator.OUTPUTS, "int32")[0])


# -- found by the campaign in this repository ------------------------------------------------


def test_model_input_read_by_no_operator_compiles(tmp_path):
    """An operator input index moved from the model input to a constant left `in` unused:
    the C failed -Werror=unused-parameter (found as hello_world_float with random_bytes,
    tensor_index and buffer_bytes steps). Now `(void)in;`; the C compiles and agrees."""
    data = _reference("hello_world_float")
    ops = _graph(data).tables(S.SubGraph.OPERATORS)
    last_bias = int(ops[-1].numpy(S.Operator.INPUTS, "int32")[2])  # [1]: the size of the model input
    out = check_bytes(set_index(data, S.Operator.INPUTS, 0, last_bias, op=0))
    assert out.status == "ok", out
    assert check_host(out.model, tmp_path).status == "ok"


def test_fully_connected_bias_of_shape_16x1_is_refused():
    """A bias index pointing at a [16, 1] tensor (16 values, but 2-D) was accepted and the
    reference broadcast it to [16, 16]: ValueError in reshape (found as hello_world_float with
    tensor_index and quantization steps). Now refused at read time, naming the operator."""
    data = _reference("hello_world_float")
    op0 = _graph(data).tables(S.SubGraph.OPERATORS)[0]
    weights = int(op0.numpy(S.Operator.INPUTS, "int32")[1])  # [16, 1]: 16 values like the bias
    _refused(set_index(data, S.Operator.INPUTS, 2, weights, op=0), "FULLY_CONNECTED", "operator 0", "bias has shape [16, 1]")


# -- found by the campaign of issue 15 (820,000 files), kept so they stay fixed --------------


@pytest.mark.parametrize("where", ["operator", "subgraph"])
def test_output_index_minus_one(fuzz_seeds, where):
    data = fuzz_seeds[INT8_SEED]
    if where == "operator":
        data = set_index(data, S.Operator.OUTPUTS, 0, -1, op=0)
    else:
        data = set_index(data, S.SubGraph.OUTPUTS, 0, -1)
    with pytest.raises(ModelFormatError) as exc:
        parse_tflite(data, source="m.tflite")
    assert "\n" not in str(exc.value) and ("-1" in str(exc.value) or "missing output" in str(exc.value))


@pytest.mark.parametrize("scale", [0.0, float("nan"), float("inf"), -1.0])
def test_quantization_scale_not_finite_positive(fuzz_seeds, scale):
    data = fuzz_seeds[INT8_SEED]
    msg = _refused(set_quant(data, _first_op_output(data), scale=scale), "scale")
    assert "finite and positive" in msg


@pytest.mark.parametrize("zero_point", [2**40, 9 * 10**18, 4294967168, -129, 128])
def test_zero_point_outside_dtype(fuzz_seeds, zero_point):
    data = fuzz_seeds[INT8_SEED]
    _refused(set_quant(data, _first_op_output(data), zero_point=zero_point), "zero point", str(zero_point))


def test_dequantize_fold_with_wrong_output_shape(fuzz_seeds):
    """The float16 model's DEQUANTIZE of the weights with another output shape: the fold
    trusted it (ValueError: cannot reshape). Now a clean refusal or a model that works."""
    data = fuzz_seeds["fuzz_tiny_cnn_float16"]
    graph = _graph(data)
    codes = [max(c.scalar(S.OperatorCode.BUILTIN_CODE, "i"), c.scalar(S.OperatorCode.DEPRECATED_BUILTIN_CODE, "b"))
             for c in Table.root(data).tables(S.Model.OPERATOR_CODES)]
    deq = [i for i, op in enumerate(graph.tables(S.SubGraph.OPERATORS))
           if S.BUILTIN_OPS[codes[op.scalar(S.Operator.OPCODE_INDEX, "I")]] == "DEQUANTIZE"]
    assert deq, "the float16 seed has no DEQUANTIZE"
    out = int(graph.tables(S.SubGraph.OPERATORS)[deq[0]].numpy(S.Operator.OUTPUTS, "int32")[0])
    start, _ = graph.tables(S.SubGraph.TENSORS)[out]._vector(S.Tensor.SHAPE)
    buf = bytearray(data)
    struct.pack_into("<i", buf, start, 5)
    assert check_bytes(bytes(buf)).status != "fail"


def test_quantize_with_output_of_another_size_is_refused():
    """QUANTIZE whose output index moved to a [1, 16] tensor (hello_world_int8 with opcode and
    quantization steps): the reference failed to reshape 1 value into 16. Now refused."""
    data = _reference("hello_world_int8")
    graph = _graph(data)
    ops = graph.tables(S.SubGraph.OPERATORS)
    first_out = int(ops[0].numpy(S.Operator.OUTPUTS, "int32")[0])  # FULLY_CONNECTED 1->16: [1, 16]
    codes = Table.root(data).tables(S.Model.OPERATOR_CODES)
    at = codes[ops[0].scalar(S.Operator.OPCODE_INDEX, "I")]._field(S.OperatorCode.BUILTIN_CODE)
    buf = bytearray(data)
    struct.pack_into("<i", buf, at, S.BUILTIN_OPS.index("QUANTIZE"))  # operator 0 becomes QUANTIZE
    data = bytes(buf)
    assert int(ops[0].numpy(S.Operator.OUTPUTS, "int32")[0]) == first_out
    msg = _refused(data)
    assert "different sizes" in msg or "QUANTIZE" in msg, msg


def test_weight_scale_1e30_is_refused(fuzz_seeds):
    """A per-channel weight scale of 1e30 in FULLY_CONNECTED (tiny CNN int8, two quantization
    steps) saturated the multiplier: 5 of 12 host outputs differed from the reference."""
    data = fuzz_seeds[INT8_SEED]
    graph = _graph(data)
    codes = [max(c.scalar(S.OperatorCode.BUILTIN_CODE, "i"), c.scalar(S.OperatorCode.DEPRECATED_BUILTIN_CODE, "b"))
             for c in Table.root(data).tables(S.Model.OPERATOR_CODES)]
    fc = next(i for i, op in enumerate(graph.tables(S.SubGraph.OPERATORS))
              if S.BUILTIN_OPS[codes[op.scalar(S.Operator.OPCODE_INDEX, "I")]] == "FULLY_CONNECTED")
    weights = int(graph.tables(S.SubGraph.OPERATORS)[fc].numpy(S.Operator.INPUTS, "int32")[1])
    msg = _refused(set_quant(data, weights, scale=1e30), "FULLY_CONNECTED", f"operator {fc}", "weight scale 1e+30")
    assert "rescale" in msg


def test_conv_weight_scale_huge_is_refused(fuzz_seeds):
    data = fuzz_seeds[INT8_SEED]
    graph = _graph(data)
    op0 = graph.tables(S.SubGraph.OPERATORS)[0]  # CONV_2D
    weights = int(op0.numpy(S.Operator.INPUTS, "int32")[1])
    _refused(set_quant(data, weights, scale=3.4e38), "operator", "rescale")


def test_a_hostile_shape_is_refused_before_any_allocation():
    """A shape of 65536 x 65536 on an activation (4 G elements): refused at read time, naming
    the tensor, its shape and the limit, instead of a memory blow-up later."""
    data = _reference("hello_world_int8")
    tensor = _first_op_output(data)
    shape = _graph(data).tables(S.SubGraph.TENSORS)[tensor]._vector(S.Tensor.SHAPE)
    buf = bytearray(data)
    struct.pack_into("<ii", buf, shape[0], 65536, 65536)
    msg = _refused(bytes(buf), "[65536, 65536]", "4,294,967,296 elements", "at most")
    assert "tensor '" in msg
