"""`toolkit budget`: fits or not, by how much, and against every RAM profile."""

import json

import pytest

from tests.toolkit.modelfactory import ModelSpec
from tests.toolkit.test_cli import run


@pytest.fixture(scope="module")
def large_float(model_factory):
    """1-256-256-1 float32: about 260 KB of weights."""
    return model_factory(ModelSpec((1, 256, 256, 1), quant="float"))


@pytest.fixture(scope="module")
def wide_int8(model_factory):
    """1-2100-1 int8: small weights, but 2,100 bytes of activations."""
    return model_factory(ModelSpec((1, 2100, 1)))


def test_hello_world_fits_the_nano(reference_models, tmp_path):
    r = run("budget", reference_models["int8"], "--board", "arduino-nano-33-ble", "--build-dir", tmp_path, "--json", tmp_path / "b.json")
    assert r.returncode == 0, r.stderr
    assert "PASS" in r.stdout and "FAIL" not in r.stdout
    data = json.loads((tmp_path / "b.json").read_text())
    assert data["board"] == "arduino-nano-33-ble" and data["fits"] is True
    for key in ("flash_bytes", "flash_limit", "ram_bytes", "stack_bytes", "ram_limit"):
        assert isinstance(data[key], int)
    assert data["flash_limit"] == 1 << 20 and 0 < data["flash_bytes"] < 4096 and data["stack_bytes"] > 0


def test_large_model_passes_the_nano_and_fails_a_small_flash(large_float, tmp_path):
    r = run("budget", large_float, "--board", "arduino-nano-33-ble", "--build-dir", tmp_path / "a", "--json", tmp_path / "a.json")
    assert r.returncode == 0, r.stdout + r.stderr
    used = json.loads((tmp_path / "a.json").read_text())["flash_bytes"]
    assert used > 256 * 257 * 4
    r = run("budget", large_float, "--ram", "2KB", "--flash", "32KB", "--build-dir", tmp_path / "b", "--json", tmp_path / "b.json")
    assert r.returncode == 1
    assert f"over flash by {used - 32768:,} B" in r.stdout
    assert "int8" in r.stdout and "toolkit prune" in r.stdout
    assert json.loads((tmp_path / "b.json").read_text())["fits"] is False


def test_activations_overflow_ram_2k(wide_int8, tmp_path):
    r = run("budget", wide_int8, "--board", "ram-2k", "--build-dir", tmp_path, "--json", tmp_path / "r.json")
    assert r.returncode == 1, r.stdout + r.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["flash_bytes"] <= data["flash_limit"]  # it is the RAM that does not fit
    assert data["ram_bytes"] + data["stack_bytes"] > 2048 and data["ram_bytes"] > 2000  # the activations
    assert "over RAM by" in r.stdout and "narrow the widest layer (2100 neurons)" in r.stdout


def test_profiles_matrix(wide_int8, tmp_path):
    r = run("budget", wide_int8, "--profiles", "--build-dir", tmp_path, "--json", tmp_path / "p.json")
    assert r.returncode == 1  # ram-2k fails
    rows = json.loads((tmp_path / "p.json").read_text())
    assert [row["board"] for row in rows] == [f"ram-{n}k" for n in (2, 4, 8, 16, 32, 64, 128, 256)]
    assert [row["fits"] for row in rows] == [False] + [True] * 7
    for name in ("ram-2k", "ram-256k"):
        assert name in r.stdout


@pytest.mark.parametrize("args, message", [
    (["--board", "arduino-mega"], "'arduino-uno'"),
    (["--board", "esp32"], "Wokwi cloud"),
    (["--ram", "2KB"], "--flash"),
    ([], "--board"),
    (["--ram", "lots", "--flash", "1MB"], "cannot read size"),
    (["--board", "arduino-uno", "--profiles"], "not both"),
])
def test_bad_input_exits_2(reference_models, tmp_path, args, message):
    r = run("budget", reference_models["int8"], *args, "--build-dir", tmp_path)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr


def test_hello_world_fits_the_uno(reference_models, tmp_path):
    r = run("budget", reference_models["int8"], "--board", "arduino-uno", "--build-dir", tmp_path, "--json", tmp_path / "u.json")
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads((tmp_path / "u.json").read_text())
    assert data["fits"] and data["arch"] == "atmega328p"
    assert data["ram_bytes"] < 128  # the weights stay in program memory


def test_large_model_fails_the_uno_by_its_overflow(large_float, tmp_path):
    r = run("budget", large_float, "--board", "arduino-uno", "--build-dir", tmp_path, "--json", tmp_path / "u.json")
    assert r.returncode == 1
    data = json.loads((tmp_path / "u.json").read_text())
    assert not data["fits"] and data["flash_bytes"] > 256 * 257 * 4  # at least the weights
    assert f"over flash by at least {data['flash_bytes'] - 32256:,} B" in r.stdout


def test_a_custom_target_has_no_invented_clock(reference_models, tmp_path):
    r = run("budget", reference_models["int8"], "--ram", "2KB", "--flash", "32KB", "--arch", "cortex-m0plus",
            "--build-dir", tmp_path)
    assert r.returncode == 0, r.stderr
    head = r.stdout.splitlines()[0]
    assert head.endswith("on custom (cortex-m0plus)") and "MHz" not in r.stdout
