"""toolkit train: fit the hello-world MLP to a function and save it."""

from __future__ import annotations

import argparse

from toolkit.commands.base import Command
from toolkit.errors import ToolkitError
from toolkit.functions import parse_function, parse_range
from toolkit.summary import size_table
from toolkit.table import key_values


def parse_hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise ToolkitError(f"--hidden takes layer widths such as 16,16, got '{text}'") from None
    if not sizes or any(s <= 0 for s in sizes):
        raise ToolkitError(f"--hidden needs at least one positive width, got '{text}'")
    return sizes


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--function", default="sin", help="sin, cos, or an expression of x such as 'sin(x) + 0.5*cos(2*x)'")
    p.add_argument("-o", "--out", required=True, help="output directory")
    p.add_argument("--range", default="0,2*pi", help="x range 'a,b' (default 0,2*pi)")
    p.add_argument("--hidden", default="16,16", help="hidden layer widths (default 16,16)")
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--noise", type=float, default=0.0, help="standard deviation of Gaussian noise on y")
    p.add_argument("--lr", type=float, default=0.01, help="Adam learning rate")
    p.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    from toolkit.train import TrainConfig, train

    parse_function(args.function)  # reject a bad expression before TensorFlow loads
    if args.epochs < 1 or args.samples < 10 or args.noise < 0 or args.lr <= 0:
        raise ToolkitError("need --epochs >= 1, --samples >= 10, --noise >= 0 and --lr > 0")
    cfg = TrainConfig(
        function=args.function, x_range=parse_range(args.range), hidden=parse_hidden(args.hidden),
        epochs=args.epochs, samples=args.samples, noise=args.noise, lr=args.lr, seed=args.seed,
    )
    print(f"training 1-{'-'.join(map(str, cfg.hidden))}-1 on y = {args.function} over [{cfg.x_range[0]:.4g}, {cfg.x_range[1]:.4g}] "
          f"({cfg.samples} samples, {cfg.epochs} epochs, seed {cfg.seed})")
    result = train(cfg, args.out)
    print(size_table(result.layers))
    print(key_values([
        ("test MSE (clean f)", result.test_mse),
        ("validation MSE", result.val_mse),
        ("restarts", result.restarts),
        ("written", f"{args.out}/model.keras, history.json, metrics.json, dataset.npz"),
    ]))
    return 0


COMMAND = Command("train", "train the hello-world MLP on a function of x", add_arguments, run)
