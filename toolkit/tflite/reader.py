"""Read a .tflite file into the model IR, without TensorFlow.

The file is parsed with our own flatbuffer reader (`flatbuffer.py`) against the
field numbers in `schema.py`; each operator is handed to the layer class registered
for it in `toolkit.ops`, which checks what it supports and builds its IR layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toolkit.errors import ModelFormatError, UnsupportedModelError
from toolkit.ir import Model, Quant, Tensor
from toolkit.tflite import schema as S
from toolkit.tflite.flatbuffer import FlatBufferError, Table


@dataclass
class RawOp:
    """One operator as stored in the file, with its tensors resolved."""

    kind: str
    inputs: list[Tensor | None]  # None for an omitted optional input (index -1)
    outputs: list[Tensor]
    options: Table | None
    index: int

    def fail(self, what: str) -> UnsupportedModelError:
        return UnsupportedModelError(f"unsupported {self.kind} (operator {self.index}): {what}")


def read_tflite(path: str | Path) -> Model:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelFormatError(f"cannot read {path}: {exc.strerror}") from None
    return parse_tflite(data, source=str(path))


def parse_tflite(data: bytes, source: str = "<bytes>") -> Model:
    if len(data) < 8 or data[4:8] != S.FILE_IDENTIFIER:
        raise ModelFormatError(f"{source}: not a TensorFlow Lite model (no 'TFL3' flatbuffer identifier)")
    try:
        return _parse(data, source)
    except FlatBufferError as exc:
        raise ModelFormatError(f"{source}: truncated or corrupt .tflite file ({exc})") from None


def _parse(data: bytes, source: str) -> Model:
    from toolkit.ops import LAYERS  # the registry imports the IR; import late to avoid a cycle

    root = Table.root(data)
    subgraphs = root.tables(S.Model.SUBGRAPHS)
    if not subgraphs:
        raise ModelFormatError(f"{source}: the model has no subgraph")
    if len(subgraphs) > 1:
        raise UnsupportedModelError(f"{source}: {len(subgraphs)} subgraphs; only single-subgraph models are supported")
    graph = subgraphs[0]
    buffers = root.tables(S.Model.BUFFERS)
    tensors = [_tensor(t, buffers, data, source) for t in graph.tables(S.SubGraph.TENSORS)]
    opcodes = [_op_name(code) for code in root.tables(S.Model.OPERATOR_CODES)]

    raw_ops = []
    for i, op in enumerate(graph.tables(S.SubGraph.OPERATORS)):
        code = op.scalar(S.Operator.OPCODE_INDEX, "I")
        if code >= len(opcodes):
            raise ModelFormatError(f"{source}: operator {i} uses opcode {code}, the file defines {len(opcodes)}")
        raw_ops.append(
            RawOp(
                kind=opcodes[code],
                inputs=[_lookup(tensors, j, source) for j in op.numpy(S.Operator.INPUTS, "int32")],
                outputs=[_lookup(tensors, j, source) for j in op.numpy(S.Operator.OUTPUTS, "int32")],
                options=op.table(S.Operator.BUILTIN_OPTIONS),
                index=i,
            )
        )

    raw_ops = [op for op in raw_ops if not _fold_constant(op)]
    unsupported = sorted({op.kind for op in raw_ops if op.kind not in LAYERS})
    if unsupported:
        raise UnsupportedModelError(
            f"{source}: unsupported operator {', '.join(unsupported)}; supported: {', '.join(sorted(LAYERS))}"
        )
    layers = [LAYERS[op.kind].from_tflite(op) for op in raw_ops]

    graph_inputs = [_lookup(tensors, j, source) for j in graph.numpy(S.SubGraph.INPUTS, "int32")]
    graph_outputs = [_lookup(tensors, j, source) for j in graph.numpy(S.SubGraph.OUTPUTS, "int32")]
    if len(graph_inputs) != 1 or len(graph_outputs) != 1:
        raise UnsupportedModelError(
            f"{source}: {len(graph_inputs)} input and {len(graph_outputs)} output tensors; "
            "only one input tensor and one output tensor are supported (each may hold many values)"
        )
    _check_chain(layers, graph_inputs[0], graph_outputs[0], source)
    return Model(
        layers=layers,
        input=graph_inputs[0],
        output=graph_outputs[0],
        description=root.string(S.Model.DESCRIPTION),
        source=source,
    )


def _fold_constant(op: RawOp) -> bool:
    """Evaluate a DEQUANTIZE of a constant (float16 or int8 weights) at read time.

    Converters store float16 weights this way; the generated code then sees plain
    float32 constants. Returns True when the op was folded away.
    """
    if op.kind != "DEQUANTIZE" or len(op.inputs) != 1 or op.inputs[0] is None or op.inputs[0].data is None:
        return False
    src, dst = op.inputs[0], op.outputs[0]
    if src.dtype == "float16":
        dst.data = src.data.astype(np.float32).reshape(dst.shape)
    elif src.dtype == "int8" and src.quant is not None and not src.quant.per_channel:
        dst.data = (np.float32(src.scale) * (src.data.astype(np.float32) - src.zero_point)).reshape(dst.shape)
    else:
        return False
    return True


def _op_name(code: Table) -> str:
    # Codes above 127 live in builtin_code; older files only fill the deprecated byte.
    value = max(code.scalar(S.OperatorCode.BUILTIN_CODE, "i"), code.scalar(S.OperatorCode.DEPRECATED_BUILTIN_CODE, "b"))
    if value == S.BUILTIN_OPS.index("CUSTOM"):
        return f"CUSTOM({code.string(S.OperatorCode.CUSTOM_CODE)})"
    return S.BUILTIN_OPS[value] if 0 <= value < len(S.BUILTIN_OPS) else f"BUILTIN_{value}"


def _lookup(tensors: list[Tensor], index: int, source: str) -> Tensor | None:
    if index == -1:
        return None
    if not 0 <= index < len(tensors):
        raise ModelFormatError(f"{source}: tensor index {index} out of range ({len(tensors)} tensors)")
    return tensors[index]


def _tensor(t: Table, buffers: list[Table], data: bytes, source: str) -> Tensor:
    name = t.string(S.Tensor.NAME)
    type_code = t.scalar(S.Tensor.TYPE, "b")
    type_name = S.TENSOR_TYPES[type_code] if 0 <= type_code < len(S.TENSOR_TYPES) else f"TYPE_{type_code}"
    dtype = S.NUMPY_DTYPES.get(type_name, type_name.lower())
    shape = tuple(int(d) for d in t.numpy(S.Tensor.SHAPE, "int32"))
    if any(d < 0 for d in shape):
        raise UnsupportedModelError(f"{source}: tensor '{name}' has a dynamic or invalid shape {list(shape)}")
    if any(d == 0 for d in shape):
        raise UnsupportedModelError(f"{source}: tensor '{name}' is empty (shape {list(shape)})")
    if t.has(S.Tensor.SPARSITY):
        raise UnsupportedModelError(f"{source}: tensor '{name}' uses TFLite's sparse format; densify it first")
    tensor = Tensor(name=name, shape=shape, dtype=dtype, quant=_quant(t.table(S.Tensor.QUANTIZATION)))
    buffer_index = t.scalar(S.Tensor.BUFFER, "I")
    if buffer_index >= len(buffers):
        raise ModelFormatError(f"{source}: tensor '{name}' refers to buffer {buffer_index} of {len(buffers)}")
    raw = _buffer_bytes(buffers[buffer_index], data)
    if raw is not None and len(raw):
        if type_name not in S.NUMPY_DTYPES:
            raise UnsupportedModelError(f"{source}: constant tensor '{name}' has type {type_name}")
        if len(raw) != tensor.nbytes:
            raise ModelFormatError(f"{source}: tensor '{name}' holds {len(raw)} bytes, its shape {shape} needs {tensor.nbytes}")
        tensor.data = np.frombuffer(raw, np.dtype(dtype).newbyteorder("<")).astype(dtype).reshape(shape)
    return tensor


def _buffer_bytes(buf: Table, data: bytes) -> bytes | None:
    if buf.has(S.Buffer.OFFSET):  # models over 2 GB keep data outside the flatbuffer
        offset, size = buf.scalar(S.Buffer.OFFSET, "Q"), buf.scalar(S.Buffer.SIZE, "Q")
        if offset <= 1:
            return None
        if offset + size > len(data):
            raise FlatBufferError(f"buffer data at {offset}+{size} past the end")
        return data[offset : offset + size]
    arr = buf.numpy(S.Buffer.DATA, "uint8")
    return arr.tobytes() if len(arr) else None


def _quant(q: Table | None) -> Quant | None:
    if q is None:
        return None
    scale = q.numpy(S.Quantization.SCALE, "float32")
    if len(scale) == 0:
        return None
    zero_point = q.numpy(S.Quantization.ZERO_POINT, "int64")
    if len(zero_point) != len(scale):
        zero_point = np.zeros(len(scale), np.int64) if len(zero_point) == 0 else np.resize(zero_point, len(scale))
    return Quant(
        scale=scale.astype(np.float32),
        zero_point=zero_point.astype(np.int64),
        axis=q.scalar(S.Quantization.QUANTIZED_DIMENSION, "i"),
    )


def _check_chain(layers: list, graph_input: Tensor, graph_output: Tensor, source: str) -> None:
    """The generated code runs layers in order, each feeding the next."""
    current = graph_input
    for layer in layers:
        if layer.input is not current:
            raise UnsupportedModelError(
                f"{source}: {layer.kind} reads '{layer.input.name}', not the previous layer's output; "
                "only sequential models are supported"
            )
        current = layer.output
    if current is not graph_output:
        raise UnsupportedModelError(f"{source}: the last layer does not produce the model output '{graph_output.name}'")
