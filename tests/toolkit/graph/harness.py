"""One check for every op and model: numpy reference vs the real interpreter, host C
vs the reference, and (in the emulation tests) the emulated cores vs the reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from toolkit.codegen import generate_c
from toolkit.hostbuild import build_host
from toolkit.ir import Model
from toolkit.tflite.reader import read_tflite
from toolkit.validation import FLOAT_TOLERANCE, make_inputs, reference_outputs

N_INPUTS = 40
# every emulated core a model must run on bit-exactly (the Uno takes only what fits its 2 KB)
EMULATED_CORES = ["cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "rv32imc", "rp2040"]


def reference_rows(model: Model, inputs: np.ndarray) -> np.ndarray:
    """The numpy reference on each row of concatenated inputs; rows of concatenated outputs."""
    rows = []
    for row in inputs:
        parts, at = [], 0
        for t in model.inputs:
            parts.append(row[at : at + t.size].reshape(t.shape))
            at += t.size
        rows.append(np.concatenate([np.asarray(o).reshape(-1) for o in model.run_all(parts)]))
    return np.stack(rows)


def assert_agree(model: Model, ours: np.ndarray, ref: np.ndarray, what: str) -> None:
    ours, ref = np.asarray(ours).reshape(ref.shape), np.asarray(ref)
    if model.output.dtype == "int8" or ref.dtype.kind == "i":
        bad = np.argwhere(ours != ref)
        assert bad.size == 0, (f"{what}: {len(bad)} of {ref.size} values differ; first at input {bad[0][0]}, "
                               f"value {bad[0][1]}: {ours[tuple(bad[0])]} vs {ref[tuple(bad[0])]}")
    else:
        err = np.abs(ours.astype(np.float64) - ref.astype(np.float64))
        assert err.max() <= FLOAT_TOLERANCE, f"{what}: max abs error {err.max():.3g} > {FLOAT_TOLERANCE}"


def check_model(path: Path, work: Path, n: int = N_INPUTS, seed: int = 3) -> Model:
    """Reference vs interpreter (TFLM for int8, LiteRT for float), host C vs reference."""
    model = read_tflite(path)
    inputs = make_inputs(model, n, seed=seed)
    ours = reference_rows(model, inputs)
    name, ref = reference_outputs(model, path, inputs)
    assert_agree(model, ours, ref, f"numpy reference vs {name}")
    host = build_host(generate_c(model), work).invoke(inputs)
    assert_agree(model, host, ours if name == "tflm" else ref, "host C vs reference")
    return model


# The generated C must compile warning-free with every cross compiler we target (AVR builds
# are GNU C: TM_ROM is the __flash address space there).
CROSS_COMPILERS = {
    "avr-gcc": ["-mmcu=atmega328p", "-std=gnu99"],
    "avr-gcc/c99": ["-mmcu=atmega328p", "-std=c99"],  # strict ISO C: no __flash (kernels/rom.c)
    "riscv64-unknown-elf-gcc": ["-march=rv32imc", "-mabi=ilp32", "--specs=picolibc.specs", "-std=c99"],
    "arm-none-eabi-gcc": ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-std=c99"],
    "arm-none-eabi-gcc/m0plus": ["-mcpu=cortex-m0plus", "-mthumb", "-std=c99"],
}


def assert_cross_compiles(paths: list[Path], work: Path, compiler: str) -> None:
    """Compile each model's generated C with `compiler` (a key of CROSS_COMPILERS), -Werror."""
    import shutil
    import subprocess

    from toolkit.codegen import write_c

    cc = compiler.split("/")[0]
    if shutil.which(cc) is None:
        import pytest

        pytest.skip(f"{cc} not installed")
    for path in paths:
        out = work / path.stem
        write_c(generate_c(read_tflite(path)), out)
        cmd = [cc, *CROSS_COMPILERS[compiler], "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", "-c",
               str(out / "model.c"), "-o", str(out / "model.o")]
        done = subprocess.run(cmd, capture_output=True, text=True)
        assert done.returncode == 0, f"{path.name}: {' '.join(cmd)}\n{done.stderr}"
