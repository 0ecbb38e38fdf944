"""toolkit budget: does the model fit a board? used / limit / headroom, PASS or FAIL."""

from __future__ import annotations

import argparse
from pathlib import Path

from toolkit.commands import argtypes as at
from toolkit.commands.base import Command
from toolkit.errors import ToolkitError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a .tflite file")
    at.add_board(p)
    p.add_argument("--ram", type=at.size_text, help="RAM limit for a custom target, e.g. 2KB")
    p.add_argument("--flash", type=at.size_text, help="flash limit for a custom target, e.g. 32KB")
    at.add_arch(p, default=None, what="core of a custom target or of the profiles (default: cortex-m4; "
                "with --board: the board's)")
    p.add_argument("--profiles", action="store_true", help="check against every generic RAM profile")
    p.add_argument("--build-dir", default="build/budget", help="where firmware is kept")
    p.add_argument("--optimize", choices=("speed", "size"), default="speed",
                   help="measure the fastest code per layer (speed) or the fewest flash bytes (size; "
                        "docs/codegen.md, \"Speed or size\") (default: speed)")
    at.add_json(p)


def target(args: argparse.Namespace):
    from toolkit.boards import Board, get_board, parse_size

    if args.board:
        if args.ram or args.flash:
            raise ToolkitError("give --board, or --ram and --flash, not both")
        board = get_board(args.board)
        if not board.local:
            raise ToolkitError(f"{board.name} ({board.mcu}) has no local compiler or emulator; it runs on the Wokwi cloud only")
        return board.with_arch(args.arch) if args.arch else board
    if not (args.ram and args.flash):
        raise ToolkitError("give --board NAME, or both --ram and --flash (e.g. --ram 2KB --flash 32KB), or --profiles")
    # a custom target has no clock: nothing here needs one, and none is made up
    return Board("custom", args.arch or "cortex-m4", None, parse_size(args.flash), parse_size(args.ram), "unicorn")


def run(args: argparse.Namespace) -> int:
    from toolkit.boards import boards
    from toolkit.budget import budget_from, check, measure
    from toolkit.fileio import write_json
    from toolkit.table import render

    if not Path(args.model).exists():
        raise ToolkitError(f"{args.model}: no such file")
    build = Path(args.build_dir)
    if args.profiles and (args.board or args.ram or args.flash):
        raise ToolkitError("give --profiles (with --arch for their core) or a target (--board, or --ram and --flash), "
                           "not both")
    if args.profiles:
        profiles = [b.with_arch(args.arch) if args.arch else b for b in boards().values() if b.profile]
        reports = {}
        for arch in sorted({p.arch for p in profiles}):
            reports[arch] = measure(args.model, profiles[0].with_arch(arch), build / arch, args.optimize)
        results = [budget_from(reports[p.arch], p, args.optimize) for p in profiles]
        print(f"{args.model} against the RAM profiles")
        print(render(["profile", "core", "flash used", "flash limit", "RAM used", "RAM limit", "fits"],
                     [[r.board.name, r.board.arch, r.flash_bytes, r.board.flash, r.ram_used, r.board.ram,
                       "PASS" if r.fits else "FAIL"] for r in results]))
        if args.json:
            write_json(args.json, [r.to_json() for r in results])
        return 0 if all(r.fits for r in results) else 1

    board = target(args)
    result = check(args.model, board, build / board.name, args.optimize)
    clock = f", {board.clock_mhz:g} MHz" if board.clock_mhz else ""
    print(f"{args.model} on {board.name} ({board.arch}{clock})")
    print(render(["budget", "used B", "limit B", "headroom B", "result"], result.rows()))
    print(f"  static RAM {result.ram_bytes:,} B + peak stack {result.stack_bytes:,} B; "
          f"weights {result.const_bytes:,} B, activations {result.arena_bytes:,} B")
    if result.lower_bound:
        print(f"  note: {result.lower_bound}")
    if not result.fits:
        least = "at least " if result.lower_bound else ""
        over = [f"flash by {least}{result.flash_bytes - board.flash:,} B" if not result.flash_ok else "",
                f"RAM by {least}{result.ram_used - board.ram:,} B" if not result.ram_ok else ""]
        print(f"does not fit: over {' and '.join(o for o in over if o)}")
        for s in result.suggestions:
            print(f"  - {s}")
        if not result.flash_ok and args.optimize == "speed":
            print("  - or let the generator fit the code to the flash: --optimize size here; toolkit emulate/codegen "
                  "--flash-budget BYTES or --board NAME (the fastest code per layer within it)")
    else:
        print("fits")
    if args.json:
        write_json(args.json, result.to_json())
    return 0 if result.fits else 1


COMMAND = Command("budget", "check a model against a board's flash and RAM", add_arguments, run)
