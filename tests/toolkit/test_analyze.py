"""`toolkit analyze`: the static part of a model, equal to what the IR and the memory plan say."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from toolkit.analyze import analyze
from toolkit.codegen import generate_c
from toolkit.tflite.reader import read_tflite


def _check_against_plan(path):
    a = analyze(path)
    gen = generate_c(read_tflite(path))
    plan, model = gen.plan, gen.model
    assert len(a.ops) == len(model.ops)
    t = a.totals
    assert (t["macs"], t["params"], t["weight_bytes"]) == (model.macs, model.params, model.weight_bytes)
    assert (t["arena_bytes"], t["arena_lower_bound"], t["scratch_bytes"]) == \
        (plan.arena_bytes, plan.lower_bound, plan.scratch_bytes)
    assert max(o.live_bytes for o in a.ops) == plan.lower_bound
    for info, op in zip(a.ops, model.ops):
        assert (info.op, info.macs, info.params, info.output) == (op.kind, op.macs, op.params, list(op.output.shape))
        assert info.weight_bytes == sum(c.nbytes for c in op.constants())
        loc = plan.location(op.output)
        if loc.kind == "arena":
            assert info.output_offset == loc.offset and info.output_bytes > 0
        else:
            assert info.output_bytes == 0 and info.output_offset is None
        assert info.scratch_bytes == next((b.nbytes for b in plan.buffers if b.scratch_of == info.index), 0)
    buffers = a.to_json()["memory_plan"]["buffers"]
    assert len(buffers) == len(plan.buffers)
    assert max(b["offset"] + b["bytes"] for b in buffers) <= plan.arena_bytes
    return a


def test_hello_world(reference_models):
    a = _check_against_plan(reference_models["int8"])
    assert [o.op for o in a.ops] == ["FULLY_CONNECTED"] * 3
    assert a.totals["macs"] == 288 and a.totals["arena_bytes"] == 32
    assert a.ops[-1].reuse == "model output"


def test_ds_cnn(graph_models):
    from tests.toolkit.cnnmodels import KWS, PUBLISHED_MACS

    a = _check_against_plan(graph_models(KWS))
    assert a.totals["macs"] == PUBLISHED_MACS["kws_dscnn"] and a.totals["ops"] == 12
    assert a.ops[0].inputs == [[1, 49, 10, 1]] and a.ops[0].output == [1, 25, 5, 64]


@pytest.mark.parametrize("fold", [True, False])
def test_cli_json_and_no_tensorflow(reference_models, tmp_path, fold):
    out = tmp_path / "a.json"
    args = ["analyze", str(reference_models["int8"]), "--json", str(out)] + ([] if fold else ["--no-fold"])
    code = ("import sys; from toolkit.cli import main; "
            f"assert main({args!r}) == 0; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "memory plan" in r.stdout and "MACs / inference" in r.stdout and "288" in r.stdout
    data = json.loads(out.read_text())
    assert data["totals"]["macs"] == 288 and len(data["layers"]) == 3
    assert data["layers"][1]["arena_bytes"] == 16 and data["memory_plan"]["lower_bound"] == 32


def test_cli_missing_model_is_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "toolkit", "analyze", str(tmp_path / "none.tflite")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
