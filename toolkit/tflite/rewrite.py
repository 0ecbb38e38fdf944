"""Rewrites of the raw operator list before the ops are built.

`fold_dilated`: older TFLite converters (and other tools) export a dilated convolution
as SPACE_TO_BATCH_ND (block [dh, dw], paddings) -> CONV_2D or DEPTHWISE_CONV_2D (VALID,
stride 1, dilation 1) -> BATCH_TO_SPACE_ND (block [dh, dw], crops). Output (Y, X) of the
three is Σ_k x[Y + crop_top - pad_top + k·dh, ...] with taps outside x reading the
padding value (the zero point: a tap that contributes nothing), which is the dilated
conv of x whose first window starts at pad_top - crop_top. The three ops become that
one conv when its SAME or VALID padding gives exactly this origin and output size on
both axes; anything else is left alone (and stays an unsupported operator).

The padding value is what TFLite's kernels use (0.0, or the zero point of int8), so the
folded conv matches LiteRT on the three ops bit for bit. TFLM's SPACE_TO_BATCH_ND never
sets its pad value (`SpaceToBatchParams::output_offset`, left as whatever the arena
held): where the three ops read padding, TFLM's result on them varies from run to run
and is no reference; the folded conv matches TFLM running the dilated conv itself.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from toolkit.ir import Tensor
    from toolkit.tflite.reader import RawOp

# option fields of the conv tables (schema.fbs order): padding, stride_w, stride_h, dilation_w, dilation_h
_FIELDS = {"CONV_2D": (0, 1, 2, 4, 5), "DEPTHWISE_CONV_2D": (0, 1, 2, 5, 6)}
_PADDING = {"SAME": 0, "VALID": 1}


def fold_dilated(raw_ops: list[RawOp], graph_outputs: list[Tensor] = ()) -> list[RawOp]:
    """The operator list with each S2B -> conv -> B2S dilated-conv pattern as one conv."""
    readers: dict[int, list[RawOp]] = {}
    for op in raw_ops:
        for t in {id(t): t for t in op.inputs if t is not None}.values():
            readers.setdefault(id(t), []).append(op)
    producer = {id(t): op for op in raw_ops for t in op.outputs}
    kept_out = {id(t) for t in graph_outputs}
    replace: dict[int, RawOp] = {}
    drop: set[int] = set()
    for b2s in raw_ops:
        if b2s.kind != "BATCH_TO_SPACE_ND" or len(b2s.inputs) != 3 or b2s.inputs[0] is None:
            continue
        conv = producer.get(id(b2s.inputs[0]))
        if conv is None or conv.kind not in _FIELDS or not conv.inputs or conv.inputs[0] is None:
            continue
        s2b = producer.get(id(conv.inputs[0]))
        if s2b is None or s2b.kind != "SPACE_TO_BATCH_ND" or len(s2b.inputs) != 3 or s2b.inputs[0] is None:
            continue
        if {id(s2b), id(conv), id(b2s)} & (drop | set(replace)):
            continue
        folded = _fold(s2b, conv, b2s, readers, kept_out)
        if folded is not None:
            replace[id(conv)] = folded
            drop |= {id(s2b), id(b2s)}
    return [replace.get(id(op), op) for op in raw_ops if id(op) not in drop]


def _const(t, shape: tuple[int, ...]) -> np.ndarray | None:
    if t is None or t.data is None or tuple(t.data.shape) != shape or t.data.dtype.kind not in "iu":
        return None
    return t.data.astype(np.int64)


def _same_quant(a, b) -> bool:
    if a.dtype != b.dtype:
        return False
    if a.quant is None or b.quant is None:
        return a.quant is None and b.quant is None
    return (np.array_equal(a.quant.scale, b.quant.scale) and np.array_equal(a.quant.zero_point, b.quant.zero_point))


def _fold(s2b: RawOp, conv: RawOp, b2s: RawOp, readers: dict, kept_out: set) -> RawOp | None:
    from toolkit.ops.window import Window  # toolkit.ops imports the IR; import late to avoid a cycle

    x, inner_in, inner_out, y = s2b.inputs[0], s2b.outputs[0], conv.outputs[0], b2s.outputs[0]
    if len(s2b.outputs) != 1 or len(conv.outputs) != 1 or len(b2s.outputs) != 1:
        return None
    # the intermediates are read by the next op of the pattern only, and are no model output
    if [id(r) for r in readers.get(id(inner_in), [])] != [id(conv)] or id(inner_in) in kept_out:
        return None
    if [id(r) for r in readers.get(id(inner_out), [])] != [id(b2s)] or id(inner_out) in kept_out:
        return None
    if any(t is inner_in for t in conv.inputs[1:]):
        return None
    block, crop_block = _const(s2b.inputs[1], (2,)), _const(b2s.inputs[1], (2,))
    pads, crops = _const(s2b.inputs[2], (2, 2)), _const(b2s.inputs[2], (2, 2))
    if block is None or crop_block is None or pads is None or crops is None:
        return None
    if not np.array_equal(block, crop_block) or np.any(block < 1) or np.any(pads < 0) or np.any(crops < 0):
        return None
    if not (_same_quant(x, inner_in) and _same_quant(inner_out, y)):
        return None
    w = conv.inputs[1] if len(conv.inputs) > 1 else None
    shapes = [x.shape, inner_in.shape, inner_out.shape, y.shape]
    if w is None or len(w.shape) != 4 or any(len(s) != 4 for s in shapes) or x.shape[0] != 1 or y.shape[0] != 1:
        return None
    if x.shape[3] != inner_in.shape[3] or inner_out.shape[3] != y.shape[3]:
        return None
    f_pad, f_sw, f_sh, f_dw, f_dh = _FIELDS[conv.kind]
    if conv.options is None:
        return None
    get = conv.option
    if (get(f_pad, "b", 0), get(f_sw, "i", 0), get(f_sh, "i", 0), get(f_dw, "i", 1), get(f_dh, "i", 1)) != (1, 1, 1, 1, 1):
        return None  # the inner conv must be VALID, stride 1, dilation 1
    # the geometry the three ops compute, axis by axis: first-window origin and output size
    padding = None
    for name in ("VALID", "SAME"):
        ok = True
        for axis in (0, 1):
            d, size, k = int(block[axis]), x.shape[1 + axis], w.shape[1 + axis]
            padded = size + int(pads[axis].sum())
            if padded % d:
                return None
            inner = padded // d - k + 1
            out = inner * d - int(crops[axis].sum())
            if inner < 1 or inner_in.shape[1 + axis] != padded // d or inner_out.shape[1 + axis] != inner \
                    or y.shape[1 + axis] != out:
                return None
            win = Window(size, k, 1, d, name)
            if win.out_size != out or win.pad_before != int(pads[axis][0] - crops[axis][0]) \
                    or int(pads[axis][0]) < int(crops[axis][0]):
                ok = False
        if ok:
            padding = name
            break
    if padding is None:
        return None
    if inner_in.shape[0] != int(block.prod()) or inner_out.shape[0] != int(block.prod()):
        return None
    overrides = dict(conv.overrides or {})
    overrides.update({f_pad: _PADDING[padding], f_dh: int(block[0]), f_dw: int(block[1])})
    return dataclasses.replace(conv, inputs=[x, *conv.inputs[1:]], outputs=[y], overrides=overrides)
