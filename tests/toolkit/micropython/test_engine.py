"""The micropython engine on the emulated cores: the hello-world models, float and int8, on
cortex-m4 and cortex-m0plus (a few inputs each; one interpreter build per core, shared)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests.toolkit.graphmodels import GraphCase
from tests.toolkit.micropython.test_script import numpy_reference
from toolkit.micropython import MicroPythonUnavailable, check_arch, emulate_micropython
from toolkit.references import litert_outputs
from toolkit.tflite.reader import read_tflite
from toolkit.validation import make_inputs

N_INPUTS = {"int8": 24, "float": 8}


def _run(path, arch, tree, out, n):
    model = read_tflite(path)
    inputs = make_inputs(model, n, seed=1)
    return model, inputs, emulate_micropython(path, model, arch, out, inputs, tree)


@pytest.mark.parametrize("arch", ["cortex-m4", "cortex-m0plus"])
@pytest.mark.parametrize("kind", ["int8", "float"])
def test_hello_world(kind, arch, reference_models, micropython_tree, tmp_path):
    model, inputs, r = _run(reference_models[kind], arch, micropython_tree, tmp_path, N_INPUTS[kind])
    ours = r.run.outputs_array(model.output.dtype)
    assert r.comparison.passed and r.comparison.n_inputs == len(inputs) and r.comparison.mismatches == 0
    if kind == "int8":
        assert r.comparison.exact and r.comparison.reference == "tflm"
    else:
        ref = np.asarray(litert_outputs(reference_models[kind], inputs, [t.shape for t in model.inputs], 1))
        assert np.max(np.abs(ours.astype(np.float64) - ref.reshape(ours.shape))) <= 1e-5
    d = r.to_json()
    assert d["engine"] == "micropython" and d["micropython"]["phases"]["compile"] > 0
    # MicroPython interprets bytecode: far more than the generated C's few thousand per inference
    assert 100_000 < d["instructions"] < 2_000_000
    m = d["micropython"]
    assert d["flash_bytes"] == m["interpreter_flash_bytes"] + m["script_bytes"]
    assert d["ram_bytes"] == m["static_ram_bytes"] + m["heap_peak_bytes"] < m["heap_bytes"]
    assert 0 < d["stack_bytes"] < 16384


def test_counts_are_deterministic(reference_models, micropython_tree, tmp_path):
    _, _, a = _run(reference_models["int8"], "cortex-m4", micropython_tree, tmp_path / "a", 4)
    _, _, b = _run(reference_models["int8"], "cortex-m4", micropython_tree, tmp_path / "b", 4)
    assert a.run.instructions_per_inference == b.run.instructions_per_inference
    assert a.run.total_instructions == b.run.total_instructions
    assert a.details["phases"] == b.details["phases"] and not b.details["compiled"]


@pytest.mark.parametrize("arch, why", [("rv32imc", "Cortex-M cores only"), ("atmega328p", "does not fit"),
                                       ("rp2040", "use cortex-m0plus")])
def test_refused_cores(arch, why, reference_models, tmp_path):
    with pytest.raises(MicroPythonUnavailable, match=why):
        check_arch(arch)
    r = subprocess.run([sys.executable, "-m", "toolkit", "emulate", str(reference_models["int8"]), "--arch", arch,
                        "--engine", "micropython", "--build-dir", str(tmp_path)],
                       capture_output=True, text=True, check=False, timeout=120)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and why in r.stderr


def test_no_tree_is_one_line(reference_models, tmp_path):
    r = subprocess.run([sys.executable, "-m", "toolkit", "emulate", str(reference_models["int8"]), "--arch",
                        "cortex-m4", "--engine", "micropython", "--micropython-tree", str(tmp_path),
                        "--build-dir", str(tmp_path / "b")], capture_output=True, text=True, check=False, timeout=120)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "is not a MicroPython source tree" in r.stderr and "git clone https://github.com/micropython/micropython" in r.stderr


MIXED = GraphCase("mp_mixed_mlp", lambda k, x: k.layers.Dense(2)(k.layers.Dense(8, activation="relu")(x)),
                  inputs=((4,),), quant="mixed")


def test_float_io_around_int8_layers(graph_models, micropython_tree, tmp_path):
    """QUANTIZE and DEQUANTIZE at the edges: on the device, bit for bit the numpy references (TFLM's arithmetic)."""
    path = graph_models(MIXED)
    model, inputs, r = _run(path, "cortex-m4", micropython_tree, tmp_path, 16)
    assert [op.kind for op in model.ops] == ["QUANTIZE", "FULLY_CONNECTED", "FULLY_CONNECTED", "DEQUANTIZE"]
    ours = r.run.outputs_array("float32")
    assert np.array_equal(ours, numpy_reference(model, inputs).astype(np.float32))
