"""toolkit train: fit the hello-world MLP to a function and save it."""

from __future__ import annotations

import argparse

from toolkit.commands import argtypes as at
from toolkit.commands.base import Command
from toolkit.summary import size_table
from toolkit.table import key_values


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--function", default="sin", type=at.function,
                   help="sin, cos, or an expression of x such as 'sin(x) + 0.5*cos(2*x)'")
    p.add_argument("-o", "--out", required=True, help="output directory")
    p.add_argument("--range", default="0,2*pi", type=at.value_range, help="x range 'a,b' (default: 0,2*pi)")
    p.add_argument("--hidden", default="16,16", type=at.hidden, help="hidden layer widths (default: 16,16)")
    p.add_argument("--epochs", type=at.positive_int, default=300, help="training epochs")
    p.add_argument("--samples", type=at.int_at_least(10), default=1000, help="samples of the function (60/20/20 split)")
    p.add_argument("--noise", type=at.nonnegative_float, default=0.0, help="standard deviation of Gaussian noise on y")
    p.add_argument("--lr", type=at.positive_float, default=0.01, help="Adam learning rate")
    p.add_argument("--seed", type=at.seed, default=0, help="seed of the data and the initialisation")
    at.add_json(p, "the test MSE, restarts and layer sizes")


def run(args: argparse.Namespace) -> int:
    from toolkit.fileio import write_json
    from toolkit.progress import Progress
    from toolkit.train import TrainConfig, train

    cfg = TrainConfig(
        function=args.function, x_range=args.range, hidden=args.hidden,
        epochs=args.epochs, samples=args.samples, noise=args.noise, lr=args.lr, seed=args.seed,
    )
    print(f"training 1-{'-'.join(map(str, cfg.hidden))}-1 on y = {args.function} over [{cfg.x_range[0]:.4g}, {cfg.x_range[1]:.4g}] "
          f"({cfg.samples} samples, {cfg.epochs} epochs, seed {cfg.seed})")
    with Progress("train", cfg.epochs, eta=True, log_updates=False) as bar:
        result = train(cfg, args.out, callbacks=[bar.keras_callback()])
    print(size_table(result.layers))
    print(key_values([
        ("test MSE (clean f)", result.test_mse),
        ("validation MSE", result.val_mse),
        ("restarts", result.restarts),
        ("written", f"{args.out}/model.keras, history.json, metrics.json, dataset.npz"),
    ]))
    if args.json:
        write_json(args.json, {"out": str(args.out), "test_mse": result.test_mse, "val_mse": result.val_mse,
                               "restarts": result.restarts, "params": result.params,
                               "layers": [{"name": layer.name, "params": layer.params} for layer in result.layers]})
    return 0


COMMAND = Command("train", "train the hello-world MLP on a function of x", add_arguments, run)
