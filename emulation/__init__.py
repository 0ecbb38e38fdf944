"""Runs microcontroller firmware (ELF) in emulation and measures it exactly.

    from emulation import build_firmware, run_elf
    fw = build_firmware("model_dir", inputs, "cortex-m4", "build/")
    result = run_elf(fw.elf, "cortex-m4")
    result.outputs, result.metrics()

Stands alone: it does not import the model-side toolkit.
"""
from .arch import ARCHS, Arch, get_arch
from .build import Firmware, build_firmware
from .errors import BuildError, EmulationError, FaultInfo, GuestFault, ToolMissing, UnknownArch
from .result import METRIC_NAMES, RunResult, parse_console
from .runner import DEFAULT_INSTRUCTION_LIMIT, run_elf
from .vectors import vectors_source, write_vectors

__all__ = [
    "ARCHS", "Arch", "get_arch", "Firmware", "build_firmware", "BuildError", "EmulationError",
    "FaultInfo", "GuestFault", "ToolMissing", "UnknownArch", "METRIC_NAMES", "RunResult",
    "parse_console", "DEFAULT_INSTRUCTION_LIMIT", "run_elf", "vectors_source", "write_vectors",
]
