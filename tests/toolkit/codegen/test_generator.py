import re

import pytest

from tests.toolkit.modelfactory import ModelSpec
from toolkit.codegen import generate_c, write_c
from toolkit.errors import ToolkitError
from toolkit.tflite.reader import read_tflite


def test_int8_source_is_self_contained(reference_models):
    gen = generate_c(read_tflite(reference_models["int8"]))
    src = gen.source
    assert "malloc" not in src and "math.h" not in src and "float.h" not in src
    assert re.findall(r"#include <(\w+\.h)>", src) == ["stddef.h", "stdint.h"]
    # every array of weights is const (flash), and only the arena is writable
    arrays = re.findall(r"^static (const )?\w+ (\w+)\[", src, re.M)
    assert [name for const, name in arrays if not const] == ["model_arena"]
    assert "int model_invoke(const int8_t *in, int8_t *out)" in gen.header
    assert "model_quantize_input" in gen.header and "model_dequantize_output" in gen.header


def test_header_documents_the_model(reference_models):
    gen = generate_c(read_tflite(reference_models["int8"]))
    h = gen.header
    for text in ("Parameters: 321", "MACs per inference: 288", "#define MODEL_INPUT_SIZE 1", "#define MODEL_OUTPUT_SIZE 1",
                 "#define MODEL_INPUT_ZERO_POINT -128", "#define MODEL_OUTPUT_ZERO_POINT 5", "FULLY_CONNECTED 16->16 RELU"):
        assert text in h


def test_arena_is_the_largest_consecutive_pair(reference_models, model_factory):
    assert generate_c(read_tflite(reference_models["int8"])).arena_bytes == 16 + 16
    assert generate_c(read_tflite(reference_models["float"])).arena_bytes == 4 * (16 + 16)
    # 4-32-8-3: intermediates 32 and 8 bytes; the model's input and output are the caller's;
    # while the 32->8 layer runs, its input widened to int16 lanes (64 bytes of scratch, the
    # int8-weight DSP path fast/dsp/fc_int8.py)
    assert generate_c(read_tflite(model_factory(ModelSpec((4, 32, 8, 3))))).arena_bytes == 40 + 64
    # float io around int8 layers: pairs are quantized input + 32, 32 + 8, 8 + int8 output
    mixed = generate_c(read_tflite(model_factory(ModelSpec((4, 32, 8, 3), quant="mixed"))))
    assert mixed.arena_bytes == max(4 + 32, 32 + 8 + 64, 8 + 4)


def test_float_model_api(reference_models):
    gen = generate_c(read_tflite(reference_models["float"]))
    assert "int model_invoke(const float *in, float *out)" in gen.header
    assert "quantize_input" not in gen.header
    assert gen.const_bytes == 1284


def test_name_prefix(reference_models, tmp_path):
    gen = generate_c(read_tflite(reference_models["int8"]), name="sine")
    h, c = write_c(gen, tmp_path)
    assert h.name == "sine.h" and c.name == "sine.c"
    assert "int sine_invoke(" in h.read_text() and "#define SINE_INPUT_SIZE 1" in h.read_text()
    assert '#include "sine.h"' in c.read_text()


@pytest.mark.parametrize("name", ["1model", "my-model", "", "a b"])
def test_bad_name(reference_models, name):
    with pytest.raises(ToolkitError, match="C identifier"):
        generate_c(read_tflite(reference_models["int8"]), name=name)
