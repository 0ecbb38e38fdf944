"""The operator graph of a .tflite subgraph: topological order, dead operators, checks.

Files list operators in an executable order already, but nothing in the format
promises it; a hostile or hand-edited file may list them in any order, read tensors
nothing computes, compute a tensor twice, or contain a cycle.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

from toolkit.errors import ModelFormatError, UnsupportedModelError
from toolkit.ir import Tensor

if TYPE_CHECKING:
    from toolkit.tflite.reader import RawOp


def graph_order(ops: list["RawOp"], inputs: list[Tensor], outputs: list[Tensor], source: str) -> list["RawOp"]:
    """The operators that the model outputs depend on, each after the operators that
    compute its operands (file order among independent ones)."""
    producer: dict[int, RawOp] = {}
    for op in ops:
        for t in op.outputs:
            if id(t) in producer:
                raise ModelFormatError(f"{source}: tensor '{t.name}' is computed by operators {producer[id(t)].index} and {op.index}")
            if any(t is x for x in inputs):
                raise ModelFormatError(f"{source}: operator {op.index} ({op.kind}) writes the model input '{t.name}'")
            producer[id(t)] = op
    for t in outputs:
        if id(t) not in producer and not any(t is x for x in inputs):
            what = "a constant" if t.is_constant else "computed by no operator"
            raise UnsupportedModelError(f"{source}: model output '{t.name}' is {what}")

    # operators the outputs need, walking back from them
    needed: dict[int, RawOp] = {}
    stack = [producer[id(t)] for t in outputs if id(t) in producer]
    while stack:
        op = stack.pop()
        if id(op) in needed:
            continue
        needed[id(op)] = op
        for t in op.inputs:
            if t is None or t.is_constant:
                continue
            if id(t) in producer:
                stack.append(producer[id(t)])
            elif not any(t is x for x in inputs):
                raise ModelFormatError(f"{source}: operator {op.index} ({op.kind}) reads tensor '{t.name}', "
                                       "which is neither a model input, a constant nor computed by an operator")

    # Kahn's algorithm, smallest file index first
    waiting = {id(op): sum(1 for t in _operands(op) if id(t) in producer) for op in needed.values()}
    readers: dict[int, list[RawOp]] = {}
    for op in needed.values():
        for t in _operands(op):
            if id(t) in producer:
                readers.setdefault(id(t), []).append(op)
    ready = [(op.index, id(op), op) for op in needed.values() if waiting[id(op)] == 0]
    heapq.heapify(ready)
    order: list[RawOp] = []
    while ready:
        _, _, op = heapq.heappop(ready)
        order.append(op)
        for t in op.outputs:
            for reader in readers.get(id(t), []):
                waiting[id(reader)] -= 1
                if waiting[id(reader)] == 0:
                    heapq.heappush(ready, (reader.index, id(reader), reader))
    if len(order) != len(needed):
        stuck = sorted(op.index for op in needed.values() if op not in order)
        raise ModelFormatError(f"{source}: the operators {stuck[:5]} form a cycle")
    return order


def _operands(op: "RawOp") -> list[Tensor]:
    """Variable input tensors, each once (an op may read the same tensor twice)."""
    seen: dict[int, Tensor] = {}
    for t in op.inputs:
        if t is not None and not t.is_constant:
            seen.setdefault(id(t), t)
    return list(seen.values())
