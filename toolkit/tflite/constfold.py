"""Evaluate constant subgraphs at read time.

Converters leave computations on constants in the graph: DEQUANTIZE of float16 or int8
weights, and shape arithmetic such as Keras 3's Flatten (SHAPE -> STRIDED_SLICE -> PACK
-> RESHAPE). Shapes are static here, so SHAPE of any tensor is a constant; an op whose
inputs are all constant is evaluated in numpy and its output becomes a constant. The
generated code never sees these ops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

from toolkit.ir import Tensor

if TYPE_CHECKING:
    from toolkit.tflite.reader import RawOp


def _dequantize(raw: "RawOp", x: np.ndarray) -> np.ndarray | None:
    src = raw.inputs[0]
    if src.dtype == "float16":
        return x.astype(np.float32)
    if src.dtype == "int8" and src.quant is not None and not src.quant.per_channel:
        return np.float32(src.scale) * (x.astype(np.float32) - np.float32(src.zero_point))
    return None


def _shape(raw: "RawOp", x: np.ndarray | None) -> np.ndarray:
    return np.array(raw.inputs[0].shape, dtype=raw.outputs[0].dtype)


def _strided_slice(raw: "RawOp", x: np.ndarray, begin: np.ndarray, end: np.ndarray, strides: np.ndarray) -> np.ndarray | None:
    opts = raw.options
    masks = [opts.scalar(i, "i") if opts is not None else 0 for i in range(5)]  # begin, end, ellipsis, new_axis, shrink
    if masks[2] or masks[3] or x.ndim != len(begin) or len(begin) != len(end) or len(end) != len(strides):
        return None
    index = []
    for axis in range(x.ndim):
        b = None if masks[0] >> axis & 1 else int(begin[axis])
        e = None if masks[1] >> axis & 1 else int(end[axis])
        s = int(strides[axis])
        if s == 0:
            return None
        if masks[4] >> axis & 1:
            index.append(int(begin[axis]))
        else:
            index.append(slice(b, e, s))
    return np.asarray(x[tuple(index)])


def _pack(raw: "RawOp", *xs: np.ndarray) -> np.ndarray | None:
    axis = raw.options.scalar(1, "i") if raw.options is not None else 0
    try:
        return np.stack(xs, axis=axis)
    except (ValueError, np.exceptions.AxisError):
        return None


def _reshape(raw: "RawOp", x: np.ndarray, *shape: np.ndarray) -> np.ndarray:
    return x.reshape(raw.outputs[0].shape)


def _cast(raw: "RawOp", x: np.ndarray) -> np.ndarray:
    return x.astype(raw.outputs[0].dtype)


def _concatenation(raw: "RawOp", *xs: np.ndarray) -> np.ndarray | None:
    axis = raw.options.scalar(0, "i") if raw.options is not None else 0
    try:
        return np.concatenate(xs, axis=axis)
    except (ValueError, np.exceptions.AxisError):
        return None


# op -> f(raw, *input values) returning the output value (None: leave the op alone)
FOLDERS: dict[str, Callable[..., np.ndarray | None]] = {
    "DEQUANTIZE": _dequantize,
    "STRIDED_SLICE": _strided_slice,
    "PACK": _pack,
    "RESHAPE": _reshape,
    "SQUEEZE": _reshape,
    "EXPAND_DIMS": _reshape,
    "CAST": _cast,
    "CONCATENATION": _concatenation,
}


def fold_constant(raw: "RawOp") -> bool:
    """Evaluate `raw` when its inputs are constant (any input for SHAPE); True when its
    output became a constant and the op can go."""
    if len(raw.outputs) != 1 or raw.outputs[0] is None or any(t is None for t in raw.inputs):
        return False
    out: Tensor = raw.outputs[0]
    if raw.kind == "SHAPE" and raw.inputs:
        value = _shape(raw, None)
    elif raw.kind in FOLDERS and raw.inputs and all(t.is_constant for t in raw.inputs):
        try:
            value = FOLDERS[raw.kind](raw, *(t.data for t in raw.inputs))
        except (ValueError, IndexError, TypeError):
            return False  # inconsistent shapes: the op's own checks will say what is wrong
    else:
        return False
    if value is None or value.size != out.size:
        return False
    out.data = np.asarray(value).astype(out.dtype, copy=False).reshape(out.shape)
    return True
