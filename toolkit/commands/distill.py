"""toolkit distill: train a small student from a teacher, and the same student directly."""

from __future__ import annotations

import argparse
from pathlib import Path

from toolkit.commands import argtypes as at
from toolkit.commands.base import Command
from toolkit.errors import ToolkitError
from toolkit.table import render


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--teacher", help="DIR/model.keras of a trained teacher (dataset.npz beside it)")
    src.add_argument("--function", type=at.function, help="train a teacher on this function first (see 'toolkit train')")
    p.add_argument("--teacher-hidden", default="64,64", type=at.hidden, help="teacher widths when training one (default: 64,64)")
    p.add_argument("--hidden", default="8,8", type=at.hidden, help="student hidden widths (default: 8,8)")
    p.add_argument("-o", "--out", required=True, help="output directory: the student; direct/ and teacher/ beside")
    p.add_argument("--alpha", type=at.fraction, default=0.5, help="weight of the true labels (1 - alpha: the teacher's outputs)")
    p.add_argument("--temperature", type=at.positive_float, default=1.0,
                   help="softens softmax outputs; applies to classifiers only, so must stay 1 for these regression models")
    p.add_argument("--epochs", type=at.positive_int, default=300, help="training epochs of the teacher and of each student")
    p.add_argument("--lr", type=at.positive_float, default=0.01, help="Adam learning rate")
    p.add_argument("--seed", type=at.seed, default=0, help="seed of the initialisation")
    at.add_json(p, "the teacher's and students' sizes and test MSE")


def run(args: argparse.Namespace) -> int:
    if args.temperature != 1.0:
        raise ToolkitError("--temperature applies to softmax (classification) outputs; these regression models have none")
    from toolkit.compress.distill import DistillSettings
    from toolkit.compress.prune import distill_model
    from toolkit.fileio import write_json
    from toolkit.progress import Progress

    settings = DistillSettings(hidden=args.hidden, alpha=args.alpha, epochs=args.epochs, lr=args.lr, seed=args.seed)
    out = Path(args.out)
    fits = 2 if args.teacher else 3  # (the teacher,) the distilled student, the direct one
    label = ("train a teacher, " if args.function else "") + "distil a student, train it directly"
    with Progress(label, fits * args.epochs, eta=True, log_updates=False) as bar:
        summary = distill_model(out, settings, teacher_path=args.teacher, function=args.function,
                                teacher_hidden=args.teacher_hidden, callbacks=[bar.keras_callback()])
    print(render(["model", "hidden", "params", "test MSE"], [
        ["teacher", summary["teacher_hidden"], summary["teacher_params"], summary["teacher_mse"]],
        ["student (distilled)", summary["hidden"], summary["student_params"], summary["student_mse"]],
        ["student (direct)", summary["hidden"], summary["student_params"], summary["direct_mse"]],
    ]))
    print(f"written: {out} (distilled), {out / 'direct'} (direct)")
    if args.json:
        write_json(args.json, summary)
    return 0


COMMAND = Command("distill", "distil a teacher into a smaller student", add_arguments, run)
