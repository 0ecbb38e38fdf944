"""One trial, as a worker runs it: train once, then build and emulate on each target.

`run_task` is what every executor calls (in a pool process, a Ray worker, or inline). It
works in a temporary directory, never raises, and returns plain data: one row per target
and the model files, which the driver writes into the sweep directory. So the workers need
no shared file system, and the rows are the same whichever executor ran them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.sweep.spec import Target, Trial

if TYPE_CHECKING:
    from toolkit.train import TrainConfig

# The metric vocabulary of DESIGN.md, in the order the rows and tables show it.
METRICS = ("test_mse", "instructions", "cycles_est", "latency_us", "flash_bytes", "ram_bytes", "stack_bytes",
           "mismatches", "fits")


@dataclass(frozen=True)
class Task:
    trial: Trial
    targets: tuple[Target, ...]


@dataclass
class Outcome:
    trial: Trial
    rows: list[dict[str, Any]]
    files: dict[str, bytes] = field(default_factory=dict)  # name -> content, for DIR/trials/<id>/
    seconds: float = 0.0


def one_line(exc: BaseException) -> str:
    from toolkit.errors import ToolkitError

    text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    return text if isinstance(exc, ToolkitError) else f"{type(exc).__name__}: {text}".rstrip(": ")


def base_row(trial: Trial, target: Target) -> dict[str, Any]:
    board = target.board
    return {"trial": trial.id, "params": trial.params, "board": board.name if board else None, "arch": target.arch,
            "clock_mhz": board.clock_mhz if board else None, **{m: None for m in METRICS}, "error": None,
            "flash_limit": board.flash if board else None, "ram_limit": board.ram if board else None}


def configure_worker() -> None:
    """One TensorFlow thread per worker: the pool gives the parallelism, and a trial's
    floating-point results do not depend on how many threads the process happens to have."""
    from toolkit.tf_env import import_tf

    tf = import_tf()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow already initialised in this process (inline runs)
        pass


def run_task(task: Task) -> Outcome:
    start = time.monotonic()
    import tempfile

    try:
        configure_worker()
        with tempfile.TemporaryDirectory(prefix="toolkit-sweep-") as work:
            outcome = _run(task, Path(work))
    except Exception as exc:  # noqa: BLE001 - a trial's failure is data, the sweep goes on
        outcome = failed(task, one_line(exc))
    finally:
        _clear_session()
    outcome.seconds = round(time.monotonic() - start, 3)
    for row in outcome.rows:
        row["seconds"] = outcome.seconds
    return outcome


def failed(task: Task, error: str) -> Outcome:
    return Outcome(task.trial, [base_row(task.trial, t) | {"error": error} for t in task.targets])


def _clear_session() -> None:
    import sys

    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session()


def _run(task: Task, work: Path) -> Outcome:
    from toolkit.datasets import Dataset
    from toolkit.evaluate import mse
    from toolkit.tflite.reader import read_tflite

    p = task.trial.params
    t0 = time.monotonic()
    model_dir = build_model(p, work)
    tflite = convert(model_dir, p)
    data = Dataset.load(model_dir / "dataset.npz")
    ir = read_tflite(tflite)
    common = {"test_mse": mse(ir, tflite, data.x["test"], data.y_clean["test"]), "model_params": ir.params,
              "train_seconds": round(time.monotonic() - t0, 3)}
    x_range = (float(data.x["train"].min()), float(data.x["train"].max()))
    rows = []
    for target in task.targets:
        row = base_row(task.trial, target) | common
        try:
            row |= measure(tflite, target, work / "build" / target.name, p.get("inputs") or None, x_range)
        except Exception as exc:  # noqa: BLE001
            row["error"] = one_line(exc)
        rows.append(row)
    files = {tflite.name: tflite.read_bytes(), "model.keras": (model_dir / "model.keras").read_bytes(),
             "metrics.json": (model_dir / "metrics.json").read_bytes()}
    return Outcome(task.trial, rows, files)


def build_model(p: dict[str, Any], work: Path) -> Path:
    """Train (or distil) and prune as the options say; returns the final model directory."""
    from toolkit.functions import parse_range
    from toolkit.train import TrainConfig, train

    hidden = tuple(int(w) for w in p["hidden"].split(","))
    cfg = TrainConfig(function=p["function"], x_range=parse_range(p["range"]), hidden=hidden, epochs=p["epochs"],
                      samples=p["samples"], noise=p["noise"], lr=p["lr"], seed=p["seed"])
    if p["teacher_hidden"] == "none":
        train(cfg, work / "model")
    else:
        distil(cfg, tuple(int(w) for w in p["teacher_hidden"].split(",")), p["alpha"], work)
    if p["prune"] == "none":
        return work / "model"
    from toolkit.compress.prune import prune_model

    prune_model(work / "model" / "model.keras", p["prune"], p["sparsity"], work / "pruned",
                scope=p.get("scope", "layer"), schedule=p.get("schedule", "oneshot"), criterion=p.get("criterion", "l2"),
                epochs=p["finetune_epochs"], lr=p["finetune_lr"])
    return work / "pruned"


def distil(cfg: TrainConfig, teacher_hidden: tuple[int, ...], alpha: float, work: Path) -> None:
    from dataclasses import replace

    from toolkit.compress.distill import DistillSettings, distill_student
    from toolkit.modeldir import load_model_dir, save_model_dir
    from toolkit.train import train

    train(replace(cfg, hidden=teacher_hidden), work / "teacher")
    teacher, data = load_model_dir(work / "teacher")
    settings = DistillSettings(hidden=cfg.hidden, alpha=alpha, epochs=cfg.epochs, lr=cfg.lr, seed=cfg.seed)
    student, history = distill_student(teacher, data, settings)
    save_model_dir(work / "model", student, data, metrics={"distillation": {"teacher_hidden": list(teacher_hidden),
                                                                             "alpha": alpha}}, history=history)


def convert(model_dir: Path, p: dict[str, Any]) -> Path:
    from toolkit.convert import QuantOptions, load_keras, to_float16_tflite, to_float_tflite, to_int8_tflite
    from toolkit.datasets import Dataset
    from toolkit.fileio import atomic_write

    model = load_keras(model_dir / "model.keras")
    quant = p["quantization"]
    if quant == "int8":
        data = Dataset.load(model_dir / "dataset.npz")
        blob = to_int8_tflite(model, data.x["train"], QuantOptions(per_channel=not p["per_tensor"]))
    else:
        blob = (to_float_tflite if quant == "float32" else to_float16_tflite)(model)
    return atomic_write(model_dir / f"model_{quant}.tflite", blob)


def measure(tflite: Path, target: Target, build_dir: Path, n_inputs: int | None,
            x_range: tuple[float, float]) -> dict[str, Any]:
    """The metrics of one target; a model too big to link gives lower bounds and fits = false."""
    from toolkit.budget import TOO_BIG, budget_from, static_budget
    from toolkit.emulate import emulate
    from toolkit.errors import ToolchainError

    t0 = time.monotonic()
    try:
        report = emulate(tflite, target.arch, build_dir, n_inputs, float_range=x_range)
    except ToolchainError as exc:
        if target.board is None or not any(text in str(exc) for text in TOO_BIG):
            raise
        b = static_budget(tflite, target.board, str(exc))
        return {"flash_bytes": b.flash_bytes, "ram_bytes": b.ram_bytes, "fits": False, "lower_bound": b.lower_bound}
    m = report.to_json(target.board.clock_mhz if target.board else None)
    row = {k: m[k] for k in ("instructions", "cycles_est", "latency_us", "flash_bytes", "ram_bytes", "stack_bytes",
                             "mismatches", "max_abs_error", "timing_model")}
    row["fits"] = budget_from(report, target.board).fits if target.board else None
    row["emulate_seconds"] = round(time.monotonic() - t0, 3)
    return row

