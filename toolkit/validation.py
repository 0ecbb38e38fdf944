"""Test inputs and the comparison of generated code against the reference interpreters.

Shared by every runner (host, emulators): they differ in how they produce outputs,
not in how outputs are judged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from toolkit.ir import Model
from toolkit.ops.quantize import dequantize_s8
from toolkit.references import reference_for

FLOAT_TOLERANCE = 1e-5
DEFAULT_FLOAT_RANGE = (-8.0, 8.0)


def default_n_inputs(model: Model, requested: int | None) -> int:
    """All 256 values for a one-value int8 model; else the request, or 1,000 inputs
    (fewer for big inputs: about 1 M values at most, which must fit the board's flash)."""
    if requested is not None:
        return requested
    size = sum(t.size for t in model.inputs)
    if model.input.dtype == "int8" and size == 1:
        return 256
    return max(10, min(1000, 1_000_000 // max(size, 1)))


def make_inputs(model: Model, n: int, seed: int = 0, float_range: tuple[float, float] = DEFAULT_FLOAT_RANGE) -> np.ndarray:
    """`n` inputs, shape [n, total input size] (the model inputs concatenated): exhaustive
    for one int8 value, else seeded random."""
    size = sum(t.size for t in model.inputs)
    if model.input.dtype == "int8":
        if size == 1 and n == 256:
            return np.arange(-128, 128, dtype=np.int8).reshape(256, 1)
        return np.random.default_rng(seed).integers(-128, 128, size=(n, size)).astype(np.int8)
    lo, hi = float_range
    return np.random.default_rng(seed).uniform(lo, hi, size=(n, size)).astype(np.float32)


@dataclass
class Comparison:
    n_inputs: int
    mismatches: int  # outputs that differ from the reference (exact comparison)
    max_abs_error: float  # largest |ours - reference|, dequantized for int8 outputs
    reference: str  # "tflm" or "litert"
    exact: bool  # whether the reference must match bit for bit

    @property
    def passed(self) -> bool:
        return self.mismatches == 0 if self.exact else self.max_abs_error <= FLOAT_TOLERANCE

    def to_json(self) -> dict:
        return asdict(self) | {"passed": self.passed}


def reference_outputs(model: Model, model_path: str | Path, inputs: np.ndarray) -> tuple[str, np.ndarray]:
    name, run = reference_for(model)
    return name, run(model_path, inputs, [t.shape for t in model.inputs], len(model.outputs))


def compare(model: Model, ours: np.ndarray, ref: np.ndarray, reference: str) -> Comparison:
    ours = np.asarray(ours).reshape(ref.shape)
    exact = reference == "tflm"
    if model.output.dtype == "int8":
        parts, at = [], 0
        for t in model.outputs:  # each output with its own scale and zero point
            a, b = ours[:, at : at + t.size], ref[:, at : at + t.size]
            parts.append(np.abs(dequantize_s8(a, t.scale, t.zero_point).astype(np.float64) - dequantize_s8(b, t.scale, t.zero_point)))
            at += t.size
        err = np.concatenate(parts, axis=1)
    else:
        err = np.abs(ours.astype(np.float64) - ref.astype(np.float64))
    mismatches = int(np.count_nonzero(ours != ref)) if exact else int(np.count_nonzero(err > FLOAT_TOLERANCE))
    return Comparison(
        n_inputs=len(ref),
        mismatches=mismatches,
        max_abs_error=float(err.max()) if err.size else 0.0,
        reference=reference,
        exact=exact,
    )
