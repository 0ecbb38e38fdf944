"""Run a Wokwi project's scenario: on the Wokwi cloud with wokwi-cli, or headless on
Wokwi's open-source engines (avr8js for the Uno, rp2040js for the Pico) under Node.

Exit codes follow wokwi-cli: 0 pass, 1 failure, 42 timeout; 2 when it cannot run here.
The local runner is wokwi/engines/scenario.mjs; it prints the serial output and, as its
last line, a JSON object (status, message, serial, cycles, sim_time_ns, steps_done, ...).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.errors import ToolkitError
from toolkit.wokwi.validate import KNOWN_STEPS, LOCAL_STEPS, check_project

# part type in diagram.json -> engine name of the local scenario runner
LOCAL_ENGINES = {"wokwi-arduino-uno": "avr", "wokwi-pi-pico": "rp2040"}
EXIT_PASS, EXIT_FAIL, EXIT_CANNOT, EXIT_TIMEOUT = 0, 1, 2, 42
RUNNERS = ("auto", "local", "cloud")


@dataclass
class ScenarioRun:
    exit_code: int
    runner: str  # "wokwi-cli", "avr (local)", "rp2040 (local)" or "none"
    serial: str
    message: str
    cycles: int | None = None
    sim_time_ns: int | None = None
    steps_done: int | None = None
    details: dict = field(default_factory=dict)  # the local runner's whole JSON result

    @property
    def passed(self) -> bool:
        return self.exit_code == EXIT_PASS


def cloud_ready() -> tuple[bool, str]:
    """(can wokwi-cli run, why not): it needs the wokwi-cli program and WOKWI_CLI_TOKEN."""
    missing = []
    if not shutil.which("wokwi-cli"):
        missing.append("wokwi-cli is not installed")
    if not os.environ.get("WOKWI_CLI_TOKEN"):
        missing.append("WOKWI_CLI_TOKEN is not set")
    return not missing, " and ".join(missing)


def run_project(project: str | Path, timeout_ms: int = 30_000, scenario: str = "model.test.yaml", *,
                runner: str = "auto") -> ScenarioRun:
    """Run `scenario` of `project` for at most `timeout_ms` of simulated time.

    runner: "auto" takes the Wokwi cloud when wokwi-cli and WOKWI_CLI_TOKEN are there, else
    the local engines (Uno and Pico only); "local" and "cloud" insist on one of them.
    """
    if runner not in RUNNERS:
        raise ToolkitError(f"unknown runner '{runner}': {', '.join(RUNNERS)}")
    project = Path(project)
    parsed = check_project(project)
    if scenario not in parsed["scenarios"]:
        raise ToolkitError(f"{project}: no scenario {scenario}")
    parts = parsed["diagram"]["parts"]
    board = next((p for p in parts if p["type"] in LOCAL_ENGINES), parts[0])
    engine = LOCAL_ENGINES.get(board["type"])
    ready, why_not = cloud_ready()
    if runner == "cloud" or (runner == "auto" and (ready or engine is None)):
        if not ready:
            where = f"{board['type']} runs only on the Wokwi cloud" if engine is None else "the Wokwi cloud is not available"
            return ScenarioRun(EXIT_CANNOT, "none", "", f"{where}: {why_not} (install wokwi-cli and export "
                               "WOKWI_CLI_TOKEN, a token from the Wokwi CI dashboard)")
        return _run_cloud(project, parsed, scenario, timeout_ms)
    if engine is None:
        return ScenarioRun(EXIT_CANNOT, "none", "", f"{board['type']} has no local engine; it runs only on the Wokwi cloud")
    steps = parsed["scenarios"][scenario]["steps"]
    for i, step in enumerate(steps):
        cloud_only = [k for k in step if k in KNOWN_STEPS and k not in LOCAL_STEPS]
        if cloud_only:
            return ScenarioRun(EXIT_FAIL, f"{engine} (local)", "", f"step {i + 1}: '{cloud_only[0]}' needs the Wokwi "
                               f"cloud (wokwi-cli with WOKWI_CLI_TOKEN); the local engines run {', '.join(LOCAL_STEPS)}")
    return _run_local(project, engine, board["id"], parsed, steps, timeout_ms)


def _run_cloud(project: Path, parsed: dict, scenario: str, timeout_ms: int) -> ScenarioRun:
    wokwi = parsed["toml"]["wokwi"]
    for key in ("firmware", "elf"):
        if not (project / wokwi[key]).exists():
            return ScenarioRun(EXIT_CANNOT, "none", "", f"{project / wokwi[key]} not found: build the firmware first "
                               "(see the project's README.md)")
    proc = subprocess.run(["wokwi-cli", "--timeout", str(timeout_ms), "--scenario", scenario, str(project)],
                          capture_output=True, text=True)
    errors = proc.stderr.strip().splitlines()
    return ScenarioRun(proc.returncode, "wokwi-cli", proc.stdout, errors[-1] if errors else "")


def _run_local(project: Path, engine: str, part_id: str, parsed: dict, steps: list, timeout_ms: int) -> ScenarioRun:
    from emulation.errors import ToolMissing
    from emulation.data import INSTALL_HINT, engines_dir
    from emulation.node import node_path

    try:
        node = node_path()
    except ToolMissing as exc:
        raise ToolkitError(str(exc)) from None
    root = engines_dir()
    package = {"avr": "avr8js", "rp2040": "rp2040js"}[engine]
    if not (root / "node_modules" / package / "package.json").is_file():
        raise ToolkitError(f"Wokwi's {package} engine is not installed in {root / 'node_modules'}: "
                           f"run make setup in a checkout, else {INSTALL_HINT.removeprefix('run: ')}")
    runner = f"{engine} (local)"
    # Flash comes from the file Wokwi loads (UF2 / HEX); the ELF gives the symbols.
    wokwi = parsed["toml"]["wokwi"]
    firmware, elf = project / wokwi["firmware"], project / wokwi["elf"]
    for path in (firmware, elf):
        if not path.is_file():
            return ScenarioRun(EXIT_CANNOT, runner, "", f"{path} not found: generate the project again "
                               f"(toolkit wokwi new MODEL.tflite --board ... -o {project})")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"steps": steps, "part_id": part_id}, f, default=str)
        steps_file = f.name
    try:
        proc = subprocess.run([node, str(root / "engines" / "scenario.mjs"), "--engine", engine, "--elf", str(elf),
                               "--firmware", str(firmware), "--steps", steps_file, "--timeout", str(timeout_ms),
                               "--quiet"],
                              capture_output=True, text=True)
    finally:
        Path(steps_file).unlink(missing_ok=True)
    lines = proc.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        result = None
    if not isinstance(result, dict):
        errors = proc.stderr.strip().splitlines()
        message = (errors[-1] if proc.returncode != 3 else errors[0]) if errors else f"exit status {proc.returncode}"
        return ScenarioRun(proc.returncode or EXIT_FAIL, runner, "", message.removeprefix("error: "))
    return ScenarioRun(proc.returncode, runner, result.get("serial", ""), result.get("message", ""),
                       result.get("cycles"), result.get("sim_time_ns"), result.get("steps_done"), result)
