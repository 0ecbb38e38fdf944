"""Sparse encodings of pruned int8 weights: the policy, and the portable path's choice.

Zero weights are exact to skip: the accumulator is an integer sum. For each layer the
generator estimates, per code path, the instructions per inference and the flash bytes
(constants plus code) of the dense kernel and of the sparse one, and takes the sparse
one only when it is no worse on both (``mode="auto"``); ``mode="sparse"`` takes it
whenever the layer has a zero weight, ``mode="dense"`` never.

- portable path ("sparse rows", fc_portable.py): per row, a count, the non-zero int8
  values and their column indices (uint8 when the layer has at most 256 inputs, else
  uint16).
- DSP path: see fast/dsp/fc_sparse.py (rows written out with the input in registers,
  or the portable rows compiled for the DSP cores).

Each path chooses on its own estimates; only the DSP path's choice depends on a
neighbouring layer (the register hand-off, fast/dsp/fully_connected.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from toolkit.codegen.fc_plan import Int8Plan

MODES = ("auto", "dense", "sparse")


@dataclass
class Cost:
    instructions: float
    nbytes: float

    def beats(self, other: "Cost") -> bool:
        return self.instructions <= other.instructions and self.nbytes <= other.nbytes and (
            self.instructions < other.instructions or self.nbytes < other.nbytes)


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"sparse mode must be one of {', '.join(MODES)}")


def may_be_sparse(plan: "Int8Plan", mode: str) -> bool:
    """Whether a sparse encoding is considered at all."""
    check_mode(mode)
    return mode != "dense" and bool(np.any(plan.weights == 0))


def portable_costs(plan: "Int8Plan") -> tuple[Cost, Cost]:
    """Estimated (dense, sparse rows) costs of the portable kernels."""
    out, n = plan.out_n, plan.in_n
    nnz = int(np.count_nonzero(plan.weights))
    unrolled = n <= 16
    dense = Cost(out * ((3 if unrolled else 5) * n + 12), out * n + 4 * out + (10 * n if unrolled else 40) + 40)
    idx = 1 if n <= 256 else 2
    cnt = 1 if np.count_nonzero(plan.weights, axis=1).max(initial=0) <= 255 else 2
    rows = Cost(6 * nnz + 14 * out, nnz * (1 + idx) + out * (cnt + 4) + 70)
    return dense, rows


def choose_portable(plan: "Int8Plan", mode: str = "auto") -> str:
    """The portable path's encoding: "dense" or "rows"."""
    if not may_be_sparse(plan, mode):
        return "dense"
    dense, rows = portable_costs(plan)
    return "rows" if mode == "sparse" or rows.beats(dense) else "dense"


def stored(plan: "Int8Plan") -> str:
    nnz = int(np.count_nonzero(plan.weights))
    return f"{nnz} of {plan.weights.size} weights stored"
