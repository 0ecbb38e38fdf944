"""RESHAPE, SQUEEZE, EXPAND_DIMS: no code, the output shares the input's bytes.

Today's converter writes squeeze and expand_dims as RESHAPE, so SQUEEZE and EXPAND_DIMS
(which older converters and other tools emit) are checked here by putting them in place
of a converted model's RESHAPE: same bytes, same generated code, same outputs."""

from __future__ import annotations

import numpy as np
import pytest

from tests.toolkit.graph.harness import reference_rows
from tests.toolkit.modelfactory import ModelSpec
from toolkit.codegen import generate_c
from toolkit.errors import UnsupportedModelError
from toolkit.hostbuild import build_host
from toolkit.ir import Quant, Tensor
from toolkit.ops import OPS
from toolkit.tflite.reader import RawOp, read_tflite
from toolkit.validation import make_inputs, reference_outputs


def _t(name, shape, scale=0.1, zp=0):
    return Tensor(name, shape, "int8", Quant(np.array([scale], np.float32), np.array([zp])))


@pytest.mark.parametrize("kind", ["RESHAPE", "SQUEEZE", "EXPAND_DIMS"])
def test_same_bytes_new_shape(kind):
    op = OPS[kind].from_tflite(RawOp(kind, [_t("x", (1, 1, 6))], [_t("y", (1, 6, 1))], None, 2))
    x = np.arange(6, dtype=np.int8).reshape(1, 1, 6)
    assert op.aliases_input and op.reference(x).shape == (1, 6, 1)


@pytest.mark.parametrize("kind", ["RESHAPE", "SQUEEZE", "EXPAND_DIMS"])
@pytest.mark.parametrize("bad", ["size", "quant"])
def test_refusals_name_the_operator(kind, bad):
    y = _t("y", (1, 5)) if bad == "size" else _t("y", (1, 6), scale=0.2)
    with pytest.raises(UnsupportedModelError) as info:
        OPS[kind].from_tflite(RawOp(kind, [_t("x", (1, 1, 6))], [y], None, 4))
    assert f"{kind} (operator 4)" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("kind", ["RESHAPE", "SQUEEZE", "EXPAND_DIMS"])
def test_in_a_model_no_code_and_exact(model_factory, tmp_path, kind):
    path = model_factory(ModelSpec((4, 8, 3), input_shape=(2, 2)))  # Flatten -> RESHAPE first
    model = read_tflite(path)
    assert model.ops[0].kind == "RESHAPE"
    model.ops[0] = OPS[kind](inputs=model.ops[0].inputs, outputs=model.ops[0].outputs)
    gen = generate_c(model)
    assert "no code: the output shares the input's bytes" in gen.header
    inputs = make_inputs(model, 50, seed=2)
    ours = reference_rows(model, inputs)
    assert np.array_equal(ours, reference_outputs(model, path, inputs)[1])  # TFLM ran the RESHAPE
    assert np.array_equal(build_host(gen, tmp_path).invoke(inputs), ours)
