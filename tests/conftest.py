"""Shared fixtures: reference models, and real models made with the real converter."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

ROOT = Path(__file__).resolve().parents[1]
# TF Lite Micro's hello-world models, kept in the repository (docs/models/README.md)
REFERENCE_DIR = ROOT / "docs" / "models"



@pytest.fixture(scope="session", autouse=True)
def toolkit_cache(tmp_path_factory):
    """One TOOLKIT_CACHE_DIR for the session, shared by the xdist workers (their base
    directories are siblings) and the CLI subprocesses: TF Lite Micro's libraries
    (docs/tflm.md) compile once per session. A TOOLKIT_CACHE_DIR already set is kept, so
    `TOOLKIT_CACHE_DIR=~/.cache/tinyml-toolkit make test` reuses them across sessions."""
    if os.environ.get("TOOLKIT_CACHE_DIR"):
        yield Path(os.environ["TOOLKIT_CACHE_DIR"])
        return
    base = tmp_path_factory.getbasetemp()
    cache = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "toolkit-cache"
    cache.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TOOLKIT_CACHE_DIR", str(cache))
        yield cache


@pytest.fixture(scope="session")
def reference_models() -> dict[str, Path]:
    models = {kind: REFERENCE_DIR / f"hello_world_{kind}.tflite" for kind in ("int8", "float")}
    missing = [str(p) for p in models.values() if not p.exists()]
    assert not missing, f"the repository's example models are missing: {', '.join(missing)}"
    return models
