"""Everything the report shows, read from a run directory (computed where missing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toolkit.errors import ToolkitError


@dataclass
class Predictions:
    x: np.ndarray  # inputs: every int8 input value, dequantized
    y_true: np.ndarray  # the clean function
    y_float: np.ndarray  # float .tflite (LiteRT)
    y_int8: np.ndarray  # int8 .tflite (TFLM interpreter)
    y_emulated: np.ndarray  # generated C on the emulated core, dequantized
    arch: str

    KEYS = ("x", "y_true", "y_float", "y_int8", "y_emulated", "arch")

    def save(self, path: Path) -> None:
        import io

        from toolkit.fileio import atomic_write

        buf = io.BytesIO()
        np.savez(buf, x=self.x, y_true=self.y_true, y_float=self.y_float, y_int8=self.y_int8,
                 y_emulated=self.y_emulated, arch=np.array(self.arch))
        atomic_write(path, buf.getvalue())

    @classmethod
    def load(cls, path: Path) -> "Predictions":
        """DamagedFile (toolkit.fileio) when the file is truncated or incomplete."""
        from toolkit.fileio import load_npz

        d = load_npz(path, cls.KEYS)
        return cls(d["x"], d["y_true"], d["y_float"], d["y_int8"], d["y_emulated"], str(d["arch"]))


@dataclass
class RunData:
    run_dir: Path
    model_dir: Path
    history: dict | None = None
    metrics: dict = field(default_factory=dict)
    config: dict | None = None
    widths: list[int] = field(default_factory=list)
    predictions: Predictions | None = None
    variants: list[dict] = field(default_factory=list)  # compare.json rows
    boards: list[dict] = field(default_factory=list)  # per-board emulation of the int8 model
    budget: list[dict] = field(default_factory=list)  # budget rows per board/profile
    engines: list[dict] = field(default_factory=list)  # TFLM vs generated C per board (tflm.json)
    deployment: list[dict] = field(default_factory=list)  # on-chip figures per board/core (report/deployment.py)


def model_dir_of(run_dir: Path) -> Path:
    for candidate in (run_dir, run_dir / "baseline"):
        if (candidate / "model.keras").exists() or (candidate / "model_int8.tflite").exists():
            return candidate
    raise ToolkitError(f"{run_dir}: no model here (expected model.keras or baseline/model.keras from 'toolkit train' or 'toolkit demo')")


def _json(path: Path):
    """The JSON in `path`, None when absent; a damaged file is one line (DamagedFile)."""
    from toolkit.fileio import read_json

    return read_json(path)


def compute_predictions(model_dir: Path, arch: str = "cortex-m4") -> Predictions:
    """Float, int8 and emulated-C outputs on every int8 input value."""
    from toolkit.emulate import emulate
    from toolkit.evaluate import predict
    from toolkit.functions import parse_function
    from toolkit.ops.quantize import dequantize_s8
    from toolkit.tflite.reader import read_tflite
    from toolkit.validation import reference_outputs

    q_path, f_path = model_dir / "model_int8.tflite", model_dir / "model_float.tflite"
    if not q_path.exists() or not f_path.exists():
        raise ToolkitError(f"{model_dir}: run 'toolkit convert' first (model_float.tflite and model_int8.tflite)")
    q = read_tflite(q_path)
    if q.input.size != 1 or q.output.size != 1:
        raise ToolkitError("the prediction plots need a one-input, one-output model")
    report = emulate(q_path, arch, model_dir / "build" / f"report-{arch}")
    inputs = np.arange(-128, 128, dtype=np.int8).reshape(-1, 1)
    x = dequantize_s8(inputs, q.input.scale, q.input.zero_point).reshape(-1)
    _, ref = reference_outputs(q, q_path, inputs)
    emulated = report.run.outputs_array(np.int8).reshape(-1)
    cfg = _json(model_dir / "train_config.json") or {"function": "sin"}
    return Predictions(
        x=x,
        y_true=parse_function(cfg["function"])(x.astype(np.float64)),
        y_float=predict(read_tflite(f_path), f_path, x.reshape(-1, 1)).reshape(-1),
        y_int8=dequantize_s8(ref.reshape(-1), q.output.scale, q.output.zero_point),
        y_emulated=dequantize_s8(emulated, q.output.scale, q.output.zero_point),
        arch=arch,
    )


def _predictions(path: Path, model_dir: Path) -> Predictions | None:
    """predictions.npz, computed (again) when missing or damaged and the int8 model is there."""
    import sys

    from toolkit.fileio import DamagedFile

    if path.exists():
        try:
            return Predictions.load(path)
        except DamagedFile as exc:
            print(f"note: {exc.args[0].split(';')[0]}: computing it again", file=sys.stderr)
    if not (model_dir / "model_int8.tflite").exists():
        return None
    predictions = compute_predictions(model_dir)
    predictions.save(path)
    return predictions


def load_run(run_dir: str | Path) -> RunData:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ToolkitError(f"{run_dir}: not a directory")
    model_dir = model_dir_of(run_dir)
    data = RunData(run_dir=run_dir, model_dir=model_dir)
    data.history = _json(model_dir / "history.json")
    data.metrics = _json(model_dir / "metrics.json") or {}
    data.config = _json(model_dir / "train_config.json")
    layers = data.metrics.get("layers") or []
    data.widths = [layers[0]["inputs"], *(layer["outputs"] for layer in layers)] if layers else []
    data.predictions = _predictions(run_dir / "predictions.npz", model_dir)
    data.variants = (_json(run_dir / "compare.json") or {}).get("variants", [])
    data.boards = _json(run_dir / "boards.json") or []
    data.budget = _json(run_dir / "budget.json") or []
    data.engines = _json(run_dir / "tflm.json") or []
    from toolkit.report.deployment import load_deployment

    data.deployment = load_deployment(run_dir, model_dir, data.boards)
    return data
