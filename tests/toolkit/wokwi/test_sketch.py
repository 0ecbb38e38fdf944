"""The ESP32 / ESP32-C3 sketch, built for the host with a stand-in for the Arduino core:
no Espressif toolchain exists here, but the sketch and the generated C must compile as the
Arduino build compiles them (the .ino as C++, model.c as C, linked together) and print the
golden lines of the scenario."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from .projects import FIXTURES

WARNINGS = ["-Wall", "-Wextra", "-Werror"]


@pytest.mark.parametrize("board", ["esp32", "esp32-c3"])
def test_sketch_prints_the_golden_lines(projects, board, tmp_path):
    for tool in ("gcc", "g++"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed (apt-get install {tool})")
    sketch = projects(board) / "sketch"
    model_o, exe = tmp_path / "model.o", tmp_path / "sketch"
    subprocess.run(["gcc", "-std=c99", "-O2", *WARNINGS, "-c", str(sketch / "model.c"), "-o", str(model_o)],
                   check=True, capture_output=True, text=True)
    build = subprocess.run(["g++", "-std=gnu++17", "-O2", *WARNINGS, f"-I{FIXTURES / 'arduino_host'}", f"-I{sketch}",
                            "-include", "Arduino.h", "-x", "c++", str(sketch / "sketch.ino"), "-x", "none",
                            str(model_o), "-o", str(exe)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    lines = subprocess.run([str(exe)], capture_output=True, text=True, check=True, timeout=60).stdout.splitlines()
    golden = [s["wait-serial"] for s in yaml.safe_load((sketch.parent / "model.test.yaml").read_text())["steps"]]
    assert lines[-1] == "DONE" and len(lines) == len(golden) + 1
    for line, expected in zip(lines, golden):
        out, cycles = line.split(" cycles=")
        assert out == expected and int(cycles) > 0
