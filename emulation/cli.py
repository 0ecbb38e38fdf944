"""Command line: python -m emulation run FIRMWARE.elf --arch ARCH [--json FILE|-] [--limit N] [--no-timing].

Exit codes, as the toolkit's (docs/cli.md): 0 ok, 1 the guest faulted or ran away, 2 bad input
(arguments, a missing or foreign ELF, a missing tool), 3 internal error. Arguments and the --json
path are checked before anything runs.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Sequence, TextIO

from .arch import ARCHS, get_arch
from .argparsing import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERNAL, EXIT_OK, unwritable
from .argparsing import HelpFormatter as _HelpFormatter
from .argparsing import Parser as _Parser
from .backends import BACKENDS, backend_of, run_elf
from .errors import EmulationError, GuestFault
from .fileio import atomic_write
from .result import EXACT_TIMING, METRIC_NAMES, RunResult


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _check_json_path(value: str | None) -> None:
    """--json FILE must be a file we can write (or - for stdout): checked before the run."""
    if value is None or value == "-":
        return
    path = Path(value)
    if path.is_dir():
        raise EmulationError(f"--json {value}: is a directory; --json takes a file name (or - for stdout)")
    problem = unwritable(path.parent)
    if problem:
        raise EmulationError(f"--json {value}: {problem}")


def _parser() -> argparse.ArgumentParser:
    fmt = _HelpFormatter
    parser = _Parser(prog="python -m emulation", formatter_class=fmt,
                     description="Run microcontroller firmware in emulation and measure it. Exit codes: 0 ok, "
                                 "1 the guest faulted or ran away, 2 bad input, 3 internal error.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run an ELF built with the firmware/ harness", formatter_class=fmt)
    run.add_argument("elf", type=Path, help="firmware ELF")
    run.add_argument("--arch", required=True, choices=list(ARCHS), metavar="ARCH", help="core: %(choices)s")
    run.add_argument("--json", metavar="FILE|-", default=None,
                     help="also write the result as JSON to FILE; - writes it to stdout and everything else to stderr")
    limits = sorted({b.default_limit for b in BACKENDS.values()})
    run.add_argument("--limit", type=_positive_int, default=None, metavar="N",
                     help="stop a guest after N instructions in all (default: the backend's, "
                          + " or ".join(f"{n:,}" for n in limits) + ")")
    run.add_argument("--no-arch-check", action="store_true",
                     help="run even if the ELF's build attributes name another core")
    run.add_argument("--quiet", action="store_true", help="do not echo the guest console")
    run.add_argument("--no-timing", action="store_true",
                     help="count instructions only: no cycle estimate on Unicorn (a little faster)")
    sub.add_parser("archs", help="list the known cores", formatter_class=fmt)
    sub.add_parser("install-engines", formatter_class=fmt,
                   help="install the npm packages of the Node engines (avr8js, rp2040js) for an installed wheel: "
                        "npm ci with the shipped lockfile, into the cache (a checkout uses make setup)")
    return parser


# How the metrics table labels a metric (by default, its name).
LABELS = {"cycles_est": "cycles (est.)"}


def format_metrics(result: RunResult) -> str:
    metrics = result.metrics()
    rows = [(LABELS.get(name, name), metrics[name]) for name in METRIC_NAMES if name != "timing_model"]
    rows.append(("inferences", len(result.outputs)))
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {'-' if value is None else f'{value:,}':>12}" for name, value in rows]
    model = metrics["timing_model"]
    if model:
        estimate = "" if model == EXACT_TIMING else " (an estimate, not a measurement)"
        lines.append(f"timing model: {model}{estimate}")
    return "\n".join(lines)


def format_layers(result: RunResult) -> str:
    """The layer-marker segments of the first inference, on one line (emulation/layers.py)."""
    segs = result.layers[0]
    parts = [f"{'before' if s.index is None else s.index}: {s.instructions:,}" for s in segs]
    markers = sum(s.marker_instructions for s in segs)
    return f"layer segments (instructions, first inference): {', '.join(parts)}; markers {markers}"


def _run(args: argparse.Namespace, json_out: TextIO) -> int:
    get_arch(args.arch)  # unknown arch: clear error before touching the file
    _check_json_path(args.json)
    result = run_elf(args.elf, args.arch, instruction_limit=args.limit, check_arch=not args.no_arch_check,
                     timing=not args.no_timing)
    if not args.quiet and result.console:
        sys.stdout.write(result.console if result.console.endswith("\n") else result.console + "\n")
    print(f"{result.arch}: {Path(result.elf).name} ({result.engine})")
    print(format_metrics(result))
    if result.layers:
        print(format_layers(result))
    if args.json:
        text = json.dumps(result.to_dict(), indent=2) + "\n"
        if args.json == "-":
            json_out.write(text)
            json_out.flush()
        else:
            atomic_write(args.json, text)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    json_out = sys.stdout
    to_stderr = getattr(args, "json", None) == "-"
    try:
        with contextlib.redirect_stdout(sys.stderr) if to_stderr else contextlib.nullcontext():
            if args.command == "archs":
                for arch in ARCHS.values():
                    print(f"{arch.description}  [{backend_of(arch).name}]")
                return EXIT_OK
            if args.command == "install-engines":
                from .data import install_engines

                print(f"Node engines installed in {install_engines()}")
                return EXIT_OK
            return _run(args, json_out)
    except GuestFault as exc:
        if exc.console and not getattr(args, "quiet", False):
            out = sys.stderr if to_stderr else sys.stdout
            out.write(exc.console if exc.console.endswith("\n") else exc.console + "\n")
        print(f"error: guest fault: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except EmulationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a file named on the command line, or the disk: bad input, not a bug
        if exc.filename is None:
            print(f"error: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return EXIT_INTERNAL
        print(f"error: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # never a traceback on the command line
        print(f"error: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
