"""Bad arguments and output paths: exit 2, one line on stderr, nothing written, before any work."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from toolkit.cli import main

ROOT = Path(__file__).resolve().parents[3]
MODEL = ROOT / "docs" / "models" / "hello_world_int8.tflite"


def run(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-m", "toolkit", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)


def assert_one_line(stderr: str, *needles: str) -> None:
    assert "Traceback" not in stderr
    assert stderr.count("\n") == 1 and stderr.startswith("error: "), stderr
    for needle in needles:
        assert needle in stderr, stderr


BAD_ARGUMENTS = [
    (["train", "-o", "out", "--epochs", "0"], "--epochs"),
    (["train", "-o", "out", "--epochs", "-1"], "at least 1"),
    (["train", "-o", "out", "--lr", "nan"], "finite"),
    (["train", "-o", "out", "--lr", "inf"], "finite"),
    (["train", "-o", "out", "--lr", "0"], "> 0"),
    (["train", "-o", "out", "--samples", "5"], "--samples"),
    (["train", "-o", "out", "--seed", "-1"], "--seed"),
    (["train", "-o", "out", "--noise", "-0.5"], "--noise"),
    (["train", "-o", "out", "--range", "3,1"], "a < b"),
    (["train", "-o", "out", "--hidden", "16,0"], "--hidden"),
    (["prune", "m.keras", "--method", "weight", "--sparsity", "1", "-o", "out"], "--sparsity"),
    (["prune", "m.keras", "--method", "weight", "--sparsity", "0.5", "-o", "out", "--epochs", "-1"], "--epochs"),
    (["prune", "m.keras", "--method", "weight", "--sparsity", "0.5", "-o", "out", "--lr", "nan"], "--lr"),
    (["distill", "--function", "sin", "-o", "out", "--epochs", "-1"], "--epochs"),
    (["distill", "--function", "sin", "-o", "out", "--alpha", "2"], "--alpha"),
    (["distill", "--function", "sin", "-o", "out", "--lr", "-1"], "--lr"),
    (["compress", "-o", "out", "--arch", "z80"], "z80"),
    (["compress", "-o", "out", "--epochs", "-1"], "--epochs"),
    (["compress", "-o", "out", "--finetune-epochs", "0"], "--finetune-epochs"),
    (["compress", "-o", "out", "--function", "__import__('os')"], "--function"),
    (["demo", "-o", "out", "--epochs", "-1"], "--epochs"),
    (["emulate", MODEL, "--arch", "z80"], "cortex-m4"),
    (["emulate", MODEL, "--board", "no-such-board"], "arduino-uno"),
    (["emulate", MODEL, "--arch", "cortex-m4", "--limit", "-1"], "--limit"),
    (["emulate", MODEL, "--arch", "cortex-m4", "--limit", "0"], "--limit"),
    (["emulate", MODEL, "--arch", "cortex-m4", "--inputs", "0"], "--inputs"),
    (["emulate", MODEL, "--arch", "cortex-m4", "--input-range", "5,1"], "--input-range"),
    (["emulate", MODEL, "--arch", "cortex-m4", "--optimize", "tiny"], "--optimize"),
    (["emulate", MODEL, "--arch", "cortex-m4", "--flash-budget", "lots"], "--flash-budget"),
    (["codegen", MODEL, "-o", "out", "--flash-budget", "0"], "--flash-budget"),
    (["codegen", MODEL, "-o", "out", "--arch", "z80"], "z80"),
    (["validate", MODEL, "--inputs", "0"], "--inputs"),
    (["compare", "d", "--arch", "z80"], "z80"),
    (["budget", MODEL, "--board", "no-such-board"], "--board"),
    (["budget", MODEL, "--ram", "0", "--flash", "1KB"], "--ram"),
    (["budget", MODEL, "--arch", "z80", "--profiles"], "z80"),
    (["codegen", MODEL, "-o", "out", "--name", "1a"], "--name"),
    (["wokwi", "new", MODEL, "--board", "esp8266", "-o", "out"], "esp32"),
    (["wokwi", "new", MODEL, "--board", "arduino-uno", "-o", "out", "--inputs", "0"], "--inputs"),
    (["wokwi", "run", "project", "--timeout", "0"], "--timeout"),
    (["wokwi", MODEL, "--board", "arduino-uno", "-o", "out"], "new"),  # the verb is required
    (["sweep", "spec.toml", "-o", "out", "--jobs", "0"], "--jobs"),
    (["sweep", "spec.toml", "-o", "out", "--sample", "-3"], "--sample"),
]


@pytest.mark.parametrize("args, needle", BAD_ARGUMENTS, ids=lambda a: " ".join(map(str, a)) if isinstance(a, list) else "")
def test_a_bad_argument_is_one_line_and_exit_2(args, needle, tmp_path):
    start = time.monotonic()
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert_one_line(r.stderr, needle)
    assert r.stdout == "" and list(tmp_path.iterdir()) == []
    assert time.monotonic() - start < 20  # a Python start-up, no TensorFlow, no build


def output_cases(tmp_path: Path) -> list[tuple[list, str]]:
    a_file = tmp_path / "a-file"
    a_file.write_text("keep me\n")
    a_dir = tmp_path / "a-dir"
    a_dir.mkdir()
    return [
        (["train", "-o", a_file], "is a file"),
        (["train", "-o", a_file / "sub"], "not a directory"),
        (["codegen", MODEL, "-o", a_file], "is a file"),
        (["compress", "-o", a_file], "is a file"),
        (["emulate", MODEL, "--arch", "cortex-m4", "--build-dir", a_file], "is a file"),
        (["analyze", MODEL, "--json", a_dir], "is a directory"),
        (["emulate", MODEL, "--arch", "cortex-m4", "--json", a_dir], "is a directory"),
        (["budget", MODEL, "--board", "arduino-uno", "--json", a_dir], "is a directory"),
        (["compare", a_dir, "--json", a_dir], "is a directory"),
        (["compare", a_dir, "--plot", a_file / "p.png"], "not a directory"),
        (["validate", MODEL, "--json", a_file / "v.json"], "not a directory"),
        (["boards", "--json", "/proc/boards.json"], "cannot write"),
        (["train", "-o", "/proc/run"], "cannot write"),
    ]


def test_bad_output_paths_are_refused_before_any_work(tmp_path):
    for args, needle in output_cases(tmp_path):
        before = sorted(p.name for p in tmp_path.rglob("*"))
        r = run(*args, cwd=tmp_path)
        assert r.returncode == 2, (args, r.stdout + r.stderr)
        assert_one_line(r.stderr, needle)
        assert sorted(p.name for p in tmp_path.rglob("*")) == before, args
    assert (tmp_path / "a-file").read_text() == "keep me\n"


def exit_code(argv: list) -> int:
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:
        return int(exc.code)


def _never(*args, **kwargs):
    raise AssertionError("the expensive step ran before the arguments were checked")


@pytest.fixture
def no_work(monkeypatch):
    """Every expensive step of the commands fails the test if it is reached."""
    import toolkit.budget
    import toolkit.compare
    import toolkit.compress.prune
    import toolkit.compress.study
    import toolkit.demo
    import toolkit.emulate
    import toolkit.train

    for module, name in [(toolkit.train, "train"), (toolkit.compress.study, "run_study"), (toolkit.emulate, "emulate"),
                         (toolkit.compare, "evaluate_variant"), (toolkit.compress.prune, "prune_model"),
                         (toolkit.compress.prune, "distill_model"), (toolkit.demo, "run_demo"),
                         (toolkit.budget, "check"), (toolkit.budget, "measure")]:
        monkeypatch.setattr(module, name, _never)


@pytest.mark.parametrize("args", [
    ["compress", "-o", "{tmp}/out", "--arch", "z80"],
    ["compress", "-o", "{tmp}/a-file"],
    ["train", "-o", "{tmp}/out", "--lr", "nan"],
    ["train", "-o", "{tmp}/a-file"],
    ["prune", "{tmp}/m.keras", "--method", "weight", "--sparsity", "0.5", "-o", "{tmp}/out", "--epochs", "-1"],
    ["distill", "--function", "sin", "-o", "{tmp}/out", "--epochs", "0"],
    ["demo", "-o", "{tmp}/out", "--finetune-epochs", "-1"],
    ["emulate", str(MODEL), "--arch", "cortex-m4", "--json", "{tmp}"],
    ["emulate", str(MODEL), "--arch", "cortex-m4", "--limit", "-1"],
    ["compare", "{tmp}", "--json", "{tmp}"],
    ["budget", str(MODEL), "--board", "arduino-uno", "--json", "{tmp}"],
])
def test_nothing_expensive_runs_first(args, no_work, tmp_path, capsys):
    (tmp_path / "a-file").write_text("x")
    code = exit_code([a.format(tmp=tmp_path) for a in args])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
