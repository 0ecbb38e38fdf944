"""The report of a sweep directory: per target, the Pareto fronts of accuracy against flash
and against latency (instructions on a bare core, which has no clock)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from toolkit.report.figures import _plt, _save
from toolkit.sweep.best import pareto_front, targets, usable, varying
from toolkit.sweep.results import load_results, target_of


def speed_key(rows: list[dict[str, Any]]) -> tuple[str, str]:
    """latency_us when the target has a clock, else instructions."""
    if rows and all(r.get("latency_us") is not None for r in rows):
        return "latency_us", "latency (us per inference)"
    return "instructions", "instructions per inference (exact)"


def label(row: dict[str, Any], keys: list[str]) -> str:
    """The trial's values of the options that vary, e.g. 8,8 / weight / int8."""
    return " / ".join(str(row["params"].get(k, "-")) for k in keys) or row["trial"]


def fronts_figure(target: str, rows: list[dict[str, Any]], keys: list[str], path: Path) -> Path:
    """Every measured model as a point (hollow: does not fit), the front as a line."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    speed, speed_title = speed_key(rows)
    fits = [r for r in rows if r.get("fits") is not False]
    for ax, cost, title in ((axes[0], "flash_bytes", "firmware flash (bytes)"), (axes[1], speed, speed_title)):
        out = [r for r in rows if r.get("fits") is False]
        ax.scatter([r[cost] for r in fits], [r["test_mse"] for r in fits], s=28, color="tab:blue", alpha=0.6,
                   label="fits the board" if rows[0].get("fits") is not None else "measured")
        if out:
            ax.scatter([r[cost] for r in out], [r["test_mse"] for r in out], s=28, facecolors="none",
                       edgecolors="0.5", label="does not fit")
        front = pareto_front(fits or rows, cost)
        ax.step([r[cost] for r in front], [r["test_mse"] for r in front], where="post", color="tab:red", lw=1.5,
                label="Pareto front")
        for r in front:
            ax.annotate(label(r, keys), (r[cost], r["test_mse"]), fontsize=7, xytext=(4, 4), textcoords="offset points")
        values = [r[cost] for r in rows]
        limit = rows[0].get("flash_limit") if cost == "flash_bytes" else None
        if limit and limit <= 1.5 * max(values):  # a limit far to the right would squash the points
            ax.axvline(limit, color="red", lw=0.8, ls="--", label="the board's flash")
        elif limit:
            title += f"; the board has {limit:,}"
        if min(values) > 0 and max(values) / min(values) > 20:
            ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(title)
        ax.set_ylabel("test MSE vs clean function")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_title("accuracy vs flash")
    axes[1].set_title(f"accuracy vs {'latency' if speed == 'latency_us' else 'instructions'}")
    fig.suptitle(f"{target}: {len(rows)} models" + (f"; front labelled {' / '.join(keys)}" if keys else ""))
    return _save(fig, path)


def sweep_sections(run_dir: Path, img_dir: Path) -> list:
    from toolkit.report.page import Section

    rows = load_results(run_dir)
    keys = varying(rows)
    failed = [r for r in rows if r.get("error")]
    trials = len({r["trial"] for r in rows})
    out = [Section("Sweep", f"Directory `{run_dir}`: {trials} trials, {len(rows)} rows (trial x target), "
                            f"{len(failed)} failed. Options that vary: {', '.join(keys) or 'none'}. "
                            "Each model was trained once, then built and run on every target; instructions are exact "
                            "counts, test MSE is against the clean function through the reference interpreter.")]
    for n, target in enumerate(targets(rows)):
        mine = [r for r in rows if target_of(r) == target and usable(r)]
        if not mine:
            out.append(Section(f"{target}", "No model was measured on this target (see the failures)."))
            continue
        speed, _ = speed_key(mine)
        fits = [r for r in mine if r.get("fits") is not False]
        base = fits or mine
        flash_front = {r["trial"] for r in pareto_front(base, "flash_bytes")}
        speed_front = {r["trial"] for r in pareto_front(base, speed)}
        on_front = sorted((r for r in base if r["trial"] in flash_front | speed_front), key=lambda r: r["test_mse"])
        columns = ["trial", *keys, "front", "test_mse", "flash_bytes", speed, "ram_bytes", "stack_bytes", "fits"]
        table = [[r["trial"], *(r["params"].get(k, "-") for k in keys),
                  "both" if r["trial"] in flash_front & speed_front else ("flash" if r["trial"] in flash_front else speed),
                  r["test_mse"], r["flash_bytes"], r[speed], r["ram_bytes"], r["stack_bytes"],
                  "-" if r.get("fits") is None else r["fits"]] for r in on_front]
        fit_text = f"{len(fits)} of {len(mine)} fit the board" if mine[0].get("fits") is not None else "a bare core: no limits"
        out.append(Section(
            f"{target} ({mine[0]['arch']})",
            f"{len(mine)} models measured, {fit_text}. The fronts hold the models no other fitting model beats on both "
            f"accuracy and cost; the table lists them, most accurate first.",
            [(fronts_figure(target, mine, keys, img_dir / f"pareto-{n}.png"), f"{target}: accuracy against flash and {speed.split('_')[0]}")],
            (columns, table)))
    if failed:
        out.append(Section("Failures", f"{len(failed)} rows recorded an error.",
                           table=(["trial", "target", "error"], [[r["trial"], target_of(r), r["error"]] for r in failed])))
    return out
