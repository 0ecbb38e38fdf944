"""Knowledge distillation for regression: a small student learns from a larger teacher.

The student minimises  alpha * MSE(y_true) + (1 - alpha) * MSE(teacher(x)).  For
squared error this equals training on the blended target alpha*y + (1-alpha)*t (up
to a constant), which is what we do. Temperature softens softmax outputs and so
applies to classifiers only; these regression models have none.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from toolkit.datasets import Dataset
from toolkit.modeldir import clean_mse


@dataclass(frozen=True)
class DistillSettings:
    hidden: tuple[int, ...] = (8, 8)
    alpha: float = 0.5  # weight of the true labels
    epochs: int = 300
    lr: float = 0.01
    batch_size: int = 32
    seed: int = 0


@dataclass
class DistillResult:
    student: object  # Keras model trained on blended targets
    direct: object  # the same student (same seed and init) trained on the labels only
    student_mse: float
    direct_mse: float
    teacher_mse: float
    history: dict


def _train_student(targets: np.ndarray, data: Dataset, s: DistillSettings, callbacks: list = ()):
    from toolkit.tf_env import import_keras
    from toolkit.train import build_mlp, fit, spread_first_layer_kinks

    keras = import_keras()
    keras.utils.set_random_seed(s.seed)
    model = build_mlp(s.hidden)
    spread_first_layer_kinks(model, data.x["train"], np.random.default_rng(s.seed))
    blended = replace(data, y={**data.y, "train": targets})
    history = fit(model, blended, s.epochs, s.lr, s.batch_size, callbacks=callbacks)
    return model, {k: [float(v) for v in vals] for k, vals in history.history.items()}


def blended_targets(teacher, data: Dataset, alpha: float) -> np.ndarray:
    if not 0.0 <= alpha <= 1.0:
        raise ValueError("alpha must be between 0 and 1")
    soft = teacher.predict(data.x["train"], verbose=0).astype(np.float32)
    return alpha * data.y["train"] + (1 - alpha) * soft


def distill_student(teacher, data: Dataset, s: DistillSettings, callbacks: list = ()) -> tuple[object, dict]:
    """The distilled student alone (no directly trained twin); returns (model, history)."""
    return _train_student(blended_targets(teacher, data, s.alpha), data, s, callbacks)


def distill(teacher, data: Dataset, s: DistillSettings, callbacks: list = ()) -> DistillResult:
    student, history = _train_student(blended_targets(teacher, data, s.alpha), data, s, callbacks)
    direct, _ = _train_student(data.y["train"], data, s, callbacks)
    return DistillResult(student, direct, clean_mse(student, data), clean_mse(direct, data), clean_mse(teacher, data), history)
