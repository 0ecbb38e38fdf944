"""The `toolkit` command line. Errors are one line and a non-zero exit, never a traceback.

Exit codes (docs/cli.md): 0 ok, 1 a check failed, 2 bad input, 3 internal error, 42 scenario
timeout. Arguments and output paths are checked before a command starts (commands/argtypes.py).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from emulation.argparsing import (  # noqa: F401 -- the exit codes are part of this module's API
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_TIMEOUT,
    HelpFormatter,
    Parser,
)
from toolkit import __version__
from toolkit.commands import COMMANDS
from toolkit.errors import ToolkitError


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="toolkit", formatter_class=HelpFormatter,
                    description="Train, compress, convert, generate C for, and emulate tiny neural networks. "
                                "Exit codes: 0 ok, 1 a check failed, 2 bad input, 3 internal error, 42 scenario timeout "
                                "(docs/cli.md).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for cmd in COMMANDS:
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help, formatter_class=HelpFormatter)
        cmd.add_arguments(p)
        p.set_defaults(_run=cmd.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    from toolkit.commands.argtypes import check_outputs
    from toolkit.fileio import json_to_stdout

    args = build_parser().parse_args(argv)
    try:
        check_outputs(args)
        quiet = json_to_stdout() if getattr(args, "json", None) == "-" else contextlib.nullcontext()
        with quiet:
            return int(args._run(args) or 0)
    except ToolkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        if exc.filename is None or os.environ.get("TOOLKIT_DEBUG"):
            return _internal(exc)
        # a file the user named, or the disk (permissions, no space): bad input, not a bug
        print(f"error: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        return _internal(exc)


def _internal(exc: BaseException) -> int:
    if os.environ.get("TOOLKIT_DEBUG"):
        raise exc
    print(f"error: internal error: {type(exc).__name__}: {exc} (TOOLKIT_DEBUG=1 shows a traceback)", file=sys.stderr)
    return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
