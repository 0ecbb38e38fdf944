"""The model's files for the TFLM firmware: operators of the file, resolver, model array, arena."""

from __future__ import annotations

from toolkit.tflite.reader import read_tflite
from toolkit.tflm.project import align_arena, arena_source, file_operators, model_data_source, model_header, ops_header


def test_hello_world_files(reference_models, tflm_tree):
    path = reference_models["int8"]
    assert file_operators(path.read_bytes()) == ["FULLY_CONNECTED"]
    header = model_header(read_tflite(path))
    assert "#define MODEL_INPUT_SIZE 1" in header and "#define MODEL_INPUT_T int8_t" in header
    assert "int model_invoke(const int8_t *in, int8_t *out);" in header
    ops = ops_header(tflm_tree, ["FULLY_CONNECTED"])
    assert "#define TFLM_OP_COUNT 1" in ops and "r.AddFullyConnected()" in ops
    data = model_data_source(b"\x01\x02\xff", "m.tflite")
    assert "__attribute__((aligned(16))) const unsigned char tflm_model_data[3]" in data and "0xff" in data


def test_arena_is_16_byte_aligned():
    assert [align_arena(n) for n in (1, 16, 17, 676)] == [16, 16, 32, 688]
    assert "__attribute__((aligned(16))) uint8_t tflm_arena[1072];" in arena_source(1072)
