"""MLPerf-Tiny-style models on emulated cores: the generated C against TF Lite Micro, same run.

    python benchmarks/models_bench.py [--models kws vww ic ad] [--archs cortex-m4 ...]
                                      [--engines generated tflm tflm-cmsis-nn] [--per-layer]
                                      [--inputs 2] [--json out.json] [--models-dir DIR]

The models are the test suite's own architectures (tests/toolkit/cnnmodels.py), converted
once with the real converter (int8, per-channel weights) into --models-dir: a DS-CNN for
keyword spotting (49x10 MFCC, 2.66 M MACs), MobileNetV1-0.25 96x96 for visual wake words
(7.49 M), ResNet-8 for CIFAR-10 (12.5 M) and the anomaly-detection autoencoder (FULLY_CONNECTED
640-128x4-8-128x4-640, 264 k). Each runs on each core with each engine on the same inputs,
harness, start-up code and emulator: instructions are exact counts per inference, outputs are
checked against the TFLM interpreter. TF Lite Micro runs on the Cortex-M cores only; the
ratios are TFLM's instructions over the generated C's. `make bench` runs the default set.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.toolkit.cnnmodels import AD, IC, KWS, VWW  # noqa: E402
from tests.toolkit.graphmodels import GraphModels  # noqa: E402
from toolkit.table import render  # noqa: E402

MODELS = {"kws": KWS, "vww": VWW, "ic": IC, "ad": AD}
CORES = ["cortex-m4", "cortex-m7", "cortex-m0plus", "rv32imc"]
ENGINES = ["generated", "tflm", "tflm-cmsis-nn"]
TFLM_CORES = {"cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33"}


def measure(path: Path, arch: str, engines: list[str], n_inputs: int, per_layer: bool, work: Path) -> dict:
    from toolkit.emulate import emulate
    from toolkit.tflite.reader import read_tflite
    from toolkit.tflm.side_by_side import run_engines

    model = read_tflite(path)
    row: dict = {"macs": model.macs}
    usable = [e for e in engines if e == "generated" or arch in TFLM_CORES]
    s = run_engines(path, arch, work, tuple(usable), n_inputs)
    for engine, report in s.reports.items():
        d = report.to_json()
        row[engine] = {k: d[k] for k in ("instructions", "flash_bytes", "ram_bytes", "stack_bytes", "mismatches")}
        row[engine]["passed"] = d["passed"]
    if per_layer and "generated" in usable:
        profiled = emulate(path, arch, work / "profile", n_inputs, per_layer=True)
        row["layers"] = profiled.profile.report_json()["layers"]
        row["layer_table"] = profiled.profile.table()
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--archs", nargs="+", default=CORES)
    ap.add_argument("--engines", nargs="+", default=ENGINES, choices=ENGINES)
    ap.add_argument("--inputs", type=int, default=2, help="random inputs per run (default 2)")
    ap.add_argument("--per-layer", action="store_true", help="also the generated C's exact per-layer profile")
    ap.add_argument("--models-dir", type=Path, default=ROOT / "build" / "bench-models")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    convert = GraphModels(args.models_dir)
    results, rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            path = convert(MODELS[name])
            for arch in args.archs:
                r = measure(path, arch, args.engines, args.inputs, args.per_layer, Path(tmp) / f"{name}-{arch}")
                results.append({"model": name, "arch": arch, **{k: v for k, v in r.items() if k != "layer_table"}})
                gen = r.get("generated", {})
                instr = gen.get("instructions")
                cells = [name, arch, r["macs"], instr, f"{instr / r['macs']:.3f}" if instr else "-",
                         gen.get("flash_bytes", "-"), (gen.get("ram_bytes", 0) + gen.get("stack_bytes", 0)) or "-"]
                for engine in ("tflm", "tflm-cmsis-nn"):
                    other = r.get(engine, {}).get("instructions")
                    cells += [other or "-", f"{other / instr:.2f}x" if other and instr else "-"]
                ok = all(r[e]["passed"] for e in args.engines if e in r)
                rows.append([*cells, "PASS" if ok else "FAIL"])
                if args.per_layer and "layer_table" in r:
                    print(f"\n{name} on {arch}, per layer (generated C, exact):\n{r['layer_table']}")
    print(render(["model", "core", "MACs", "instr/inf", "instr/MAC", "flash B", "RAM+stack B", "TFLM ref",
                  "ratio", "TFLM+CMSIS-NN", "ratio", "outputs"], rows))
    print("instructions are exact counts per inference on the emulated core; ratio = TFLM's over the generated C's")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
