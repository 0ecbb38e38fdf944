"""toolkit compress: the standard study (baseline, int8, pruning, structured, distillation)."""

from __future__ import annotations

import argparse
from pathlib import Path

from toolkit.commands import argtypes as at
from toolkit.commands.base import Command


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--function", default="sin", type=at.function, help="function to learn (see 'toolkit train')")
    p.add_argument("-o", "--out", required=True, help="output directory, one model directory per variant")
    at.add_arch(p)
    p.add_argument("--epochs", type=at.positive_int, default=300, help="training epochs of baseline, teacher and students")
    p.add_argument("--finetune-epochs", type=at.positive_int, default=60, help="fine-tuning epochs after pruning")
    p.add_argument("--seed", type=at.seed, default=0, help="seed of the training runs")
    at.add_json(p, "the table (also written to OUT/compare.json)")


def run(args: argparse.Namespace) -> int:
    from toolkit.compare import COLUMNS, rows_json
    from toolkit.compress.study import StudySettings, run_study
    from toolkit.fileio import write_json
    from toolkit.table import render

    out = Path(args.out)
    rows = run_study(out, StudySettings(args.function, args.epochs, args.finetune_epochs, args.arch, args.seed))
    print(f"\nvariants on {args.arch} (instructions: exact counts; test MSE through TFLM/LiteRT)")
    print(render([title for _, title in COLUMNS], [r.cells() for r in rows]))
    print(f"table: {out / 'compare.json'}   plot: {out / 'tradeoff.png'}")
    if args.json:
        write_json(args.json, rows_json(rows, args.arch))
    return 0


COMMAND = Command("compress", "run the standard compression study and print one table", add_arguments, run)
