"""One row per model variant: size, accuracy and cost on an emulated core."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from toolkit.errors import ToolkitError

COLUMNS = (
    ("variant", "variant"), ("quant", "type"), ("params", "params"), ("nonzero_params", "nonzero"),
    ("float32_bytes", "float32 B"), ("int8_bytes", "int8 B"), ("c_const_bytes", "C const B"),
    ("flash_bytes", "flash B"), ("test_mse", "test MSE"), ("instructions", "instr/inf"),
    ("ram_bytes", "RAM B"), ("stack_bytes", "stack B"),
)


@dataclass
class VariantRow:
    variant: str
    quant: str
    params: int
    nonzero_params: int
    float32_bytes: int  # 4 bytes per parameter, dense
    int8_bytes: int  # int8 weights and int32 biases, dense (as TFLite stores them)
    c_const_bytes: int  # constants in the generated C (zero weights are not stored)
    flash_bytes: int  # the whole firmware
    test_mse: float  # against the clean function, through the reference interpreter
    instructions: int
    ram_bytes: int
    stack_bytes: int

    def cells(self) -> list:
        return [getattr(self, key) for key, _ in COLUMNS]


def ensure_tflite(model_dir: Path, quant: str) -> Path:
    path = model_dir / f"model_{quant}.tflite"
    if not path.exists():
        from toolkit.convert import convert_dir
        from toolkit.datasets import Dataset

        if not (model_dir / "model.keras").exists():
            raise ToolkitError(f"{model_dir}: no model.keras or {path.name}")
        convert_dir(model_dir / "model.keras", model_dir, Dataset.load(model_dir / "dataset.npz").x["train"])
    return path


def evaluate_variant(model_dir: str | Path, quant: str, arch: str, build_root: str | Path, name: str | None = None) -> VariantRow:
    from toolkit.codegen import generate_c
    from toolkit.datasets import Dataset
    from toolkit.emulate import emulate
    from toolkit.evaluate import mse
    from toolkit.tflite.reader import read_tflite

    model_dir = Path(model_dir)
    if not (model_dir / "dataset.npz").exists():
        raise ToolkitError(f"{model_dir}: not a model directory (no dataset.npz); use 'toolkit train', 'prune' or 'distill'")
    name = name or model_dir.name
    path = ensure_tflite(model_dir, quant)
    ir = read_tflite(path)
    data = Dataset.load(model_dir / "dataset.npz")
    constants = [t for layer in ir.layers for t in layer.constants()]
    weights = sum(t.size for layer in ir.layers for t in layer.constants()[:1])
    report = emulate(path, arch, Path(build_root) / f"{name}-{quant}-{arch}", float_range=(float(data.x["train"].min()), float(data.x["train"].max())))
    if not report.comparison.passed:
        raise ToolkitError(f"{name} ({quant}) does not match its reference on {arch}: {report.comparison.mismatches} mismatches")
    m = report.run.metrics()
    return VariantRow(
        variant=name, quant=quant, params=ir.params,
        nonzero_params=sum(int(np.count_nonzero(t.data)) for t in constants),
        float32_bytes=4 * ir.params, int8_bytes=weights + 4 * (ir.params - weights),
        c_const_bytes=generate_c(ir).const_bytes_on(arch), flash_bytes=m["flash_bytes"],
        test_mse=mse(ir, path, data.x["test"], data.y_clean["test"]),
        instructions=m["instructions"], ram_bytes=m["ram_bytes"], stack_bytes=m["stack_bytes"],
    )


def rows_json(rows: list[VariantRow], arch: str) -> dict:
    return {"arch": arch, "variants": [asdict(r) for r in rows]}


def tradeoff_plot(rows: list[VariantRow], path: str | Path, arch: str) -> Path:
    """Accuracy against flash, with marker area for instructions per inference."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from toolkit.report.labels import annotate_apart

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    biggest = max(r.instructions for r in rows) or 1
    labels = [f"{r.variant} ({r.quant})" for r in rows]
    markers = {"int8": "o", "float": "s"}
    for r in rows:
        axes[0].scatter(r.flash_bytes, r.test_mse, s=40 + 400 * r.instructions / biggest, alpha=0.6,
                        marker=markers.get(r.quant, "D"))
        axes[1].scatter(r.instructions, r.test_mse, s=60, alpha=0.7, marker=markers.get(r.quant, "D"))
    for ax, xlabel in zip(axes, ("firmware flash (bytes)", f"instructions per inference ({arch}, exact)")):
        ax.set_xlabel(xlabel)
        ax.set_ylabel("test MSE vs clean function")
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.margins(0.25)
    axes[0].set_title("accuracy vs size (marker area: instructions; o int8, ■ float)")
    axes[1].set_title("accuracy vs speed")
    fig.tight_layout()
    annotate_apart(axes[0], [r.flash_bytes for r in rows], [r.test_mse for r in rows], labels)
    annotate_apart(axes[1], [r.instructions for r in rows], [r.test_mse for r in rows], labels)
    from toolkit.fileio import atomic_path

    path = Path(path)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, format=path.suffix[1:] or "png")
    finally:
        plt.close(fig)
    return path
