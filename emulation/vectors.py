"""Writes the test-vector C file (vectors.c) the firmware harness reads."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

_C_TYPES = {np.dtype(np.int8): "int8_t", np.dtype(np.float32): "float"}


def _float_literal(value: float) -> str:
    if math.isnan(value):
        return "__builtin_nanf(\"\")"
    if math.isinf(value):
        return "__builtin_inff()" if value > 0 else "-__builtin_inff()"
    return f"{value.hex()}f"  # exact: a float32 value is exact as a hex literal


def vectors_source(inputs: np.ndarray, per_line: int = 8) -> str:
    """C source defining tm_n_inputs and tm_inputs for `inputs`.

    inputs: int8 or float32, shape (n, ...) with one test vector per row. The
    file includes model.h and fails to compile if MODEL_INPUT_SIZE or the size
    of MODEL_INPUT_T do not match.
    """
    inputs = np.asarray(inputs)
    if inputs.dtype not in _C_TYPES:
        raise ValueError(f"test vectors must be int8 or float32, not {inputs.dtype}")
    if inputs.ndim < 1 or inputs.shape[0] == 0:
        raise ValueError("need at least one test vector (shape (n, ...))")
    n = inputs.shape[0]
    rows = inputs.reshape(n, -1)
    size = rows.shape[1]
    if inputs.dtype == np.float32:
        items = [_float_literal(float(v)) for v in rows.ravel()]
    else:
        items = [str(int(v)) for v in rows.ravel()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    body = ",\n    ".join(lines)
    return f"""/* Test vectors: {n} x {size} {_C_TYPES[inputs.dtype]}. Generated file. */
#include <stdint.h>
#include "model.h"

/* Compile-time checks that these vectors fit the model. */
extern char tm_vectors_check_size[(MODEL_INPUT_SIZE == {size}) ? 1 : -1];
extern char tm_vectors_check_type[(sizeof(MODEL_INPUT_T) == {inputs.dtype.itemsize}) ? 1 : -1];

/* Section .tm_vectors: in flash, after the firmware proper (on AVR in program
 * memory, where the harness reads it with pgm_read_dword and memcpy_P). */
__attribute__((section(".tm_vectors"))) const uint32_t tm_n_inputs = {n}u;

__attribute__((section(".tm_vectors"))) const MODEL_INPUT_T tm_inputs[{n} * MODEL_INPUT_SIZE] = {{
    {body}
}};
"""


def write_vectors(path: str | Path, inputs: np.ndarray) -> Path:
    """Write vectors.c for `inputs` (see vectors_source) and return its path."""
    from .fileio import atomic_write

    return atomic_write(path, vectors_source(inputs))
