"""The `toolkit` command as a user runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TOOLKIT = [sys.executable, "-m", "toolkit"]


def run(*args, cwd=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([*TOOLKIT, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


def test_pipeline_end_to_end(tmp_path):
    r = run("train", "--function", "cos", "-o", tmp_path, "--epochs", "20", "--samples", "300", "--seed", "3")
    assert r.returncode == 0, r.stderr
    progress = [line for line in r.stderr.splitlines() if line.strip().startswith("train ")]
    assert len(progress) == 1 and "20/20" in progress[0] and "loss" in progress[0]  # not a TTY: one line per step
    assert "321" in r.stdout and "1,284 bytes" in r.stdout and "test MSE" in r.stdout
    r = run("convert", tmp_path / "model.keras", "-o", tmp_path)
    assert r.returncode == 0, r.stderr
    assert "model_int8.tflite" in r.stdout and "Saved artifact" not in r.stdout
    conv = json.loads((tmp_path / "conversion.json").read_text())
    assert conv["int8"]["bytes"] == (tmp_path / "model_int8.tflite").stat().st_size and "test_mse" in conv["int8"]
    r = run("codegen", tmp_path / "model_int8.tflite", "-o", tmp_path / "c", "--name", "cosine")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "c" / "cosine.h").exists() and (tmp_path / "c" / "cosine.c").exists()
    r = run("validate", tmp_path / "model_int8.tflite", "--host", "--json", tmp_path / "v.json")
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads((tmp_path / "v.json").read_text())
    assert report["n_inputs"] == 256 and report["mismatches"] == 0 and report["max_abs_error"] == 0
    r = run("validate", tmp_path / "model_float.tflite", "--inputs", "50", "--json", "-")
    assert r.returncode == 0 and json.loads(r.stdout)["n_inputs"] == 50


@pytest.mark.parametrize(
    "args, message",
    [
        (["codegen", "/nonexistent.tflite", "-o", "x"], "cannot read"),
        (["codegen", "README.md", "-o", "x"], "not a TensorFlow Lite model"),
        (["train", "--function", "__import__('os').system('id')", "-o", "x"], "only whitelisted functions"),
        (["train", "--hidden", "16,a", "-o", "x"], "--hidden"),
        (["validate", "README.md"], "not a TensorFlow Lite model"),  # --host is the default target
        (["convert", "/nonexistent.keras"], "no such file"),
    ],
)
def test_errors_are_one_line(args, message, tmp_path):
    r = run(*args, cwd=Path(__file__).resolve().parents[2])
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1 and message in r.stderr


def test_codegen_options(reference_models, tmp_path):
    r = run("codegen", reference_models["int8"], "-o", tmp_path / "a", "--sparse", "dense", "--no-fold", "--name", "sine")
    assert r.returncode == 0, r.stderr
    assert "int sine_invoke(" in (tmp_path / "a" / "sine.h").read_text()
    r = run("codegen", reference_models["int8"], "-o", tmp_path / "b", "--sparse", "sometimes")
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_truncated_model_is_a_clean_error(reference_models, tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(reference_models["int8"].read_bytes()[:900])
    r = run("codegen", bad, "-o", tmp_path)
    assert r.returncode == 2 and "truncated or corrupt" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "model.c").exists()


def test_codegen_does_not_load_tensorflow(reference_models, tmp_path):
    code = (
        "import sys; from toolkit.cli import main; "
        f"main(['codegen', {str(reference_models['int8'])!r}, '-o', {str(tmp_path)!r}]); "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_optimize_and_flash_budget(reference_models, tmp_path):
    """--optimize size: the choice per layer printed and in the JSON; a budget the model
    cannot meet is one line with the overshoot, exit 2; emulate measures the build chosen."""
    r = run("codegen", reference_models["int8"], "-o", tmp_path / "a", "--optimize", "size", "--json", tmp_path / "a.json")
    assert r.returncode == 0, r.stderr
    assert "chosen per layer for cortex-m4 (optimize size" in r.stdout and "portable" in r.stdout
    sel = json.loads((tmp_path / "a.json").read_text())["selection"]
    assert sel["optimize"] == "size" and len(sel["layers"]) == 3 and sel["layers"][0]["variant"] == "portable"
    assert "size: portable on cortex-m4" in (tmp_path / "a" / "model.h").read_text()
    r = run("codegen", reference_models["int8"], "-o", tmp_path / "b", "--flash-budget", "1KB")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "does not fit a flash budget of 1,024 B" in r.stderr and "B over" in r.stderr
    r = run("emulate", reference_models["int8"], "--arch", "cortex-m4", "--inputs", "4", "--flash-budget", "1700",
            "--build-dir", tmp_path / "c", "--json", tmp_path / "c.json")
    assert r.returncode == 0, r.stderr
    data = json.loads((tmp_path / "c.json").read_text())
    assert data["flash_bytes"] <= 1700 and data["selection"]["flash_budget"] == 1700 and data["mismatches"] == 0
    assert "flash budget 1,700 B" in r.stdout


def test_budget_checks_the_size_build(reference_models, tmp_path):
    args = ("budget", reference_models["int8"], "--flash", "1700", "--ram", "2KB", "--build-dir", tmp_path)
    r = run(*args)
    assert r.returncode == 1 and "--optimize size here" in r.stdout
    r = run(*args, "--optimize", "size", "--json", tmp_path / "b.json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads((tmp_path / "b.json").read_text())["flash_bytes"] <= 1700
