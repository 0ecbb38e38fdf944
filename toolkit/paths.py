"""Where the project's non-Python files live: the checkout's folders, or a wheel's copies
(emulation.data says which)."""

import os
from pathlib import Path

from emulation.data import firmware_dir, wokwi_sources

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = firmware_dir()
WOKWI_TEMPLATES = wokwi_sources() / "templates"


def locate_tree(explicit: str | Path | None, env: str, bundled: Path, flag: str) -> tuple[str, Path] | None:
    """Where a source tree an engine builds from is: `flag`'s value, else $`env`, else the
    copy shipped with the toolkit; (where it came from, its resolved path), None if nowhere."""
    where = explicit or os.environ.get(env)
    if where:
        return (flag if explicit else env), Path(where).expanduser().resolve()
    if bundled.is_dir():
        return "bundled", bundled.resolve()
    return None
