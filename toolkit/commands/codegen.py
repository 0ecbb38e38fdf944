"""toolkit codegen: .tflite -> dependency-free C (NAME.h, NAME.c)."""

from __future__ import annotations

import argparse

from toolkit.commands import argtypes as at
from toolkit.commands import flashopts
from toolkit.commands.base import Command
from toolkit.table import key_values


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a .tflite file")
    p.add_argument("-o", "--out", required=True, help="output directory")
    p.add_argument("--name", default="model", type=c_name, help="C prefix and file name (default: model)")
    p.add_argument("--sparse", choices=("auto", "sparse", "dense"), default="auto",
                   help="zero weights: a sparse encoding where it saves instructions and flash (auto), always, or never")
    p.add_argument("--no-fold", action="store_true", help="keep units that pruning made constant or unused")
    p.add_argument("--layer-markers", action="store_true",
                   help="a TM_LAYER(i) marker before each op (a nop the emulator watches; define TM_LAYER to time ops on a board)")
    where = p.add_mutually_exclusive_group()
    at.add_arch(where, what="the core the flash budget and the per-layer choice are for (default: cortex-m4)")
    at.add_board(where, "a board from 'toolkit boards': its core, and its flash as the budget")
    flashopts.add_arguments(p, "the board's flash with --board, else none")
    at.add_json(p, "the model's sizes, the choice per layer and the files written")


def c_name(text: str) -> str:
    if not text.isidentifier() or not text.isascii():
        raise argparse.ArgumentTypeError(f"must be a C identifier (letters, digits, _), got '{text}'")
    return text


def run(args: argparse.Namespace) -> int:
    from toolkit.codegen import generate_c, write_c
    from toolkit.fileio import write_json
    from toolkit.flashbudget import fixed_flash_bytes
    from toolkit.tflite.reader import read_tflite

    board = None
    if args.board:
        from toolkit.boards import get_board

        board = get_board(args.board)
    arch = board.arch if board else args.arch
    budget = flashopts.budget_of(args, board)
    model = read_tflite(args.model)
    fixed = fixed_flash_bytes(model, arch) if budget is not None else 0
    gen = generate_c(model, args.name, sparse=args.sparse, fold=not args.no_fold, layer_markers=args.layer_markers,
                     optimize=args.optimize, flash_budget=budget, arch=arch, fixed_bytes=fixed, explain=True)
    header, source = write_c(gen, args.out)
    for i, op in enumerate(gen.model.ops):
        print(f"  {i}: {op.describe()}")
    assert gen.selection is not None
    print(flashopts.table(gen.selection))
    plan = gen.plan
    scratch = f", incl. {plan.scratch_bytes:,} B kernel scratch" if plan.scratch_bytes else ""
    print(key_values([
        *((f"input {k}" if len(model.inputs) > 1 else "input", f"{t.dtype} {list(t.shape)}") for k, t in enumerate(model.inputs)),
        *((f"output {k}" if len(model.outputs) > 1 else "output", f"{t.dtype} {list(t.shape)}") for k, t in enumerate(model.outputs)),
        ("parameters", model.params),
        ("MACs / inference", model.macs),
        ("constant bytes (flash)", gen.const_bytes),
        ("arena bytes (RAM)", f"{gen.arena_bytes:,} (lower bound {plan.lower_bound:,}: the most bytes alive at once{scratch})"),
        ("written", f"{header}, {source}"),
    ]))
    if args.json:
        write_json(args.json, {"params": model.params, "macs": model.macs, "const_bytes": gen.const_bytes,
                               "arena_bytes": gen.arena_bytes, "arena_lower_bound": plan.lower_bound,
                               "scratch_bytes": plan.scratch_bytes, "header": str(header), "source": str(source),
                               "selection": flashopts.to_json(gen.selection)})
    return 0


COMMAND = Command("codegen", "generate C inference code from a .tflite model", add_arguments, run)
