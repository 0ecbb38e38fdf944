import subprocess
import sys

import numpy as np
import pytest

from tests.toolkit.modelfactory import ModelSpec
from toolkit.errors import ModelFormatError, ToolkitError, UnsupportedModelError
from toolkit.tflite.reader import parse_tflite, read_tflite


def test_reads_reference_int8_model(reference_models):
    m = read_tflite(reference_models["int8"])
    assert [layer.kind for layer in m.layers] == ["FULLY_CONNECTED"] * 3
    assert [layer.activation for layer in m.layers] == ["RELU", "RELU", "NONE"]
    assert [layer.weights.shape for layer in m.layers] == [(16, 1), (16, 16), (1, 16)]
    assert m.params == 321 and m.macs == 288
    assert m.input.dtype == m.output.dtype == "int8"
    assert m.input.zero_point == -128 and m.output.zero_point == 5
    assert np.isclose(m.input.scale, 0.02448012) and np.isclose(m.output.scale, 0.00829096)
    first = m.layers[0]
    assert first.weights.data.dtype == np.int8 and first.bias.data.dtype == np.int32
    assert not first.weights.quant.per_channel


def test_reads_reference_float_model(reference_models):
    m = read_tflite(reference_models["float"])
    assert m.params == 321 and m.weight_bytes == 1284
    assert all(layer.weights.data.dtype == np.float32 for layer in m.layers)
    assert m.input.quant is None


def test_per_channel_scales(model_factory):
    m = read_tflite(model_factory(ModelSpec((4, 32, 8, 3))))
    assert [layer.weights.quant.scale.shape for layer in m.layers] == [(32,), (8,), (3,)]
    assert all(layer.weights.quant.per_channel for layer in m.layers)


def test_quantize_dequantize_and_reshape_ops(model_factory):
    mixed = read_tflite(model_factory(ModelSpec((4, 32, 8, 3), quant="mixed")))
    assert [layer.kind for layer in mixed.layers] == ["QUANTIZE"] + ["FULLY_CONNECTED"] * 3 + ["DEQUANTIZE"]
    reshaped = read_tflite(model_factory(ModelSpec((4, 8, 3), input_shape=(2, 2))))
    assert reshaped.layers[0].kind == "RESHAPE" and reshaped.input.shape == (1, 2, 2)


def test_reader_does_not_import_tensorflow(reference_models):
    code = (
        "import sys; from toolkit.tflite.reader import read_tflite; from toolkit.codegen import generate_c; "
        f"generate_c(read_tflite({str(reference_models['int8'])!r})); "
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unsupported_op_is_named(model_factory):
    path = model_factory(ModelSpec((3, 5, 2), output_activation="elu"))
    with pytest.raises(UnsupportedModelError) as info:
        read_tflite(path)
    msg = str(info.value)
    assert "ELU" in msg and "FULLY_CONNECTED" in msg and "\n" not in msg


@pytest.mark.parametrize("data", [b"", b"TFL3", b"\x00" * 64, b"hello world, not a model", b"\x10\x00\x00\x00TFL3"])
def test_garbage_is_a_format_error(data):
    with pytest.raises(ModelFormatError):
        parse_tflite(data)


def test_missing_file():
    with pytest.raises(ModelFormatError, match="cannot read"):
        read_tflite("/nonexistent/model.tflite")


def test_every_truncation_gives_a_clean_error(reference_models):
    data = reference_models["int8"].read_bytes()
    for n in range(0, len(data), 7):
        with pytest.raises(ToolkitError):
            parse_tflite(data[:n])


def test_corrupted_bytes_never_escape_as_other_exceptions(reference_models):
    """Random byte flips: the reader either reads a model or raises a ToolkitError."""
    data = bytearray(reference_models["int8"].read_bytes())
    rng = np.random.default_rng(7)
    for _ in range(400):
        mutated = bytearray(data)
        for pos in rng.integers(8, len(data), rng.integers(1, 4)):
            mutated[pos] = rng.integers(0, 256)
        try:
            parse_tflite(bytes(mutated))
        except ToolkitError:
            pass


@pytest.mark.parametrize("scale, zero_point, what", [
    (0.0, 0, "scale 0.0"), (float("nan"), 0, "scale nan"), (float("inf"), 0, "scale inf"), (-0.5, 0, "scale -0.5"),
    (0.1, 200, "zero point 200"), (0.1, 2**40, f"zero point {2**40}"), (0.1, -129, "zero point -129"),
])
def test_hostile_quantization_is_a_format_error(reference_models, tmp_path, scale, zero_point, what):
    from tests.toolkit.tflite.patching import patch_output_quant

    data = patch_output_quant(reference_models["int8"].read_bytes(), scale, zero_point)
    with pytest.raises(ModelFormatError, match=what) as info:
        parse_tflite(data, "bad.tflite")
    assert "\n" not in str(info.value)
