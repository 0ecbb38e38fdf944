"""toolkit compare: one table row per model variant, measured on an emulated core."""

from __future__ import annotations

import argparse
from pathlib import Path

from toolkit.commands import argtypes as at
from toolkit.commands.base import Command


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("models", nargs="+", help="model directories (from train, prune, distill)")
    at.add_arch(p)
    p.add_argument("--quant", choices=("int8", "float", "float16", "both"), default="both",
                   help="which .tflite of each directory (both: float and int8)")
    p.add_argument("--build-dir", default="build/compare", help="where firmware is kept")
    at.add_json(p, "the table")
    p.add_argument("--plot", help="save the accuracy / size / instructions plot to this image")


def run(args: argparse.Namespace) -> int:
    from toolkit.compare import COLUMNS, evaluate_variant, rows_json, tradeoff_plot
    from toolkit.errors import ToolkitError
    from toolkit.fileio import write_json
    from toolkit.progress import Progress
    from toolkit.table import render

    for d in args.models:  # every directory, before the first build
        if not (Path(d) / "dataset.npz").exists():
            raise ToolkitError(f"{d}: not a model directory (no dataset.npz); use 'toolkit train', 'prune' or 'distill'")
    quants = ("float", "int8") if args.quant == "both" else (args.quant,)
    rows = []
    with Progress(f"convert, build and emulate on {args.arch}", len(args.models) * len(quants), eta=True,
                  log_updates=False) as bar:
        for d in args.models:
            for q in quants:
                rows.append(evaluate_variant(Path(d), q, args.arch, args.build_dir))
                bar.update(note=f"{Path(d).name} ({q})")
    print(f"variants on {args.arch} (instructions: exact counts; test MSE through TFLM/LiteRT)")
    print(render([title for _, title in COLUMNS], [r.cells() for r in rows]))
    if args.json:
        write_json(args.json, rows_json(rows, args.arch))
    if args.plot:
        print(f"plot: {tradeoff_plot(rows, args.plot, args.arch)}")
    return 0


COMMAND = Command("compare", "compare model variants: size, accuracy, instructions, memory", add_arguments, run)
