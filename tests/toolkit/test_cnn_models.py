"""The three MLPerf Tiny CNNs (tests/toolkit/cnnmodels.py), whole: converted by the real
TFLite converter, numpy reference == TFLM (int8) / LiteRT (float), host C == reference,
and the emulated Cortex-M4 and M0+ == TFLM. Each run takes a few seconds once the
models are converted (about 3 s, 11 s and 3 s the first time in a session; first-run
times on 2 shared cores), so none is marked slow."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from tests.toolkit.cnnmodels import CNN_CASES, PUBLISHED_MACS, keras_model, mlperf_macs
from tests.toolkit.graph.harness import EMULATED_CORES, check_model
from toolkit.tflite import schema as S
from toolkit.tflite.flatbuffer import Table
from toolkit.tflite.reader import _op_name

# What the converter makes of each (BatchNorm folded into the convolutions, ReLU/ReLU6
# fused, Flatten gone).
EXPECTED_OPS = {
    "kws_dscnn": {"CONV_2D": 5, "DEPTHWISE_CONV_2D": 4, "AVERAGE_POOL_2D": 1, "FULLY_CONNECTED": 1, "SOFTMAX": 1},
    "vww_mobilenet": {"CONV_2D": 14, "DEPTHWISE_CONV_2D": 13, "AVERAGE_POOL_2D": 1, "FULLY_CONNECTED": 1, "SOFTMAX": 1},
    "ic_resnet8": {"CONV_2D": 9, "ADD": 3, "AVERAGE_POOL_2D": 1, "FULLY_CONNECTED": 1, "SOFTMAX": 1},
}
N_HOST = 10  # inputs per host check (the numpy reference of a whole CNN is not free)
N_EMULATED = 3

def _ops_in_file(data: bytes) -> Counter:
    root = Table.root(data)
    codes = [_op_name(c) for c in root.tables(S.Model.OPERATOR_CODES)]
    ops = root.tables(S.Model.SUBGRAPHS)[0].tables(S.SubGraph.OPERATORS)
    return Counter(codes[op.scalar(S.Operator.OPCODE_INDEX, "I")] for op in ops)


@pytest.mark.parametrize("case", CNN_CASES, ids=lambda c: c.name)
def test_builders_reproduce_published_macs(case):
    assert mlperf_macs(keras_model(case)) == PUBLISHED_MACS[case.name]


@pytest.mark.parametrize("case", CNN_CASES, ids=lambda c: c.name)
def test_converted_ops(graph_models, case):
    assert _ops_in_file(graph_models(case).read_bytes()) == Counter(EXPECTED_OPS[case.name])


HOST_CASES = [*CNN_CASES, *(replace(c, quant="float") for c in CNN_CASES)]


@pytest.mark.parametrize("case", HOST_CASES, ids=str)
def test_cnn_model_on_host(graph_models, tmp_path, case):
    model = check_model(graph_models(case), tmp_path, n=N_HOST)
    assert model.macs == PUBLISHED_MACS[case.name]


@pytest.mark.parametrize("case", CNN_CASES, ids=str)
@pytest.mark.parametrize("arch", EMULATED_CORES)
def test_cnn_model_emulated(graph_models, tmp_path, case, arch):
    from toolkit.emulate import emulate

    # rp2040js interprets in JavaScript (~35 M instructions/s): fewer inputs there
    report = emulate(graph_models(case), arch, tmp_path, n_inputs=1 if arch == "rp2040" else N_EMULATED)
    assert report.comparison.passed, report.comparison


@pytest.mark.parametrize("case", CNN_CASES, ids=str)
def test_cnn_arena_is_planned_to_its_bound(graph_models, case):
    from toolkit.codegen import generate_c
    from toolkit.tflite.reader import read_tflite

    plan = generate_c(read_tflite(graph_models(case))).plan
    assert plan.lower_bound <= plan.arena_bytes <= plan.lower_bound + plan.scratch_bytes


@pytest.mark.parametrize("case", CNN_CASES, ids=str)
def test_cnn_model_on_the_uno_is_a_budget_error_saying_by_how_much(graph_models, tmp_path, case):
    import json
    import subprocess
    import sys

    out = tmp_path / "u.json"
    r = subprocess.run([sys.executable, "-m", "toolkit", "budget", str(graph_models(case)), "--board", "arduino-uno",
                        "--build-dir", str(tmp_path), "--json", str(out)], capture_output=True, text=True)
    assert r.returncode == 1, r.stdout + r.stderr
    data = json.loads(out.read_text())
    assert not data["fits"] and "Traceback" not in r.stderr
    assert "over flash by at least" in r.stdout or "over RAM by" in r.stdout, r.stdout
