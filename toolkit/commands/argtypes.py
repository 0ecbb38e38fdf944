"""What every command's arguments are checked with, before any work starts (docs/cli.md).

`type=` functions for numbers, ranges and expressions; `Registry` choices for --arch and --board
read from the registries (emulation's cores, toolkit.boards, the Wokwi templates) when first
needed; and `check_outputs`, the pre-flight of output paths the CLI runs on every command
(-o, --build-dir: directories; --json, --plot: files, "-" for stdout). A bad value is exit 2
with one line (toolkit.cli), before anything is trained, built or written.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from emulation.argparsing import unwritable
from toolkit.errors import ToolkitError


def _number(text: str, kind: type) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, got '{text}'") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got '{text}'")
    return value


def int_at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = _number(text, int)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


positive_int = int_at_least(1)
seed = int_at_least(0)


def positive_float(text: str) -> float:
    value = _number(text, float)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got '{text}'")
    return value


def nonnegative_float(text: str) -> float:
    value = _number(text, float)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got '{text}'")
    return value


def fraction(text: str) -> float:
    """A number in [0, 1]."""
    value = _number(text, float)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got '{text}'")
    return value


def sparsity(text: str) -> float:
    """A number in [0, 1): the share of weights or units removed."""
    value = _number(text, float)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got '{text}'")
    return value


def checked(parse: Callable[[str], Any], keep_text: bool = False) -> Callable[[str], Any]:
    """A type= function from a parser that raises ToolkitError; `keep_text` returns the text."""
    def convert(text: str) -> Any:
        try:
            value = parse(text)
        except ToolkitError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text if keep_text else value

    convert.__name__ = getattr(parse, "__name__", "value")
    return convert


def _function(text: str) -> Any:
    from toolkit.functions import parse_function

    return parse_function(text)


def _range(text: str) -> tuple[float, float]:
    from toolkit.functions import parse_range

    return parse_range(text)


def parse_hidden(text: str) -> tuple[int, ...]:
    """'16,16' -> (16, 16); ToolkitError when not positive widths."""
    try:
        sizes = tuple(int(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise ToolkitError(f"--hidden takes layer widths such as 16,16, got '{text}'") from None
    if not sizes or any(s <= 0 for s in sizes):
        raise ToolkitError(f"--hidden needs at least one positive width, got '{text}'")
    return sizes


def _size(text: str) -> int:
    from toolkit.boards import parse_size

    return parse_size(text)


function = checked(_function, keep_text=True)  # the expression, checked; commands get the text
value_range = checked(_range)  # 'a,b' -> (a, b)
range_text = checked(_range, keep_text=True)  # 'a,b', checked
hidden = checked(parse_hidden)  # '16,16' -> (16, 16)
size_text = checked(_size, keep_text=True)  # '2KB', checked


class Registry:
    """argparse choices read from a registry when first needed (help, a check), not at start-up."""

    def __init__(self, load: Callable[[], list[str]]) -> None:
        self._load, self._names = load, None

    def names(self) -> list[str]:
        if self._names is None:
            self._names = list(self._load())
        return self._names

    def __contains__(self, name: object) -> bool:
        return name in self.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())


def _archs() -> list[str]:
    from emulation.arch import ARCHS

    return list(ARCHS)


def _boards() -> list[str]:
    from toolkit.boards import boards

    return list(boards())


def _wokwi_boards() -> list[str]:
    from toolkit.wokwi.project import wokwi_boards

    return list(wokwi_boards())


ARCHS = Registry(_archs)
BOARDS = Registry(_boards)
WOKWI_BOARDS = Registry(_wokwi_boards)


def add_arch(p: argparse.ArgumentParser | Any, default: str | None = "cortex-m4", what: str = "core to emulate",
             flag: str = "--arch") -> None:
    p.add_argument(flag, default=default, choices=ARCHS, metavar="ARCH", help=f"{what}: %(choices)s")


def add_board(p: argparse.ArgumentParser | Any, what: str = "a board from 'toolkit boards'",
              registry: Registry = BOARDS, required: bool = False) -> None:
    p.add_argument("--board", choices=registry, metavar="BOARD", required=required, help=f"{what}: %(choices)s")


def add_json(p: argparse.ArgumentParser, what: str = "the result") -> None:
    p.add_argument("--json", metavar="FILE|-", help=f"write {what} as JSON to FILE, or to stdout with - "
                   "(then nothing else goes to stdout)")


# Output paths by argument name (every command uses these names): directories and files.
OUTPUT_DIRS = {"out": "-o", "build_dir": "--build-dir"}
OUTPUT_FILES = {"json": "--json", "plot": "--plot"}


def _writable_dir(path: Path, flag: str, shown: str) -> None:
    """`path` (or the directory it will be created in) can take new files."""
    problem = unwritable(path)
    if problem:
        raise ToolkitError(f"{flag} {shown}: {problem}")


def check_output_dir(value: str, flag: str) -> None:
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise ToolkitError(f"{flag} {value}: is a file; {flag} takes a directory")
    _writable_dir(path, flag, value)


def check_output_file(value: str, flag: str) -> None:
    if value == "-" and flag == "--json":
        return
    path = Path(value)
    if path.is_dir():
        stdout = " (or - for stdout)" if flag == "--json" else ""
        raise ToolkitError(f"{flag} {value}: is a directory; {flag} takes a file name{stdout}")
    if path.exists() and not os.access(path, os.W_OK):
        raise ToolkitError(f"{flag} {value}: not writable")
    _writable_dir(path.parent, flag, value)


def check_outputs(args: argparse.Namespace) -> None:
    """The pre-flight of every output path a command was given, before it starts."""
    for name, flag in OUTPUT_DIRS.items():
        if isinstance(getattr(args, name, None), str):
            check_output_dir(getattr(args, name), flag)
    for name, flag in OUTPUT_FILES.items():
        if isinstance(getattr(args, name, None), str):
            check_output_file(getattr(args, name), flag)
