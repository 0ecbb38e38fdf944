"""Prune or distil a model directory into a new model directory."""

from __future__ import annotations

from pathlib import Path

from toolkit.compress.distill import DistillSettings, distill
from toolkit.compress.masks import dense_layers, sparsity_of
from toolkit.compress.neurons import NeuronSettings, prune_neurons, prune_structured
from toolkit.compress.weights import PruneSettings, layer_sparsity, prune_weights
from toolkit.fileio import write_json
from toolkit.modeldir import keras_params, load_model_dir, save_model_dir


def prune_model(model_path: str | Path, method: str, sparsity: float, out_dir: str | Path, *, scope: str = "layer",
                schedule: str = "oneshot", criterion: str = "l2", epochs: int = 60, lr: float = 0.003,
                callbacks: list = ()) -> dict:
    model, data = load_model_dir(model_path)
    params_before, _ = keras_params(model)
    info: dict = {"method": method, "requested_sparsity": sparsity}
    if method == "weight":
        history = prune_weights(model, data, PruneSettings(sparsity, scope, schedule, epochs, lr), callbacks)
        info["weight_sparsity"] = sparsity_of([layer.get_weights()[0] for layer in dense_layers(model)])
        info["layer_sparsity"] = layer_sparsity(model)
    elif method == "neuron":
        history, kept = prune_neurons(model, data, NeuronSettings(sparsity, criterion, epochs, lr), callbacks)
        info["kept_units"] = [len(k) for k in kept]
    elif method == "structured":
        model, history = prune_structured(model, data, NeuronSettings(sparsity, criterion, epochs, lr), callbacks)
        info["hidden"] = [layer.units for layer in dense_layers(model)[:-1]]
    else:
        raise ValueError(f"unknown pruning method {method!r}")
    params, nonzero = keras_params(model)
    info |= {"params_before": params_before, "params": params, "nonzero_params": nonzero}
    save_model_dir(out_dir, model, data, metrics={"compression": info}, history=history)
    info["test_mse"] = _metrics(out_dir)["test_mse"]
    return info


def distill_model(out_dir: Path, settings: DistillSettings, teacher_path: str | None = None, function: str | None = None,
                  teacher_hidden: tuple[int, ...] = (64, 64), callbacks: list = ()) -> dict:
    if teacher_path is None:
        from toolkit.train import TrainConfig, train

        train(TrainConfig(function=function or "sin", hidden=teacher_hidden, epochs=settings.epochs, seed=settings.seed),
              out_dir / "teacher", callbacks=callbacks)
        teacher_path = str(out_dir / "teacher" / "model.keras")
    teacher, data = load_model_dir(teacher_path)
    result = distill(teacher, data, settings, callbacks)
    summary = {
        "alpha": settings.alpha,
        "epochs": settings.epochs,
        "hidden": ",".join(map(str, settings.hidden)),
        "teacher_hidden": ",".join(str(layer.units) for layer in dense_layers(teacher)[:-1]),
        "teacher_params": keras_params(teacher)[0],
        "student_params": keras_params(result.student)[0],
        "teacher_mse": result.teacher_mse,
        "student_mse": result.student_mse,
        "direct_mse": result.direct_mse,
    }
    save_model_dir(out_dir, result.student, data, metrics={"distillation": summary}, history=result.history)
    save_model_dir(out_dir / "direct", result.direct, data, metrics={"distillation": summary | {"role": "direct"}})
    write_json(out_dir / "distill.json", summary)
    return summary


def _metrics(out_dir: str | Path) -> dict:
    from toolkit.fileio import read_json

    return read_json(Path(out_dir) / "metrics.json", missing={})
