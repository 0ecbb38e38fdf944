"""toolkit wokwi new|run: generate a Wokwi project for a model, or run one's scenario headless."""

from __future__ import annotations

import argparse

from toolkit.commands import argtypes as at
from toolkit.commands.base import Command

# `wokwi run` exit codes (docs/cli.md): PASS 0; FAIL, and CANNOT RUN (no token, no local engine
# for the board, firmware not built) 1: the scenario did not pass, the last line says why;
# TIMEOUT 42.
STATUS = {0: "PASS", 1: "FAIL", 42: "TIMEOUT"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    new = verbs.add_parser("new", help="generate a project (diagram, config, scenario, firmware or sketch) for a model",
                           description="generate a Wokwi project for a model", formatter_class=p.formatter_class)
    new.add_argument("model", help="a .tflite file")
    at.add_board(new, "the board to simulate", at.WOKWI_BOARDS, required=True)
    new.add_argument("-o", "--out", required=True, help="project directory to write")
    new.add_argument("--inputs", type=at.positive_int, help="number of test inputs (default: all 256 for one int8 input, else 1000)")
    at.add_json(new, "what was generated")
    new.set_defaults(_verb=run_new)
    run = verbs.add_parser("run", help="run a project's scenario headless: exit 0 PASS, 1 FAIL or cannot run, 42 timeout",
                           description="run a Wokwi project's scenario headless", formatter_class=p.formatter_class)
    run.add_argument("project", help="the project directory (from 'toolkit wokwi new')")
    run.add_argument("--timeout", type=at.positive_int, default=30_000, help="simulated milliseconds before giving up (exit 42)")
    run.add_argument("--runner", choices=("auto", "local", "cloud"), default="auto",
                     help="wokwi-cli when a token is set (auto), Wokwi's engines here (local), or the cloud only")
    at.add_json(run, "the outcome (status, runner, cycles, serial output)")
    run.set_defaults(_verb=run_scenario)


def run_new(args: argparse.Namespace) -> int:
    from toolkit.fileio import write_json
    from toolkit.wokwi.project import generate_project

    info = generate_project(args.model, args.board, args.out, args.inputs)
    kind = "firmware built" if info["native"] else "Arduino sketch to build (see README.md)"
    print(f"Wokwi project for {info['board']} in {info['dir']}: {info['n_inputs']} test inputs, {kind}; files validated")
    if args.json:
        write_json(args.json, info)
    return 0


def run_scenario(args: argparse.Namespace) -> int:
    from toolkit.fileio import write_json
    from toolkit.wokwi.run import EXIT_CANNOT, run_project

    result = run_project(args.project, args.timeout, runner=args.runner)
    if result.serial:
        print(result.serial.rstrip())
    status = "CANNOT RUN" if result.exit_code == EXIT_CANNOT else STATUS.get(result.exit_code, f"exit {result.exit_code}")
    cycles = f", {result.cycles:,} cycles" if result.cycles else ""
    hz, baud = result.details.get("clock_hz"), result.details.get("uart_baud")
    if result.cycles and hz:
        cycles += f" at {hz / 1e6:g} MHz"
    if baud:
        cycles += f", UART0 at {baud:,} baud"
    print(f"{status} ({result.runner}{cycles}){': ' + result.message if result.message else ''}")
    if args.json:
        write_json(args.json, {"status": status, "runner": result.runner, "cycles": result.cycles or None,
                               "message": result.message, "serial": result.serial, "details": result.details})
    return 1 if result.exit_code == EXIT_CANNOT else result.exit_code


def run(args: argparse.Namespace) -> int:
    return args._verb(args)


COMMAND = Command("wokwi", "Wokwi projects: 'new' generates one for a model, 'run' runs its scenario headless",
                  add_arguments, run)
