"""Generated C, compiled for the host, against the reference interpreters."""

import numpy as np
import pytest

from tests.toolkit.modelfactory import ModelSpec
from toolkit.codegen import generate_c
from toolkit.hostbuild import build_host
from toolkit.ops.quantize import dequantize_s8, quantize_f32
from toolkit.tflite.reader import read_tflite
from toolkit.validation import compare, default_n_inputs, make_inputs, reference_outputs


def validate(path, tmp_path, n=None, float_range=(-8.0, 8.0)):
    model = read_tflite(path)
    inputs = make_inputs(model, default_n_inputs(model, n), seed=3, float_range=float_range)
    ours = build_host(generate_c(model), tmp_path).invoke(inputs)
    reference, ref = reference_outputs(model, path, inputs)
    return model, inputs, ours, ref, compare(model, ours, ref, reference)


@pytest.mark.parametrize("kind", ["int8", "float"])
def test_reference_hello_world_models(reference_models, tmp_path, kind):
    model, inputs, ours, ref, result = validate(reference_models[kind], tmp_path)
    if kind == "int8":
        assert result.n_inputs == 256 and sorted(inputs.reshape(-1).tolist()) == list(range(-128, 128))
        assert result.exact and result.mismatches == 0 and np.array_equal(ours, ref)
    else:
        assert result.reference == "litert" and result.max_abs_error <= 1e-5
    assert result.passed


def test_trained_sine_model(trained_sine, tmp_path):
    _, _, ours, ref, result = validate(trained_sine / "model_int8.tflite", tmp_path / "i")
    assert result.n_inputs == 256 and result.mismatches == 0 and np.array_equal(ours, ref)
    _, _, _, _, result = validate(trained_sine / "model_float.tflite", tmp_path / "f", float_range=(0, 2 * np.pi))
    assert result.max_abs_error <= 1e-5


@pytest.mark.parametrize(
    "spec",
    [
        ModelSpec((4, 32, 8, 3)),  # multi-input, multi-output, per-channel
        ModelSpec((4, 32, 8, 3), per_channel=False),
        ModelSpec((4, 32, 8, 3), quant="mixed"),  # QUANTIZE and DEQUANTIZE
        ModelSpec((4, 8, 3), input_shape=(2, 2)),  # RESHAPE
        ModelSpec((6, 12, 12, 12, 2), activation="relu6", seed=1),
        ModelSpec((5, 7, 1), activation="linear", seed=2),
        ModelSpec((64, 3), seed=3),
    ],
    ids=lambda s: s.slug(),
)
def test_int8_mlps_bit_exact_on_1000_random_inputs(model_factory, tmp_path, spec):
    _, _, ours, ref, result = validate(model_factory(spec), tmp_path, n=1000)
    assert result.n_inputs == 1000 and result.exact
    assert result.mismatches == 0, f"{result.mismatches} of {ours.size} outputs differ from TFLM"
    assert np.array_equal(ours, ref)


@pytest.mark.parametrize(
    "spec",
    [ModelSpec((4, 32, 8, 3), quant="float"), ModelSpec((4, 8, 3), input_shape=(2, 2), quant="float"),
     ModelSpec((3, 6, 2), activation="relu6", quant="float")],
    ids=lambda s: s.slug(),
)
def test_float_mlps_within_tolerance(model_factory, tmp_path, spec):
    _, _, _, _, result = validate(model_factory(spec), tmp_path, n=1000)
    assert result.reference == "litert" and result.max_abs_error <= 1e-5


def test_a_wrong_weight_is_caught(reference_models, tmp_path):
    """The comparison can fail: corrupt one weight of the generated C."""
    model = read_tflite(reference_models["int8"])
    gen = generate_c(model)
    gen.source = gen.source.replace("model_l1_weights[256] = {\n    ", "model_l1_weights[256] = {\n    100 + ", 1)
    inputs = make_inputs(model, 256)
    ours = build_host(gen, tmp_path).invoke(inputs)
    reference, ref = reference_outputs(model, reference_models["int8"], inputs)
    assert compare(model, ours, ref, reference).mismatches > 0


def test_quantize_and_dequantize_helpers(reference_models, tmp_path, rng):
    model = read_tflite(reference_models["int8"])
    prog = build_host(generate_c(model), tmp_path)
    scale, zp = model.input.scale, model.input.zero_point
    # exact halves between quantization steps, out-of-range values, and random values
    x = np.concatenate([(np.arange(-140, 140) + 0.5 - zp) * scale, [-1e30, 1e30, 0.0, -0.0], rng.uniform(-5, 10, 500)]).astype(np.float32)
    q = prog.quantize_input(x.reshape(-1, 1)).reshape(-1)
    assert np.array_equal(q, quantize_f32(x, scale, zp))
    assert q.min() == -128 and q.max() == 127
    all_q = np.arange(-128, 128, dtype=np.int8).reshape(-1, 1)
    y = prog.dequantize_output(all_q).reshape(-1)
    expected = (np.float64(model.output.scale) * (all_q.reshape(-1).astype(np.float64) - model.output.zero_point)).astype(np.float32)
    assert np.array_equal(y, expected) and np.array_equal(y, dequantize_s8(all_q.reshape(-1), model.output.scale, model.output.zero_point))
