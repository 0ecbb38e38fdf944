"""toolkit sweep: a grid of model variants x boards, locally or on Ray; the best one for a board."""

from __future__ import annotations

import argparse
from pathlib import Path

from toolkit.commands import argtypes as at
from toolkit.commands.base import Command
from toolkit.errors import ToolkitError


class NoAnswer(ToolkitError):
    """No trial meets the question's limits: an answer, so exit 1 rather than 2."""

    exit_code = 1


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", help="SPEC.toml to run (with -o DIR), or a sweep DIR to query (--best, or a summary)")
    p.add_argument("-o", "--out", help="the sweep directory: results.jsonl, trials/<id>/ (re-run to resume)")
    p.add_argument("--jobs", type=at.positive_int, help="trials at once (default: the number of cores; with --ray local: its CPUs)")
    p.add_argument("--ray", metavar="ADDRESS", help="run the trials as Ray tasks: 'local' starts a local instance, "
                   "else a cluster address (auto, HOST:6379, ray://HOST:10001)")
    p.add_argument("--sample", type=at.positive_int, metavar="N", help="run N trials drawn at random from the grid")
    p.add_argument("--seed", type=at.seed, default=0, help="seed of --sample (the training seed is the spec's 'seed')")
    p.add_argument("--retry-failed", action="store_true", help="run again the rows that recorded an error")
    p.add_argument("--dry-run", action="store_true", help="list the trials and what is missing; run nothing")
    p.add_argument("--best", action="store_true", help="with DIR: the most accurate model that fits --board")
    p.add_argument("--board", help="with --best: a board (or the core) of the sweep")
    p.add_argument("--max-mse", type=at.nonnegative_float, help="with --best: test_mse at most this")
    p.add_argument("--max-latency-us", type=at.positive_float, help="with --best: latency_us at most this")
    at.add_json(p, "the answer (--best) or the run's summary")


def run(args: argparse.Namespace) -> int:
    source = Path(args.source)
    if source.is_dir():
        if args.out:
            raise ToolkitError("-o is for running a spec; to query a sweep directory: toolkit sweep DIR --best --board B")
        return answer_best(args) if args.best else summary(source, args.json)
    if args.best:
        raise ToolkitError(f"--best reads a sweep directory, not {source}: toolkit sweep DIR --best --board B")
    return run_spec(args)


def run_spec(args: argparse.Namespace) -> int:
    from toolkit.fileio import write_json
    from toolkit.progress import duration
    from toolkit.sweep import load_spec, make_executor, run_sweep
    from toolkit.sweep.runner import describe, plan

    if not args.out:
        raise ToolkitError("usage: toolkit sweep SPEC.toml -o DIR [--jobs N] [--ray ADDRESS|local]")
    spec = load_spec(args.source)
    out = Path(args.out)
    if args.dry_run:
        p = plan(spec, out, args.sample, args.seed, args.retry_failed)
        print(describe(spec, p))
        missing = {t.trial.id: t for t in p.tasks}
        for trial in p.trials:
            todo = missing.get(trial.id)
            status = "done" if todo is None else "to run on " + ", ".join(t.name for t in todo.targets)
            print(f"  {trial.id}  " + " ".join(f"{k}={trial.params[k]}" for k in spec.grid if k in trial.params) + f"  {status}")
        return 0
    executor = make_executor(args.jobs, args.ray)
    result = run_sweep(spec, out, executor, args.sample, args.seed, args.retry_failed)
    if result.trial_seconds:
        mean = sum(result.trial_seconds) / len(result.trial_seconds)
        print(f"{result.rows_written} rows written to {out / 'results.jsonl'} in {duration(result.seconds)} "
              f"({len(result.trial_seconds)} trials, {mean:.1f}s each in a worker, {executor.workers} at a time)")
    for error in result.errors[:10]:
        print(f"  failed: {error}")
    if len(result.errors) > 10:
        print(f"  ... and {len(result.errors) - 10} more (the 'error' field of results.jsonl)")
    print(f"next: toolkit sweep {out} --best --board {spec.targets[0].name}   or   toolkit report {out}")
    if args.json:
        write_json(args.json, {"rows_total": result.plan.rows_total, "rows_done_before": result.plan.rows_done,
                               "rows_written": result.rows_written, "errors": result.errors, "seconds": result.seconds,
                               "trial_seconds": result.trial_seconds, "workers": executor.workers})
    return 1 if result.errors else 0


def answer_best(args: argparse.Namespace) -> int:
    from toolkit.fileio import write_json
    from toolkit.sweep import best, load_results
    from toolkit.sweep.best import varying
    from toolkit.sweep.trial import METRICS
    from toolkit.table import render

    if not args.board:
        raise ToolkitError("--best needs --board B (one of the sweep's boards or cores)")
    rows = load_results(args.source)
    answer = best(rows, args.board, args.max_mse, args.max_latency_us)
    limits = [f"test_mse <= {args.max_mse:g}" if args.max_mse is not None else "",
              f"latency_us <= {args.max_latency_us:g}" if args.max_latency_us is not None else ""]
    within = " and ".join(x for x in limits if x)
    if answer.row is None:
        raise NoAnswer(f"no trial fits {args.board}{' with ' + within if within else ''} "
                       f"({answer.candidates} measured, {answer.fitting} fit the board, 0 within the limits)")
    row = answer.row
    model = Path(args.source) / "trials" / row["trial"] / f"model_{row['params']['quantization']}.tflite"
    print(f"most accurate on {args.board} that fits{' with ' + within if within else ''}: trial {row['trial']} "
          f"({answer.qualifying} of {answer.candidates} measured qualify)")
    shown = varying(rows) or list(row["params"])
    print("  " + "  ".join(f"{k}={row['params'].get(k, '-')}" for k in shown))
    print(render(list(METRICS), [[row.get(k) if row.get(k) is not None else "-" for k in METRICS]]))
    print(f"model: {model}")
    if args.json:
        write_json(args.json, row | {"model": str(model)})
    return 0


def summary(out: Path, json_path: str | None = None) -> int:
    from toolkit.fileio import write_json
    from toolkit.sweep import best, load_results
    from toolkit.sweep.best import targets
    from toolkit.table import render

    rows = load_results(out)
    table = []
    for target in targets(rows):
        mine = [r for r in rows if (r.get("board") or r["arch"]) == target]
        top = best(rows, target).row
        table.append([target, len(mine), sum(1 for r in mine if r.get("error")), sum(1 for r in mine if r.get("fits")),
                      top["trial"] if top else "-", top["test_mse"] if top else "-", top["flash_bytes"] if top else "-",
                      (top.get("latency_us") or "-") if top else "-"])
    print(f"{out}: {len({r['trial'] for r in rows})} trials, {len(rows)} rows")
    keys = ["target", "rows", "failed", "fit", "best_trial", "test_mse", "flash_bytes", "latency_us"]
    print(render(["target", "rows", "failed", "fit", "most accurate that fits", "test_mse", "flash B", "latency us"], table))
    if json_path:
        write_json(json_path, [{k: (None if v == "-" else v) for k, v in zip(keys, row)} for row in table])
    return 0


COMMAND = Command("sweep", "run a grid of model variants on boards (locally or on Ray); the best one for a board",
                  add_arguments, run)
