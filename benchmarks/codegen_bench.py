"""Generated-code benchmark: instructions per inference, flash, RAM and stack on every core.

    python benchmarks/codegen_bench.py [--models int8 float] [--archs cortex-m4 ...] [--json out.json]

Each reference model (docs/models/hello_world_{int8,float}.tflite) is
generated, cross-compiled with the firmware harness, run on all its test inputs in
Unicorn (exact instruction counts) and checked against the reference interpreter
with toolkit.emulate.emulate(). Instruction counts are the mean per inference
(they vary by a few instructions with the data-dependent branches of clamps).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emulation import ARCHS  # noqa: E402
from toolkit.emulate import emulate  # noqa: E402

MODELS_DIR = ROOT / "docs" / "models"
CORES = ["cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33"]
FIELDS = ("instructions", "flash_bytes", "ram_bytes", "stack_bytes", "mismatches", "max_abs_error")


def run(models: list[str], archs: list[str], models_dir: Path) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in models:
            path = models_dir / f"hello_world_{kind}.tflite"
            for arch in archs:
                report = emulate(path, arch, Path(tmp) / f"{kind}-{arch}")
                row = {"model": kind, "arch": arch, **{k: report.to_json()[k] for k in FIELDS}}
                row["passed"] = report.comparison.passed
                rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["int8", "float"], choices=["int8", "float"])
    ap.add_argument("--archs", nargs="+", default=[a for a in CORES if a in ARCHS], choices=list(ARCHS),
                    help="default: the five Cortex-M cores")
    ap.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    ap.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = ap.parse_args(argv)
    rows = run(args.models, args.archs, args.models_dir)
    header = f"{'model':<6} {'arch':<14} {'instr/inf':>10} {'flash B':>8} {'RAM B':>6} {'stack B':>8} {'check':>6}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['model']:<6} {r['arch']:<14} {r['instructions']:>10,} {r['flash_bytes']:>8,} {r['ram_bytes']:>6} "
              f"{r['stack_bytes']:>8} {'PASS' if r['passed'] else 'FAIL':>6}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0 if all(r["passed"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
