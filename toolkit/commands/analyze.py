"""toolkit analyze: the static part of a model without building it (MACs, parameters, weight
and arena bytes per op, the memory plan), like `stedgeai analyze`."""

from __future__ import annotations

import argparse

from toolkit.commands import argtypes as at
from toolkit.commands.base import Command


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a .tflite file")
    p.add_argument("--no-fold", action="store_true", help="keep units that pruning made constant or unused")
    at.add_json(p, "the analysis")


def run(args: argparse.Namespace) -> int:
    from toolkit.analyze import analyze, shapes
    from toolkit.fileio import write_json
    from toolkit.table import key_values, render

    a = analyze(args.model, fold=not args.no_fold)
    print(f"{args.model}: {len(a.ops)} ops (as generated; indices as in model.h and emulate --per-layer)")
    rows = [[o.index, o.op, shapes(o), o.dtype, o.macs, o.params, o.weight_bytes,
             o.output_bytes if o.reuse in ("", "in place") else "-", o.scratch_bytes or "-", o.live_bytes,
             o.reuse or "-"] for o in a.ops]
    print(render(["#", "op", "shapes", "type", "MACs", "params", "weights B", "output B", "scratch B", "live B", "reuse"],
                 rows, left=(0, 1, 2, 3, 10)))
    print("output B: the op's output buffer in the arena (shared with its input when in place); "
          "live B: arena bytes alive while it runs")
    print("\nmemory plan (one static arena; offsets are constants of the C):")
    print(render(["offset", "bytes", "ops", "holds"],
                 [[b["offset"], b["bytes"], f"{b['first_op']}-{b['last_op']}", b["holds"]] for b in a.buffers()],
                 left=(3,)))
    for note in a.plan.notes:
        print(f"  {note}")
    t = a.totals
    scratch = f", incl. {t['scratch_bytes']:,} B kernel scratch" if t["scratch_bytes"] else ""
    print()
    print(key_values([
        *((f"input {k}" if len(a.model.inputs) > 1 else "input", f"{x.dtype} {list(x.shape)}") for k, x in enumerate(a.model.inputs)),
        *((f"output {k}" if len(a.model.outputs) > 1 else "output", f"{x.dtype} {list(x.shape)}") for k, x in enumerate(a.model.outputs)),
        ("ops", t["ops"]),
        ("MACs / inference", t["macs"]),
        ("parameters", t["params"]),
        ("weight bytes (file)", t["weight_bytes"]),
        ("arena bytes (RAM)", f"{t['arena_bytes']:,} (lower bound {t['arena_lower_bound']:,}: the most bytes alive at once{scratch})"),
        *(("folded", n) for n in a.notes),
    ]))
    if args.json:
        write_json(args.json, a.to_json())
    return 0


COMMAND = Command("analyze", "MACs, parameters, weight and arena bytes per op and the memory plan, without building",
                  add_arguments, run)
