"""Shared by the Wokwi tests: the boards with a local engine, and the skip when one is missing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).with_name("fixtures")
# board -> (local engine, part id, a pin the echo fixture drives)
LOCAL = {"arduino-uno": ("avr", "uno", "13"), "raspberry-pi-pico": ("rp2040", "pico", "GP25")}


def skip_unless_engine(board: str) -> None:
    """Skip unless the board's cross compiler, Node and its Wokwi engine are installed."""
    from emulation import ToolMissing, get_arch
    from emulation.node import ENGINES, engine_paths

    from toolkit.wokwi.project import get_wokwi_board

    arch = get_arch(get_wokwi_board(board).arch)
    if shutil.which(arch.toolchain.cc) is None:
        pytest.skip(f"{arch.toolchain.cc} not installed ({arch.toolchain.install_hint})")
    try:
        engine_paths(ENGINES[arch.backend])
    except ToolMissing as exc:
        pytest.skip(str(exc))
