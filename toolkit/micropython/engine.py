"""Run a model as a MicroPython script on an emulated Cortex-M core, beside the generated C.

The firmware (build.py) compiles the script on the device and runs every test vector
through invoke(x, y) between the harness's markers, so `instructions` is per inference,
exactly as for the generated C and TF Lite Micro. The rest of the run is split at the
firmware's phase marker (tm_mp_phase, hooked here): start-up (reset to an initialised
VM), compile (the script parsed and compiled to bytecode on the device), set-up (the
script's module code: weights built in the heap), one gc.collect(), and exit.

flash_bytes = interpreter + script (text + rodata + data, the test vectors apart);
ram_bytes = static RAM + the GC heap's high-water mark (the .bss heap array counted at
what was used of it); stack_bytes the measured peak, as for every engine.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from toolkit.errors import ToolkitError, ValidationFailed
from toolkit.ir import Model
from toolkit.micropython.build import build_interpreter, link_firmware
from toolkit.micropython.script import generate
from toolkit.micropython.tree import MicroPythonTree, find_tree

PHASES = {1: "main", 2: "vm_ready", 3: "compiled", 4: "set_up", 5: "inferences_done", 6: "script_done",
          7: "gc_begin", 8: "gc_end"}
RUNAWAY_PER_INFERENCE = 5_000_000
RUNAWAY_PER_MAC = 30_000
_HEAP = re.compile(r"^M:heap_bytes=(\d+) heap_peak_bytes=(\d+)$", re.MULTILINE)


class MicroPythonUnavailable(ToolkitError):
    """The micropython engine cannot run on this core."""


def check_arch(arch: str) -> None:
    """Refuse, in one line, cores the micropython engine cannot serve."""
    import emulation

    spec = emulation.get_arch(arch)
    if spec.name == "atmega328p":
        raise MicroPythonUnavailable("MicroPython does not fit the atmega328p (32 KB flash, 2 KB SRAM: the interpreter "
                                     "alone takes ~100 KB of flash and its heap tens of KB); the micropython engine "
                                     "runs on the Cortex-M cores")
    if spec.elf_machine != "EM_ARM":
        raise MicroPythonUnavailable(f"the micropython engine builds for Cortex-M cores only; {spec.name} would need "
                                     "MicroPython's RISC-V port and its own start-up and GC helpers")
    if spec.backend != "unicorn-arm":
        raise MicroPythonUnavailable(f"the micropython engine measures its phases with Unicorn's hooks, and {spec.name} "
                                     f"runs on {spec.backend}; use cortex-m0plus (the same core)")


def _run(elf: Path, arch: str, limit: int):
    """Run on Unicorn with a hook on tm_mp_phase: (RunResult, [(phase, instructions so far)])."""
    from unicorn import UC_HOOK_CODE
    from unicorn.arm_const import UC_ARM_REG_R0

    import emulation
    from emulation.arm import ArmRun
    from emulation.runner import run_unicorn

    phases: list[tuple[int, int]] = []

    class PhaseRun(ArmRun):
        def install_core_hooks(self) -> None:
            super().install_core_hooks()
            address = self.image.symbol("tm_mp_phase")
            if address is not None:
                self.uc.hook_add(UC_HOOK_CODE, self._on_phase, begin=address & ~1, end=address & ~1)

        def _on_phase(self, uc, address: int, size: int, _ud: object) -> None:
            phases.append((uc.reg_read(UC_ARM_REG_R0), self.counter.total))

    try:
        run = run_unicorn(PhaseRun, elf, emulation.get_arch(arch), limit)
    except emulation.GuestFault as exc:
        raise ValidationFailed(f"the MicroPython firmware failed on {arch}: {exc}") from None
    return run, phases


def phase_counts(phases: list[tuple[int, int]], total: int, inferences: int) -> dict[str, int | None]:
    """Instructions of each part of the run, from the phase marks (first occurrence of each)."""
    at: dict[str, int] = {}
    for pid, n in phases:
        at.setdefault(PHASES.get(pid, str(pid)), n)

    def span(a: str, b: str) -> int | None:
        return at[b] - at[a] if a in at and b in at else None

    return {"startup": at.get("vm_ready"), "compile": span("vm_ready", "compiled"), "set_up": span("compiled", "set_up"),
            "gc_collect": span("gc_begin", "gc_end"), "inference_loop": span("set_up", "inferences_done"),
            "exit": total - at["script_done"] if "script_done" in at else None, "total": total}


def emulate_micropython(model_path: str | Path, model: Model, arch: str, build_dir: Path, inputs: np.ndarray,
                        tree: MicroPythonTree | str | Path | None = None, instruction_limit: int | None = None,
                        weights: str = "list"):
    """Generate the script, build (cached) and link the firmware, run every input; an EmulationReport."""
    import emulation
    from toolkit.emulate import EmulationReport
    from toolkit.tflm.engine import first_difference
    from toolkit.tflm.sources import cpu_flags
    from toolkit.validation import compare, reference_outputs

    check_arch(arch)
    script = generate(model, weights, Path(model_path).name)
    tree = tree if isinstance(tree, MicroPythonTree) else find_tree(tree)
    start = time.monotonic()
    spec = emulation.get_arch(arch)
    interp = build_interpreter(tree, cpu_flags(spec.cflags))
    fw = link_firmware(interp, script.text, inputs, arch, Path(build_dir))
    # the interpreter takes ~1,000 instructions per MAC and compiles the weights on the device: a guard to match
    per_inference = instruction_limit or RUNAWAY_PER_INFERENCE + RUNAWAY_PER_MAC * model.macs
    limit = per_inference * (len(inputs) + 1)
    if not instruction_limit:
        limit = max(limit, emulation.backend_of(arch).default_limit)
    run, phases = _run(fw.elf, arch, limit)
    seconds = time.monotonic() - start
    heap = _HEAP.search(run.console)
    if heap is None:
        raise ValidationFailed(f"the MicroPython firmware did not report its heap on {arch}: {run.console[-200:]!r}")
    heap_bytes, heap_peak = int(heap.group(1)), int(heap.group(2))
    static = run.ram_bytes - heap_bytes
    run = replace(run, ram_bytes=static + heap_peak)
    ours = run.outputs_array(model.output.dtype)
    if len(ours) != len(inputs):
        raise ValidationFailed(f"the MicroPython firmware reported {len(ours)} outputs for {len(inputs)} inputs: "
                               f"{run.console[-300:]!r}")
    reference, ref = reference_outputs(model, model_path, inputs)
    comparison = compare(model, ours, np.asarray(ref), reference)
    _, first = first_difference(ours, np.asarray(ref), comparison.exact)
    script_bytes = len(script.text.encode())
    details = {
        "tree": str(tree.root),
        "interpreter": str(interp.library),
        "compiled": interp.compiled,
        "build_seconds": round(interp.seconds, 2),
        "seconds": round(seconds, 2),
        "script": str(Path(build_dir) / "model.py"),
        "script_bytes": script_bytes,
        "interpreter_flash_bytes": run.flash_bytes - script_bytes,
        "float_weights": weights if model.input.dtype == "float32" else None,
        "ops": script.ops,
        "heap_bytes": heap_bytes,
        "heap_peak_bytes": heap_peak,
        "static_ram_bytes": static,
        "phases": phase_counts(phases, run.total_instructions, len(inputs)),
        "first_mismatch": first,
    }
    return EmulationReport(arch, model, comparison, run, fw.elf, fw.map, engine="micropython", arena_bytes=heap_peak,
                           details=details)


def info_lines(engine: str, r) -> list[tuple[str, object]]:
    """What the side-by-side table prints under a micropython row."""
    from toolkit.table import fmt

    d = r.details
    p = d["phases"]
    built = f"built in {d['build_seconds']:.1f} s" if d["compiled"] else "from the cache"
    parts = [f"{k.replace('_', ' ')} {fmt(p[k])}" for k in ("startup", "compile", "set_up", "gc_collect")
             if p.get(k) is not None]
    weights = f", float weights as {d['float_weights']}s" if d.get("float_weights") else ""
    return [(f"{engine}: run", "instructions outside the inferences: " + ", ".join(parts)),
            (f"{engine}: memory", (f"flash {fmt(d['interpreter_flash_bytes'])} B interpreter + "
                                   f"{fmt(d['script_bytes'])} B script; RAM {fmt(d['static_ram_bytes'])} B static + "
                                   f"{fmt(d['heap_peak_bytes'])} B heap high-water (of {fmt(d['heap_bytes'])} B)")),
            (f"{engine}: build", f"interpreter {built}; script {d['script']}{weights}")]
