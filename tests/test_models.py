"""The repository's example models are the ones made elsewhere (docs/models/README.md)."""

from pathlib import Path

import pytest

from tests.conftest import REFERENCE_DIR


def test_the_float_model_is_the_one_tflite_micro_ships():
    tflite_micro = pytest.importorskip("tflite_micro", reason="the tflite-micro package is part of the ml extra")
    shipped = Path(tflite_micro.__file__).parent / "python" / "tflite_micro" / "sine_float.tflite"
    assert shipped.read_bytes() == (REFERENCE_DIR / "hello_world_float.tflite").read_bytes()


@pytest.mark.parametrize("kind", ["int8", "float"])
def test_the_models_parse(kind):
    from toolkit.tflite.reader import read_tflite

    model = read_tflite(REFERENCE_DIR / f"hello_world_{kind}.tflite")
    assert [op.kind for op in model.ops].count("FULLY_CONNECTED") == 3

