"""A sweep spec (TOML): fixed pipeline options at top level, a [grid] of lists, the targets.

    function = "sin"          # any option below, fixed for every trial
    epochs = 20
    board = ["arduino-uno"]   # targets: every trial runs on each board and each bare core
    [grid]                    # the trials are the product of these lists
    hidden = ["4,4", "8,8"]
    prune = ["none", "weight"]

The options carry the names of the `train`, `prune`, `distill` and `convert` options
(docs/sweep.md lists them). Options that a trial does not use (the sparsity of an
unpruned model) are dropped from it, so grid points that differ only there are one trial.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.boards import Board, get_board
from toolkit.errors import ToolkitError


@dataclass(frozen=True)
class Option:
    name: str
    kind: type
    default: Any
    help: str
    choices: tuple = ()
    check: Callable[[Any], Any] | None = None  # returns the canonical value or raises ToolkitError


def _hidden(value: Any) -> str:
    from toolkit.commands.argtypes import parse_hidden

    text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return ",".join(map(str, parse_hidden(text)))


def _teacher(value: Any) -> str:
    return "none" if str(value).strip().lower() in ("none", "") else _hidden(value)


def _function(value: str) -> str:
    from toolkit.functions import parse_function

    parse_function(value)
    return value


def _range(value: str) -> str:
    from toolkit.functions import parse_range

    parse_range(value)
    return value


def _at_least(lo: float, strict: bool = False) -> Callable[[Any], Any]:
    def check(v: Any) -> Any:
        if v < lo or (strict and v == lo):
            raise ValueError(f"must be {'>' if strict else '>='} {lo}")
        return v
    return check


def _fraction(v: float) -> float:
    if not 0.0 <= v < 1.0:
        raise ValueError("must be in [0, 1)")
    return v


def _unit(v: float) -> float:
    if not 0.0 <= v <= 1.0:
        raise ValueError("must be between 0 and 1")
    return v


OPTIONS: tuple[Option, ...] = (
    # training (toolkit train)
    Option("function", str, "sin", "function of x to learn: sin, cos or an expression", check=_function),
    Option("range", str, "0,2*pi", "x range 'a,b'", check=_range),
    Option("hidden", str, "16,16", "hidden layer widths, '8,8' or [8, 8] (the student's when distilling)", check=_hidden),
    Option("epochs", int, 300, "training epochs (teacher and student too)", check=_at_least(1)),
    Option("samples", int, 1000, "samples of the function, split 60/20/20", check=_at_least(10)),
    Option("noise", float, 0.0, "standard deviation of Gaussian noise on y", check=_at_least(0.0)),
    Option("lr", float, 0.01, "Adam learning rate", check=_at_least(0.0, strict=True)),
    Option("seed", int, 0, "seed of the data, the initialisation and the training"),
    # distillation (toolkit distill)
    Option("teacher_hidden", str, "none", "'none': train directly; else a teacher of these widths is trained and "
           "distilled into `hidden`", check=_teacher),
    Option("alpha", float, 0.5, "distillation: weight of the true labels", check=_unit),
    # pruning (toolkit prune; its --method is `prune`, its --epochs and --lr are finetune_*)
    Option("prune", str, "none", "pruning method", choices=("none", "weight", "neuron", "structured")),
    Option("sparsity", float, 0.5, "weight: fraction of weights zeroed; neuron/structured: of hidden units removed",
           check=_fraction),
    Option("scope", str, "layer", "weight pruning threshold per layer or global", choices=("layer", "global")),
    Option("schedule", str, "oneshot", "weight pruning schedule", choices=("oneshot", "gradual")),
    Option("criterion", str, "l2", "neuron/structured: unit importance", choices=("l1", "l2", "loss")),
    Option("finetune_epochs", int, 60, "fine-tuning epochs after pruning", check=_at_least(1)),
    Option("finetune_lr", float, 0.003, "fine-tuning learning rate", check=_at_least(0.0, strict=True)),
    # conversion (toolkit convert)
    Option("quantization", str, "int8", "which .tflite is built and measured: full-integer int8, float32, or "
           "float16 weights", choices=("int8", "float32", "float16")),
    Option("per_tensor", bool, False, "int8: one weight scale per tensor instead of per channel"),
    # emulation (toolkit emulate)
    Option("inputs", int, 0, "inputs run on each target (0: emulate's default, all 256 for an int8 model)",
           check=_at_least(0)),
)
OPTION_BY_NAME = {o.name: o for o in OPTIONS}
TARGET_KEYS = ("board", "arch")


def unused_options(p: dict[str, Any]) -> set[str]:
    """Options a trial with these values does not read."""
    unused = set()
    if p["teacher_hidden"] == "none":
        unused.add("alpha")
    if p["prune"] == "none":
        unused |= {"sparsity", "scope", "schedule", "criterion", "finetune_epochs", "finetune_lr"}
    elif p["prune"] == "weight":
        unused.add("criterion")
    else:
        unused |= {"scope", "schedule"}
    if p["quantization"] != "int8":
        unused.add("per_tensor")
    return unused


@dataclass(frozen=True)
class Target:
    """Where a trial's model is built and run: a board (core, clock, limits) or a bare core."""

    name: str
    arch: str
    board: Board | None = None


@dataclass(frozen=True)
class Trial:
    id: str  # hash of the trial's options: stable across runs, orderings and executors
    index: int  # position in the grid, for display
    params: dict = field(hash=False)


@dataclass
class SweepSpec:
    fixed: dict[str, Any]
    grid: dict[str, list]
    targets: list[Target]
    path: Path | None = None

    def trials(self) -> list[Trial]:
        """The distinct trials of the grid, in grid order."""
        keys = list(self.grid)
        seen: dict[str, Trial] = {}
        for values in itertools.product(*(self.grid[k] for k in keys)):
            params = resolve({**self.fixed, **dict(zip(keys, values))})
            tid = trial_id(params)
            if tid not in seen:
                seen[tid] = Trial(tid, len(seen), params)
        return list(seen.values())

    @property
    def grid_points(self) -> int:
        n = 1
        for values in self.grid.values():
            n *= len(values)
        return n


def resolve(values: dict[str, Any]) -> dict[str, Any]:
    """Every option with its default filled in, then those the trial does not use dropped."""
    params = {o.name: values.get(o.name, o.default) for o in OPTIONS}
    unused = unused_options(params)
    return {k: v for k, v in params.items() if k not in unused}


def trial_id(params: dict[str, Any]) -> str:
    return "t" + hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]


def sample(trials: list[Trial], n: int | None, seed: int) -> list[Trial]:
    """n trials drawn at random without replacement (all when n is None or too many), in grid order."""
    if n is None or n >= len(trials):
        return trials
    if n < 1:
        raise ToolkitError("--sample must be at least 1")
    return sorted(random.Random(seed).sample(trials, n), key=lambda t: t.index)


def check_value(name: str, value: Any) -> Any:
    opt = OPTION_BY_NAME[name]
    ok_types = {int: (int,), float: (int, float), bool: (bool,), str: (str, int, list) if name in ("hidden", "teacher_hidden") else (str,)}
    if isinstance(value, bool) and opt.kind is not bool or not isinstance(value, ok_types[opt.kind]):
        raise ToolkitError(f"{name}: expected {opt.kind.__name__}, got {value!r}")
    if opt.kind is float:
        value = float(value)
    if opt.choices and value not in opt.choices:
        raise ToolkitError(f"{name}: {value!r} is not one of {', '.join(map(str, opt.choices))}")
    if opt.check:
        try:
            value = opt.check(value)
        except ToolkitError as exc:
            raise ToolkitError(f"{name}: {exc}") from None
        except ValueError as exc:
            raise ToolkitError(f"{name}: {value!r} {exc}") from None
    return value


def parse_targets(boards: list, archs: list) -> list[Target]:
    import emulation

    targets = []
    for name in boards:
        if not isinstance(name, str):
            raise ToolkitError(f"board: expected a board name, got {name!r}")
        board = get_board(name)
        if not board.local:
            raise ToolkitError(f"board: {name} ({board.mcu}) has no local compiler or emulator; it cannot be swept")
        targets.append(Target(name, board.arch, board))
    for arch in archs:
        try:
            emulation.get_arch(str(arch))
        except emulation.UnknownArch as exc:
            raise ToolkitError(f"arch: {exc}") from None
        targets.append(Target(str(arch), str(arch)))
    if len({t.name for t in targets}) != len(targets):
        raise ToolkitError("board/arch: a target is listed twice")
    return targets


def parse_spec(text: str, path: Path | None = None) -> SweepSpec:
    where = f"{path}: " if path else ""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ToolkitError(f"{where}not valid TOML ({exc})") from None
    grid_raw = raw.pop("grid", {})
    if not isinstance(grid_raw, dict):
        raise ToolkitError(f"{where}grid must be a table: [grid]")
    known = ", ".join([*OPTION_BY_NAME, *TARGET_KEYS])
    fixed, grid, targets = {}, {}, {"board": [], "arch": []}
    try:
        for key, value in raw.items():
            if key in TARGET_KEYS:
                targets[key] = value if isinstance(value, list) else [value]
            elif key in OPTION_BY_NAME:
                fixed[key] = check_value(key, value)
            else:
                raise ToolkitError(f"unknown option '{key}'; known: {known}")
        for key, values in grid_raw.items():
            if key not in OPTION_BY_NAME and key not in TARGET_KEYS:
                raise ToolkitError(f"grid: unknown option '{key}'; known: {known}")
            if key in raw:
                raise ToolkitError(f"'{key}' is both fixed and in [grid]")
            if not isinstance(values, list) or not values:
                raise ToolkitError(f"grid.{key}: expected a non-empty list of values, got {values!r}")
            if key in TARGET_KEYS:
                targets[key] = values
            else:
                canonical = [check_value(key, v) for v in values]
                if len(set(map(str, canonical))) != len(canonical):
                    raise ToolkitError(f"grid.{key}: a value is listed twice")
                grid[key] = canonical
        parsed = parse_targets(targets["board"], targets["arch"])
    except ToolkitError as exc:
        raise ToolkitError(f"{where}{exc}") from None
    if not parsed:
        raise ToolkitError(f"{where}no target: add board = [...] or arch = [...] (at top level or in [grid])")
    return SweepSpec(fixed, grid, parsed, path)


def load_spec(path: str | Path) -> SweepSpec:
    path = Path(path)
    if not path.is_file():
        raise ToolkitError(f"{path}: no such file")
    return parse_spec(path.read_text(), path)
