import pytest

from toolkit.wokwi.validate import WokwiConfigError, check_diagram, check_scenario, check_toml, parse_time_ns

GOOD_SCENARIO = """
name: 'ok'
version: 1
author: 'me'
steps:
  - wait-serial: 'O:04'
  - delay: 200ms
  - name: send
    write-serial: 'hello'
  - write-serial: [1, 2, 3]
  - expect-pin:
      part-id: uno
      pin: '13'
      value: 1
  - set-control:
      part-id: btn1
      control: pressed
      value: 1
"""


def test_good_files_pass():
    assert len(check_scenario(GOOD_SCENARIO)["steps"]) == 6
    check_toml("[wokwi]\nversion = 1\nfirmware = 'a.hex'\nelf = 'a.elf'\n")
    check_diagram('{"version": 1, "parts": [{"type": "wokwi-arduino-uno", "id": "uno"}], "connections": [["uno:TX", "$serialMonitor:RX", "", []]]}')


@pytest.mark.parametrize("text, message", [
    ("version: 1\nsteps: []\n", "name is missing"),
    ("name: 3\nversion: 1\nsteps: []\n", "must be a string"),
    ("name: x\nversion: 2\nsteps: []\n", "unsupported scenario version"),
    ("name: x\nversion: 1\nsteps: {}\n", "steps must be an array"),
    ("name: x\nversion: 1\nsteps:\n  - wait-serial2: 'a'\n", "invalid scenario step key: wait-serial2"),
    ("name: x\nversion: 1\nsteps:\n  - delay: 200\n", "units are required"),
    ("name: x\nversion: 1\nsteps:\n  - write-serial: []\n", "at least one number"),
    ("name: x\nversion: 1\nsteps:\n  - expect-pin: {pin: 2}\n", "part-id, pin and value"),
    ("name: x\nversion: 1\nsteps:\n  - 'wait-serial'\n", "must be a mapping"),
    ("name: [x\n", "not valid YAML"),
])
def test_bad_scenarios(text, message):
    with pytest.raises(WokwiConfigError, match=message):
        check_scenario(text)


@pytest.mark.parametrize("text, message", [
    ("", "missing \\[wokwi\\]"),
    ("[wokwi]\nversion = 2\nfirmware = 'a'\nelf = 'b'\n", "unsupported version"),
    ("[wokwi]\nversion = 1\nfirmware = 'a'\n", "must be strings"),
    ("[wokwi\n", "not valid TOML"),
])
def test_bad_toml(text, message):
    with pytest.raises(WokwiConfigError, match=message):
        check_toml(text)


@pytest.mark.parametrize("text, message", [
    ('{"version": 2, "parts": []}', "version must be 1"),
    ('{"version": 1, "parts": []}', "non-empty"),
    ('{"version": 1, "parts": [{"type": "x"}]}', "string 'type' and 'id'"),
    ('{"version": 1, "parts": [{"type": "x", "id": "a"}], "connections": [["b:1", "$serialMonitor:RX"]]}', "unknown part 'b'"),
    ("{", "not valid JSON"),
])
def test_bad_diagrams(text, message):
    with pytest.raises(WokwiConfigError, match=message):
        check_diagram(text)


@pytest.mark.parametrize("text, ns", [("200ms", 2e8), ("1s", 1e9), ("5us", 5e3), ("0", 0), ("1.5 ms", 1.5e6)])
def test_time(text, ns):
    assert parse_time_ns(text) == ns
