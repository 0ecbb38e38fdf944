"""toolkit wokwi: generate a Wokwi project for a model, or run one's scenario."""

from __future__ import annotations

import argparse

from toolkit.commands.base import Command
from toolkit.errors import ToolkitError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", help="MODEL.tflite to generate a project, or 'run' to run the project DIR")
    p.add_argument("project", nargs="?", help="with 'run': the project directory")
    p.add_argument("--board", help="esp32, esp32-c3, arduino-uno or raspberry-pi-pico")
    p.add_argument("-o", "--out", help="project directory to write")
    p.add_argument("--inputs", type=int, help="number of test inputs (default: all 256 for one int8 input, else 1000)")
    p.add_argument("--timeout", type=int, default=30_000, help="run: simulated milliseconds before giving up (exit 42)")
    p.add_argument("--runner", choices=("auto", "local", "cloud"), default="auto",
                   help="run: wokwi-cli when a token is set (auto), Wokwi's engines here (local), or the cloud only")


def run(args: argparse.Namespace) -> int:
    if args.target == "run":
        from toolkit.wokwi.run import run_project

        if not args.project:
            raise ToolkitError("usage: toolkit wokwi run DIR [--timeout MS]")
        result = run_project(args.project, args.timeout, runner=args.runner)
        if result.serial:
            print(result.serial.rstrip())
        status = {0: "PASS", 1: "FAIL", 2: "CANNOT RUN", 42: "TIMEOUT"}.get(result.exit_code, f"exit {result.exit_code}")
        cycles = f", {result.cycles:,} cycles" if result.cycles else ""
        hz, baud = result.details.get("clock_hz"), result.details.get("uart_baud")
        if result.cycles and hz:
            cycles += f" at {hz / 1e6:g} MHz"
        if baud:
            cycles += f", UART0 at {baud:,} baud"
        print(f"{status} ({result.runner}{cycles}){': ' + result.message if result.message else ''}")
        return result.exit_code
    if not (args.board and args.out):
        raise ToolkitError("usage: toolkit wokwi MODEL.tflite --board BOARD -o DIR")
    from toolkit.wokwi.project import generate_project

    info = generate_project(args.target, args.board, args.out, args.inputs)
    kind = "firmware built" if info["native"] else "Arduino sketch to build (see README.md)"
    print(f"Wokwi project for {info['board']} in {info['dir']}: {info['n_inputs']} test inputs, {kind}; files validated")
    return 0


COMMAND = Command("wokwi", "generate a Wokwi project (diagram, config, scenario) or run one headless", add_arguments, run)
