"""Structure-aware mutations of .tflite files, for the fuzzing harness (issue 15).

Each mutation finds its target with the reader's own flatbuffer view (`Table` positions
and the field numbers in `schema.py`, as tests/toolkit/tflite/patching.py does) and
overwrites bytes in place, so the file keeps its layout and the change reaches the part
of the toolkit that reads what the field *means*: tensor indices, shapes, types,
quantization parameters, op options, opcodes, buffer contents. `random_bytes` is the
plain, structure-blind mutation.

`mutate(data, steps)` applies a list of (kind, seed) steps; each step is deterministic
given its seed, so a failing case is reproduced by its seed file and its steps.
"""

from __future__ import annotations

import random
import struct

from toolkit.tflite import schema as S
from toolkit.tflite.flatbuffer import FlatBufferError, Table

INT32_EDGES = (-1, 0, 1, 2, 3, 7, 255, 256, 32767, 65535, -2**31, 2**31 - 1, 2**24, -7)
FLOAT_EDGES = (0.0, -0.0, float("nan"), float("inf"), float("-inf"), -1.0, 1e-45, 1e-38, 3.4e38, -3.4e38, 1e-30, 1e30)
INT64_EDGES = (-129, 128, 256, -32769, 32768, 2**31, 2**40, 4294967168, 9 * 10**18, -(2**63), 2**63 - 1, -1, 255)


class Skip(Exception):
    """The seed has nothing this mutation can target."""


def _graph(data: bytes) -> Table:
    return Table.root(data).tables(S.Model.SUBGRAPHS)[0]


def _vec_i32(buf: bytearray, table: Table, field: int, rng: random.Random, values) -> None:
    vec = table._vector(field)
    if not vec or vec[1] == 0:
        raise Skip
    start, n = vec
    struct.pack_into("<i", buf, start + 4 * rng.randrange(n), rng.choice(values))


def tensor_index(buf: bytearray, rng: random.Random) -> None:
    """An operator input/output (or a subgraph input/output) index: -1, out of range or another tensor."""
    graph = _graph(buf)
    n_tensors = graph.vector_len(S.SubGraph.TENSORS)
    another = rng.randrange(n_tensors) if n_tensors else 0  # n_tensors may itself be corrupt
    values = (-1, -2, n_tensors, n_tensors + 1, 2**31 - 1, -(2**31), another, another, another)
    if rng.random() < 0.2:
        _vec_i32(buf, graph, rng.choice((S.SubGraph.INPUTS, S.SubGraph.OUTPUTS)), rng, values)
        return
    ops = graph.tables(S.SubGraph.OPERATORS)
    if not ops:
        raise Skip
    _vec_i32(buf, rng.choice(ops), rng.choice((S.Operator.INPUTS, S.Operator.OUTPUTS)), rng, values)


def tensor_shape(buf: bytearray, rng: random.Random) -> None:
    """One dimension to 0, negative, huge or small; or two dimensions swapped."""
    tensors = _graph(buf).tables(S.SubGraph.TENSORS)
    t = rng.choice(tensors)
    vec = t._vector(S.Tensor.SHAPE)
    if not vec or vec[1] == 0:
        raise Skip
    start, n = vec
    if n >= 2 and rng.random() < 0.3:
        i, j = rng.sample(range(n), 2)
        a, b = struct.unpack_from("<i", buf, start + 4 * i)[0], struct.unpack_from("<i", buf, start + 4 * j)[0]
        struct.pack_into("<i", buf, start + 4 * i, b)
        struct.pack_into("<i", buf, start + 4 * j, a)
        return
    struct.pack_into("<i", buf, start + 4 * rng.randrange(n), rng.choice((0, -1, 1, 2, 3, 4, 9, 65536, 2**31 - 1, 2**20, -5)))


def tensor_type(buf: bytearray, rng: random.Random) -> None:
    """Another TensorType code (the byte is only there when not FLOAT32)."""
    tensors = [t for t in _graph(buf).tables(S.SubGraph.TENSORS) if t._field(S.Tensor.TYPE)]
    if not tensors:
        raise Skip
    at = rng.choice(tensors)._field(S.Tensor.TYPE)
    buf[at] = rng.choice((0, 1, 2, 3, 4, 6, 7, 9, 10, 17, 30, 127, 255))


def quantization(buf: bytearray, rng: random.Random) -> None:
    """A scale (0, NaN, inf, negative, tiny, huge), a zero point out of range, or the axis."""
    qs = [q for q in (t.table(S.Tensor.QUANTIZATION) for t in _graph(buf).tables(S.SubGraph.TENSORS)) if q is not None]
    qs = [q for q in qs if q.vector_len(S.Quantization.SCALE)]
    if not qs:
        raise Skip
    q = rng.choice(qs)
    what = rng.random()
    if what < 0.4:
        start, n = q._vector(S.Quantization.SCALE)
        struct.pack_into("<f", buf, start + 4 * rng.randrange(n), rng.choice(FLOAT_EDGES))
    elif what < 0.8:
        vec = q._vector(S.Quantization.ZERO_POINT)
        if not vec or not vec[1]:
            raise Skip
        start, n = vec
        struct.pack_into("<q", buf, start + 8 * rng.randrange(n), rng.choice(INT64_EDGES))
    elif what < 0.9:
        # a shorter scale vector: per-axis length that no longer matches the shape
        at = q._field(S.Quantization.SCALE)
        start = q._indirect(at)
        n = struct.unpack_from("<I", buf, start)[0]
        struct.pack_into("<I", buf, start, rng.choice((1, max(0, n - 1), 2)) if n > 1 else 0)
    else:
        at = q._field(S.Quantization.QUANTIZED_DIMENSION)
        if not at:
            raise Skip
        struct.pack_into("<i", buf, at, rng.choice((-1, 1, 2, 3, 4, 100, -(2**31))))


def op_option(buf: bytearray, rng: random.Random) -> None:
    """One field of an operator's builtin options (strides, filter sizes, padding, activation,
    axis, beta, alpha, ...) to an edge value, written as a byte, an int32 or a float32."""
    ops = [op for op in _graph(buf).tables(S.SubGraph.OPERATORS) if op.table(S.Operator.BUILTIN_OPTIONS) is not None]
    if not ops:
        raise Skip
    opts = rng.choice(ops).table(S.Operator.BUILTIN_OPTIONS)
    fields = [i for i in range((opts._vtable_len - 4) // 2) if opts._field(i)]
    if not fields:
        raise Skip
    at = opts._field(rng.choice(fields))
    room = len(buf) - at
    kind = rng.random()
    if kind < 0.4 or room < 4:
        buf[at] = rng.choice((0, 1, 2, 3, 4, 5, 6, 7, 127, 128, 255))
    elif kind < 0.8:
        struct.pack_into("<i", buf, at, rng.choice(INT32_EDGES))
    else:
        struct.pack_into("<f", buf, at, rng.choice(FLOAT_EDGES))


def opcode(buf: bytearray, rng: random.Random) -> None:
    """An operator code to another builtin (one the toolkit supports, half the time)."""
    from toolkit.ops import OPS

    codes = Table.root(buf).tables(S.Model.OPERATOR_CODES)
    if not codes:
        raise Skip
    code = rng.choice(codes)
    supported = [S.BUILTIN_OPS.index(k) for k in sorted(OPS) if k in S.BUILTIN_OPS]
    value = rng.choice(supported) if rng.random() < 0.5 else rng.choice((0, 6, 32, 127, 128, 200, 255, -1, 1000))
    at = code._field(S.OperatorCode.BUILTIN_CODE)
    if at:
        struct.pack_into("<i", buf, at, value)
    dep = code._field(S.OperatorCode.DEPRECATED_BUILTIN_CODE)
    if dep:
        buf[dep] = max(-128, min(127, value)) & 0xFF
    if not at and not dep:
        raise Skip
    if rng.random() < 0.3:  # also the operator that points at its opcode
        ops = _graph(buf).tables(S.SubGraph.OPERATORS)
        at = ops[rng.randrange(len(ops))]._field(S.Operator.OPCODE_INDEX) if ops else 0
        if at:
            struct.pack_into("<I", buf, at, rng.choice((0, 1, 2, len(codes), 2**31)))


def buffer_bytes(buf: bytearray, rng: random.Random) -> None:
    """Flip bytes inside a constant buffer (weights, biases, shape constants)."""
    bufs = [b for b in Table.root(buf).tables(S.Model.BUFFERS) if b.vector_len(S.Buffer.DATA)]
    if not bufs:
        raise Skip
    start, n = rng.choice(bufs)._vector(S.Buffer.DATA)
    for _ in range(rng.randint(1, 4)):
        i = start + rng.randrange(n)
        buf[i] = rng.choice((buf[i] ^ (1 << rng.randrange(8)), 0, 0x7F, 0x80, 0xFF, rng.randrange(256)))


def random_bytes(buf: bytearray, rng: random.Random) -> None:
    """Plain mutation anywhere in the file (after the root offset and identifier)."""
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(8, len(buf))
        buf[i] = rng.choice((buf[i] ^ (1 << rng.randrange(8)), 0, 0xFF, 0x7F, 0x80, rng.randrange(256)))


MUTATIONS = {
    f.__name__: f
    for f in (tensor_index, tensor_shape, tensor_type, quantization, op_option, opcode, buffer_bytes, random_bytes)
}


def mutate(data: bytes, steps: list[tuple[str, int]]) -> bytes:
    """`data` with each (kind, seed) step applied in turn; a step that finds nothing to
    change (or a file it can no longer walk) leaves the bytes as they are."""
    buf = bytearray(data)
    for kind, seed in steps:
        trial = bytearray(buf)
        try:
            MUTATIONS[kind](trial, random.Random(seed))
        except (Skip, FlatBufferError, IndexError, ValueError, struct.error):
            continue
        buf = trial
    return bytes(buf)
