"""Generate C for a model, build it for a core, run every input in emulation, validate.

The model side (reader, code generator, references) meets the emulation package here;
`emulation` itself knows nothing about models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from toolkit.codegen import generate_c, write_c
from toolkit.errors import ToolchainError, ToolkitError, ValidationFailed
from toolkit.ir import Model
from toolkit.profile import profile_layers
from toolkit.provenance import stamp
from toolkit.tflite.reader import read_tflite
from toolkit.validation import (
    DEFAULT_FLOAT_RANGE,
    Comparison,
    compare,
    default_n_inputs,
    make_inputs,
    reference_outputs,
)

if TYPE_CHECKING:
    from emulation import RunResult
    from toolkit.codegen.generator import GeneratedC
    from toolkit.codegen.optimize import Selection
    from toolkit.profile import LayerProfile

def tensor_layout(tensors: list) -> list[dict]:
    out, at = [], 0
    for t in tensors:
        q = {"scale": t.scale, "zero_point": t.zero_point} if t.quant is not None and t.dtype == "int8" else {}
        out.append({"name": t.name, "dtype": t.dtype, "shape": list(t.shape), "offset": at, **q})
        at += t.size
    return out


@dataclass
class EmulationReport:
    arch: str
    model: Model
    comparison: Comparison
    run: "RunResult"
    elf: Path
    map: Path
    engine: str = "generated"  # or "tflm", "tflm-cmsis-nn" (toolkit.tflm), "micropython" (toolkit.micropython)
    arena_bytes: int | None = None  # activation arena (generated) or TFLM's tensor arena
    details: dict = field(default_factory=dict)  # engine specifics (TFLM: kernels, ops, library, ...)
    profile: "LayerProfile | None" = None  # per op, from a build with layer markers (emulate(per_layer=True))
    selection: "Selection | None" = None  # the speed/size choice per layer (toolkit/codegen/optimize.py)

    def to_json(self, clock_mhz: float | None = None) -> dict:
        """The metrics under the names of DESIGN.md; latency needs the board's clock."""
        m = self.run.metrics()
        # exact cycles where the engine counts them, else the timing model's estimate
        cycles = m.get("cycles") or m.get("cycles_est")
        timing = {
            "cycles": m.get("cycles"),
            "cycles_est": m.get("cycles_est", m.get("cycles")),
            "timing_model": getattr(self.run, "timing_model", None) or ("exact, counted by the engine" if m.get("cycles") else None),
            "latency_us": round(cycles / clock_mhz, 3) if cycles and clock_mhz else None,
        }
        return stamp({
            "arch": self.arch,
            "engine": self.engine,
            "n_inputs": self.comparison.n_inputs,
            "instructions": m["instructions"],
            "instructions_min": m["instructions_min"],
            "instructions_max": m["instructions_max"],
            "flash_bytes": m["flash_bytes"],
            "ram_bytes": m["ram_bytes"],
            "stack_bytes": m["stack_bytes"],
            "arena_bytes": self.arena_bytes,
            "mismatches": self.comparison.mismatches,
            "max_abs_error": self.comparison.max_abs_error,
            **timing,
            "reference": self.comparison.reference,
            # where each model input/output sits in the concatenated vectors of the harness
            "model_inputs": tensor_layout(self.model.inputs),
            "model_outputs": tensor_layout(self.model.outputs),
            "passed": self.comparison.passed,
            "elf": str(self.elf),
            **({"micropython" if self.engine == "micropython" else "tflm": self.details} if self.details else {}),
            **(self.profile.report_json() if self.profile else {}),
        }, self.arch)


# A runaway guest is one that takes far more than any kernel could: per inference, this
# many instructions per MAC (the portable kernels take 5-30) plus a fixed allowance.
RUNAWAY_PER_MAC = 200
RUNAWAY_PER_INFERENCE = 5_000_000


def per_inference_limit(model: Model) -> int:
    """The default runaway guard of one inference (`toolkit emulate --limit`)."""
    return RUNAWAY_PER_INFERENCE + RUNAWAY_PER_MAC * model.macs


def run_limit(model: Model, n_inputs: int, backend_default: int, per_inference: int | None = None) -> int:
    """The instruction limit of a run of `n_inputs` inferences: `per_inference` (default
    per_inference_limit, and then the run never below the backend's own limit) times the
    inputs, plus as much again for the start-up code (which takes far less than an inference)."""
    if per_inference is not None:
        return per_inference * (n_inputs + 1)
    return max(backend_default, per_inference_limit(model) * (n_inputs + 1))


def emulate(
    model_path: str | Path,
    arch: str,
    build_dir: str | Path,
    n_inputs: int | None = None,
    seed: int = 0,
    float_range: tuple[float, float] = DEFAULT_FLOAT_RANGE,
    instruction_limit: int | None = None,
    per_layer: bool = False,
    optimize: str = "speed",
    flash_budget: int | None = None,
) -> EmulationReport:
    """Build and run `model_path` on `arch`; raise ToolkitError subclasses on failure.
    `instruction_limit` is per inference (run_limit). With
    `per_layer`, also build it with layer markers (in build_dir/profile) and profile each op.
    `optimize`, `flash_budget`: generate_c's, the budget for this core's whole firmware (its
    fixed part measured, toolkit/flashbudget.py); the choice is in the report's `selection`."""
    import emulation

    try:
        emulation.get_arch(arch)
    except emulation.UnknownArch as exc:
        raise ToolkitError(str(exc)) from None
    model = read_tflite(model_path)
    inputs = make_inputs(model, default_n_inputs(model, n_inputs), seed, float_range)
    build_dir = Path(build_dir)
    gen = generate_model(model, arch, optimize, flash_budget)
    write_c(gen, build_dir / "model")
    try:
        fw = emulation.build_firmware(build_dir / "model", inputs, arch, build_dir)
        limit = run_limit(model, len(inputs), emulation.backend_of(arch).default_limit, instruction_limit)
        run = emulation.run_elf(fw.elf, arch, instruction_limit=limit)
        options = None if gen.selection is None or not gen.selection.forced else {
            "optimize": optimize, "flash_budget": flash_budget, "fixed_bytes": gen.selection.fixed_bytes}
        profile = profile_layers(model, inputs, arch, build_dir / "profile", limit, run, options) if per_layer else None
    except (emulation.ToolMissing, emulation.BuildError) as exc:
        raise ToolchainError(str(exc)) from None
    except emulation.GuestFault as exc:
        raise ValidationFailed(f"the firmware faulted on {arch}: {exc}") from None
    ours = run.outputs_array(model.output.dtype)
    if len(ours) != len(inputs):
        raise ValidationFailed(f"the firmware reported {len(ours)} outputs for {len(inputs)} inputs")
    reference, ref = reference_outputs(model, model_path, inputs)
    return EmulationReport(arch, model, compare(model, ours, np.asarray(ref), reference), run, fw.elf, fw.map,
                           arena_bytes=gen.arena_bytes, profile=profile, selection=gen.selection)


def generate_model(model: Model, arch: str, optimize: str = "speed", flash_budget: int | None = None,
                   explain: bool = False) -> "GeneratedC":
    """generate_c for a build on `arch`: the budget's fixed part measured there."""
    from toolkit.flashbudget import fixed_flash_bytes

    if optimize == "speed" and flash_budget is None and not explain:
        return generate_c(model)
    fixed = fixed_flash_bytes(model, arch) if flash_budget is not None else 0
    return generate_c(model, optimize=optimize, flash_budget=flash_budget, arch=arch, fixed_bytes=fixed, explain=True)
