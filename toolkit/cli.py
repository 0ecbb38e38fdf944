"""The `toolkit` command line. Errors are one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import argparse
import os
import sys

from toolkit import __version__
from toolkit.commands import COMMANDS
from toolkit.errors import ToolkitError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toolkit", description="Train, compress, convert, generate C for, and emulate tiny neural networks.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for cmd in COMMANDS:
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        cmd.add_arguments(p)
        p.set_defaults(_run=cmd.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except ToolkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        if os.environ.get("TOOLKIT_DEBUG"):
            raise
        print(f"error: internal error: {type(exc).__name__}: {exc} (TOOLKIT_DEBUG=1 shows a traceback)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
