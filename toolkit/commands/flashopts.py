"""--optimize and --flash-budget of `toolkit codegen` and `toolkit emulate` (docs/cli.md):
the arguments, the budget a board implies, and the table of what was chosen per layer."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from toolkit.commands import argtypes as at

if TYPE_CHECKING:
    from toolkit.codegen.optimize import Selection


# toolkit.codegen.optimize.GOALS, spelled here: the parsers are built before any work, and
# importing the code generator then would load every fast path for every command
GOALS = ("speed", "size")


def add_arguments(p: argparse.ArgumentParser, board_note: str) -> None:
    p.add_argument("--optimize", choices=GOALS, default="speed",
                   help="per layer the fastest code (speed) or the fewest flash bytes (size); both bit-exact "
                        "(default: speed)")
    p.add_argument("--flash-budget", type=at.size_text, metavar="BYTES",
                   help="flash of the whole firmware, e.g. 32KB: per layer the fastest code whose estimated flash "
                        "keeps within it, the harness and runtime (measured with a stub model) counted "
                        f"(default: {board_note})")


def budget_of(args: argparse.Namespace, board: Any) -> int | None:
    """--flash-budget in bytes, else the board's flash, else None (no budget)."""
    from toolkit.boards import parse_size

    if args.flash_budget:
        return parse_size(args.flash_budget)
    return board.flash if board is not None else None


def table(sel: "Selection") -> str:
    from toolkit.table import render

    rows = sel.rows()
    budget = (f", flash budget {sel.budget:,} B (model est. {sel.estimate - sel.fixed_bytes:,} B + fixed part "
              f"{sel.fixed_bytes:,} B = {sel.estimate:,} B)" if sel.budget is not None
              else f", model est. {sel.estimate:,} B of constants and code")
    head = f"chosen per layer for {sel.arch} (optimize {sel.optimize}{budget}):"
    return head + "\n" + render(["op", "kind", "variant", "est. instr", "est. bytes"], rows, left=(1, 2))


def to_json(sel: "Selection") -> dict:
    return {"optimize": sel.optimize, "arch": sel.arch, "flash_budget": sel.budget, "fixed_bytes": sel.fixed_bytes,
            "model_bytes_est": sel.estimate - sel.fixed_bytes,  # the model's constants and code
            "flash_bytes_est": sel.estimate if sel.budget is not None else None,  # with the fixed part
            "layers": [dict(zip(("op", "kind", "variant", "instructions_est", "bytes_est"), r)) for r in sel.rows()]}
