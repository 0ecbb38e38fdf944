"""The CLI convention of docs/cli.md: defaults in --help, choices from the registries,
`--json FILE|-` on every command with results, progress on stderr."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.cli import build_parser

ROOT = Path(__file__).resolve().parents[3]
MODEL = ROOT / "docs" / "models" / "hello_world_int8.tflite"


def subparsers(parser: argparse.ArgumentParser, prefix: str = ""):
    """(name, parser) of every command and verb, `wokwi new` included."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix}{name}", sub
                yield from subparsers(sub, f"{prefix}{name} ")


COMMANDS = dict(subparsers(build_parser()))


def leaves() -> dict[str, argparse.ArgumentParser]:
    return {name: p for name, p in COMMANDS.items()
            if not any(isinstance(a, argparse._SubParsersAction) for a in p._actions)}


@pytest.mark.parametrize("name", sorted(leaves()))
def test_help_shows_every_default(name):
    parser = leaves()[name]
    formatter = parser._get_formatter()
    for action in parser._actions:
        if not action.option_strings or action.help == argparse.SUPPRESS or action.required:
            continue
        if action.default is None or action.default is False or action.default is argparse.SUPPRESS:
            continue
        shown = formatter._expand_help(action)
        assert "default" in shown, f"toolkit {name} {action.option_strings[0]}: {shown}"
    assert parser.format_help()  # the help renders (choices read from the registries)


@pytest.mark.parametrize("name", sorted(leaves()))
def test_every_command_has_json(name):
    flags = {s for a in leaves()[name]._actions for s in a.option_strings}
    assert "--json" in flags, f"toolkit {name} has no --json"


def test_arch_and_board_choices_come_from_the_registries():
    from emulation import ARCHS
    from toolkit.boards import boards

    text = " ".join(COMMANDS["emulate"].format_help().split())
    assert all(arch in text for arch in ARCHS) and all(board in text for board in boards())
    for name in ("compare", "compress", "budget"):
        assert all(arch in " ".join(COMMANDS[name].format_help().split()) for arch in ARCHS), name


def test_help_of_every_command_runs():
    for name in COMMANDS:
        proc = subprocess.run([sys.executable, "-m", "toolkit", *name.split(), "--help"], capture_output=True, text=True)
        assert proc.returncode == 0 and "usage: toolkit" in proc.stdout, name


@pytest.mark.parametrize("args", [["boards"], ["analyze", str(MODEL)], ["codegen", str(MODEL), "-o", "c"]])
def test_json_dash_is_json_only_on_stdout(args, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "toolkit", *args, "--json", "-"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    json.loads(proc.stdout)  # nothing else on stdout
    assert proc.stderr.strip()  # the human output went to stderr
    assert not (tmp_path / "-").exists()


def test_json_file(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "toolkit", "analyze", str(MODEL), "--json", str(tmp_path / "a.json")],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "MACs / inference" in proc.stdout
    assert json.loads((tmp_path / "a.json").read_text())


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_in_a_log_is_one_line_per_step():
    from toolkit.progress import Progress

    log = io.StringIO()
    with Progress("train", 50, stream=log, eta=True, log_updates=False) as bar:
        for epoch in range(50):
            bar.update(note=f"loss {1 / (epoch + 1):.3g}")
    lines = log.getvalue().splitlines()
    assert len(lines) == 1 and "50/50" in lines[0] and "loss 0.02" in lines[0]


def test_progress_on_a_terminal_is_a_live_line_with_eta_and_loss():
    from toolkit.progress import Progress

    tty = Tty()
    with Progress("train", 4, stream=tty, eta=True, log_updates=False) as bar:
        bar._last_draw = -1e9
        bar.update(note="loss 0.5")
        assert "ETA" in tty.getvalue().split("\r")[-1] and "loss 0.5" in tty.getvalue()
        bar.restart("again")
        assert bar.done == 0
    out = tty.getvalue()
    assert out.count("\n") == 1 and out.count("\r") >= 3 and "4/4" in out.split("\r")[-1]


def test_sweep_progress_still_logs_every_trial():
    from toolkit.progress import Progress

    log = io.StringIO()
    with Progress("trials", 3, stream=log, eta=True) as bar:
        for _ in range(3):
            bar.update()
    assert len(log.getvalue().splitlines()) == 3
