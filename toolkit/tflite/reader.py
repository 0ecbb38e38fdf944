"""Read a .tflite file into the model IR, without TensorFlow.

The file is parsed with our own flatbuffer reader (`flatbuffer.py`) against the
field numbers in `schema.py`; constant subgraphs are evaluated (`constfold.py`), the
remaining operators put in an order that computes every operand before it is read
(`graph.py`), and each is handed to the op class registered for it in `toolkit.ops`,
which checks what it supports and builds its IR op.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toolkit.errors import ModelFormatError, UnsupportedModelError
from toolkit.ir import Model, Quant, Tensor
from toolkit.tflite import schema as S
from toolkit.tflite.constfold import fold_constant
from toolkit.tflite.flatbuffer import FlatBufferError, Table
from toolkit.tflite.graph import graph_order
from toolkit.tflite.rewrite import fold_dilated


@dataclass
class RawOp:
    """One operator as stored in the file, with its tensors resolved."""

    kind: str
    inputs: list[Tensor | None]  # None for an omitted optional input (index -1)
    outputs: list[Tensor]
    options: Table | None
    index: int
    overrides: dict[int, float] = field(default_factory=dict)  # option field -> value, set by rewrite.py

    def option(self, index: int, fmt: str, default: float = 0) -> float:
        """An option's value: an override if a rewrite set one, else the options table's."""
        if index in self.overrides:
            return self.overrides[index]
        return self.options.scalar(index, fmt, default) if self.options is not None else default

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
    from toolkit.ops import OPS  # the registry imports the IR; import late to avoid a cycle

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
        outputs = [_lookup(tensors, j, source) for j in op.numpy(S.Operator.OUTPUTS, "int32")]
        if not outputs or any(t is None for t in outputs):
            raise ModelFormatError(f"{source}: operator {i} ({opcodes[code]}) has a missing output tensor")
        raw_ops.append(
            RawOp(
                kind=opcodes[code],
                inputs=[_lookup(tensors, j, source) for j in op.numpy(S.Operator.INPUTS, "int32")],
                outputs=outputs,
                options=op.table(S.Operator.BUILTIN_OPTIONS),
                index=i,
            )
        )
    graph_inputs = _graph_tensors(graph, S.SubGraph.INPUTS, tensors, "input", source)
    graph_outputs = _graph_tensors(graph, S.SubGraph.OUTPUTS, tensors, "output", source)

    raw_ops = [op for op in raw_ops if not fold_constant(op)]
    raw_ops = fold_dilated(raw_ops, graph_outputs)
    raw_ops = graph_order(raw_ops, graph_inputs, graph_outputs, source)
    unsupported = sorted({op.kind for op in raw_ops if op.kind not in OPS})
    if unsupported:
        raise UnsupportedModelError(
            f"{source}: unsupported operator {', '.join(unsupported)}; supported: {', '.join(sorted(OPS))}"
        )
    ops = [OPS[op.kind].from_tflite(op) for op in raw_ops]
    return Model(
        ops=ops,
        inputs=graph_inputs,
        outputs=graph_outputs,
        description=root.string(S.Model.DESCRIPTION),
        source=source,
    )


def _graph_tensors(graph: Table, field: int, tensors: list[Tensor], role: str, source: str) -> list[Tensor]:
    found = [_lookup(tensors, j, source) for j in graph.numpy(field, "int32")]
    if not found:
        raise ModelFormatError(f"{source}: the model has no {role} tensor")
    if any(t is None for t in found):
        raise ModelFormatError(f"{source}: a model {role} has tensor index -1")
    if len({id(t) for t in found}) != len(found):
        raise UnsupportedModelError(f"{source}: a tensor is listed twice as a model {role}")
    return found


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


# No microcontroller holds a tensor of more than 16 M elements (the largest boards have a few
# MB of flash): refusing larger ones up front keeps a hostile shape from costing memory later.
MAX_TENSOR_ELEMENTS = 1 << 24


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
    elements = math.prod(shape)  # Python ints: no overflow on hostile shapes
    if elements > MAX_TENSOR_ELEMENTS:
        raise UnsupportedModelError(f"{source}: tensor '{name}' of shape {list(shape)} has {elements:,} elements; "
                                    f"a microcontroller model's tensors hold at most {MAX_TENSOR_ELEMENTS:,}")
    if t.has(S.Tensor.SPARSITY):
        raise UnsupportedModelError(f"{source}: tensor '{name}' uses TFLite's sparse format; densify it first")
    tensor = Tensor(name=name, shape=shape, dtype=dtype, quant=_quant(t.table(S.Tensor.QUANTIZATION)))
    _check_quant(tensor, source)
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


_ZERO_POINT_RANGE = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767)}


def _check_quant(t: Tensor, source: str) -> None:
    """Quantization parameters a kernel can compute with: a hostile file may say anything."""
    q = t.quant
    if q is None or t.dtype not in ("int8", "uint8", "int16", "int32"):
        return
    bad = [float(v) for v in q.scale if not (np.isfinite(v) and v > 0)]
    if bad:
        raise ModelFormatError(f"{source}: tensor '{t.name}' has quantization scale {bad[0]}; it must be finite and positive")
    low, high = _ZERO_POINT_RANGE.get(t.dtype, (-(2**31), 2**31 - 1))
    outside = [int(z) for z in q.zero_point if not low <= z <= high]
    if outside:
        raise ModelFormatError(f"{source}: tensor '{t.name}' ({t.dtype}) has zero point {outside[0]}, outside [{low}, {high}]")
    if q.per_channel and not (0 <= q.axis < len(t.shape) and t.shape[q.axis] == len(q.scale)):
        raise ModelFormatError(f"{source}: tensor '{t.name}' {list(t.shape)} has {len(q.scale)} scales on axis {q.axis}")


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
