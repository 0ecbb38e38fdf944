"""Does a model fit a board? Flash (code + weights), static RAM plus peak stack, measured."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from toolkit.boards import Board
from toolkit.emulate import EmulationReport, emulate

BUDGET_INPUTS = 8  # stack and memory do not depend on the input values; a few suffice


@dataclass
class Budget:
    board: Board
    flash_bytes: int
    ram_bytes: int  # static: .data + .bss
    stack_bytes: int  # measured peak
    const_bytes: int  # weights and other constants of the generated model
    arena_bytes: int  # activation buffer of the generated model
    suggestions: list[str] = field(default_factory=list)

    @property
    def ram_used(self) -> int:
        return self.ram_bytes + self.stack_bytes

    @property
    def flash_ok(self) -> bool:
        return self.flash_bytes <= self.board.flash

    @property
    def ram_ok(self) -> bool:
        return self.ram_used <= self.board.ram

    @property
    def fits(self) -> bool:
        return self.flash_ok and self.ram_ok

    def rows(self) -> list[list]:
        b = self.board
        return [
            ["flash (code + weights)", self.flash_bytes, b.flash, b.flash - self.flash_bytes, "PASS" if self.flash_ok else "FAIL"],
            ["RAM (static + stack)", self.ram_used, b.ram, b.ram - self.ram_used, "PASS" if self.ram_ok else "FAIL"],
        ]

    def to_json(self) -> dict:
        return {
            "board": self.board.name, "fits": self.fits,
            "flash_bytes": self.flash_bytes, "flash_limit": self.board.flash,
            "ram_bytes": self.ram_bytes, "stack_bytes": self.stack_bytes, "ram_limit": self.board.ram,
            "arch": self.board.arch, "suggestions": self.suggestions,
        }


def measure(model_path: str | Path, board: Board, build_dir: str | Path) -> EmulationReport:
    return emulate(model_path, board.arch, build_dir, n_inputs=BUDGET_INPUTS)


def budget_from(report: EmulationReport, board: Board) -> Budget:
    from toolkit.codegen import generate_c

    m = report.run.metrics()
    gen = generate_c(report.model)
    b = Budget(board, m["flash_bytes"], m["ram_bytes"], m["stack_bytes"], gen.const_bytes, gen.arena_bytes)
    b.suggestions = suggestions(b, report)
    return b


def suggestions(b: Budget, report: EmulationReport) -> list[str]:
    """What would make it fit, with numbers."""
    out: list[str] = []
    model = report.model
    if not b.flash_ok:
        over = b.flash_bytes - b.board.flash
        if not model.is_int8 and any(layer.input.dtype == "float32" for layer in model.layers):
            out.append(f"use the int8 model: weights take about a quarter of their {b.const_bytes:,} float bytes "
                       "(toolkit convert writes model_int8.tflite)")
        if over < b.const_bytes:
            sparsity = min(0.95, over / b.const_bytes * 1.3)  # sparse rows also store indices
            out.append(f"prune at least {sparsity:.0%} of the weights (toolkit prune --method weight --sparsity {sparsity:.2f})")
        out.append(f"use fewer neurons: the weights must shrink by {over:,} bytes of {b.const_bytes:,} "
                   "(toolkit prune --method structured, or train with a smaller --hidden)")
    if not b.ram_ok:
        over = b.ram_used - b.board.ram
        widest = max((layer.output.size for layer in model.layers[:-1]), default=0)
        if b.arena_bytes and over < b.arena_bytes:
            itemsize = 4 if model.layers[0].output.dtype == "float32" else 1
            cut = -(-over // (2 * itemsize))  # each neuron of the widest pair costs its bytes twice at most
            out.append(f"activations need {b.arena_bytes:,} B of RAM: narrow the widest layer ({widest} neurons) by about "
                       f"{cut} (toolkit prune --method structured)")
        if not model.is_int8:
            out.append("use the int8 model: activations take a quarter of the RAM of float ones")
        if over >= b.arena_bytes:
            out.append(f"static RAM {b.ram_bytes:,} B and stack {b.stack_bytes:,} B exceed the board even without activations")
    return out
