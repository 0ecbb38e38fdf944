"""Edit a converted .tflite in place, for tests of what converters never write."""

from __future__ import annotations

import struct

from toolkit.tflite import schema as S
from toolkit.tflite.flatbuffer import Table


def patch_output_quant(data: bytes, scale: float, zero_point: int) -> bytes:
    """The model's output tensor with another scale and zero point (same vector lengths)."""
    buf = bytearray(data)
    graph = Table.root(data).tables(S.Model.SUBGRAPHS)[0]
    out = graph.tables(S.SubGraph.TENSORS)[int(graph.numpy(S.SubGraph.OUTPUTS, "int32")[0])]
    q = out.table(S.Tensor.QUANTIZATION)
    (s_at, _), (z_at, _) = q._vector(S.Quantization.SCALE), q._vector(S.Quantization.ZERO_POINT)
    struct.pack_into("<f", buf, s_at, scale)
    struct.pack_into("<q", buf, z_at, zero_point)
    return bytes(buf)
