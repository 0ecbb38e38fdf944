"""Running Wokwi scenarios: locally on avr8js / rp2040js (wokwi/engines/scenario.mjs), and on
the Wokwi cloud with wokwi-cli when a token is set.

The projects are real ones, generated for the TFLM hello-world model; the echo firmware in
fixtures/ checks that serial input reaches the guest and that pins read what it drives.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from toolkit.wokwi.run import EXIT_CANNOT, EXIT_FAIL, EXIT_PASS, EXIT_TIMEOUT, run_project
from toolkit.wokwi.validate import WokwiConfigError, check_project

from .projects import FIXTURES, LOCAL, ROOT, skip_unless_engine

CLOUD_ONLY = ["esp32", "esp32-c3"]


def golden_lines(project: Path) -> list[str]:
    return [step["wait-serial"] for step in yaml.safe_load((project / "model.test.yaml").read_text())["steps"]]


def with_scenario(project: Path, tmp_path: Path, steps: list, name: str = "edited.test.yaml") -> Path:
    """A copy of `project` with one more scenario, `name`."""
    copy = tmp_path / project.name
    if not copy.exists():
        shutil.copytree(project, copy, ignore=shutil.ignore_patterns("build", "src"))
    (copy / name).write_text(yaml.safe_dump({"name": "edited", "version": 1, "steps": steps}, sort_keys=False))
    return copy


@pytest.fixture(autouse=True)
def _no_cloud(monkeypatch, request):
    """Local runs stay local even where a token is set; the cloud test opts out."""
    if request.node.name != "test_wokwi_cli_cloud_run":
        monkeypatch.delenv("WOKWI_CLI_TOKEN", raising=False)


@pytest.mark.parametrize("board", list(LOCAL))
def test_generated_scenario_passes(projects, board):
    project = projects(board)
    lines = golden_lines(project)
    run = run_project(project)
    assert run.exit_code == EXIT_PASS, run.message
    assert run.runner == f"{LOCAL[board][0]} (local)"
    assert run.serial.splitlines() == lines  # one O: line per test input, nothing else
    assert run.steps_done == len(lines) == 256
    assert run.cycles > 256 * 1000 and run.sim_time_ns > 0
    assert run.details["status"] == "pass" and run.details["inferences"] == 256
    assert run.details["cycles_per_inference"] > 0
    # The Uno's crystal; the Pico's PLL as the firmware's start-up sets it (12 MHz * 133 / 12).
    clock = {"avr": 16e6, "rp2040": 133e6}[LOCAL[board][0]]
    assert run.details["clock_hz"] == clock
    if board == "raspberry-pi-pico":  # UART0 as the firmware set it up, from clk_peri = clk_sys
        assert run.details["uart_baud"] == pytest.approx(115200, rel=0.001)


@pytest.mark.parametrize("board", list(LOCAL))
def test_wrong_expected_output_times_out(projects, board, tmp_path):
    project = projects(board)
    lines = golden_lines(project)
    never = next(f"O:{b:02x}" for b in range(256) if f"O:{b:02x}" not in lines)
    steps = [{"wait-serial": line} for line in lines]
    steps[2] = {"wait-serial": never}
    run = run_project(with_scenario(project, tmp_path, steps), 2000, "edited.test.yaml")
    assert run.exit_code == EXIT_TIMEOUT, run.message
    assert run.details["status"] == "timeout" and run.details["failed_step"] == 3 and run.steps_done == 2
    assert "did not finish in 2000ms" in run.message and never in run.message
    assert "parked in tm_exit" in run.message  # the firmware had printed everything
    assert run.sim_time_ns >= 2_000_000_000 and run.serial.splitlines() == lines


def test_timeout_is_simulated_time_and_idle_time_is_cheap(projects, tmp_path):
    """30 s of simulated time after the firmware parked: skipped in whole loop iterations."""
    project = projects("raspberry-pi-pico")
    run = run_project(with_scenario(project, tmp_path, [{"wait-serial": "never printed"}]), scenario="edited.test.yaml")
    assert run.exit_code == EXIT_TIMEOUT
    # At 133 MHz, but for the few cycles of the clock set-up (at the engine's 125 MHz default, then
    # the ring oscillator's 6.5 MHz).
    assert 30e9 <= run.sim_time_ns < 30e9 + 100 and run.cycles == pytest.approx(30 * 133e6, rel=1e-5)


def test_a_line_printed_before_the_step_started_does_not_count(projects, tmp_path):
    """As wokwi-cli: wait-serial matches lines completed after the step began."""
    project = projects("raspberry-pi-pico")  # prints all 256 lines in about 12 ms
    first, last = golden_lines(project)[0], golden_lines(project)[-1]
    steps = [{"wait-serial": first}, {"delay": "50ms"}, {"wait-serial": last}]
    run = run_project(with_scenario(project, tmp_path, steps), 200, "edited.test.yaml")
    assert run.exit_code == EXIT_TIMEOUT and run.steps_done == 2


@pytest.mark.parametrize("board", list(LOCAL))
def test_delay_and_write_serial_steps_run(projects, board, tmp_path):
    project = projects(board)
    first = golden_lines(project)[0]
    steps = [{"wait-serial": first}, {"name": "greet", "write-serial": "hi\n"}, {"write-serial": [1, 2, 255]},
             {"delay": "0"}, {"delay": "50ms"}, {"delay": "250us"}]
    run = run_project(with_scenario(project, tmp_path, steps), 1000, "edited.test.yaml")
    assert run.exit_code == EXIT_PASS, run.message
    assert run.steps_done == len(steps)
    assert run.sim_time_ns >= 50_250_000
    rx = run.details["serial_rx_bytes"], run.details["serial_rx_dropped"]
    # The harness never enables the Uno's receiver, so its bytes are lost; the Pico's
    # UART takes them into its receive FIFO.
    assert rx == ((0, 6) if board == "arduino-uno" else (6, 0))


@pytest.mark.parametrize("board", list(LOCAL))
def test_expect_pin(projects, board, tmp_path):
    project = projects(board)
    _, part, pin = LOCAL[board]
    low = {"expect-pin": {"part-id": part, "pin": pin, "value": 0}}
    high = {"expect-pin": {"part-id": part, "pin": pin, "value": 1}}
    run = run_project(with_scenario(project, tmp_path, [{"delay": "1ms"}, low]), 1000, "edited.test.yaml")
    assert run.exit_code == EXIT_PASS, run.message
    run = run_project(with_scenario(project, tmp_path, [{"delay": "1ms"}, high]), 1000, "edited.test.yaml")
    assert run.exit_code == EXIT_FAIL
    assert f"GPIO {part}:{pin} expected to be 1 but was 0" in run.message and run.details["failed_step"] == 2


def test_expect_pin_names_its_part_and_pins(projects, tmp_path):
    project = projects("arduino-uno")
    run = run_project(with_scenario(project, tmp_path, [{"expect-pin": {"part-id": "led1", "pin": "A", "value": 1}}]),
                      1000, "edited.test.yaml")
    assert run.exit_code == EXIT_FAIL and "no part 'led1'" in run.message
    run = run_project(with_scenario(project, tmp_path, [{"expect-pin": {"part-id": "uno", "pin": "D13", "value": 0}}]),
                      1000, "edited.test.yaml")
    assert run.exit_code == EXIT_FAIL and "no pin 'D13'" in run.message and "A5" in run.message


def test_cloud_only_step_is_refused(projects, tmp_path):
    project = projects("arduino-uno")
    steps = [{"wait-serial": "O:"}, {"set-control": {"part-id": "btn1", "control": "pressed", "value": 1}}]
    run = run_project(with_scenario(project, tmp_path, steps), 1000, "edited.test.yaml")
    assert run.exit_code == EXIT_FAIL
    assert "step 2: 'set-control' needs the Wokwi cloud" in run.message and "wait-serial" in run.message
    # An unknown step is not a scenario wokwi-cli would load at all.
    with pytest.raises(WokwiConfigError, match="invalid scenario step key: press-button"):
        run_project(with_scenario(project, tmp_path, [{"press-button": 1}]), 1000, "edited.test.yaml")


@pytest.mark.parametrize("board", CLOUD_ONLY)
def test_esp_projects_validate_and_need_a_token(projects, board):
    project = projects(board)
    parsed = check_project(project)
    assert len(parsed["scenarios"]["model.test.yaml"]["steps"]) == 256
    assert (project / "sketch" / "sketch.ino").exists()
    run = run_project(project)
    assert run.exit_code == EXIT_CANNOT and run.runner == "none"
    assert "runs only on the Wokwi cloud" in run.message and "WOKWI_CLI_TOKEN is not set" in run.message


def test_with_a_token_runs_go_to_wokwi_cli(projects, tmp_path, monkeypatch):
    """The plumbing, with a stand-in wokwi-cli that echoes its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "wokwi-cli"
    fake.write_text('#!/bin/sh\necho "args: $*"\necho "Timeout: simulation did not finish in 1234ms" >&2\nexit 42\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("WOKWI_CLI_TOKEN", "not-a-real-token")
    uno = projects("arduino-uno")
    run = run_project(uno, 1234)
    assert run.runner == "wokwi-cli" and run.exit_code == EXIT_TIMEOUT
    assert run.serial.strip() == f"args: --timeout 1234 --scenario model.test.yaml {uno}"
    assert run.message == "Timeout: simulation did not finish in 1234ms"
    assert run_project(uno, 5000, runner="local").exit_code == EXIT_PASS  # local on request
    run = run_project(projects("esp32"))  # the sketch is not built
    assert run.exit_code == EXIT_CANNOT and "sketch.ino.merged.bin not found: build the firmware first" in run.message


def test_wokwi_cli_cloud_run(projects):
    """The real thing: wokwi-cli on the Wokwi cloud, for the Uno project."""
    if not os.environ.get("WOKWI_CLI_TOKEN"):
        pytest.skip("WOKWI_CLI_TOKEN not set")
    if shutil.which("wokwi-cli") is None:
        pytest.fail("WOKWI_CLI_TOKEN is set but wokwi-cli is not installed (curl -L https://wokwi.com/ci/install.sh | sh)")
    run = run_project(projects("arduino-uno"), 60_000, runner="cloud")
    assert run.runner == "wokwi-cli"
    assert run.exit_code == EXIT_PASS, f"{run.message}\n{run.serial[-2000:]}"


def _node() -> str:
    from emulation.node import node_path

    return node_path()


def _scenario(tmp_path: Path, engine: str, elf: Path, steps: list, *extra: str) -> tuple[int, dict, str]:
    steps_file = tmp_path / "steps.json"
    steps_file.write_text(json.dumps(steps))
    proc = subprocess.run([_node(), str(ROOT / "wokwi" / "engines" / "scenario.mjs"), "--engine", engine,
                           "--elf", str(elf), "--steps", str(steps_file), *extra],
                          capture_output=True, text=True, timeout=120)
    lines = proc.stdout.splitlines()
    return proc.returncode, (json.loads(lines[-1]) if lines else {}), proc.stdout + proc.stderr


@pytest.mark.parametrize("board", list(LOCAL))
def test_serial_input_reaches_the_guest_and_pins_follow_it(board, tmp_path):
    """Echo firmware: bytes written to the serial port come back; 'L' / 'l' set a pin high / low."""
    skip_unless_engine(board)
    engine, part, pin = LOCAL[board]
    elf = tmp_path / "echo.elf"
    if engine == "avr":
        cmd = ["avr-gcc", "-mmcu=atmega328p", "-Os", "-o", str(elf), str(FIXTURES / "echo_avr.c")]
        subprocess.run(cmd, check=True, capture_output=True)
    else:  # with the Pico's boot2, start-up and platform (clocks, UART0), its own main
        from emulation import build_program

        elf = build_program([FIXTURES / "echo_rp2040.c"], "rp2040", tmp_path, name="echo", harness=False).elf

    def expect(value):
        return {"expect-pin": {"part-id": part, "pin": pin, "value": value}}

    steps = [{"wait-serial": "READY"}, expect(0), {"write-serial": "LHEY\n"}, {"wait-serial": "LHEY"}, expect(1),
             {"write-serial": [ord("l"), 10]}, {"wait-serial": "l"}, {"delay": "1ms"}, expect(0)]
    code, result, out = _scenario(tmp_path, engine, elf, steps, "--timeout", "100")
    assert code == 0, out
    assert result["serial"] == "READY\nLHEY\nl\n" and result["serial_rx_bytes"] == 7
    # Five bytes at 115200 baud (10 bits each) take 434 us to arrive.
    assert result["sim_time_ns"] > 434_000 + 1_000_000
    code, result, out = _scenario(tmp_path, engine, elf, steps[:4] + [expect(0)], "--timeout", "100")
    assert code == 1 and result["failed_step"] == 5, out


def test_guest_fault_fails_the_scenario(tmp_path):
    """A store past the end of SRAM stops the run with exit 1 and the fault."""
    skip_unless_engine("arduino-uno")
    from emulation import build_firmware

    fw = build_firmware(ROOT / "tests" / "emulation" / "fixtures" / "faults", np.array([[5]], dtype=np.int8),
                        "atmega328p", tmp_path / "fw", extra_cflags=("-DFAULT=2",))
    code, result, out = _scenario(tmp_path, "avr", fw.elf, [{"wait-serial": "O:"}], "--timeout", "1000")
    assert code == 1, out
    assert result["status"] == "fail" and result["fault"]["kind"] == "unmapped_access"
    assert result["message"].startswith("guest fault unmapped_access")


def test_runner_command_line(tmp_path):
    skip_unless_engine("arduino-uno")
    code, result, out = _scenario(tmp_path, "z80", tmp_path / "none.elf", [])
    assert code == 2 and result == {} and "unknown engine z80" in out
    code, result, out = _scenario(tmp_path, "avr", tmp_path / "none.elf", [{"delay": "1ms"}])
    assert code == 2 and "not found" in out
    code, result, out = _scenario(tmp_path, "avr", tmp_path / "none.elf", [{"delay": 200}])
    assert code == 1 and "must include units" in result["message"]  # steps are checked first


def test_cli_end_to_end(reference_models, tmp_path):
    """`toolkit wokwi new MODEL --board arduino-uno -o DIR`, then `toolkit wokwi run DIR`."""
    skip_unless_engine("arduino-uno")
    env = {k: v for k, v in os.environ.items() if k != "WOKWI_CLI_TOKEN"}

    def toolkit(*args):
        return subprocess.run([sys.executable, "-m", "toolkit", "wokwi", *map(str, args)], capture_output=True,
                              text=True, env=env, cwd=ROOT, timeout=300)

    project = tmp_path / "uno"
    proc = toolkit("new", reference_models["int8"], "--board", "arduino-uno", "-o", project, "--inputs", "20")
    assert proc.returncode == 0, proc.stderr
    assert "firmware built; files validated" in proc.stdout
    proc = toolkit("run", project, "--timeout", "5000")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout.splitlines()
    assert [line for line in out if line.startswith("O:")] == golden_lines(project) and len(out) == 21
    assert out[-1].startswith("PASS (avr (local), ") and "cycles" in out[-1]

    scenario = project / "model.test.yaml"
    scenario.write_text(scenario.read_text().replace(golden_lines(project)[-1], "O:zz"))
    proc = toolkit("run", project, "--timeout", "3000")
    assert proc.returncode == 42 and "TIMEOUT" in proc.stdout and "did not finish in 3000ms" in proc.stdout

    import tomllib

    firmware = tomllib.loads((project / "wokwi.toml").read_text())["wokwi"]["firmware"]
    (project / firmware).unlink()  # cannot run: exit 1 (the scenario did not pass), not 2 (bad input)
    proc = toolkit("run", project, "--runner", "local", "--json", "-")
    assert proc.returncode == 1 and "CANNOT RUN" in proc.stderr
    assert json.loads(proc.stdout)["status"] == "CANNOT RUN"


def test_a_cnn_project_on_the_pico_passes_its_golden_scenario(graph_models, tmp_path):
    """The keyword-spotting DS-CNN as a Wokwi project: its scenario holds TFLM's outputs."""
    from tests.toolkit.cnnmodels import KWS

    skip_unless_engine("raspberry-pi-pico")
    project = tmp_path / "kws"
    proc = subprocess.run([sys.executable, "-m", "toolkit", "wokwi", "new", str(graph_models(KWS)), "--board", "raspberry-pi-pico",
                           "-o", str(project), "--inputs", "2"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = run_project(project)
    assert run.exit_code == EXIT_PASS, run.message
    assert run.serial.splitlines() == golden_lines(project) and len(golden_lines(project)) == 2
    assert all(len(line) == len("O:") + 2 * 12 for line in golden_lines(project))  # 12 int8 class scores
