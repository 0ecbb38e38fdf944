"""The board registry: boards and generic RAM profiles, read from boards.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from toolkit.errors import ToolkitError

# Emulator backends that run here without a network service.
LOCAL_BACKENDS = ("unicorn", "avr8js", "rp2040js")


@dataclass(frozen=True)
class Board:
    name: str
    arch: str
    clock_mhz: float | None  # None for a custom target (toolkit budget --ram --flash)
    flash: int
    ram: int
    backend: str
    mcu: str = ""
    cflags: tuple[str, ...] = ()
    notes: str = ""
    profile: bool = False

    @property
    def local(self) -> bool:
        return self.backend in LOCAL_BACKENDS

    def with_arch(self, arch: str) -> "Board":
        from dataclasses import replace

        return replace(self, arch=arch)


@lru_cache(maxsize=1)
def boards() -> dict[str, Board]:
    raw = tomllib.loads(resources.files("toolkit.boards").joinpath("boards.toml").read_text())
    return {name: Board(name=name, **{**fields, "cflags": tuple(fields.get("cflags", ()))}) for name, fields in raw.items()}


def get_board(name: str) -> Board:
    try:
        return boards()[name]
    except KeyError:
        raise ToolkitError(f"unknown board '{name}'; known: {', '.join(boards())}") from None


def parse_size(text: str) -> int:
    """'2KB', '256k', '1MB', '32768' -> bytes (K = 1024)."""
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    scale = {"k": 1024, "m": 1024 * 1024}.get(t[-1:], 1)
    try:
        value = float(t[:-1] if scale > 1 else t)
    except ValueError:
        raise ToolkitError(f"cannot read size '{text}': use e.g. 2KB, 256K, 1MB or bytes") from None
    if value <= 0:
        raise ToolkitError(f"size must be positive, got '{text}'")
    return int(value * scale)
