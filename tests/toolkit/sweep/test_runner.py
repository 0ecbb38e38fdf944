"""Results, resume, failures, executors, --best and the fronts, with a stand-in for training."""

import json

import pytest

from tests.toolkit.sweep.fakes import CALLS_ENV, fake_run
from toolkit.errors import ToolkitError
from toolkit.sweep import InlineExecutor, LocalExecutor, best, load_results, pareto_front, parse_spec, run_sweep
from toolkit.sweep.results import append_rows, read_rows, results_path, sweep_lock

SPEC = """function = "sin"
epochs = 3
arch = "cortex-m4"
[grid]
hidden = ["2,2", "4,4", "8,8", "40,40"]
seed = [0, 13]
board = ["arduino-uno", "arduino-nano-33-ble"]
"""


@pytest.fixture
def calls(tmp_path, monkeypatch):
    path = tmp_path / "calls.txt"
    monkeypatch.setenv(CALLS_ENV, str(path))
    return lambda: path.read_text().split() if path.exists() else []


def test_run_resume_and_failures(tmp_path, calls, capsys):
    spec = parse_spec(SPEC)
    run = run_sweep(spec, tmp_path / "s", InlineExecutor(fake_run))
    rows = read_rows(tmp_path / "s")
    assert run.rows_written == len(rows) == 8 * 3 and len(calls()) == 8
    assert sum(1 for r in rows if r["error"]) == 4 * 3  # seed 13 fails on every target; the sweep went on
    assert len(run.errors) == 12 and "unlucky seed" in run.errors[0]
    assert (tmp_path / "s" / "trials" / rows[0]["trial"] / "model_int8.tflite").read_bytes() == b"TFL3"
    # the same spec again: nothing runs, and it says so
    again = run_sweep(spec, tmp_path / "s", InlineExecutor(fake_run))
    assert again.rows_written == 0 and len(calls()) == 8
    assert "nothing to run: all 24 rows" in capsys.readouterr().err
    # a new board: only the missing rows, each trial trained once more
    bigger = parse_spec(SPEC.replace('arch = "cortex-m4"', 'arch = ["cortex-m4", "rv32imc"]'))
    more = run_sweep(bigger, tmp_path / "s", InlineExecutor(fake_run))
    assert more.rows_written == 8 and len(calls()) == 16
    assert "resuming: 24 of 32 rows already in" in capsys.readouterr().err
    # --retry-failed runs only the failed trials again
    retry = run_sweep(bigger, tmp_path / "s", InlineExecutor(fake_run), retry_failed=True)
    assert retry.rows_written == 16 and len(calls()) == 20
    assert len(read_rows(tmp_path / "s")) == 32  # a retried row replaces the old one


def test_sample_runs_a_subset(tmp_path, calls):
    run = run_sweep(parse_spec(SPEC), tmp_path / "s", InlineExecutor(fake_run), n_sample=3, sample_seed=7)
    assert len(run.plan.trials) == 3 and len(calls()) == 3
    run = run_sweep(parse_spec(SPEC), tmp_path / "s", InlineExecutor(fake_run), n_sample=3, sample_seed=7)
    assert run.rows_written == 0


def test_torn_last_line_is_skipped_then_cut(tmp_path):
    append_rows(tmp_path, [{"trial": "t1", "params": {}, "board": "b", "arch": "a"}])
    with open(results_path(tmp_path), "a") as f:
        f.write('{"trial": "t2", "board"')  # killed in the middle of a write
    assert [r["trial"] for r in read_rows(tmp_path)] == ["t1"]
    append_rows(tmp_path, [{"trial": "t3", "params": {}, "board": None, "arch": "cortex-m4"}])
    lines = results_path(tmp_path).read_text().splitlines()
    assert [json.loads(line)["trial"] for line in lines] == ["t1", "t3"]
    results_path(tmp_path).write_text(lines[0] + '\nnot json\n' + lines[1] + '\n')
    with pytest.raises(ToolkitError, match="results.jsonl:2: not a JSON line"):
        read_rows(tmp_path)
    results_path(tmp_path).write_text(lines[0] + '\n{"trial": "t2"}\n')
    with pytest.raises(ToolkitError, match="results.jsonl:2: not a result row"):
        read_rows(tmp_path)


def test_one_sweep_per_directory(tmp_path):
    with sweep_lock(tmp_path), pytest.raises(ToolkitError, match="another sweep is running"), sweep_lock(tmp_path):
        pass


def test_process_pool_survives_a_dying_worker(tmp_path, calls):
    spec = parse_spec(SPEC.replace("seed = [0, 13]", "seed = [0, 99]"))
    run = run_sweep(spec, tmp_path / "s", LocalExecutor(2, fake_run))
    rows = read_rows(tmp_path / "s")
    died = [r for r in rows if r["error"]]
    assert len(rows) == 24 and len(died) == 12
    assert all(r["params"]["seed"] == 99 and "worker process died" in r["error"] for r in died)
    assert all(r["instructions"] for r in rows if r["params"]["seed"] == 0)
    assert len(run.trial_seconds) == 8


def test_best_answers_the_question(tmp_path):
    run_sweep(parse_spec(SPEC), tmp_path / "s", InlineExecutor(fake_run))
    rows = load_results(tmp_path / "s")
    # 40,40 is the most accurate but needs 9,000 B of flash: too big for nothing here, and most accurate
    top = best(rows, "arduino-nano-33-ble").row
    assert top["params"]["hidden"] == "40,40" and top["params"]["seed"] == 0
    slow = best(rows, "arduino-nano-33-ble", max_latency_us=5.0)  # 12 cycles per unit of width at 64 MHz
    assert slow.row["params"]["hidden"] == "8,8"
    assert best(rows, "arduino-uno", max_mse=0.2).row["params"]["hidden"] == "40,40"
    assert best(rows, "arduino-uno", max_mse=0.001).row is None
    assert best(rows, "cortex-m4").row["params"]["hidden"] == "40,40"
    with pytest.raises(ToolkitError, match="bare core"):
        best(rows, "cortex-m4", max_latency_us=1)
    with pytest.raises(ToolkitError, match="no rows for 'esp32-c3'"):
        best(rows, "esp32-c3")


def test_pareto_front():
    rows = [{"trial": str(i), "flash_bytes": f, "test_mse": m} for i, (f, m) in
            enumerate([(100, 0.5), (200, 0.2), (150, 0.6), (300, 0.2), (400, 0.1), (120, 0.5)])]
    assert [r["trial"] for r in pareto_front(rows, "flash_bytes")] == ["0", "1", "4"]


def test_cli_best_and_summary(tmp_path, capsys):
    from toolkit.cli import main

    run_sweep(parse_spec(SPEC), tmp_path / "s", InlineExecutor(fake_run))
    capsys.readouterr()
    assert main(["sweep", str(tmp_path / "s"), "--best", "--board", "arduino-uno", "--max-latency-us", "30",
                 "--json", str(tmp_path / "best.json")]) == 0
    out = capsys.readouterr().out
    assert "most accurate on arduino-uno that fits with latency_us <= 30" in out and "hidden=16" not in out
    answer = json.loads((tmp_path / "best.json").read_text())
    assert answer["params"]["hidden"] == "8,8" and answer["model"].endswith("model_int8.tflite")
    assert main(["sweep", str(tmp_path / "s"), "--best", "--board", "arduino-uno", "--max-mse", "1e-6"]) == 1
    assert "no trial fits arduino-uno with test_mse <= 1e-06" in capsys.readouterr().err
    assert main(["sweep", str(tmp_path / "s"), "--best"]) == 2
    assert main(["sweep", str(tmp_path / "s")]) == 0
    assert "arduino-nano-33-ble" in capsys.readouterr().out
    assert main(["sweep", str(tmp_path / "nope.toml"), "-o", str(tmp_path / "x")]) == 2
    assert "nope.toml: no such file" in capsys.readouterr().err


def test_report_draws_the_fronts(tmp_path):
    import re

    from PIL import Image

    from toolkit.report import build_report

    run_sweep(parse_spec(SPEC), tmp_path / "s", InlineExecutor(fake_run))
    html_path, md_path = build_report(tmp_path / "s")
    md = md_path.read_text()
    for target in ("arduino-uno (atmega328p)", "arduino-nano-33-ble (cortex-m4)", "cortex-m4 (cortex-m4)"):
        assert f"## {target}" in md
    images = re.findall(r"!\[[^\]]*\]\((report_files/pareto-\d\.png)\)", md)
    assert len(images) == 3 and html_path.read_text().count("data:image/png;base64,") == 3
    for rel in images:
        with Image.open(tmp_path / "s" / rel) as img:
            assert img.size[0] > 600
    assert "## Failures" in md and "unlucky seed" in md
    assert "| trial | hidden | seed | front | test_mse | flash_bytes | latency_us |" in md


def test_progress_lines_with_eta(tmp_path):
    import io

    log = io.StringIO()  # not a terminal: one line per finished trial
    run_sweep(parse_spec(SPEC), tmp_path / "s", InlineExecutor(fake_run), stream=log)
    lines = log.getvalue().splitlines()
    assert lines[0] == ("sweep: 8 trials x 3 targets (arduino-uno, arduino-nano-33-ble, cortex-m4) = 24 rows")
    trials = [line for line in lines if "] " in line and "/8 " in line]
    assert len(trials) == 8 and all("ETA" in line for line in trials[:-1]) and "ETA" not in trials[-1]
    assert "hidden=2,2 seed=13" in log.getvalue() and "FAILED: ValueError: unlucky seed" in log.getvalue()


def test_cli_dry_run_lists_what_is_missing(tmp_path, capsys):
    from toolkit.cli import main

    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    run_sweep(parse_spec(SPEC), tmp_path / "s", InlineExecutor(fake_run), n_sample=2)
    assert main(["sweep", str(spec), "-o", str(tmp_path / "s"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.count("  done") == 2 and out.count("to run on arduino-uno, arduino-nano-33-ble, cortex-m4") == 6
