"""toolkit codegen: .tflite -> dependency-free C (NAME.h, NAME.c)."""

from __future__ import annotations

import argparse

from toolkit.commands import argtypes as at
from toolkit.commands.base import Command
from toolkit.table import key_values


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a .tflite file")
    p.add_argument("-o", "--out", required=True, help="output directory")
    p.add_argument("--name", default="model", type=c_name, help="C prefix and file name (default: model)")
    p.add_argument("--sparse", choices=("auto", "sparse", "dense"), default="auto",
                   help="zero weights: a sparse encoding where it saves instructions and flash (auto), always, or never")
    p.add_argument("--no-fold", action="store_true", help="keep units that pruning made constant or unused")
    p.add_argument("--layer-markers", action="store_true",
                   help="a TM_LAYER(i) marker before each op (a nop the emulator watches; define TM_LAYER to time ops on a board)")
    at.add_json(p, "the model's sizes and the files written")


def c_name(text: str) -> str:
    if not text.isidentifier() or not text.isascii():
        raise argparse.ArgumentTypeError(f"must be a C identifier (letters, digits, _), got '{text}'")
    return text


def run(args: argparse.Namespace) -> int:
    from toolkit.codegen import generate_c, write_c
    from toolkit.fileio import write_json
    from toolkit.tflite.reader import read_tflite

    model = read_tflite(args.model)
    gen = generate_c(model, args.name, sparse=args.sparse, fold=not args.no_fold, layer_markers=args.layer_markers)
    header, source = write_c(gen, args.out)
    for i, op in enumerate(gen.model.ops):
        print(f"  {i}: {op.describe()}")
    plan = gen.plan
    scratch = f", incl. {plan.scratch_bytes:,} B kernel scratch" if plan.scratch_bytes else ""
    print(key_values([
        *((f"input {k}" if len(model.inputs) > 1 else "input", f"{t.dtype} {list(t.shape)}") for k, t in enumerate(model.inputs)),
        *((f"output {k}" if len(model.outputs) > 1 else "output", f"{t.dtype} {list(t.shape)}") for k, t in enumerate(model.outputs)),
        ("parameters", model.params),
        ("MACs / inference", model.macs),
        ("constant bytes (flash)", gen.const_bytes),
        ("arena bytes (RAM)", f"{gen.arena_bytes:,} (lower bound {plan.lower_bound:,}: the most bytes alive at once{scratch})"),
        ("written", f"{header}, {source}"),
    ]))
    if args.json:
        write_json(args.json, {"params": model.params, "macs": model.macs, "const_bytes": gen.const_bytes,
                               "arena_bytes": gen.arena_bytes, "arena_lower_bound": plan.lower_bound,
                               "scratch_bytes": plan.scratch_bytes, "header": str(header), "source": str(source)})
    return 0


COMMAND = Command("codegen", "generate C inference code from a .tflite model", add_arguments, run)
