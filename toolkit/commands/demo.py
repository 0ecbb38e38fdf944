"""toolkit demo: the hello-world course end to end, with a report."""

from __future__ import annotations

import argparse
from pathlib import Path

from toolkit.commands import argtypes as at
from toolkit.commands.base import Command


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--out", default="demo-output", help="output directory")
    p.add_argument("--function", default="sin", type=at.function, help="function to learn (see 'toolkit train')")
    p.add_argument("--epochs", type=at.positive_int, default=300, help="training epochs of baseline, teacher and students")
    p.add_argument("--finetune-epochs", type=at.positive_int, default=60, help="fine-tuning epochs after pruning")
    p.add_argument("--no-tflm", action="store_true",
                   help="skip TF Lite Micro beside the generated C (its first build takes minutes; docs/tflm.md)")
    at.add_json(p, "the variants, the per-board results and the time taken")


def run(args: argparse.Namespace) -> int:
    from toolkit.compress.study import StudySettings
    from toolkit.demo import run_demo
    from toolkit.fileio import write_json

    result = run_demo(Path(args.out), StudySettings(args.function, args.epochs, args.finetune_epochs),
                      tflm=not args.no_tflm)
    if args.json:
        write_json(args.json, result)
    return 0 if all(b["passed"] for b in result["boards"]) else 1


COMMAND = Command("demo", "run the whole hello-world pipeline and write a report", add_arguments, run)
