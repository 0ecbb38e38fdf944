"""Where the project's non-Python files live: the checkout's folders, or a wheel's copies
(emulation.data says which)."""

from pathlib import Path

from emulation.data import firmware_dir, wokwi_sources

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = firmware_dir()
WOKWI_TEMPLATES = wokwi_sources() / "templates"
