"""toolkit emulate: run the generated C on an emulated core, measure and validate it."""

from __future__ import annotations

import argparse
from pathlib import Path

from toolkit.commands import argtypes as at
from toolkit.commands import flashopts
from toolkit.commands.base import Command
from toolkit.table import key_values, render


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a .tflite file")
    where = p.add_mutually_exclusive_group(required=True)
    at.add_arch(where, default=None)
    at.add_board(where, "a board from 'toolkit boards' (its core, clock and emulator)")
    p.add_argument("--inputs", type=at.positive_int, help="number of inputs (default: all 256 for one int8 input, else 1000)")
    p.add_argument("--seed", type=at.seed, default=0, help="seed of the random inputs")
    p.add_argument("--input-range", default="-8,8", type=at.range_text, help="range of random float inputs (default: -8,8)")
    p.add_argument("--build-dir", help="where the C, ELF and map file are kept (default: build/<model>-<arch>)")
    p.add_argument("--limit", type=at.positive_int, metavar="N",
                   help="runaway guard: instructions per inference; the run may take N x (inputs + 1), one "
                        "inference's worth for the start-up code (default: 5,000,000 + 200 per MAC of the model)")
    p.add_argument("--per-layer", action="store_true",
                   help="also profile each op: a second build with layer markers, exact instructions per op")
    flashopts.add_arguments(p, "the board's flash with --board, else none")
    at.add_json(p)
    p.add_argument("--engine", default="generated",
                   choices=("generated", "tflm", "tflm-cmsis-nn", "micropython", "all"),
                   help="what runs the model: the generated C (default), TF Lite Micro's interpreter with its "
                        "reference kernels (tflm) or CMSIS-NN's (tflm-cmsis-nn), the model as a MicroPython "
                        "script (micropython; docs/micropython.md), or all of them side by side "
                        "(Cortex-M cores; docs/tflm.md)")
    p.add_argument("--tflm-tree", help="TFLM source tree from create_tflm_tree.py (default: $TOOLKIT_TFLM_TREE, "
                                       "else the tree shipped with the toolkit, firmware/third_party/tflm)")
    p.add_argument("--micropython-tree", help="MicroPython source tree, e.g. a clone of github.com/micropython/"
                                              "micropython (default: $TOOLKIT_MICROPYTHON_TREE, else "
                                              "the tree shipped with the toolkit, firmware/third_party/micropython)")


def run(args: argparse.Namespace) -> int:
    from toolkit.emulate import emulate
    from toolkit.errors import ToolkitError
    from toolkit.fileio import write_json
    from toolkit.functions import parse_range

    board = None
    if args.board:
        from toolkit.boards import get_board

        board = get_board(args.board)
        if not board.local:
            raise ToolkitError(f"{board.name} ({board.mcu}) has no local emulator; it runs on the Wokwi cloud only")
    arch = board.arch if board else args.arch
    target = board.name if board else arch
    build_dir = Path(args.build_dir or Path("build") / f"{Path(args.model).stem}-{target}")
    if args.engine != "generated":
        if args.per_layer or args.optimize != "speed" or args.flash_budget:
            raise ToolkitError("--per-layer, --optimize and --flash-budget are for the generated C; run it without --engine")
        return _run_engines(args, arch, target, board, build_dir)
    report = emulate(args.model, arch, build_dir, args.inputs, args.seed, parse_range(args.input_range), args.limit,
                     per_layer=args.per_layer, optimize=args.optimize, flash_budget=flashopts.budget_of(args, board))
    data = report.to_json(board.clock_mhz if board else None) | ({"board": board.name, "clock_mhz": board.clock_mhz} if board else {})
    if report.selection is not None and report.selection.layers:
        data["selection"] = flashopts.to_json(report.selection)
    print(f"{args.model} on {target} ({arch}; instructions are exact counts)")
    print(render(
        ["arch", "inputs", "instr/inf", "min", "max", "flash B", "RAM B", "stack B", "mismatches", "max abs error"],
        [[data["arch"], data["n_inputs"], data["instructions"], data["instructions_min"], data["instructions_max"],
          data["flash_bytes"], data["ram_bytes"], data["stack_bytes"], data["mismatches"], data["max_abs_error"]]],
    ))
    ref = {"tflm": "TFLM interpreter, bit-exact", "litert": "LiteRT, tolerance 1e-5"}[data["reference"]]
    timing = []
    if data["cycles_est"]:
        timing.append(("cycles / inference", f"{data['cycles_est']:,}  [{data['timing_model']}]"))
    if data["latency_us"] is not None:
        timing.append(("latency", f"{data['latency_us']:,} us at {data['clock_mhz']:g} MHz"))
    print(key_values([*timing, ("reference", ref), ("result", "PASS" if data["passed"] else "FAIL"), ("firmware", data["elf"])]))
    if "selection" in data:
        print(flashopts.table(report.selection))
    if report.profile is not None:
        print(f"\nper layer on {target} (exact instructions per inference, measured between layer markers):")
        print(report.profile.table())
    if args.json:
        write_json(args.json, data)
    return 0 if data["passed"] else 1


def _run_engines(args: argparse.Namespace, arch: str, target: str, board, build_dir: Path) -> int:
    """--engine tflm, tflm-cmsis-nn, micropython or all: the table of toolkit.tflm.side_by_side."""
    from toolkit.errors import ToolkitError
    from toolkit.fileio import write_json
    from toolkit.functions import parse_range
    from toolkit.tflm.engine import ENGINES
    from toolkit.tflm.side_by_side import ALL_ENGINES, render_side_by_side, run_engines

    engines = ALL_ENGINES if args.engine == "all" else (args.engine,)
    if args.engine == "all":  # the micropython row only on its cores and where there is a tree
        from toolkit.micropython import MicroPythonTreeError, check_arch, find_tree

        try:
            check_arch(arch)
            find_tree(args.micropython_tree)
        except ToolkitError as exc:
            if args.micropython_tree and isinstance(exc, MicroPythonTreeError):
                raise
            engines = ENGINES
    s = run_engines(args.model, arch, build_dir, engines, args.inputs, args.seed, parse_range(args.input_range),
                    args.limit, args.tflm_tree, args.micropython_tree)
    run = next(iter(s.reports.values())).run
    cycles = (", cycles exact (counted by the engine)" if run.cycles is not None
              else f", cycles estimated ({run.timing_model})" if run.timing_model else "")
    where = f"{target} ({arch})" if board else arch
    same = "inputs, markers" if "micropython" in engines else "harness"  # micropython: its own loop, same markers
    print(f"{args.model} on {where}: {', '.join(engines)}; the same {same}, start-up code, linker script "
          f"and emulator; instructions are exact counts{cycles}")
    print(render_side_by_side(s))
    if args.json:
        clock = board.clock_mhz if board else None
        data = s.to_json(clock) if len(engines) > 1 else s.reports[args.engine].to_json(clock)
        write_json(args.json, data | ({"board": board.name, "clock_mhz": board.clock_mhz} if board else {}))
    return 0 if s.passed else 1


COMMAND = Command("emulate", "build for a microcontroller core and run it in emulation", add_arguments, run)
