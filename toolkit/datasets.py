"""Noisy samples of a target function, split into train / validation / test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toolkit.functions import TargetFunction

SPLITS = ("train", "val", "test")


@dataclass
class Dataset:
    x: dict[str, np.ndarray]  # split -> inputs, shape [n, 1], float32
    y: dict[str, np.ndarray]  # split -> noisy targets
    y_clean: dict[str, np.ndarray]  # split -> f(x) without noise

    def save(self, path: str | Path) -> None:
        from toolkit.fileio import atomic_write
        import io

        buf = io.BytesIO()
        arrays = {f"{kind}_{s}": getattr(self, kind)[s] for kind in ("x", "y", "y_clean") for s in SPLITS}
        np.savez(buf, **arrays)
        atomic_write(path, buf.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> "Dataset":
        from toolkit.fileio import load_npz

        data = load_npz(path, tuple(f"{kind}_{s}" for kind in ("x", "y", "y_clean") for s in SPLITS))
        return cls(*({s: data[f"{kind}_{s}"] for s in SPLITS} for kind in ("x", "y", "y_clean")))


def make_dataset(
    fn: TargetFunction,
    samples: int,
    x_range: tuple[float, float],
    noise: float = 0.0,
    seed: int = 0,
    fractions: tuple[float, float] = (0.6, 0.2),
) -> Dataset:
    """x uniform on the range, y = f(x) + N(0, noise²); 60/20/20 split by default."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(*x_range, size=samples)
    clean = fn(x)
    noisy = clean + (rng.normal(0.0, noise, size=samples) if noise > 0 else 0.0)
    n_train = int(samples * fractions[0])
    n_val = int(samples * fractions[1])
    cuts = {"train": slice(0, n_train), "val": slice(n_train, n_train + n_val), "test": slice(n_train + n_val, samples)}
    col = lambda a: a.astype(np.float32).reshape(-1, 1)  # noqa: E731
    return Dataset(
        x={s: col(x[c]) for s, c in cuts.items()},
        y={s: col(noisy[c]) for s, c in cuts.items()},
        y_clean={s: col(clean[c]) for s, c in cuts.items()},
    )
