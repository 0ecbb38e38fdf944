"""TFLM engines on a CNN and the cores they refuse."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests.toolkit.cnnmodels import KWS
from toolkit.tflite.reader import read_tflite
from toolkit.tflm.engine import EngineUnavailable, check_arch, first_difference, tflm_comparison
from toolkit.tflm.side_by_side import run_engines


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toolkit", "emulate", *args], capture_output=True, text=True, check=False, timeout=120)


@pytest.mark.parametrize("arch, why", [("atmega328p", "does not fit"), ("rv32imc", "Cortex-M cores only")])
def test_refused_cores(arch, why, reference_models, tmp_path):
    with pytest.raises(EngineUnavailable, match=why):
        check_arch(arch)
    r = _cli(str(reference_models["int8"]), "--arch", arch, "--engine", "tflm", "--build-dir", str(tmp_path))
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: ") and why in r.stderr


def test_not_a_tree_is_one_line(reference_models, tmp_path):
    r = _cli(str(reference_models["int8"]), "--arch", "cortex-m4", "--engine", "all", "--tflm-tree", str(tmp_path),
             "--build-dir", str(tmp_path / "b"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "is not a TFLM source tree" in r.stderr and "create_tflm_tree.py" in r.stderr


def test_kws_ds_cnn_on_cortex_m4(graph_models, tflm_tree, tmp_path):
    """Two inputs through the DS-CNN: both TFLM engines equal the host interpreter and the generated C."""
    s = run_engines(graph_models(KWS), "cortex-m4", tmp_path, n_inputs=2, tflm_tree=tflm_tree)
    assert s.passed
    for engine in ("tflm", "tflm-cmsis-nn"):
        r = s.reports[engine]
        assert r.comparison.mismatches == 0 and r.comparison.n_inputs == 2
        assert r.details["vs_generated"]["differing_inputs"] == 0
        assert {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "SOFTMAX"} <= set(r.details["ops"])
        assert r.run.instructions > s.reports["generated"].run.instructions
    assert s.reports["tflm-cmsis-nn"].run.instructions < s.reports["tflm"].run.instructions


def test_a_disagreement_names_the_first_differing_input(reference_models):
    model = read_tflite(reference_models["int8"])
    ref = np.zeros((5, 1), np.int8)
    ours = ref.copy()
    ours[3, 0], ours[4, 0] = 1, -2
    c, first = tflm_comparison(model, ours, ref)
    assert (c.mismatches, first, c.passed, c.exact) == (2, 3, False, True)
    assert first_difference(ours, ref, exact=True) == (2, 3)
    assert first_difference(ref, ref, exact=True) == (0, None)
