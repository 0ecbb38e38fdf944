"""Fixture firmware, built once per test session into a temporary directory."""
from __future__ import annotations

import subprocess
from typing import Callable

import pytest

from emulation import write_vectors
from emulation.result import parse_console

from .firmware_fixtures import FIXTURES, MODELS, FirmwareCache, require


@pytest.fixture(scope="session")
def firmware(tmp_path_factory: pytest.TempPathFactory) -> FirmwareCache:
    return FirmwareCache(tmp_path_factory.mktemp("firmware"))


@pytest.fixture(scope="session")
def host_outputs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], list[bytes]]:
    """Outputs of a fixture model compiled for and run on the host."""
    cache: dict[str, list[bytes]] = {}
    root = tmp_path_factory.mktemp("host")

    def run(model: str) -> list[bytes]:
        if model not in cache:
            require("gcc", "apt-get install gcc")
            model_dir, inputs = MODELS[model]
            out = root / model
            out.mkdir()
            vectors = write_vectors(out / "vectors.c", inputs())
            exe = out / "host"
            # Same arithmetic rules as the firmware: no FMA contraction, SSE floats.
            subprocess.run(["gcc", "-std=c99", "-O2", "-ffp-contract=off", f"-I{model_dir}",
                            str(model_dir / "model.c"), str(vectors), str(FIXTURES / "host_harness.c"),
                            "-o", str(exe)], check=True, capture_output=True)
            proc = subprocess.run([str(exe)], check=True, capture_output=True, text=True)
            cache[model] = parse_console(proc.stdout)
        return cache[model]

    return run
