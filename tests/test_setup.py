"""The set-up script: what a newcomer without root sees, and that a second run is a no-op."""

import os
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fake_bin(tmp_path: Path, scripts: dict[str, str]) -> str:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in scripts.items():
        path = bin_dir / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return f"{bin_dir}:{os.environ['PATH']}"


def test_without_root_it_prints_the_install_line_and_stops(tmp_path):
    path = fake_bin(tmp_path, {
        "id": 'if [ "$1" = "-u" ]; then echo 1000; else /usr/bin/id "$@"; fi',
        "dpkg-query": "exit 1",  # every package looks missing
        "sudo": "exit 1",  # no password-less sudo
        "apt-get": "echo apt-get must not run >&2; exit 99",
    })
    r = subprocess.run(["bash", str(ROOT / "scripts" / "setup.sh")], capture_output=True, text=True, env=dict(os.environ, PATH=path))
    assert r.returncode == 1
    assert "sudo apt-get update && sudo apt-get install -y" in r.stderr
    assert "gcc-arm-none-eabi" in r.stderr and "libnewlib-arm-none-eabi" in r.stderr
    assert "apt-get must not run" not in r.stderr


def test_second_setup_installs_nothing():
    r = subprocess.run(["bash", str(ROOT / "scripts" / "setup.sh")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines() == ["setup: ok"]
