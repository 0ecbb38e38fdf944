"""Run a Wokwi project's scenario: on the Wokwi cloud with wokwi-cli, or headless on
Wokwi's open-source engines (avr8js for the Uno, rp2040js for the Pico) under Node.

Exit codes follow wokwi-cli: 0 pass, 1 failure, 42 timeout; 2 when it cannot run here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import ToolkitError
from toolkit.paths import ROOT
from toolkit.wokwi.validate import LOCAL_STEPS, check_project

ENGINES = ROOT / "wokwi" / "engines"
# part type in diagram.json -> engine name of the local scenario runner
LOCAL_ENGINES = {"wokwi-arduino-uno": "avr", "wokwi-pi-pico": "rp2040"}
EXIT_PASS, EXIT_FAIL, EXIT_CANNOT, EXIT_TIMEOUT = 0, 1, 2, 42


@dataclass
class ScenarioRun:
    exit_code: int
    runner: str  # "wokwi-cli" or the local engine
    serial: str
    message: str
    cycles: int | None = None


def run_project(project: str | Path, timeout_ms: int = 30_000, scenario: str = "model.test.yaml") -> ScenarioRun:
    project = Path(project)
    parsed = check_project(project)
    if scenario not in parsed["scenarios"]:
        raise ToolkitError(f"{project}: no scenario {scenario}")
    if shutil.which("wokwi-cli") and os.environ.get("WOKWI_CLI_TOKEN"):
        proc = subprocess.run(["wokwi-cli", "--timeout", str(timeout_ms), "--scenario", scenario, str(project)],
                              capture_output=True, text=True)
        return ScenarioRun(proc.returncode, "wokwi-cli", proc.stdout, proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "")
    part = parsed["diagram"]["parts"][0]["type"]
    engine = LOCAL_ENGINES.get(part)
    if engine is None:
        missing = "WOKWI_CLI_TOKEN is not set" if shutil.which("wokwi-cli") else "wokwi-cli is not installed and WOKWI_CLI_TOKEN is not set"
        return ScenarioRun(EXIT_CANNOT, "none", "", f"{part} runs only on the Wokwi cloud: {missing} "
                           "(install wokwi-cli and export a token from the Wokwi CI dashboard)")
    steps = parsed["scenarios"][scenario]["steps"]
    for step in steps:
        unsupported = [k for k in step if k != "name" and k not in LOCAL_STEPS]
        if unsupported:
            raise ToolkitError(f"step '{unsupported[0]}' needs the Wokwi cloud; the local engines run {', '.join(LOCAL_STEPS)}")
    return _run_local(project, engine, parsed, steps, timeout_ms)


def _run_local(project: Path, engine: str, parsed: dict, steps: list, timeout_ms: int) -> ScenarioRun:
    from emulation.node import node_path
    from emulation.errors import ToolMissing

    try:
        node = node_path()
    except ToolMissing as exc:
        raise ToolkitError(str(exc)) from None
    if not (ROOT / "wokwi" / "node_modules").exists():
        raise ToolkitError("Wokwi's engines are not installed: run 'make setup' (npm ci in wokwi/)")
    elf = project / parsed["toml"]["wokwi"]["elf"]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"steps": steps, "part_id": parsed["diagram"]["parts"][0]["id"]}, f)
        steps_file = f.name
    try:
        proc = subprocess.run([node, str(ENGINES / "scenario.mjs"), "--engine", engine, "--elf", str(elf),
                               "--steps", steps_file, "--timeout", str(timeout_ms)], capture_output=True, text=True)
    finally:
        Path(steps_file).unlink(missing_ok=True)
    result = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {}
    return ScenarioRun(proc.returncode, f"{engine} (local)", result.get("serial", ""),
                       result.get("message", proc.stderr.strip()[-300:]), result.get("cycles"))
