"""Command-line conventions shared by `python -m emulation` and the toolkit's CLI (which may
import emulation, never the reverse): the exit codes, --help with defaults, one-line errors,
and the check that an output location can take files."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import NoReturn

# docs/cli.md: 0 ok, 1 a check failed, 2 bad input, 3 internal error, 42 scenario timeout
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_TIMEOUT = 0, 1, 2, 3, 42


class HelpFormatter(argparse.HelpFormatter):
    """Every option's default in --help, unless its help already says it (or it has none)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if ("default" not in text and action.option_strings and not action.required
                and not any(action.default is nothing for nothing in (None, False, argparse.SUPPRESS))):
            text += " (default: %(default)s)"
        return text


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error (exit 2) instead of the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def unwritable(path: Path) -> str | None:
    """Why new files cannot go into `path` (or the directory it would be created in), or None."""
    base = path.absolute()
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir():
        return f"{base} is a file, not a directory"
    try:
        fd, probe = tempfile.mkstemp(dir=base, prefix=".probe-")
    except OSError as exc:
        return f"cannot write in {base} ({exc.strerror or exc})"
    os.close(fd)
    os.unlink(probe)
    return None
