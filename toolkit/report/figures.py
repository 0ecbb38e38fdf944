"""The report's plots (matplotlib, saved as PNG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from toolkit.report.data import Predictions


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    from toolkit.fileio import atomic_path

    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=100, format=path.suffix[1:] or "png")
    finally:
        _plt().close(fig)
    return path


def loss_curves(history: dict, path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for key, label in (("loss", "training"), ("val_loss", "validation")):
        if key in history:
            ax.plot(np.arange(1, len(history[key]) + 1), history[key], label=label)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE")
    ax.set_title("Training loss")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return _save(fig, path)


def predictions(p: Predictions, function: str, path: Path) -> Path:
    """The four series overlap where the model is good: each gets its own style (thick line,
    dashes, steps, markers), and the lower panel shows how far each is from the function."""
    plt = _plt()
    fig, (ax, diff) = plt.subplots(2, 1, figsize=(7, 5.2), sharex=True, height_ratios=(3, 1.4))
    order = np.argsort(p.x)
    x = p.x[order]
    ax.plot(x, p.y_true[order], color="0.55", lw=5, alpha=0.6, label=f"y = {function}", zorder=1)
    ax.plot(x, p.y_float[order], color="tab:blue", lw=1.6, ls="--", label="float32 .tflite (LiteRT)", zorder=2)
    ax.step(x, p.y_int8[order], where="mid", color="tab:orange", lw=1.2, label="int8 .tflite (TFLM)", zorder=3)
    ax.plot(x[::4], p.y_emulated[order][::4], "x", color="tab:green", ms=4, mew=1,
            label=f"generated C on {p.arch} (emulated; every 4th input)", zorder=4)
    ax.set_ylabel("y")
    ax.set_title("Model against the function")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    diff.plot(x, (p.y_float - p.y_true)[order], color="tab:blue", ls="--", lw=1, label="float32 - f(x)")
    diff.step(x, (p.y_int8 - p.y_true)[order], where="mid", color="tab:orange", lw=1, label="int8 - f(x)")
    diff.plot(x, (p.y_emulated - p.y_int8)[order], color="tab:green", lw=1.5, label="generated C - int8 (0: bit-exact)")
    diff.axhline(0, color="k", lw=0.6)
    diff.set_xlabel("x")
    diff.set_ylabel("difference")
    diff.grid(True, alpha=0.3)
    diff.legend(fontsize=7, ncols=3, loc="upper center")
    return _save(fig, path)


def errors(p: Predictions, path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.4))
    order = np.argsort(p.x)
    ax.plot(p.x[order], (p.y_float - p.y_true)[order], label="float32 - f(x)")
    ax.plot(p.x[order], (p.y_emulated - p.y_true)[order], label=f"int8 C on {p.arch} - f(x)")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("x")
    ax.set_ylabel("error")
    ax.set_title("Error against x")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def variants(rows: list[dict], path: Path) -> Path:
    plt = _plt()
    labels = [f"{r['variant'].split(' ')[0]}\n{r['quant']}" for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.2))
    colours = {"int8": "tab:blue", "float": "tab:orange"}
    for ax, key, title, log in ((axes[0], "flash_bytes", "flash (bytes)", False),
                                (axes[1], "instructions", "instructions / inference (exact)", False),
                                (axes[2], "test_mse", "test MSE (log)", True)):
        ax.bar(range(len(rows)), [r[key] for r in rows], color=[colours.get(r["quant"], "tab:gray") for r in rows])
        ax.set_xticks(range(len(rows)), labels, fontsize=7, rotation=45, ha="right")
        ax.set_title(title)
        if log:
            ax.set_yscale("log")
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle("Compression variants (blue: int8, orange: float)")
    return _save(fig, path)


def memory(rows: list[dict], path: Path) -> Path:
    """Used flash and RAM as a share of each board's limit."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.5))
    names = [r["board"] for r in rows]
    flash = [100 * r["flash_bytes"] / r["flash_limit"] for r in rows]
    ram = [100 * (r["ram_bytes"] + r["stack_bytes"]) / r["ram_limit"] for r in rows]
    y = np.arange(len(rows))
    ax.barh(y - 0.2, flash, 0.4, label="flash used")
    ax.barh(y + 0.2, ram, 0.4, label="RAM used (static + stack)")
    ax.axvline(100, color="red", lw=1)
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("% of the board's limit (red line: 100 %)")
    ax.set_title("Memory against each board")
    ax.legend(fontsize=8)
    ax.grid(True, axis="x", alpha=0.3)
    return _save(fig, path)


def network(widths: list[int], path: Path) -> Path:
    """Neurons as circles, layers as columns, parameters per layer underneath."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4.2))
    shown = [min(w, 16) for w in widths]
    xs = np.arange(len(widths)) * 3.0
    positions = [np.linspace(-(n - 1) / 2, (n - 1) / 2, n) for n in shown]
    for i in range(len(widths) - 1):
        for ya in positions[i]:
            for yb in positions[i + 1]:
                ax.plot([xs[i], xs[i + 1]], [ya, yb], color="0.8", lw=0.4, zorder=1)
    params = [0] + [a * b + b for a, b in zip(widths, widths[1:])]
    for i, (x, ys) in enumerate(zip(xs, positions)):
        ax.scatter([x] * len(ys), ys, s=60, color="tab:orange" if 0 < i < len(widths) - 1 else "tab:blue", zorder=2)
        kind = "input" if i == 0 else ("output" if i == len(widths) - 1 else "dense, ReLU")
        ax.text(x, -max(shown) / 2 - 1.6, f"{kind}\n{widths[i]} units\n{params[i]} params", ha="center", va="top", fontsize=9)
    total = " + ".join(map(str, params)) + f" = {sum(params)}"
    ax.set_title(f"Network {'-'.join(map(str, widths))}: {total} parameters")
    ax.axis("off")
    ax.set_ylim(-max(shown) / 2 - 4.2, max(shown) / 2 + 1)
    return _save(fig, path)


def engines(rows: list[dict], path: Path) -> Path:
    """Instructions, flash and RAM per engine (generated C, TFLM, TFLM + CMSIS-NN) on each board."""
    plt = _plt()
    boards = list(dict.fromkeys(r["board"] for r in rows))
    names = list(dict.fromkeys(r["engine"] for r in rows))
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    width = 0.8 / max(1, len(names))
    x = np.arange(len(boards))
    for ax, key, title in ((axes[0], "instructions", "instructions / inference"), (axes[1], "flash_bytes", "flash (bytes)"),
                           (axes[2], "ram_bytes", "RAM: data + bss (bytes)")):
        for i, engine in enumerate(names):
            by_board = {r["board"]: r[key] for r in rows if r["engine"] == engine}
            ax.bar(x + (i - (len(names) - 1) / 2) * width, [by_board.get(b) or 0 for b in boards], width, label=engine)
        ax.set_xticks(x, boards, fontsize=7, rotation=30, ha="right")
        ax.set_yscale("log")
        ax.set_ylim(bottom=max(1, min((r[key] for r in rows if r.get(key)), default=10) / 10))  # bars comparable
        ax.set_title(title)
        ax.grid(True, axis="y", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("TF Lite Micro vs generated C (log scale)")
    return _save(fig, path)
