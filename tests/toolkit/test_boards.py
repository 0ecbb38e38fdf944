import pytest

from toolkit.boards import LOCAL_BACKENDS, boards, get_board, parse_size
from toolkit.errors import ToolkitError


def test_registry_has_the_boards_and_profiles():
    names = set(boards())
    assert {"arduino-uno", "arduino-nano-33-ble", "raspberry-pi-pico", "esp32-c3", "esp32", "stm32f103-bluepill"} <= names
    assert {f"ram-{n}k" for n in (2, 4, 8, 16, 32, 64, 128, 256)} <= names
    assert any(b.arch == "cortex-m7" for b in boards().values() if not b.profile)
    assert any(b.arch == "cortex-m33" for b in boards().values() if not b.profile)


def test_datasheet_figures():
    uno = get_board("arduino-uno")
    assert (uno.clock_mhz, uno.ram, uno.arch) == (16, 2048, "atmega328p") and uno.flash <= 32 * 1024
    nano = get_board("arduino-nano-33-ble")
    assert (nano.arch, nano.clock_mhz, nano.ram, nano.flash) == ("cortex-m4", 64, 256 * 1024, 1024 * 1024)
    assert get_board("esp32").backend == "wokwi-cloud" and not get_board("esp32").local
    for b in boards().values():
        assert 16 <= b.clock_mhz <= 240 and 2048 <= b.ram <= 540 * 1024 and b.flash >= 31 * 1024
        assert b.backend in LOCAL_BACKENDS + ("wokwi-cloud",)


def test_unknown_board_lists_the_known_ones():
    with pytest.raises(ToolkitError) as info:
        get_board("arduino-mega")
    assert "arduino-uno" in str(info.value) and "ram-2k" in str(info.value)


@pytest.mark.parametrize("text, value", [("2KB", 2048), ("256k", 262144), ("1MB", 1 << 20), ("32768", 32768), ("1.5K", 1536)])
def test_parse_size(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "KB", "-2K", "two"])
def test_parse_size_rejects(text):
    with pytest.raises(ToolkitError):
        parse_size(text)
