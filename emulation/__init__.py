"""Runs microcontroller firmware (ELF) in emulation and measures it exactly.

    from emulation import build_firmware, run_elf
    fw = build_firmware("model_dir", inputs, "cortex-m4", "build/")
    result = run_elf(fw.elf, "cortex-m4")
    result.outputs, result.metrics()

Cores (ARCHS): Cortex-M0+/M3/M4/M7/M33 and rv32imc on Unicorn, atmega328p on
avr8js and rp2040 on rp2040js (Wokwi's engines, in Node). Instruction counts are
exact everywhere; cycles are exact on the Node engines and estimated on Unicorn
by a per-core timing model (emulation.timing, TIMING_MODELS); layer markers in the
firmware split each inference into segments (emulation.layers). Stands alone: it
does not import the model-side toolkit.
"""
from .arch import ARCHS, Arch, get_arch
from .backends import BACKENDS, Backend, backend_of, run_elf
from .build import Firmware, build_firmware, build_program
from .errors import BuildError, EmulationError, FaultInfo, GuestFault, ToolMissing, UnknownArch
from .layers import LayerSegment
from .result import METRIC_NAMES, RunResult, parse_console
from .runner import DEFAULT_INSTRUCTION_LIMIT
from .timing import CORES as TIMING_MODELS
from .timing import CoreTiming
from .vectors import vectors_source, write_vectors

__all__ = [
    "ARCHS", "Arch", "get_arch", "BACKENDS", "Backend", "backend_of", "Firmware", "build_firmware", "build_program",
    "BuildError", "EmulationError", "FaultInfo", "GuestFault", "ToolMissing", "UnknownArch", "METRIC_NAMES", "RunResult",
    "parse_console", "DEFAULT_INSTRUCTION_LIMIT", "run_elf", "vectors_source", "write_vectors", "TIMING_MODELS",
    "CoreTiming", "LayerSegment",
]
