"""toolkit demo: the hello-world course end to end, with a report."""

from __future__ import annotations

import argparse
from pathlib import Path

from toolkit.commands.base import Command


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--out", default="demo-output", help="output directory (default demo-output)")
    p.add_argument("--function", default="sin")
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--finetune-epochs", type=int, default=60)
    p.add_argument("--no-tflm", action="store_true",
                   help="skip TF Lite Micro beside the generated C (its first build takes minutes; docs/tflm.md)")


def run(args: argparse.Namespace) -> int:
    from toolkit.compress.study import StudySettings
    from toolkit.demo import run_demo

    result = run_demo(Path(args.out), StudySettings(args.function, args.epochs, args.finetune_epochs),
                      tflm=not args.no_tflm)
    return 0 if all(b["passed"] for b in result["boards"]) else 1


COMMAND = Command("demo", "run the whole hello-world pipeline and write a report", add_arguments, run)
