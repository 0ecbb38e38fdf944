"""The MicroPython tree the engine tests build against: the one shipped with the toolkit
(or $TOOLKIT_MICROPYTHON_TREE). Interpreter builds go to the session's TOOLKIT_CACHE_DIR (tests/conftest.py): one build
per core per session, shared by every test here.
"""

from __future__ import annotations

import pytest

from toolkit.micropython.tree import MicroPythonTree, find_tree


@pytest.fixture(scope="session")
def micropython_tree() -> MicroPythonTree:
    return find_tree()
