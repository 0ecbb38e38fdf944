"""The checks wokwi-cli applies to wokwi.toml, diagram.json and scenario files.

Mirrors the CLI's rules: wokwi.toml needs a [wokwi] table with version 1 and string
`firmware` and `elf` paths; a scenario needs a string name, version 1 and a list of
steps whose keys are `name` or a known command, each with well-formed parameters.
A built Pico firmware (.uf2) must also be one the RP2040 bootrom takes and starts
(toolkit.wokwi.uf2).
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from toolkit.errors import ToolkitError

# Step commands wokwi-cli knows; the local engines run the first four.
LOCAL_STEPS = ("wait-serial", "delay", "write-serial", "expect-pin")
KNOWN_STEPS = LOCAL_STEPS + ("set-control", "take-screenshot", "wait-pin")
TIME = re.compile(r"^(\d+(\.\d*)?)\s*(ns|us|ms|s)$|^0(\.?0*)$", re.I)
NANOS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}


class WokwiConfigError(ToolkitError):
    """A Wokwi project file that wokwi-cli would reject."""


def parse_time_ns(text: str) -> float:
    m = TIME.match(str(text).strip())
    if not m:
        raise WokwiConfigError(f"invalid time '{text}': units are required (e.g. 200ms)")
    return 0.0 if m.group(1) is None else float(m.group(1)) * NANOS[m.group(3).lower()]


def check_toml(text: str, where: str = "wokwi.toml") -> dict:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WokwiConfigError(f"{where}: not valid TOML ({exc})") from None
    wokwi = data.get("wokwi")
    if not isinstance(wokwi, dict):
        raise WokwiConfigError(f"{where}: missing [wokwi] section")
    if wokwi.get("version") != 1:
        raise WokwiConfigError(f"{where}: unsupported version {wokwi.get('version')!r} (must be 1)")
    if not isinstance(wokwi.get("firmware"), str) or not isinstance(wokwi.get("elf"), str):
        raise WokwiConfigError(f"{where}: firmware and elf paths must be strings")
    return data


def check_diagram(text: str, where: str = "diagram.json") -> dict:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WokwiConfigError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or data.get("version") != 1:
        raise WokwiConfigError(f"{where}: version must be 1")
    parts = data.get("parts")
    if not isinstance(parts, list) or not parts:
        raise WokwiConfigError(f"{where}: needs a non-empty 'parts' list")
    ids = set()
    for part in parts:
        if not isinstance(part, dict) or not isinstance(part.get("type"), str) or not isinstance(part.get("id"), str):
            raise WokwiConfigError(f"{where}: every part needs a string 'type' and 'id'")
        ids.add(part["id"])
    for conn in data.get("connections", []):
        if not isinstance(conn, list) or len(conn) < 2 or not all(isinstance(c, str) for c in conn[:2]):
            raise WokwiConfigError(f"{where}: a connection must be [from, to, color, hints]")
        for end in conn[:2]:
            part = end.split(":", 1)[0]
            if not part.startswith("$") and part not in ids:
                raise WokwiConfigError(f"{where}: connection refers to unknown part '{part}'")
    return data


def _check_step(step: Any, i: int, where: str) -> None:
    if not isinstance(step, dict):
        raise WokwiConfigError(f"{where}: step {i + 1} must be a mapping")
    commands = [k for k in step if k != "name"]
    for key in commands:
        if key not in KNOWN_STEPS:
            raise WokwiConfigError(f"{where}: invalid scenario step key: {key} (step {i + 1})")
    if len(commands) != 1:
        raise WokwiConfigError(f"{where}: step {i + 1} needs exactly one command")
    key, value = commands[0], step[commands[0]]
    if key == "delay":
        parse_time_ns(value)
    elif key == "wait-serial" and not isinstance(value, str):
        raise WokwiConfigError(f"{where}: wait-serial takes a string (step {i + 1})")
    elif key == "write-serial":
        if isinstance(value, list):
            if not value or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
                raise WokwiConfigError(f"{where}: write-serial array must hold at least one number (step {i + 1})")
        elif not isinstance(value, str):
            raise WokwiConfigError(f"{where}: write-serial takes a string or an array of numbers (step {i + 1})")
    elif key == "expect-pin":
        if not isinstance(value, dict) or not all(k in value for k in ("part-id", "pin", "value")):
            raise WokwiConfigError(f"{where}: expect-pin needs part-id, pin and value (step {i + 1})")


def check_scenario(text: str, where: str = "scenario") -> dict:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise WokwiConfigError(f"{where}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise WokwiConfigError(f"{where}: must be a mapping with name, version and steps")
    if data.get("name") is None:
        raise WokwiConfigError(f"{where}: scenario name is missing")
    if not isinstance(data["name"], str):
        raise WokwiConfigError(f"{where}: scenario name must be a string")
    if data.get("version") != 1:
        raise WokwiConfigError(f"{where}: unsupported scenario version: {data.get('version')}")
    if not isinstance(data.get("steps"), list):
        raise WokwiConfigError(f"{where}: scenario steps must be an array")
    for i, step in enumerate(data["steps"]):
        _check_step(step, i, where)
    return data


def check_project(project: str | Path) -> dict:
    """Validate a project directory; returns the parsed files."""
    project = Path(project)
    files = {name: project / name for name in ("wokwi.toml", "diagram.json")}
    for name, path in files.items():
        if not path.exists():
            raise WokwiConfigError(f"{project}: no {name}")
    toml = check_toml(files["wokwi.toml"].read_text(), str(files["wokwi.toml"]))
    diagram = check_diagram(files["diagram.json"].read_text(), str(files["diagram.json"]))
    scenarios = {p.name: check_scenario(p.read_text(), str(p)) for p in sorted(project.glob("*.test.yaml"))}
    firmware = project / toml["wokwi"]["firmware"]
    if firmware.suffix.lower() == ".uf2" and firmware.is_file():
        from toolkit.wokwi.uf2 import check_rp2040_uf2

        check_rp2040_uf2(firmware)
    return {"toml": toml, "diagram": diagram, "scenarios": scenarios}
