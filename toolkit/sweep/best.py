"""Questions asked of a sweep's results: the best model for a board, the Pareto fronts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from toolkit.errors import ToolkitError
from toolkit.sweep.results import target_of


def usable(row: dict[str, Any]) -> bool:
    """Measured, correct (no output differs from the reference), with an accuracy."""
    return not row.get("error") and row.get("test_mse") is not None and row.get("instructions") is not None \
        and not row.get("mismatches")


def varying(rows: list[dict[str, Any]]) -> list[str]:
    """The options that take more than one value among the trials that use them, in option order."""
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row["params"] if k not in keys]
    return [k for k in keys if len({repr(r["params"][k]) for r in rows if k in r["params"]}) > 1]


def targets(rows: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for row in rows:
        if target_of(row) not in out:
            out.append(target_of(row))
    return out


@dataclass
class BestAnswer:
    row: dict[str, Any] | None
    candidates: int  # rows for the target that were measured
    fitting: int  # of them, those that fit the board
    qualifying: int  # of them, those within the limits


def best(rows: list[dict[str, Any]], target: str, max_mse: float | None = None,
         max_latency_us: float | None = None) -> BestAnswer:
    """The most accurate model that fits `target` within the limits (ties: smaller flash,
    then fewer instructions, then the trial id)."""
    mine = [r for r in rows if target_of(r) == target]
    if not mine:
        raise ToolkitError(f"no rows for '{target}' in this sweep; its targets: {', '.join(targets(rows)) or 'none'}")
    measured = [r for r in mine if usable(r)]
    fitting = [r for r in measured if r.get("fits") is not False]
    if max_latency_us is not None and any(r.get("latency_us") is None for r in fitting):
        raise ToolkitError(f"'{target}' is a bare core: it has no clock, so no latency_us; give a board")
    ok = [r for r in fitting if (max_mse is None or r["test_mse"] <= max_mse)
          and (max_latency_us is None or r["latency_us"] <= max_latency_us)]
    ok.sort(key=lambda r: (r["test_mse"], r["flash_bytes"], r["instructions"], r["trial"]))
    return BestAnswer(ok[0] if ok else None, len(measured), len(fitting), len(ok))


def pareto_front(rows: list[dict[str, Any]], cost: str, accuracy: str = "test_mse") -> list[dict[str, Any]]:
    """Rows no other row beats on both `cost` and `accuracy` (lower is better on both),
    sorted by cost. Of rows with equal figures, the first is kept."""
    points = sorted((r for r in rows if r.get(cost) is not None and r.get(accuracy) is not None),
                    key=lambda r: (r[cost], r[accuracy]))
    front, best_acc = [], float("inf")
    for r in points:
        if r[accuracy] < best_acc:
            front.append(r)
            best_acc = r[accuracy]
    return front
