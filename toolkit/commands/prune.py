"""toolkit prune: weight, neuron or structured pruning with fine-tuning."""

from __future__ import annotations

import argparse

from toolkit.commands.base import Command
from toolkit.errors import ToolkitError
from toolkit.table import key_values

METHODS = ("weight", "neuron", "structured")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="DIR/model.keras written by 'toolkit train' (dataset.npz beside it)")
    p.add_argument("--method", choices=METHODS, required=True)
    p.add_argument("--sparsity", type=float, required=True,
                   help="weight: fraction of weights zeroed; neuron/structured: fraction of hidden units removed")
    p.add_argument("-o", "--out", required=True, help="output model directory")
    p.add_argument("--scope", choices=("layer", "global"), default="layer", help="weight pruning: per layer or global threshold")
    p.add_argument("--schedule", choices=("oneshot", "gradual"), default="oneshot", help="weight pruning schedule")
    p.add_argument("--criterion", choices=("l1", "l2", "loss"), default="l2", help="neuron importance (norms or effect on the loss)")
    p.add_argument("--epochs", type=int, default=60, help="fine-tuning epochs")
    p.add_argument("--lr", type=float, default=0.003, help="fine-tuning learning rate")


def run(args: argparse.Namespace) -> int:
    if not 0.0 <= args.sparsity < 1.0:
        raise ToolkitError(f"--sparsity must be in [0, 1), got {args.sparsity}")
    from toolkit.compress.prune import prune_model

    result = prune_model(args.model, args.method, args.sparsity, args.out, scope=args.scope, schedule=args.schedule,
                         criterion=args.criterion, epochs=args.epochs, lr=args.lr)
    print(key_values([(k.replace("_", " "), v) for k, v in result.items() if not isinstance(v, (list, dict))]))
    return 0


COMMAND = Command("prune", "prune a trained model (weights, neurons, or structured) and fine-tune it", add_arguments, run)
