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


def tflm_outputs(model_path: str | Path, inputs: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    """Run each input through the TFLM interpreter (`tflite-micro` package)."""
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError:
        raise ToolchainError("the TFLM reference needs 'pip install tflite-micro'") from None
    interp = runtime.Interpreter.from_file(str(model_path))
    outs = []
    for x in inputs:
        interp.set_input(np.asarray(x).reshape(input_shape), 0)
        interp.invoke()
        outs.append(np.array(interp.get_output(0)).reshape(-1))
    return np.stack(outs)


def litert_outputs(model_path: str | Path, inputs: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    """Run each input through LiteRT (`ai-edge-litert`), TensorFlow Lite's runtime."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
    except ImportError:
        raise ToolchainError("the LiteRT reference needs 'pip install ai-edge-litert'") from None
    # Reference kernels: the plain summation order, no XNNPACK delegate.
    interp = Interpreter(model_path=str(model_path), experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    outs = []
    for x in inputs:
        interp.set_tensor(inp["index"], np.asarray(x, inp["dtype"]).reshape(input_shape))
        interp.invoke()
        outs.append(np.array(interp.get_tensor(out["index"])).reshape(-1))
    return np.stack(outs)


def is_integer_model(model: Model) -> bool:
    """Any layer computing in int8 makes TFLM (bit-exact) the reference."""
    return any(layer.input.dtype == "int8" or layer.output.dtype == "int8" for layer in model.layers)


def reference_for(model: Model) -> tuple[str, Callable[..., np.ndarray]]:
    return ("tflm", tflm_outputs) if is_integer_model(model) else ("litert", litert_outputs)
