"""Plot annotations that do not overprint each other, and the report's column names."""

from __future__ import annotations

from collections.abc import Sequence

# Metric keys (DESIGN.md's vocabulary) as a reader sees them in the report's tables.
COLUMNS = {
    "board": "board", "arch": "core", "engine": "engine", "model": "model", "variant": "variant", "quant": "weights",
    "params": "parameters", "nonzero_params": "non-zero parameters", "c_const_bytes": "weights in C (B)",
    "flash_bytes": "flash (B)", "flash_limit": "flash limit (B)", "ram_bytes": "RAM: data + bss (B)",
    "ram_limit": "RAM limit (B)", "stack_bytes": "peak stack (B)", "arena_bytes": "arena (B)",
    "test_mse": "test MSE", "instructions": "instructions / inference", "instructions_ratio": "instructions vs generated C",
    "cycles_est": "cycles / inference", "timing": "cycles are", "latency_us": "latency (µs)", "clock_mhz": "clock (MHz)",
    "mismatches": "outputs ≠ reference", "differs_from_generated": "inputs ≠ generated C", "fits": "fits",
}


def column(key: str) -> str:
    return COLUMNS.get(key, key.replace("_", " "))


def timing_label(row: dict) -> str:
    """Whether a row's cycles are counted or estimated, and by what."""
    model = row.get("timing_model") or ""
    if not row.get("cycles_est"):
        return "-"
    if model.startswith("exact"):
        return "exact (counted by the engine)"
    return f"estimated ({model})" if model else "estimated"


def annotate_apart(ax, xs: Sequence[float], ys: Sequence[float], labels: Sequence[str], fontsize: int = 8) -> None:
    """Label each point; a label that would overlap one already placed moves to the next free
    slot around its point (right, left, above, below, further out)."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    placed = []
    slots = [(5, 4, "left", "bottom"), (5, -4, "left", "top"), (-5, 4, "right", "bottom"), (-5, -4, "right", "top")]
    slots += [(5, 4 + 11 * k * s, "left", "bottom") for k in range(1, 8) for s in (1, -1)]
    for x, y, label in sorted(zip(xs, ys, labels), key=lambda p: (p[1], p[0])):
        text = None
        for dx, dy, ha, va in slots:
            if text is not None:
                text.remove()
            text = ax.annotate(label, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                               ha=ha, va=va, arrowprops={"arrowstyle": "-", "color": "0.6", "lw": 0.5} if abs(dy) > 4 else None)
            box = text.get_window_extent(renderer).expanded(1.05, 1.1)
            if not any(box.overlaps(other) for other in placed):
                break
        placed.append(text.get_window_extent(renderer))
