"""Per-layer profiles (`toolkit emulate --per-layer`): the ops' exact instructions add up to the
measured inference of the profiled build, and the layer markers leave the rest of it alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from toolkit.codegen import generate_c
from toolkit.emulate import emulate
from toolkit.tflite.reader import read_tflite

HELLO_M4_INSTRUCTIONS = 426  # DESIGN.md: the hello-world model on the emulated Cortex-M4


def _strip_markers(source: str) -> str:
    """The C of a build with layer markers without them: the macro and its TM_LAYER lines."""
    start = source.index("/* Layer markers:")
    end = source.index("#endif\n", start) + len("#endif\n")
    source = source[:start] + source[end:]
    return "\n".join(line for line in source.split("\n") if not line.strip().startswith("TM_LAYER("))


def _check(profile, n_ops: int, n_markers: int) -> None:
    rows = profile.rows
    assert [r.info.index for r in rows] == list(range(n_ops))
    # per inference, the ops, the call and the markers are exactly the inference measured in the profiled build
    run = profile.run
    for k, segments in enumerate(run.layers):
        assert [s.index for s in segments] == [None, *range(n_ops + 1)]
        assert sum(s.instructions + s.marker_instructions for s in segments) == run.instructions_per_inference[k]
        if run.cycles_est_per_inference:
            assert sum(s.cycles_est + s.marker_cycles_est for s in segments) == run.cycles_est_per_inference[k]
    assert profile.markers.instructions == n_markers
    # and so are the means when every inference counts the same
    layers = sum(r.counts.instructions for r in rows)
    slack = 0 if profile.exact else n_ops + 2  # rounding of the means otherwise
    assert abs(layers + profile.overhead.instructions + n_markers - profile.measured.instructions) <= slack
    if profile.measured.cycles_est is not None and profile.exact:
        cycles = sum(r.counts.cycles_est for r in rows) + profile.overhead.cycles_est
        assert abs(cycles + profile.markers.cycles_est - profile.measured.cycles_est) <= n_ops + 2
    # profiling changes the rest of the code by less than 1 %
    assert abs(profile.whole.instructions - profile.normal.instructions) <= 0.01 * profile.normal.instructions
    assert abs(profile.change_pct) <= 1.0


def test_normal_c_is_unchanged_and_markers_only_add_lines(reference_models, graph_models):
    from tests.toolkit.cnnmodels import KWS

    for path in (reference_models["int8"], graph_models(KWS)):
        model = read_tflite(path)
        normal, marked = generate_c(model), generate_c(model, layer_markers=True)
        assert "TM_LAYER" not in normal.source and normal.header == marked.header
        assert marked.source.count("    TM_LAYER(") == len(marked.model.ops) + 1
        assert _strip_markers(marked.source) == normal.source


@pytest.mark.parametrize("arch", ["cortex-m4", "cortex-m0plus", "rv32imc", "atmega328p", "rp2040"])
def test_hello_world_profile(reference_models, tmp_path, arch):
    report = emulate(reference_models["int8"], arch, tmp_path, n_inputs=8, per_layer=True)
    assert report.comparison.passed
    p = report.profile
    _check(p, 3, 4)
    assert [r.info.macs for r in p.rows] == [16, 256, 16]
    assert p.rows[1].weight_bytes >= 256  # the 16x16 weights, however this core stores them
    if arch == "cortex-m4":
        assert report.run.instructions == p.normal.instructions == HELLO_M4_INSTRUCTIONS
        assert p.whole.instructions == HELLO_M4_INSTRUCTIONS  # the markers change nothing else here
    if arch in ("atmega328p", "rp2040"):
        assert p.measured.cycles is not None and p.rows[1].counts.cycles > 0  # exact cycles per op
    data = report.to_json()
    assert [layer["op"] for layer in data["layers"]] == ["FULLY_CONNECTED"] * 3
    assert data["layers_total"]["instructions_unprofiled"] == report.run.instructions


def test_ds_cnn_profile_on_cortex_m4(graph_models, tmp_path):
    from tests.toolkit.cnnmodels import KWS, PUBLISHED_MACS

    report = emulate(graph_models(KWS), "cortex-m4", tmp_path, n_inputs=1, per_layer=True)
    assert report.comparison.passed
    p = report.profile
    _check(p, 12, 13)
    assert sum(r.info.macs for r in p.rows) == PUBLISHED_MACS["kws_dscnn"]
    assert all(r.counts.instructions > 0 for r in p.rows)
    convs = [r for r in p.rows if r.info.op in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    assert len(convs) == 9 and all(r.weight_bytes > 0 and r.info.arena_bytes > 0 for r in convs)
    # the convolutions are where the time goes
    assert sum(r.counts.instructions for r in convs) > 0.9 * p.whole.instructions


def test_cli_per_layer_table_and_json(reference_models, tmp_path):
    out = tmp_path / "r.json"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    r = subprocess.run([sys.executable, "-m", "toolkit", "emulate", str(reference_models["int8"]), "--arch",
                        "cortex-m4", "--inputs", "4", "--per-layer", "--build-dir", str(tmp_path / "b"),
                        "--json", str(out)], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "per layer on cortex-m4" in r.stdout and "call overhead" in r.stdout
    assert "(markers) = 430 measured in the profiled build" in r.stdout
    data = json.loads(out.read_text())
    assert len(data["layers"]) == 3 and data["layers_total"]["instructions"] == HELLO_M4_INSTRUCTIONS
    assert data["layers"][1]["instructions_per_mac"] == round(data["layers"][1]["instructions"] / 256, 3)
