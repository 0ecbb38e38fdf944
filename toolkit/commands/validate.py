"""toolkit validate: run the generated C and compare with the reference interpreter."""

from __future__ import annotations

import argparse
import tempfile

from toolkit.commands import argtypes as at
from toolkit.commands.base import Command
from toolkit.table import key_values


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a .tflite file")
    p.add_argument("--host", action="store_true",
                   help="compile with the host C compiler and run natively (the default and only target; "
                        "emulated cores: 'toolkit emulate')")
    p.add_argument("--inputs", type=at.positive_int, help="number of inputs (default: all 256 for one int8 input, else 1000)")
    p.add_argument("--seed", type=at.seed, default=0, help="seed of the random inputs")
    p.add_argument("--input-range", default="-8,8", type=at.range_text, help="range of random float inputs (default: -8,8)")
    at.add_json(p)


def run(args: argparse.Namespace) -> int:
    from toolkit.codegen import generate_c
    from toolkit.fileio import write_json
    from toolkit.functions import parse_range
    from toolkit.hostbuild import build_host
    from toolkit.tflite.reader import read_tflite
    from toolkit.validation import compare, default_n_inputs, make_inputs, reference_outputs

    model = read_tflite(args.model)
    inputs = make_inputs(model, default_n_inputs(model, args.inputs), args.seed, parse_range(args.input_range))
    with tempfile.TemporaryDirectory(prefix="toolkit-host-") as work:
        ours = build_host(generate_c(model), work).invoke(inputs)
    reference, ref = reference_outputs(model, args.model, inputs)
    result = compare(model, ours, ref, reference)
    print(key_values([
        ("model", args.model),
        ("target", "host"),
        ("reference", {"tflm": "TFLM interpreter (bit-exact)", "litert": "LiteRT (tolerance 1e-5)"}[reference]),
        ("inputs", result.n_inputs),
        ("mismatches", result.mismatches),
        ("max_abs_error", result.max_abs_error),
        ("result", "PASS" if result.passed else "FAIL"),
    ]))
    if args.json:
        write_json(args.json, {"target": "host", **result.to_json()})
    return 0 if result.passed else 1


COMMAND = Command("validate", "check generated C against the reference interpreter", add_arguments, run)
