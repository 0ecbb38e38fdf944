"""Copy the part of a TFLM source tree that the toolkit compiles into firmware/third_party/tflm.

    python scripts/vendor_tflm.py SRC_TREE [--out firmware/third_party/tflm]

SRC_TREE is a tree made with TFLM's create_tflm_tree.py (reference and CMSIS-NN kernels;
docs/tflm.md). Kept: every file the toolkit's TFLM builds compile for any operator the tree's
op resolver registers, with either kernel set, on every Cortex-M core the toolkit targets,
and every header those files or firmware/tflm/tflm_model.cc include (the compiler's own
dependency lists: -M, not -MM, since CMSIS marks its headers as system headers), plus each
project's licence. The result is a valid tree for `--tflm-tree` with the same file contents,
so builds from it and from SRC_TREE are the same. The folder's README.md is kept.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from toolkit.tflm.sources import DEVICES, Flags, model_sources  # noqa: E402
from toolkit.tflm.tree import TflmTree  # noqa: E402

LICENCES = ("LICENSE", "third_party/cmsis/LICENSE", "third_party/cmsis/Cortex_DFP/LICENSE",
            "third_party/flatbuffers/LICENSE", "third_party/ruy/LICENSE", "third_party/gemmlowp/LICENSE",
            "third_party/cmsis_nn/LICENSE", "third_party/kissfft/COPYING")
FPU = {"cortex-m4": ("-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"), "cortex-m7": ("-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"),
       "cortex-m33": ("-mfloat-abi=hard", "-mfpu=fpv5-sp-d16")}


def dependencies(tree: TflmTree, flags: Flags, sources: list[str], extra: list[Path]) -> set[str]:
    """Files under the tree that compiling `sources` (and the `extra` application files) reads."""
    out: set[str] = set()
    for lang, cc in ((".cc", "arm-none-eabi-g++"), (".c", "arm-none-eabi-gcc")):
        files = [str(tree.root / s) for s in sources if s.endswith(lang)] + [str(p) for p in extra if p.suffix == lang]
        if not files:
            continue
        cmd = [cc, *flags.for_source(tree.root, "x" + lang), f"-I{ROOT / 'firmware/harness'}",
               f"-I{ROOT / 'firmware/tflm'}", "-M", *files]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=tree.root)
        if proc.returncode != 0:
            sys.exit(f"{cc} -M failed: {proc.stderr.strip().splitlines()[0]}")
        for token in proc.stdout.replace("\\\n", " ").split():
            if token.endswith(":"):
                continue
            path = (tree.root / token).resolve()
            if path.is_relative_to(tree.root):
                out.add(path.relative_to(tree.root).as_posix())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tree", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "firmware" / "third_party" / "tflm")
    args = ap.parse_args()
    tree = TflmTree(args.tree.resolve())
    ops = sorted(tree.resolver)
    # model.h and tflm_ops.h are made per model: a stand-in lets tflm_model.cc's includes resolve
    stub = Path("/tmp") / "vendor_tflm_stub"
    stub.mkdir(exist_ok=True)
    (stub / "model.h").write_text("")
    (stub / "tflm_ops.h").write_text("")
    app = ROOT / "firmware" / "tflm" / "tflm_model.cc"
    keep: set[str] = set(LICENCES)
    for mcpu, _ in DEVICES.items():
        for cmsis_nn in (False, True):
            flags = Flags(("-mthumb", f"-mcpu={mcpu}", *FPU.get(mcpu, ("-mfloat-abi=soft",))), cmsis_nn)
            sources = model_sources(tree, ops, cmsis_nn)
            keep |= set(sources)
            keep |= dependencies(tree, Flags((*flags.cpu, f"-I{stub}"), cmsis_nn), sources, [app])
    readme = (args.out / "README.md").read_text() if (args.out / "README.md").is_file() else None
    if args.out.exists():
        shutil.rmtree(args.out)
    for rel in sorted(keep):
        dst = args.out / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tree.root / rel, dst)
    if readme is not None:
        (args.out / "README.md").write_text(readme)
    size = sum((args.out / rel).stat().st_size for rel in keep)
    print(f"{len(keep)} files, {size:,} bytes -> {args.out}")


if __name__ == "__main__":
    main()
