"""Does a model fit a board? Flash (code + weights), static RAM plus peak stack, measured."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from toolkit.boards import Board
from toolkit.emulate import EmulationReport, emulate
from toolkit.provenance import stamp

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
    lower_bound: str = ""  # set when the build failed and the figures are lower bounds

    @property
    def ram_used(self) -> int:
        return self.ram_bytes + self.stack_bytes

    @property
    def flash_ok(self) -> bool:
        return self.flash_bytes <= self.board.flash

    @property
    def ram_ok(self) -> bool:
        return self.ram_used <= self.board.ram

    def _verdict(self, ok: bool) -> str:
        if not ok:
            return "FAIL"
        return "unknown (lower bound)" if self.lower_bound else "PASS"

    @property
    def fits(self) -> bool:
        return self.flash_ok and self.ram_ok and not self.lower_bound

    def rows(self) -> list[list]:
        b = self.board
        return [
            ["flash (code + weights)", self.flash_bytes, b.flash, b.flash - self.flash_bytes, self._verdict(self.flash_ok)],
            ["RAM (static + stack)", self.ram_used, b.ram, b.ram - self.ram_used, self._verdict(self.ram_ok)],
        ]

    def to_json(self) -> dict:
        return stamp({
            "board": self.board.name, "fits": self.fits,
            "flash_bytes": self.flash_bytes, "flash_limit": self.board.flash,
            "ram_bytes": self.ram_bytes, "stack_bytes": self.stack_bytes, "ram_limit": self.board.ram,
            "arch": self.board.arch, "const_bytes": self.const_bytes, "arena_bytes": self.arena_bytes,
            "suggestions": self.suggestions,
            **({"lower_bound": self.lower_bound} if self.lower_bound else {}),
        }, self.board.arch)


# Compiler and linker messages that mean "the model is too big for this target".
TOO_BIG = ("too large", "overflowed by", "will not fit", "does not fit")


def measure(model_path: str | Path, board: Board, build_dir: str | Path, optimize: str = "speed") -> EmulationReport:
    return emulate(model_path, board.arch, build_dir, n_inputs=BUDGET_INPUTS, optimize=optimize)


def check(model_path: str | Path, board: Board, build_dir: str | Path, optimize: str = "speed") -> Budget:
    """Measure on the board's core; when the model cannot even be built for it, fall back
    to lower bounds from the generated code (its constants and activations)."""
    from toolkit.errors import ToolchainError

    try:
        return budget_from(measure(model_path, board, build_dir, optimize), board, optimize)
    except ToolchainError as exc:
        if not any(text in str(exc) for text in TOO_BIG):
            raise
        return static_budget(model_path, board, str(exc), optimize)


def static_budget(model_path: str | Path, board: Board, reason: str, optimize: str = "speed") -> Budget:
    from toolkit.emulate import generate_model
    from toolkit.tflite.reader import read_tflite

    model = read_tflite(model_path)
    gen = generate_model(model, board.arch, optimize)
    const = gen.const_bytes_on(board.arch)
    b = Budget(board, const, gen.arena_bytes, 0, const, gen.arena_bytes,
               lower_bound=f"the build for {board.arch} failed ({reason.split(': ', 1)[-1][:160]}); figures are lower bounds")
    b.suggestions = static_suggestions(b, model)
    return b


def budget_from(report: EmulationReport, board: Board, optimize: str = "speed") -> Budget:
    from toolkit.emulate import generate_model

    m = report.run.metrics()
    gen = generate_model(report.model, board.arch, optimize)
    b = Budget(board, m["flash_bytes"], m["ram_bytes"], m["stack_bytes"], gen.const_bytes_on(board.arch), gen.arena_bytes)
    b.suggestions = suggestions(b, report)
    return b


def suggestions(b: Budget, report: EmulationReport) -> list[str]:
    return static_suggestions(b, report.model)


def peak_op(model) -> str:
    """The op during which the most activation bytes are alive (from the memory plan)."""
    from toolkit.codegen.memplan import plan_memory

    plan = plan_memory(model)
    live = [sum(buf.nbytes for buf in plan.buffers if buf.first <= i <= buf.last) for i in range(len(model.ops))]
    i = max(range(len(live)), key=live.__getitem__, default=0)
    return f"op {i} ({model.ops[i].kind})" if model.ops else "the model"


def static_suggestions(b: Budget, model) -> list[str]:
    """What would make it fit, with numbers."""
    out: list[str] = []
    if not b.flash_ok:
        over = b.flash_bytes - b.board.flash
        if not model.is_int8 and any(op.input.dtype == "float32" for op in model.ops if op.inputs):
            out.append(f"use the int8 model: weights take about a quarter of their {b.const_bytes:,} float bytes "
                       "(toolkit convert writes model_int8.tflite)")
        if over < b.const_bytes:
            sparsity = min(0.95, over / b.const_bytes * 1.3)  # sparse rows also store indices
            out.append(f"prune at least {sparsity:.0%} of the weights (toolkit prune --method weight --sparsity {sparsity:.2f})")
        out.append(f"use fewer neurons: the weights must shrink by {over:,} bytes of {b.const_bytes:,} "
                   "(toolkit prune --method structured, or train with a smaller --hidden)")
    if not b.ram_ok:
        over = b.ram_used - b.board.ram
        mlp = all(op.kind in ("FULLY_CONNECTED", "QUANTIZE", "DEQUANTIZE", "RESHAPE") for op in model.ops)
        if b.arena_bytes and over < b.arena_bytes and mlp:
            widest = max((op.output.size for op in model.ops[:-1]), default=0)
            itemsize = 4 if model.ops[0].output.dtype == "float32" else 1
            cut = -(-over // (2 * itemsize))  # each neuron of the widest pair costs its bytes twice at most
            out.append(f"activations need {b.arena_bytes:,} B of RAM: narrow the widest layer ({widest} neurons) by about "
                       f"{cut} (toolkit prune --method structured)")
        elif b.arena_bytes and over < b.arena_bytes:
            out.append(f"activations need {b.arena_bytes:,} B of RAM, most while {peak_op(model)} runs: "
                       f"shrink the tensors alive there by {over:,} B (fewer channels, or a stride earlier)")
        if not model.is_int8:
            out.append("use the int8 model: activations take a quarter of the RAM of float ones")
        if over >= b.arena_bytes:
            out.append(f"static RAM {b.ram_bytes:,} B and stack {b.stack_bytes:,} B exceed the board even without activations")
    return out
