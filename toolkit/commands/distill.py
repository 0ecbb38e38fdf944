"""toolkit distill: train a small student from a teacher, and the same student directly."""

from __future__ import annotations

import argparse
from pathlib import Path

from toolkit.commands.base import Command
from toolkit.commands.train import parse_hidden
from toolkit.errors import ToolkitError
from toolkit.table import render


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--teacher", help="DIR/model.keras of a trained teacher (dataset.npz beside it)")
    src.add_argument("--function", help="train a teacher on this function first (see 'toolkit train')")
    p.add_argument("--teacher-hidden", default="64,64", help="teacher widths when training one (default 64,64)")
    p.add_argument("--hidden", default="8,8", help="student hidden widths (default 8,8)")
    p.add_argument("-o", "--out", required=True, help="output directory: the student; direct/ and teacher/ beside")
    p.add_argument("--alpha", type=float, default=0.5, help="weight of the true labels (1 - alpha: the teacher's outputs)")
    p.add_argument("--temperature", type=float, default=1.0,
                   help="softens softmax outputs; applies to classifiers only, so must stay 1 for these regression models")
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    if args.temperature != 1.0:
        raise ToolkitError("--temperature applies to softmax (classification) outputs; these regression models have none")
    if not 0.0 <= args.alpha <= 1.0:
        raise ToolkitError("--alpha must be between 0 and 1")
    from toolkit.compress.distill import DistillSettings
    from toolkit.compress.prune import distill_model

    settings = DistillSettings(hidden=parse_hidden(args.hidden), alpha=args.alpha, epochs=args.epochs, lr=args.lr, seed=args.seed)
    out = Path(args.out)
    summary = distill_model(out, settings, teacher_path=args.teacher, function=args.function,
                            teacher_hidden=parse_hidden(args.teacher_hidden))
    print(render(["model", "hidden", "params", "test MSE"], [
        ["teacher", summary["teacher_hidden"], summary["teacher_params"], summary["teacher_mse"]],
        ["student (distilled)", summary["hidden"], summary["student_params"], summary["student_mse"]],
        ["student (direct)", summary["hidden"], summary["student_params"], summary["direct_mse"]],
    ]))
    print(f"written: {out} (distilled), {out / 'direct'} (direct)")
    return 0


COMMAND = Command("distill", "distil a teacher into a smaller student", add_arguments, run)
