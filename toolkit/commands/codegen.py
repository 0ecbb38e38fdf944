"""toolkit codegen: .tflite -> dependency-free C (NAME.h, NAME.c)."""

from __future__ import annotations

import argparse

from toolkit.commands.base import Command
from toolkit.table import key_values


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a .tflite file")
    p.add_argument("-o", "--out", required=True, help="output directory")
    p.add_argument("--name", default="model", help="C prefix and file name (default: model)")
    p.add_argument("--sparse", choices=("auto", "sparse", "dense"), default="auto",
                   help="zero weights: a sparse encoding where it saves instructions and flash (auto), always, or never")
    p.add_argument("--no-fold", action="store_true", help="keep units that pruning made constant or unused")


def run(args: argparse.Namespace) -> int:
    from toolkit.codegen import generate_c, write_c
    from toolkit.tflite.reader import read_tflite

    model = read_tflite(args.model)
    gen = generate_c(model, args.name, sparse=args.sparse, fold=not args.no_fold)
    header, source = write_c(gen, args.out)
    for i, layer in enumerate(model.layers):
        print(f"  {i}: {layer.describe()}")
    print(key_values([
        ("input", f"{model.input.dtype} {list(model.input.shape)}"),
        ("output", f"{model.output.dtype} {list(model.output.shape)}"),
        ("parameters", model.params),
        ("MACs / inference", model.macs),
        ("constant bytes (flash)", gen.const_bytes),
        ("arena bytes (RAM)", gen.arena_bytes),
        ("written", f"{header}, {source}"),
    ]))
    return 0


COMMAND = Command("codegen", "generate C inference code from a .tflite model", add_arguments, run)
