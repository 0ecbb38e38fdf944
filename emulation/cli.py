"""Command line: python -m emulation run FIRMWARE.elf --arch ARCH [--json FILE] [--limit N] [--no-timing]."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from .arch import ARCHS, get_arch
from .backends import BACKENDS, backend_of, run_elf
from .errors import EmulationError, GuestFault
from .result import EXACT_TIMING, METRIC_NAMES, RunResult


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m emulation",
                                     description="Run microcontroller firmware in emulation and measure it.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run an ELF built with the firmware/ harness")
    run.add_argument("elf", type=Path, help="firmware ELF")
    run.add_argument("--arch", required=True, help=f"core: {', '.join(ARCHS)}")
    run.add_argument("--json", type=Path, metavar="FILE", help="also write the result as JSON")
    limits = sorted({b.default_limit for b in BACKENDS.values()})
    run.add_argument("--limit", type=int, default=None, metavar="N",
                     help="stop a guest after N instructions (default: the backend's, "
                          + " or ".join(f"{n:,}" for n in limits) + ")")
    run.add_argument("--no-arch-check", action="store_true",
                     help="run even if the ELF's build attributes name another core")
    run.add_argument("--quiet", action="store_true", help="do not echo the guest console")
    run.add_argument("--no-timing", action="store_true",
                     help="count instructions only: no cycle estimate on Unicorn (a little faster)")
    sub.add_parser("archs", help="list the known cores")
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


def _run(args: argparse.Namespace) -> int:
    get_arch(args.arch)  # unknown arch: clear error before touching the file
    if args.limit is not None and args.limit <= 0:
        raise EmulationError("--limit must be a positive number of instructions")
    result = run_elf(args.elf, args.arch, instruction_limit=args.limit, check_arch=not args.no_arch_check,
                     timing=not args.no_timing)
    if not args.quiet and result.console:
        sys.stdout.write(result.console if result.console.endswith("\n") else result.console + "\n")
    print(f"{result.arch}: {Path(result.elf).name} ({result.engine})")
    print(format_metrics(result))
    if result.layers:
        print(format_layers(result))
    if args.json:
        args.json.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "archs":
            for arch in ARCHS.values():
                print(f"{arch.description}  [{backend_of(arch).name}]")
            return 0
        return _run(args)
    except GuestFault as exc:
        if exc.console and not getattr(args, "quiet", False):
            sys.stdout.write(exc.console if exc.console.endswith("\n") else exc.console + "\n")
        print(f"error: guest fault: {exc}", file=sys.stderr)
        return 1
    except EmulationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback on the command line
        print(f"error: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
