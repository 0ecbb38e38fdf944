"""fold_dilated (toolkit/tflite/rewrite.py): SPACE_TO_BATCH_ND -> conv -> BATCH_TO_SPACE_ND,
the older converters' dilated convolution, read as one dilated conv.

The test files are converted dilated convs rewritten into the three-op form
(dilated.py). LiteRT gives the rewritten file exactly the original's outputs, which
shows the rewrite is right, before our reader has to fold it back. TFLM leaves the pad
value of SPACE_TO_BATCH_ND uninitialised, so where the three ops read padding (SAME)
the int8 reference is TFLM on the original dilated conv (see rewrite.py)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.toolkit.graph.harness import N_INPUTS, assert_agree, check_model, reference_rows
from tests.toolkit.graphmodels import GraphCase
from tests.toolkit.tflite.dilated import add_reader, space_to_batch_form
from toolkit.codegen import generate_c
from toolkit.errors import UnsupportedModelError
from toolkit.hostbuild import build_host
from toolkit.references import litert_outputs, tflm_outputs
from toolkit.tflite.reader import read_tflite
from toolkit.validation import make_inputs

INIT = {"bias_initializer": "random_normal"}


def conv(padding):
    def build(k, x):
        return k.layers.Conv2D(4, 3, dilation_rate=2, padding=padding, activation="relu", **INIT)(x)
    return build


def depthwise(padding):
    def build(k, x):
        return k.layers.DepthwiseConv2D((3, 2), dilation_rate=2, padding=padding, **INIT)(x)
    return build


# (layer, padding, input H x W): 9 rows make the padded size odd, so the rewrite pads
# one more row at the end and crops it off again; 8x10 VALID needs no padding at all
SHAPES = [(conv, "same", (9, 10)), (conv, "valid", (8, 10)), (conv, "valid", (9, 11)),
          (depthwise, "same", (9, 10)), (depthwise, "valid", (8, 10))]
CASES = [GraphCase(f"dil_{layer.__name__}_{pad}_{h}x{w}", layer(pad), inputs=((h, w, 3),), quant=q)
         for layer, pad, (h, w) in SHAPES for q in ("int8", "float")]


def _rewritten(graph_models, case, tmp_path, **kw):
    original = graph_models(case)
    three = tmp_path / "s2b.tflite"
    three.write_bytes(space_to_batch_form(original.read_bytes(), **kw))
    return original, three


def _check_folded(three, original, work) -> None:
    """check_model, with TFLM on the original dilated conv as the int8 reference."""
    model = read_tflite(three)
    inputs = make_inputs(model, N_INPUTS, seed=3)
    shapes = [t.shape for t in model.inputs]
    ours = reference_rows(model, inputs)
    assert_agree(model, ours, tflm_outputs(original, inputs, shapes), "numpy reference vs tflm (dilated conv)")
    assert_agree(model, ours, litert_outputs(three, inputs, shapes), "numpy reference vs litert (three ops)")
    assert_agree(model, build_host(generate_c(model), work).invoke(inputs), ours, "host C vs reference")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_fold_dilated(graph_models, case, tmp_path):
    original, three = _rewritten(graph_models, case, tmp_path)
    want = read_tflite(original)
    inputs = make_inputs(want, 8, seed=5)
    shapes = [t.shape for t in want.inputs]
    np.testing.assert_array_equal(litert_outputs(three, inputs, shapes), litert_outputs(original, inputs, shapes))

    model = read_tflite(three)
    assert [op.kind for op in model.ops] == [want.ops[0].kind]
    op = model.ops[0]
    assert (op.rows, op.cols) == (want.ops[0].rows, want.ops[0].cols)
    assert (op.rows.dilation, op.cols.dilation) == (2, 2)
    assert op.rows.padding == case.name.split("_")[2].upper()
    assert op.input.shape == want.inputs[0].shape and op.output.shape == want.outputs[0].shape
    if case.quant == "int8" and op.rows.padding == "SAME":
        _check_folded(three, original, tmp_path / "host")
    else:
        check_model(three, tmp_path / "host")


def test_extra_padding_cropped_off_is_still_folded(graph_models, tmp_path):
    case = next(c for c in CASES if c.quant == "float" and "same" in c.name)
    _, three = _rewritten(graph_models, case, tmp_path, extra_pad=1)
    assert [op.kind for op in read_tflite(three).ops] == ["CONV_2D"]
    check_model(three, tmp_path / "host")


def _refused(path):
    with pytest.raises(UnsupportedModelError) as err:
        read_tflite(path)
    msg = str(err.value)
    assert "\n" not in msg and "unsupported operator BATCH_TO_SPACE_ND, SPACE_TO_BATCH_ND;" in msg


def test_shifted_crops_are_not_folded(graph_models, tmp_path):
    """Crops that move the windows: a valid file, but neither a SAME nor a VALID dilated conv."""
    case = next(c for c in CASES if c.quant == "float" and "same" in c.name)
    _, three = _rewritten(graph_models, case, tmp_path, extra_pad=1, shift=1)
    _refused(three)


@pytest.mark.parametrize("quant", ["int8", "float"])
def test_second_reader_is_not_folded(graph_models, tmp_path, quant):
    case = next(c for c in CASES if c.quant == quant and "same" in c.name)
    _, three = _rewritten(graph_models, case, tmp_path)
    for tensor in ("s2b_out", "conv_out"):
        path = tmp_path / f"{tensor}.tflite"
        path.write_bytes(add_reader(three.read_bytes(), tensor))
        _refused(path)
