"""The whole course in one run: train, compress, convert, generate C, emulate on every
local board, check budgets, and write the report."""

from __future__ import annotations

import time
from pathlib import Path

from toolkit.boards import boards
from toolkit.budget import budget_from
from toolkit.compare import COLUMNS
from toolkit.compress.study import StudySettings, run_study
from toolkit.emulate import emulate
from toolkit.fileio import write_json
from toolkit.progress import Progress
from toolkit.table import render


def _available_archs() -> set[str]:
    import emulation

    return set(emulation.ARCHS)


# One core with the DSP extension and one without: building TFLM for every core would
# add minutes to the demo; `toolkit emulate --engine all` does any other core.
DEMO_TFLM_ARCHS = ("cortex-m4", "rp2040")


def _engines(arch: str) -> tuple[str, ...]:
    """The generated C and TFLM's engines, and MicroPython's where it runs and a tree is found (docs/micropython.md)."""
    from toolkit.errors import ToolkitError
    from toolkit.micropython import check_arch, find_tree
    from toolkit.tflm import ENGINES

    try:
        check_arch(arch)
        find_tree()
    except ToolkitError:
        return ENGINES
    return (*ENGINES, "micropython")


def _tflm_vs_generated(model: Path, runnable: list, out: Path) -> None:
    """TFLM (reference and CMSIS-NN kernels) beside the generated C on each Cortex-M board: tflm.json."""
    from toolkit.errors import ToolkitError
    from toolkit.tflm import EngineUnavailable, check_arch, find_tree, run_engines

    try:
        tree = find_tree()
    except ToolkitError as exc:
        print(f"skipped: {exc}")
        return
    rows, skipped = [], []
    for board in runnable:
        try:
            check_arch(board.arch)
        except EngineUnavailable:
            skipped.append(f"{board.name} ({board.arch})")
            continue
        if board.arch not in DEMO_TFLM_ARCHS:  # each core's TFLM libraries take a minute or two to build
            skipped.append(f"{board.name} ({board.arch}: toolkit emulate MODEL --arch {board.arch} --engine all)")
            continue
        s = run_engines(model, board.arch, out / "build" / f"engines-{board.arch}", _engines(board.arch), tflm_tree=tree)
        rows += [{"board": board.name, **r} for r in s.rows(board.clock_mhz)]
    keys = ["board", "engine", "instructions", "instructions_ratio", "flash_bytes", "ram_bytes", "arena_bytes",
            "stack_bytes", "mismatches", "differs_from_generated"]
    print(render(keys, [[r[k] if r[k] is not None else "-" for k in keys] for r in rows]))
    if skipped:
        print(f"not compared here: {', '.join(skipped)} (docs/tflm.md)")
    write_json(out / "tflm.json", rows)


def run_demo(out: Path, settings: StudySettings = StudySettings(), tflm: bool = True) -> dict:
    start = time.monotonic()
    print(f"== 1. Train and compress (results in {out}) ==")
    rows = run_study(out, settings)
    print(render([title for _, title in COLUMNS], [r.cells() for r in rows]))

    model = out / "baseline" / "model_int8.tflite"
    print("\n== 2. The int8 model on every board with a local emulator ==")
    archs = _available_archs()
    local = [b for b in boards().values() if b.local and not b.profile]
    runnable = [b for b in local if b.arch in archs]
    board_rows, reports = [], {}
    with Progress("emulate on each board", len(runnable)) as bar:
        for board in runnable:
            rep = reports.setdefault(board.arch, emulate(model, board.arch, out / "build" / f"board-{board.arch}"))
            d = rep.to_json(board.clock_mhz)
            board_rows.append({
                "board": board.name, "arch": board.arch, "clock_mhz": board.clock_mhz,
                "instructions": d["instructions"], "cycles_est": d["cycles_est"], "timing_model": d["timing_model"],
                "latency_us": d["latency_us"],
                "flash_bytes": d["flash_bytes"], "ram_bytes": d["ram_bytes"], "stack_bytes": d["stack_bytes"],
                "mismatches": d["mismatches"], "passed": d["passed"],
            })
            bar.update()
    skipped = [f"{b.name} ({b.arch})" for b in local if b.arch not in archs]
    keys = ["board", "arch", "instructions", "cycles_est", "latency_us", "flash_bytes", "ram_bytes", "stack_bytes", "mismatches"]
    print(render(keys, [[r[k] if r[k] is not None else "-" for k in keys] for r in board_rows]))
    if skipped:
        print(f"not emulated here: {', '.join(skipped)}")
    write_json(out / "boards.json", board_rows)

    if tflm:
        print("\n== 3. TF Lite Micro vs generated C on the same boards ==")
        _tflm_vs_generated(model, runnable, out)

    print("\n== 4. Memory budget of the int8 model against every board and RAM profile ==")
    budgets = []
    for board in boards().values():
        if board.arch in reports:
            budgets.append(budget_from(reports[board.arch], board).to_json())
    print(render(["board", "flash used", "flash limit", "RAM used", "RAM limit", "fits"],
                 [[b["board"], b["flash_bytes"], b["flash_limit"], b["ram_bytes"] + b["stack_bytes"], b["ram_limit"],
                   "PASS" if b["fits"] else "FAIL"] for b in budgets]))
    write_json(out / "budget.json", budgets)

    print("\n== 5. Report ==")
    from toolkit.report import build_report
    from toolkit.report.data import compute_predictions

    with Progress("predictions on all 256 inputs, plots, pages", 2) as bar:
        compute_predictions(out / "baseline").save(out / "predictions.npz")
        bar.update()
        html_path, md_path = build_report(out)
    elapsed = time.monotonic() - start
    print(f"report: {html_path}\n        {md_path}\ndemo finished in {elapsed:.0f} s")
    return {"variants": [r.variant for r in rows], "boards": board_rows, "seconds": elapsed}
