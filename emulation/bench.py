"""Benchmark: how many guest instructions per second the exact counter sustains.

    python -m emulation.bench [--arch cortex-m4] [--inferences 20] [--repeat 3] [--python-hook]

Builds a synthetic int8 workload (repeated 64x64 matrix-vector products; 16x16 on
the 2 KB atmega328p, fewer rounds on the Node engines) with the firmware harness,
runs it with run_elf (counter, marker and fault hooks, stack painting: everything
a normal run does) and prints the counted instructions per second of wall time,
end to end (the best of --repeat runs). On Unicorn it times the run twice: with
the timing model (cycles_est, the default) and counting instructions only.
--python-hook (Cortex-M) also times the same ELF under a pure-Python
UC_HOOK_BLOCK counter, for comparison.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from .arch import get_arch
from .backends import backend_of, run_elf
from .build import build_firmware
from .fileio import atomic_write
from .result import RunResult

MODEL_H = """#ifndef MODEL_H
#define MODEL_H
#include <stdint.h>
#define DIM {dim}
#define ROUNDS {rounds}
#define MODEL_INPUT_SIZE DIM
#define MODEL_OUTPUT_SIZE DIM
#define MODEL_INPUT_T int8_t
#define MODEL_OUTPUT_T int8_t
int model_invoke(const MODEL_INPUT_T *in, MODEL_OUTPUT_T *out);
#endif
"""

MODEL_C = """#include "model.h"
static int8_t w[DIM][DIM];
static int8_t act[2][DIM];

int model_invoke(const MODEL_INPUT_T *in, MODEL_OUTPUT_T *out) {
    for (int i = 0; i < DIM; i++)
        for (int j = 0; j < DIM; j++) w[i][j] = (int8_t)(i * 7 + j * 13);
    for (int i = 0; i < DIM; i++) act[0][i] = in[i];
    for (int r = 0; r < ROUNDS; r++) {
        const int8_t *x = act[r & 1];
        int8_t *y = act[(r + 1) & 1];
        for (int i = 0; i < DIM; i++) {
            int32_t acc = 0;
            for (int j = 0; j < DIM; j++) acc += w[i][j] * x[j];
            y[i] = (int8_t)(acc >> 10);
        }
    }
    for (int i = 0; i < DIM; i++) out[i] = act[ROUNDS & 1][i];
    return 0;
}
"""


def workload_size(arch: str) -> tuple[int, int]:
    """(DIM, ROUNDS): the weights must fit in RAM; the interpreters need fewer rounds."""
    backend = get_arch(arch).backend
    if backend == "avr8js":
        return 16, 100
    return (64, 20) if backend == "rp2040js" else (64, 200)


def build_workload(out_dir: Path, arch: str, inferences: int) -> Path:
    dim, rounds = workload_size(arch)
    model_dir = out_dir / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(model_dir / "model.h", MODEL_H.format(dim=dim, rounds=rounds))
    atomic_write(model_dir / "model.c", MODEL_C)
    inputs = np.random.default_rng(0).integers(-128, 128, (inferences, dim), dtype=np.int8)
    return build_firmware(model_dir, inputs, arch, out_dir / "build").elf


def python_hook_rate(elf: Path, arch: str, limit: int) -> float:
    """Instructions/s with a Python UC_HOOK_BLOCK counter, over `limit` instructions."""
    from unicorn import UC_ARCH_ARM, UC_HOOK_BLOCK, UC_HOOK_INTR, UC_MODE_THUMB, Uc
    from unicorn.arm_const import UC_ARM_REG_SP

    from .arch import get_arch
    from .elf import load_elf
    from .memory import ControlSpace, Layout, map_memory

    image = load_elf(elf)
    uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB)
    uc.ctl_set_cpu_model(get_arch(arch).unicorn_model)
    map_memory(uc, image, Layout.from_elf(image), ControlSpace())
    counts: dict[tuple[int, int], int] = {}
    total = [0]

    def on_block(uc: Uc, address: int, size: int, _ud: object) -> None:
        n = counts.get((address, size))
        if n is None:
            code, i, n = bytes(uc.mem_read(address, size)), 0, 0
            while i + 2 <= size:
                i += 4 if (code[i + 1] & 0xF8) >= 0xE8 else 2
                n += 1
            counts[(address, size)] = n
        total[0] += n
        if total[0] >= limit:
            uc.emu_stop()

    uc.hook_add(UC_HOOK_BLOCK, on_block)
    uc.hook_add(UC_HOOK_INTR, lambda uc, intno, ud: uc.emu_stop())  # stop at the first console write
    uc.reg_write(UC_ARM_REG_SP, int.from_bytes(uc.mem_read(0, 4), "little"))
    start = time.perf_counter()
    uc.emu_start(int.from_bytes(uc.mem_read(4, 4), "little"), 0xDFFFFFF0)
    return total[0] / (time.perf_counter() - start)


def timed_run(elf: Path, arch: str, repeat: int, timing: bool = True) -> tuple[float, RunResult]:
    """(best wall time of `repeat` runs, the last result)."""
    best, result = float("inf"), None
    for _ in range(max(repeat, 1)):
        start = time.perf_counter()
        result = run_elf(elf, arch, timing=timing)
        best = min(best, time.perf_counter() - start)
    assert result is not None
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m emulation.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--arch", default="cortex-m4")
    parser.add_argument("--inferences", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the fastest counts")
    parser.add_argument("--python-hook", action="store_true", help="also time a Python block hook")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        elf = build_workload(Path(tmp), args.arch, args.inferences)
        run_elf(elf, args.arch)  # warm-up: builds the native counter if needed
        estimated = backend_of(args.arch).cycles == "estimated"
        for timing in ((True, False) if estimated else (True,)):
            seconds, result = timed_run(elf, args.arch, args.repeat, timing)
            what = ("with the timing model" if timing else "counting only") if estimated else "exact cycles"
            cycles = result.cycles_est
            print(f"{args.arch}: {result.total_instructions:,} instructions counted in {seconds:.3f} s "
                  f"= {result.total_instructions / seconds / 1e6:,.0f} M instructions/s, {what} "
                  f"(run_elf end to end; {result.instructions:,} instructions"
                  + (f", {cycles:,} cycles ({result.timing_model})" if cycles else "") + " per inference)")
        if args.python_hook and get_arch(args.arch).backend == "unicorn-arm":
            rate = python_hook_rate(elf, args.arch, 20_000_000)
            print(f"{args.arch}: Python UC_HOOK_BLOCK counter: {rate / 1e6:,.1f} M instructions/s")


if __name__ == "__main__":
    main()
