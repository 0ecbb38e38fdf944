"""`toolkit emulate`: generated C on five emulated Cortex-M cores, against the references."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from emulation import parse_console, run_elf
from emulation.qemu import qemu_available, run_qemu
from tests.toolkit.modelfactory import ModelSpec
from toolkit.emulate import emulate
from toolkit.errors import ToolkitError, ValidationFailed

ARCHS = ["cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "rv32imc", "atmega328p", "rp2040"]
MULTI = ModelSpec((4, 32, 8, 3))


@pytest.fixture(scope="module")
def models(reference_models, trained_sine, model_factory):
    return {
        "hello_int8": reference_models["int8"],
        "hello_float": reference_models["float"],
        "sine_int8": trained_sine / "model_int8.tflite",
        "sine_float": trained_sine / "model_float.tflite",
        "mlp_4_32_8_3": model_factory(MULTI),
    }


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("name", ["hello_int8", "hello_float", "sine_int8", "sine_float", "mlp_4_32_8_3"])
def test_bit_exact_on_every_core(models, tmp_path, arch, name):
    n = 200 if name == "mlp_4_32_8_3" else None
    report = emulate(models[name], arch, tmp_path, n_inputs=n, float_range=(0.0, 6.3))
    data = report.to_json()
    assert data["passed"], data
    if name.endswith("float"):
        assert data["reference"] == "litert" and data["max_abs_error"] <= 1e-5
    else:
        assert data["reference"] == "tflm" and data["mismatches"] == 0
        assert data["n_inputs"] == (200 if n else 256)
    assert data["instructions_min"] <= data["instructions"] <= data["instructions_max"]
    assert data["flash_bytes"] > 0 and data["stack_bytes"] > 0
    assert report.elf.exists() and report.map.exists()


def test_hello_world_beats_tflm_on_cortex_m4(models, tmp_path):
    """TFLM: 5,236 instructions per Invoke, 22,500 B flash, 1,364 B RAM, 408 B stack (DESIGN.md)."""
    data = emulate(models["hello_int8"], "cortex-m4", tmp_path).to_json()
    assert data["instructions_max"] < 5236 and data["flash_bytes"] < 22500
    assert data["ram_bytes"] < 1364 and data["stack_bytes"] < 408
    again = emulate(models["hello_int8"], "cortex-m4", tmp_path / "again").to_json()
    assert again["instructions"] == data["instructions"]  # exact counts are deterministic


@pytest.mark.skipif(not qemu_available(), reason="qemu-system-arm is not installed (make setup installs it)")
@pytest.mark.parametrize("arch", ["cortex-m3", "cortex-m4", "cortex-m7"])
@pytest.mark.parametrize("name", ["hello_int8", "hello_float", "mlp_4_32_8_3"])
def test_qemu_agrees_on_outputs_and_counts(models, tmp_path, arch, name):
    report = emulate(models[name], arch, tmp_path, n_inputs=12)
    qemu = run_qemu(report.elf, arch, count=True)
    assert qemu.returncode == 0, qemu.stderr
    assert parse_console(qemu.console) == report.run.outputs
    assert qemu.instructions_per_inference == report.run.instructions_per_inference


def test_runaway_limit_is_a_clean_failure(models, tmp_path):
    with pytest.raises(ValidationFailed, match="runaway"):
        emulate(models["hello_int8"], "cortex-m4", tmp_path, instruction_limit=100)  # per inference; it takes ~430


def test_unknown_arch(models, tmp_path):
    with pytest.raises(ToolkitError, match="cortex-m4"):
        emulate(models["hello_int8"], "cortex-m5", tmp_path)


def test_large_float_model_runs(model_factory, tmp_path):
    """1-256-256-1 float: about 260 KB of weights, far beyond the small models."""
    path = model_factory(ModelSpec((1, 256, 256, 1), quant="float"))
    data = emulate(path, "cortex-m4", tmp_path, n_inputs=3).to_json()
    assert data["passed"] and data["flash_bytes"] > 256 * 256 * 4
    assert data["instructions"] > 256 * 256  # at least one instruction per MAC


def run_cli(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-m", *map(str, args)], capture_output=True, text=True, env=env, timeout=300)


def test_cli_table_json_and_exit_codes(models, tmp_path):
    out = tmp_path / "r.json"
    r = run_cli("toolkit", "emulate", models["hello_int8"], "--arch", "cortex-m4", "--build-dir", tmp_path / "b", "--json", out)
    assert r.returncode == 0, r.stderr
    assert "instr/inf" in r.stdout and "PASS" in r.stdout
    data = json.loads(out.read_text())
    for key in ("arch", "n_inputs", "instructions", "instructions_min", "instructions_max", "flash_bytes",
                "ram_bytes", "stack_bytes", "mismatches", "max_abs_error"):
        assert key in data
    assert data["arch"] == "cortex-m4" and data["n_inputs"] == 256 and data["mismatches"] == 0
    r = run_cli("toolkit", "emulate", models["hello_int8"], "--arch", "cortex-m9", "--build-dir", tmp_path / "c")
    assert r.returncode == 2 and "'cortex-m0plus'" in r.stderr and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and not (tmp_path / "c").exists()  # refused before the build
    # --limit is per inference (this model takes ~430 instructions on the M4)
    r = run_cli("toolkit", "emulate", models["hello_int8"], "--arch", "cortex-m4", "--build-dir", tmp_path / "d", "--limit", "100")
    assert r.returncode == 1 and "runaway" in r.stderr and r.stderr.count("\n") == 1


def test_m4_firmware_refused_on_m0plus(models, tmp_path):
    report = emulate(models["hello_int8"], "cortex-m4", tmp_path, n_inputs=4)
    r = run_cli("emulation", "run", report.elf, "--arch", "cortex-m0plus")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "cortex-m0plus" in r.stderr or "ARMv6-M" in r.stderr
    outputs = run_elf(report.elf, "cortex-m4").outputs_array(np.int8)
    assert outputs.shape == (4, 1)


@pytest.mark.parametrize("board", ["esp32-c3", "arduino-uno", "raspberry-pi-pico", "arduino-nano-33-ble", "stm32f103-bluepill"])
def test_boards_bit_exact_with_latency(models, tmp_path, board):
    out = tmp_path / "r.json"
    r = run_cli("toolkit", "emulate", models["hello_int8"], "--board", board, "--build-dir", tmp_path / "b", "--json", out)
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads(out.read_text())
    assert data["board"] == board and data["n_inputs"] == 256 and data["mismatches"] == 0
    if board in ("arduino-uno", "raspberry-pi-pico"):  # engines that count cycles exactly
        assert data["cycles"] and data["cycles"] >= data["instructions"] and data["timing_model"].startswith("exact")
        assert data["latency_us"] == pytest.approx(data["cycles"] / data["clock_mhz"], abs=1e-3)


def test_pico_outputs_equal_unicorn_m0(models, tmp_path):
    pico = emulate(models["sine_int8"], "rp2040", tmp_path / "p")
    m0 = emulate(models["sine_int8"], "cortex-m0plus", tmp_path / "m")
    assert pico.run.outputs == m0.run.outputs
