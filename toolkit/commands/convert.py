"""toolkit convert: Keras model -> model_float.tflite, model_float16.tflite (float16 weights) and model_int8.tflite."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from toolkit.commands import argtypes as at
from toolkit.commands.base import Command
from toolkit.errors import ToolkitError
from toolkit.table import render


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a Keras model (.keras), e.g. DIR/model.keras from 'toolkit train'")
    p.add_argument("-o", "--out", help="output directory (default: the model's directory)")
    p.add_argument("--per-tensor", action="store_true", help="one weight scale per tensor instead of per channel")
    p.add_argument("--range", type=at.range_text,
                   help="x range 'a,b' for representative inputs when no dataset.npz is beside the model")
    at.add_json(p, "the files, their sizes and test MSE (also written to conversion.json)")


def representative_inputs(model_path: Path, range_text: str | None) -> tuple[np.ndarray, object]:
    from toolkit.datasets import Dataset

    dataset_path = model_path.parent / "dataset.npz"
    if dataset_path.exists() and not range_text:
        data = Dataset.load(dataset_path)
        return data.x["train"], data
    if not range_text:
        raise ToolkitError(f"no dataset.npz beside {model_path}: pass --range a,b for the representative inputs")
    from toolkit.functions import parse_range

    lo, hi = parse_range(range_text)
    return np.random.default_rng(0).uniform(lo, hi, size=(500, 1)).astype(np.float32), None


def run(args: argparse.Namespace) -> int:
    from toolkit.convert import QuantOptions, convert_dir
    from toolkit.evaluate import mse
    from toolkit.fileio import write_json
    from toolkit.tflite.reader import read_tflite

    model_path = Path(args.model)
    if not model_path.exists():
        raise ToolkitError(f"{model_path}: no such file")
    out_dir = Path(args.out) if args.out else model_path.parent
    rep, data = representative_inputs(model_path, args.range)
    paths = convert_dir(model_path, out_dir, rep, QuantOptions(per_channel=not args.per_tensor))
    rows, summary = [], {}
    for kind, path in paths.items():
        ir = read_tflite(path)
        entry = {"path": str(path), "bytes": path.stat().st_size, "weight_bytes": ir.weight_bytes}
        if data is not None:
            entry["test_mse"] = mse(ir, path, data.x["test"], data.y_clean["test"])
        summary[kind] = entry
        rows.append([path.name, entry["bytes"], entry["weight_bytes"], entry.get("test_mse", "-")])
    write_json(out_dir / "conversion.json", summary)
    print(render(["file", "bytes", "weights+biases B", "test MSE"], rows))
    if args.json:
        write_json(args.json, summary)
    return 0


COMMAND = Command("convert", "convert a Keras model to float32, float16-weight and int8 .tflite files", add_arguments, run)
