"""The demo's TF Lite Micro step writes tflm.json, and the report shows it: table and chart."""

from __future__ import annotations

import json
import re
import shutil

from toolkit.boards import boards
from toolkit.demo import DEMO_TFLM_ARCHS, _tflm_vs_generated
from toolkit.report import build_report


def test_demo_step_and_report_section(tflm_tree, reference_models, trained_sine, tmp_path, capsys):
    nano = boards()["arduino-nano-33-ble"]  # cortex-m4: the session's cached libraries
    assert nano.arch in DEMO_TFLM_ARCHS
    run = tmp_path / "run"
    shutil.copytree(trained_sine, run, ignore=shutil.ignore_patterns("build*"))
    _tflm_vs_generated(reference_models["int8"], [nano], run)
    rows = json.loads((run / "tflm.json").read_text())
    assert [r["engine"] for r in rows][:3] == ["generated", "tflm", "tflm-cmsis-nn"]
    assert [r["engine"] for r in rows][3:] == ["micropython"]  # its tree ships with the toolkit
    assert all(r["timing_model"].startswith("cortex-m4") for r in rows)  # the report labels the cycles by it
    assert all(r["board"] == "arduino-nano-33-ble" and r["mismatches"] == 0 and not r["differs_from_generated"] for r in rows)
    gen, ref = rows[0]["instructions"], rows[1]["instructions"]
    assert 0 < gen < ref and abs(rows[1]["instructions_ratio"] - ref / gen) < 0.01
    assert "tflm-cmsis-nn" in capsys.readouterr().out

    build_report(run)
    md = (run / "report.md").read_text()
    assert "## TF Lite Micro vs generated C" in md
    assert re.search(r"\| arduino-nano-33-ble \| tflm \| [\d,]+ \|", md), md.split("TF Lite Micro vs generated C")[1][:800]
    assert re.search(r"\| arduino-nano-33-ble \| micropython \| [\d,]+ \|.*\| estimated \(cortex-m4", md)
    assert (run / "report_files" / "engines.png").stat().st_size > 5000
    assert "TF Lite Micro vs generated C" in (run / "report.html").read_text()
