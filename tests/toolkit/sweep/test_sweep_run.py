"""A real 2x2 sweep (tiny trainings): a local process pool and a local Ray instance agree
row for row; a second run runs nothing; --best answers; the report draws the fronts."""

import json
import os

import pytest

from toolkit.cli import main

SPEC = """function = "sin"
epochs = 3
samples = 100
seed = 1
[grid]
hidden = ["3,3", "6,6"]
board = ["arduino-uno", "arduino-nano-33-ble"]
"""

pytestmark = pytest.mark.slow


def rows(out):
    lines = (out / "results.jsonl").read_text().splitlines()
    return sorted((json.loads(line) for line in lines), key=lambda r: (r["trial"], r["board"]))


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "spec.toml"
    path.write_text(SPEC)
    return path


@pytest.fixture(scope="module")
def local(spec, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "local"
    assert main(["sweep", str(spec), "-o", str(out), "--jobs", "2"]) == 0
    return out


def test_local_rows(local):
    got = rows(local)
    assert len(got) == 4 and len({r["trial"] for r in got}) == 2
    for r in got:
        assert r["error"] is None and r["mismatches"] == 0 and r["fits"] is True
        assert r["instructions"] > 0 and r["flash_bytes"] > 0 and r["stack_bytes"] > 0 and r["latency_us"] > 0
        assert r["test_mse"] > 0 and r["params"]["hidden"] in ("3,3", "6,6") and r["params"]["epochs"] == 3
        assert (local / "trials" / r["trial"] / "model_int8.tflite").stat().st_size > 0
    uno = [r for r in got if r["board"] == "arduino-uno"]
    assert all(r["arch"] == "atmega328p" and r["clock_mhz"] == 16 for r in uno)


def test_resume_runs_nothing(local, spec, capsys):
    before = (local / "results.jsonl").read_text()
    assert main(["sweep", str(spec), "-o", str(local)]) == 0
    assert "nothing to run: all 4 rows are in" in capsys.readouterr().err
    assert (local / "results.jsonl").read_text() == before


def test_ray_local_gives_the_same_rows(local, spec, tmp_path):
    pytest.importorskip("ray", reason="Ray is the optional extra 'ray' (make setup installs it)")
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    out = tmp_path / "ray"
    assert main(["sweep", str(spec), "-o", str(out), "--ray", "local", "--jobs", "2"]) == 0
    import ray

    assert not ray.is_initialized()  # the instance it started is stopped
    metrics = ("trial", "board", "arch", "params", "instructions", "flash_bytes", "ram_bytes", "stack_bytes",
               "cycles_est", "latency_us", "mismatches", "fits", "test_mse")
    assert [[r[k] for k in metrics] for r in rows(out)] == [[r[k] for k in metrics] for r in rows(local)]


def test_best_answers(local, capsys):
    assert main(["sweep", str(local), "--best", "--board", "arduino-uno", "--max-latency-us", "1e6"]) == 0
    out = capsys.readouterr().out
    got = rows(local)
    top = min((r for r in got if r["board"] == "arduino-uno"), key=lambda r: r["test_mse"])
    assert f"trial {top['trial']}" in out and f"hidden={top['params']['hidden']}" in out


def test_report_shows_the_fronts(local, capsys):
    assert main(["report", str(local)]) == 0
    md = (local / "report.md").read_text()
    assert "## arduino-uno (atmega328p)" in md and "## arduino-nano-33-ble (cortex-m4)" in md
    assert md.count("](report_files/pareto-") == 2 and "| trial | hidden | front | test_mse |" in md
