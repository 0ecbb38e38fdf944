"""Rewrite a converted dilated convolution into the older converters' form:
SPACE_TO_BATCH_ND (block [d, d], paddings) -> conv (VALID, stride 1, dilation 1) ->
BATCH_TO_SPACE_ND (block [d, d], crops), with TensorFlow's flatbuffer object API.

The paddings and crops are those of TensorFlow's `required_space_to_batch_paddings`:
the conv's own padding, plus at the end what makes the padded size a multiple of d,
cropped off again afterwards.
"""

from __future__ import annotations

import copy

import numpy as np


def _schema():
    from tensorflow.lite.python import schema_py_generated as schema_fb

    return schema_fb


def _opcode(model, schema_fb, code: int) -> int:
    for i, oc in enumerate(model.operatorCodes):
        if max(oc.builtinCode, oc.deprecatedBuiltinCode) == code:
            return i
    oc = schema_fb.OperatorCodeT()
    oc.builtinCode, oc.deprecatedBuiltinCode, oc.version = code, min(code, 127), 1
    model.operatorCodes.append(oc)
    return len(model.operatorCodes) - 1


def _const(model, graph, schema_fb, name: str, value: np.ndarray) -> int:
    buf = schema_fb.BufferT()
    buf.data = np.asarray(value, np.int32).tobytes()
    model.buffers.append(buf)
    t = schema_fb.TensorT()
    t.name, t.shape, t.type = name.encode(), list(np.shape(value)), schema_fb.TensorType.INT32
    t.buffer = len(model.buffers) - 1
    graph.tensors.append(t)
    return len(graph.tensors) - 1


def _like(graph, index: int, name: str, shape: list[int]) -> int:
    t = copy.deepcopy(graph.tensors[index])  # same type and quantization
    t.name, t.shape, t.shapeSignature, t.buffer = name.encode(), list(shape), None, 0
    graph.tensors.append(t)
    return len(graph.tensors) - 1


def _pack(model) -> bytes:
    import flatbuffers

    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def space_to_batch_form(data: bytes, extra_pad: int = 0, shift: int = 0) -> bytes:
    """The model with its (only) dilated CONV_2D / DEPTHWISE_CONV_2D as S2B -> conv -> B2S.

    `extra_pad` adds that many blocks of padding at the end of each axis and crops them
    off again (the result is still the same dilated conv); `shift` moves that many of
    the cropped rows and columns from the end to the start (a valid file, but no longer
    the dilated conv: its windows start `shift` later)."""

    schema_fb = _schema()
    ops_enum = schema_fb.BuiltinOperator
    model = schema_fb.ModelT.InitFromPackedBuf(bytearray(data), 0)
    graph = model.subgraphs[0]
    convs = [i for i, op in enumerate(graph.operators)
             if max(model.operatorCodes[op.opcodeIndex].builtinCode, model.operatorCodes[op.opcodeIndex].deprecatedBuiltinCode)
             in (ops_enum.CONV_2D, ops_enum.DEPTHWISE_CONV_2D)
             and (op.builtinOptions.dilationHFactor > 1 or op.builtinOptions.dilationWFactor > 1)]
    assert len(convs) == 1, f"expected one dilated conv, found {len(convs)}"
    at = convs[0]
    op = graph.operators[at]
    opts = op.builtinOptions
    dil = [opts.dilationHFactor, opts.dilationWFactor]
    xi, wi, yi = int(op.inputs[0]), int(op.inputs[1]), int(op.outputs[0])
    x_shape, w_shape, y_shape = (list(graph.tensors[i].shape) for i in (xi, wi, yi))
    assert opts.strideH == 1 and opts.strideW == 1
    same = opts.padding == schema_fb.Padding.SAME

    pads, crops, inner_in, inner_out = [], [], [], []
    for axis in (0, 1):
        d, size, k = dil[axis], x_shape[1 + axis], w_shape[1 + axis]
        total = (k - 1) * d if same else 0
        before, after = total // 2, total - total // 2
        extra = (-(size + total)) % d + extra_pad * d
        pads.append([before, after + extra])
        assert shift <= extra
        crops.append([shift, extra - shift])
        padded = size + total + extra
        inner_in.append(padded // d)
        inner_out.append(padded // d - k + 1)
        assert inner_out[-1] * d - extra == y_shape[1 + axis]
    batch = dil[0] * dil[1]
    s2b_out = _like(graph, xi, "s2b_out", [batch, *inner_in, x_shape[3]])
    conv_out = _like(graph, yi, "conv_out", [batch, *inner_out, y_shape[3]])
    block = _const(model, graph, schema_fb, "block_shape", np.array(dil))
    paddings = _const(model, graph, schema_fb, "paddings", np.array(pads))
    crops_t = _const(model, graph, schema_fb, "crops", np.array(crops))

    op.inputs = np.array([s2b_out, *[int(i) for i in op.inputs[1:]]], np.int32)
    op.outputs = np.array([conv_out], np.int32)
    opts.padding, opts.dilationHFactor, opts.dilationWFactor = schema_fb.Padding.VALID, 1, 1

    s2b = schema_fb.OperatorT()
    s2b.opcodeIndex = _opcode(model, schema_fb, ops_enum.SPACE_TO_BATCH_ND)
    s2b.inputs, s2b.outputs = np.array([xi, block, paddings], np.int32), np.array([s2b_out], np.int32)
    s2b.builtinOptionsType = schema_fb.BuiltinOptions.SpaceToBatchNDOptions
    s2b.builtinOptions = schema_fb.SpaceToBatchNDOptionsT()
    b2s = schema_fb.OperatorT()
    b2s.opcodeIndex = _opcode(model, schema_fb, ops_enum.BATCH_TO_SPACE_ND)
    b2s.inputs, b2s.outputs = np.array([conv_out, block, crops_t], np.int32), np.array([yi], np.int32)
    b2s.builtinOptionsType = schema_fb.BuiltinOptions.BatchToSpaceNDOptions
    b2s.builtinOptions = schema_fb.BatchToSpaceNDOptionsT()
    graph.operators[at : at + 1] = [s2b, op, b2s]
    return _pack(model)


def add_reader(data: bytes, tensor_name: str) -> bytes:
    """The model with one more output: a copy (RESHAPE) of the tensor `tensor_name`, so
    that tensor has a second reader."""
    schema_fb = _schema()
    model = schema_fb.ModelT.InitFromPackedBuf(bytearray(data), 0)
    graph = model.subgraphs[0]
    src = next(i for i, t in enumerate(graph.tensors) if t.name.decode() == tensor_name)
    shape = list(graph.tensors[src].shape)
    new_shape = _const(model, graph, schema_fb, "copy_shape", np.array(shape))
    out = _like(graph, src, "copy", shape)
    op = schema_fb.OperatorT()
    op.opcodeIndex = _opcode(model, schema_fb, schema_fb.BuiltinOperator.RESHAPE)
    op.inputs, op.outputs = np.array([src, new_shape], np.int32), np.array([out], np.int32)
    graph.operators.append(op)
    graph.outputs = np.array([*[int(i) for i in graph.outputs], out], np.int32)
    return _pack(model)
