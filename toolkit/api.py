"""The toolkit as a library: the same steps, result objects and metric names as the CLI.

    from toolkit import api
    model = api.load_model("docs/models/hello_world_int8.tflite")
    c = api.generate_c(model)                        # .header, .source, .const_bytes_on(arch)
    api.write_c(c, "out")                            # out/model.h, out/model.c
    report = api.emulate("docs/models/hello_world_int8.tflite", "cortex-m4", "build/m4")
    report.to_json()                                 # what `toolkit emulate --json` writes
    api.budget("docs/models/hello_world_int8.tflite", "arduino-uno").fits

Every function raises toolkit.errors.ToolkitError (or a subclass) with a one-line message on
bad input; docs/api.md walks through them.
"""

from __future__ import annotations

from pathlib import Path

from toolkit.analyze import Analysis
from toolkit.analyze import analyze as _analyze
from toolkit.boards import Board, boards, get_board
from toolkit.budget import Budget
from toolkit.budget import check as _check
from toolkit.codegen import GeneratedC, generate_c, write_c
from toolkit.emulate import EmulationReport
from toolkit.emulate import emulate as _emulate
from toolkit.errors import ToolkitError
from toolkit.ir import Model
from toolkit.provenance import SCHEMA_VERSION
from toolkit.tflite.reader import read_tflite

__all__ = ["SCHEMA_VERSION", "Analysis", "Board", "Budget", "EmulationReport", "GeneratedC", "Model", "ToolkitError",
           "analyze", "boards", "budget", "emulate", "generate_c", "get_board", "load_model", "write_c"]


def load_model(path: str | Path) -> Model:
    """Read a .tflite file into the toolkit's graph (ops, tensors, quantization), checked."""
    return read_tflite(path)


def analyze(path: str | Path) -> Analysis:
    """MACs, parameters, weight and arena bytes per op and the memory plan, without building."""
    return _analyze(path)


def emulate(path: str | Path, arch: str, build_dir: str | Path = "build/api", *, inputs: int | None = None,
            seed: int = 0, float_range: tuple[float, float] = (-8.0, 8.0), limit: int | None = None,
            per_layer: bool = False, optimize: str = "speed", flash_budget: int | None = None) -> EmulationReport:
    """Generate, cross-compile and run the model on an emulated core (a name from
    `python -m emulation archs`), checked against the reference; `limit` is instructions per inference.
    `optimize` ("speed" or "size") and `flash_budget` (bytes of the whole firmware): the code chosen
    per layer (docs/codegen.md, "Speed or size"), in the report's `selection`."""
    return _emulate(path, arch, build_dir, inputs, seed, float_range, limit, per_layer=per_layer,
                    optimize=optimize, flash_budget=flash_budget)


def budget(path: str | Path, board: str | Board, build_dir: str | Path = "build/api-budget") -> Budget:
    """Flash (code + weights) and RAM (static + peak stack) measured on the board's core, against its limits."""
    target = get_board(board) if isinstance(board, str) else board
    return _check(path, target, Path(build_dir) / target.name)
