"""The TFLM tree beside the repository.

The tests need ../shared/tflm (CI has it there, read-only) and the reference models; in a
plain clone they skip and say why. Their builds go to the session's TOOLKIT_CACHE_DIR
(tests/conftest.py), so each TFLM library compiles once per session, shared with the docs
tests that run `--engine all`.
"""

from __future__ import annotations

import pytest

from toolkit.tflm.tree import SHARED_TREE, TflmTree


@pytest.fixture(scope="session")
def tflm_tree() -> TflmTree:
    if not (SHARED_TREE / "tensorflow/lite/micro/micro_interpreter.h").is_file():
        pytest.skip(f"no TFLM tree at {SHARED_TREE}: the TFLM engine tests need it (make one with create_tflm_tree.py)")
    return TflmTree(SHARED_TREE.resolve())
