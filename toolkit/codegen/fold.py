"""Remove units that pruning has made constant or unused, exactly, before emitting C.

Between two int8 FULLY_CONNECTED layers L -> N:
- a unit of L whose incoming weights are all zero outputs the same int8 value q for
  every input; its contribution to N, w * (q - zp), is a constant that is added to N's
  bias, and the unit disappears from both layers;
- a unit of L whose outgoing weights in N are all zero is never used: it disappears too.
Everything is integer arithmetic, so the outputs stay bit-identical with the TFLM
interpreter. Weight-pruned models shed whole units this way (a 1-input first layer has
one weight per unit), so the pruning saves flash and instructions on every core.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from toolkit import quantization as Q
from toolkit.ir import Model, Quant, Tensor
from toolkit.ops.fully_connected import FullyConnected

INT32 = (-(2**31), 2**31 - 1)


def _int8_fc(layer) -> bool:
    return isinstance(layer, FullyConnected) and layer.input.dtype == "int8" and layer.batches == 1


def _constant_outputs(layer: FullyConnected, units: np.ndarray) -> np.ndarray:
    """The int8 output of each unit whose incoming weights are all zero."""
    p = layer.int8_params()
    acc = p["bias"][units]  # Σ w·x is 0; the folded bias is the plain bias
    v = Q.multiply_by_quantized_multiplier(acc, p["mult"][units], p["shift"][units]) + layer.output.zero_point
    return np.clip(v, p["act_min"], p["act_max"])


def _fold_pair(first: FullyConnected, second: FullyConnected) -> tuple[FullyConnected, FullyConnected, int, int] | None:
    w1, w2 = first.weights.data, second.weights.data
    constant = np.flatnonzero(~w1.any(axis=1))
    unused = np.flatnonzero(~w2.any(axis=0))
    drop = np.union1d(constant, unused)
    keep = np.setdiff1d(np.arange(first.out_features), drop)
    per_channel = first.weights.quant.per_channel
    if not len(drop) or len(keep) < (2 if per_channel else 1):
        return None  # nothing to do, or a per-channel layer would look per-tensor
    used_constant = np.setdiff1d(constant, unused)
    bias2 = second.bias.data.astype(np.int64) if second.bias is not None else np.zeros(second.out_features, np.int64)
    if len(used_constant):
        q = _constant_outputs(first, used_constant)
        bias2 = bias2 + w2[:, used_constant].astype(np.int64) @ (q - second.input.zero_point)
    if bias2.min() < INT32[0] or bias2.max() > INT32[1]:
        return None

    quant = first.weights.quant
    w_quant = Quant(quant.scale[keep], quant.zero_point[keep], quant.axis) if per_channel else quant
    hidden = replace(first.output, name=first.output.name + "/folded", shape=first.output.shape[:-1] + (len(keep),))
    new_first = replace(
        first, outputs=[hidden],
        weights=replace(first.weights, shape=(len(keep), first.in_features), data=w1[keep], quant=w_quant),
        bias=replace(first.bias, shape=(len(keep),), data=first.bias.data[keep]) if first.bias is not None else None,
    )
    bias_tensor = second.bias or Tensor(second.weights.name + "/bias", (second.out_features,), "int32")
    new_second = replace(
        second, inputs=[hidden],
        weights=replace(second.weights, shape=(second.out_features, len(keep)), data=w2[:, keep]),
        bias=replace(bias_tensor, data=bias2.astype(np.int32)),
    )
    return new_first, new_second, len(used_constant), len(unused)


def fold_units(model: Model) -> tuple[Model, list[str]]:
    """The model with constant and unused units removed, and a note per change."""
    layers = list(model.layers)
    notes: list[str] = []
    changed = True
    while changed:
        changed = False
        for i in range(len(layers) - 1):
            if not (_int8_fc(layers[i]) and _int8_fc(layers[i + 1]) and layers[i + 1].input is layers[i].output
                    and _only_reader(model, layers, i)):
                continue
            folded = _fold_pair(layers[i], layers[i + 1])
            if folded is None:
                continue
            layers[i], layers[i + 1], n_const, n_unused = folded
            notes.append(f"layers {i}->{i + 1}: {n_const} constant units folded into the next bias, {n_unused} unused units removed")
            changed = True
    if not notes:
        return model, []
    return replace(model, ops=layers), notes


def _only_reader(model: Model, ops: list, i: int) -> bool:
    """Op i+1 is the only reader of op i's output, which is not a model output."""
    t = ops[i].output
    if any(t is o for o in model.outputs):
        return False
    return sum(1 for op in ops for x in op.inputs if x is t) == 1
