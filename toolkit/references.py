"""Reference outputs from the real interpreters: TFLM for integer models, LiteRT for float.

Both are imported only when called: they are heavy and the rest of the toolkit
must work (and start fast) without them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

from toolkit.errors import ToolchainError
from toolkit.ir import Model


def _split(x: np.ndarray, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    """One row of concatenated model inputs -> one array per input, in its shape."""
    flat, parts, at = np.asarray(x).reshape(-1), [], 0
    for shape in shapes:
        n = int(np.prod(shape))
        parts.append(flat[at : at + n].reshape(shape))
        at += n
    return parts


def tflm_outputs(model_path: str | Path, inputs: np.ndarray, input_shapes: list[tuple[int, ...]],
                 n_outputs: int = 1) -> np.ndarray:
    """Run each input row (the model inputs concatenated) through the TFLM interpreter
    (`tflite-micro` package); each output row is the model outputs concatenated."""
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError:
        raise ToolchainError("the TFLM reference needs 'pip install tflite-micro'") from None
    interp = runtime.Interpreter.from_file(str(model_path))
    outs = []
    for x in inputs:
        for k, part in enumerate(_split(x, input_shapes)):
            interp.set_input(part, k)
        interp.invoke()
        outs.append(np.concatenate([np.array(interp.get_output(k)).reshape(-1) for k in range(n_outputs)]))
    return np.stack(outs)


def litert_outputs(model_path: str | Path, inputs: np.ndarray, input_shapes: list[tuple[int, ...]],
                   n_outputs: int = 1) -> np.ndarray:
    """Run each input through LiteRT (`ai-edge-litert`), TensorFlow Lite's runtime."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
    except ImportError:
        raise ToolchainError("the LiteRT reference needs 'pip install ai-edge-litert'") from None
    # Reference kernels: the plain summation order, no XNNPACK delegate.
    interp = Interpreter(model_path=str(model_path), experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    ins, outs_ = interp.get_input_details(), interp.get_output_details()[:n_outputs]
    outs = []
    for x in inputs:
        for detail, part in zip(ins, _split(x, input_shapes)):
            interp.set_tensor(detail["index"], np.asarray(part, detail["dtype"]))
        interp.invoke()
        outs.append(np.concatenate([np.array(interp.get_tensor(d["index"])).reshape(-1) for d in outs_]))
    return np.stack(outs)


def is_integer_model(model: Model) -> bool:
    """Any op computing in int8 makes TFLM (bit-exact) the reference."""
    return any(t.dtype == "int8" for op in model.ops for t in op.inputs + op.outputs)


def reference_for(model: Model) -> tuple[str, Callable[..., np.ndarray]]:
    return ("tflm", tflm_outputs) if is_integer_model(model) else ("litert", litert_outputs)
