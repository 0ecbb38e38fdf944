from __future__ import annotations

from pathlib import Path

import pytest

from .projects import LOCAL, skip_unless_engine


@pytest.fixture(scope="session")
def projects(reference_models, tmp_path_factory):
    """project(board) -> directory of the hello-world int8 project for `board`, made once."""
    from toolkit.wokwi.project import generate_project

    made: dict[str, Path] = {}
    root = tmp_path_factory.mktemp("wokwi")

    def project(board: str) -> Path:
        if board not in made:
            if board in LOCAL:
                skip_unless_engine(board)
            generate_project(reference_models["int8"], board, root / board)
            made[board] = root / board
        return made[board]

    return project
