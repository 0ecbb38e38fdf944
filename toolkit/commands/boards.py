"""toolkit boards: the board registry as a table."""

from __future__ import annotations

import argparse

from toolkit.commands import argtypes as at
from toolkit.commands.base import Command


def add_arguments(p: argparse.ArgumentParser) -> None:
    at.add_json(p, "the registry")


def kib(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB" if n >= 1024 * 1024 else f"{n / 1024:g} KB"


def run(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from toolkit.boards import boards
    from toolkit.fileio import write_json
    from toolkit.table import render

    rows = [[b.name, b.mcu or "(profile)", b.arch, f"{b.clock_mhz:g} MHz", kib(b.flash), kib(b.ram),
             b.backend + ("" if b.local else " (no local backend)")] for b in boards().values()]
    print(render(["board", "mcu", "core", "clock", "flash", "RAM", "emulator"], rows))
    if args.json:
        write_json(args.json, [asdict(b) for b in boards().values()])
    return 0


COMMAND = Command("boards", "list the boards and RAM profiles", add_arguments, run)
