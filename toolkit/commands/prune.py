"""toolkit prune: weight, neuron or structured pruning with fine-tuning."""

from __future__ import annotations

import argparse

from toolkit.commands import argtypes as at
from toolkit.commands.base import Command
from toolkit.table import key_values

METHODS = ("weight", "neuron", "structured")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="DIR/model.keras written by 'toolkit train' (dataset.npz beside it)")
    p.add_argument("--method", choices=METHODS, required=True, help="what to remove: %(choices)s (required)")
    p.add_argument("--sparsity", type=at.sparsity, required=True,
                   help="weight: fraction of weights zeroed; neuron/structured: fraction of hidden units removed; in [0, 1) (required)")
    p.add_argument("-o", "--out", required=True, help="output model directory")
    p.add_argument("--scope", choices=("layer", "global"), default="layer", help="weight pruning: per layer or global threshold")
    p.add_argument("--schedule", choices=("oneshot", "gradual"), default="oneshot", help="weight pruning schedule")
    p.add_argument("--criterion", choices=("l1", "l2", "loss"), default="l2", help="neuron importance (norms or effect on the loss)")
    p.add_argument("--epochs", type=at.positive_int, default=60, help="fine-tuning epochs")
    p.add_argument("--lr", type=at.positive_float, default=0.003, help="fine-tuning learning rate")
    at.add_json(p, "the pruning summary (sparsity, parameters, test MSE before and after)")


def run(args: argparse.Namespace) -> int:
    from toolkit.compress.prune import prune_model
    from toolkit.fileio import write_json
    from toolkit.progress import Progress

    with Progress(f"prune ({args.method}, {args.sparsity:g}), fine-tune", args.epochs, eta=True, log_updates=False) as bar:
        result = prune_model(args.model, args.method, args.sparsity, args.out, scope=args.scope, schedule=args.schedule,
                             criterion=args.criterion, epochs=args.epochs, lr=args.lr, callbacks=[bar.keras_callback()])
    print(key_values([(k.replace("_", " "), v) for k, v in result.items() if not isinstance(v, (list, dict))]))
    if args.json:
        write_json(args.json, result)
    return 0


COMMAND = Command("prune", "prune a trained model (weights, neurons, or structured) and fine-tune it", add_arguments, run)
