"""The TFLM tree the engine tests build from: the one shipped with the toolkit.

Their builds go to the session's TOOLKIT_CACHE_DIR (tests/conftest.py), so each TFLM
library compiles once per session, shared with the docs tests that run `--engine all`.
"""

from __future__ import annotations

import pytest

from toolkit.tflm.tree import TflmTree, find_tree


@pytest.fixture(scope="session")
def tflm_tree() -> TflmTree:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("TOOLKIT_TFLM_TREE", raising=False)
        return find_tree()
