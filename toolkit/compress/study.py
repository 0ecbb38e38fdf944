"""The standard compression study: one baseline, its compressed variants, one table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toolkit.compare import VariantRow, ensure_tflite, evaluate_variant, rows_json, tradeoff_plot
from toolkit.compress.distill import DistillSettings
from toolkit.compress.prune import distill_model, prune_model
from toolkit.fileio import write_json
from toolkit.progress import Progress


@dataclass(frozen=True)
class StudySettings:
    function: str = "sin"
    epochs: int = 300  # baseline, teacher and students
    finetune_epochs: int = 60  # after pruning
    arch: str = "cortex-m4"
    seed: int = 0


# (directory, what it is, which .tflite) in table order
VARIANTS: tuple[tuple[str, str, str], ...] = (
    ("baseline", "float", "float"),
    ("baseline", "int8", "int8"),
    ("pruned50", "50% weights pruned", "int8"),
    ("pruned80", "80% weights pruned", "int8"),
    ("structured", "16-16 -> 8-8", "int8"),
    ("distilled", "8-8 student of 64-64", "int8"),
    ("distilled/direct", "8-8 trained directly", "int8"),
)


def run_study(out: Path, s: StudySettings) -> list[VariantRow]:
    from toolkit.train import TrainConfig, train

    base = out / "baseline" / "model.keras"
    with Progress("train the 1-16-16-1 baseline", s.epochs, eta=True, log_updates=False) as bar:
        train(TrainConfig(function=s.function, epochs=s.epochs, seed=s.seed), out / "baseline", callbacks=[bar.keras_callback()])
    with Progress("prune 50% of the weights, fine-tune", s.finetune_epochs, eta=True, log_updates=False) as bar:
        prune_model(base, "weight", 0.5, out / "pruned50", epochs=s.finetune_epochs, callbacks=[bar.keras_callback()])
    with Progress("prune 80% of the weights (gradual)", s.finetune_epochs, eta=True, log_updates=False) as bar:
        prune_model(base, "weight", 0.8, out / "pruned80", schedule="gradual", epochs=s.finetune_epochs, callbacks=[bar.keras_callback()])
    with Progress("structured pruning to 8-8, fine-tune", s.finetune_epochs, eta=True, log_updates=False) as bar:
        prune_model(base, "structured", 0.5, out / "structured", epochs=s.finetune_epochs, callbacks=[bar.keras_callback()])
    with Progress("distil a 64-64 teacher into 8-8", 3 * s.epochs, eta=True, log_updates=False) as bar:
        distill_model(out / "distilled", DistillSettings(hidden=(8, 8), epochs=s.epochs, seed=s.seed), function=s.function,
                      callbacks=[bar.keras_callback()])
    rows = []
    with Progress(f"convert, build and emulate on {s.arch}", len(VARIANTS)) as bar:
        for directory, label, quant in VARIANTS:
            ensure_tflite(out / directory, quant)
            row = evaluate_variant(out / directory, quant, s.arch, out / "build", name=directory.replace("/", "-"))
            row.variant = directory if label in ("float", "int8") else f"{directory} ({label})"
            rows.append(row)
            bar.update()
    write_json(out / "compare.json", rows_json(rows, s.arch))
    tradeoff_plot(rows, out / "tradeoff.png", s.arch)
    return rows
