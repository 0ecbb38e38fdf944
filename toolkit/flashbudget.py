"""The flash a firmware spends outside the generated model, and the model's share of a budget.

`toolkit codegen/emulate --optimize ... --flash-budget B` (generate_c's flash_budget) choose
per layer so that the estimated model bytes (constants and code of the generated C) stay
within B minus the firmware's fixed part: the harness, start-up code and C library that
every build of the same core links whatever the model. That part is measured, not guessed:
a stub model (model_invoke returning at once, the model's input and output types and
sizes) is built with the same harness, flags and linker script, and its flash (text +
rodata + data) is the fixed part. With --board and no --flash-budget the budget is the
board's flash.
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from toolkit.errors import ToolchainError, ToolkitError
from toolkit.fileio import atomic_write
from toolkit.ir import Model

_C_TYPE = {"int8": "int8_t", "float32": "float"}


def _stub(model_dir: Path, tin: str, tout: str, n_in: int, n_out: int) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    header = ("#ifndef MODEL_H\n#define MODEL_H\n#include <stdint.h>\n"
              f"#define MODEL_INPUT_SIZE {n_in}\n#define MODEL_OUTPUT_SIZE {n_out}\n"
              f"#define MODEL_INPUT_T {tin}\n#define MODEL_OUTPUT_T {tout}\n"
              "#define MODEL_INPUT_COUNT 1\n#define MODEL_OUTPUT_COUNT 1\n"
              f"int model_invoke(const {tin} *in, {tout} *out);\n#endif\n")
    source = ('#include "model.h"\n'
              f"int model_invoke(const {tin} *in, {tout} *out)\n{{\n    (void)in;\n    (void)out;\n    return 0;\n}}\n")
    atomic_write(model_dir / "model.h", header)
    atomic_write(model_dir / "model.c", source)


@cache
def _fixed(arch: str, tin: str, tout: str, n_in: int, n_out: int) -> int:
    import numpy as np

    import emulation
    from emulation.elf import load_elf

    try:
        emulation.get_arch(arch)
    except emulation.UnknownArch:
        raise ToolkitError(f"no emulated core '{arch}' to measure the firmware's fixed flash on: give "
                           "--arch (one of `python -m emulation archs`) and --flash-budget instead") from None
    with tempfile.TemporaryDirectory(prefix="tm-fixed-") as tmp:
        model_dir = Path(tmp) / "model"
        _stub(model_dir, tin, tout, n_in, n_out)
        vectors = np.zeros((1, n_in), np.int8 if tin == "int8_t" else np.float32)
        try:
            fw = emulation.build_firmware(model_dir, vectors, arch, Path(tmp) / "build")
        except (emulation.ToolMissing, emulation.BuildError) as exc:
            raise ToolchainError(f"measuring the firmware's fixed flash on {arch}: {exc}") from None
        return int(load_elf(fw.elf).sizes()["flash_bytes"])


def fixed_flash_bytes(model: Model, arch: str) -> int:
    """Flash bytes of the firmware for `arch` without the model (measured with a stub model)."""
    return _fixed(arch, _C_TYPE.get(model.input.dtype, "int8_t"), _C_TYPE.get(model.output.dtype, "int8_t"),
                  sum(t.size for t in model.inputs), sum(t.size for t in model.outputs))
