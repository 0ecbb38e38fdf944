"""Shared fixtures: reference models, and real models made with the real converter."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

REFERENCE_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "models"


@pytest.fixture(scope="session")
def reference_models() -> dict[str, Path]:
    models = {kind: REFERENCE_DIR / f"hello_world_{kind}.tflite" for kind in ("int8", "float")}
    missing = [str(p) for p in models.values() if not p.exists()]
    if missing:
        pytest.skip(f"reference models not found beside the repository: {', '.join(missing)}")
    return models
