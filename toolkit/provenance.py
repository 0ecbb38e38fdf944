"""What every JSON result says about itself: its schema version, the toolkit's version and,
for results measured on a core, the compiler that built the firmware.

SCHEMA_VERSION changes when a key is renamed or removed or its meaning changes (new keys do
not change it). docs/cli.md lists the keys.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache

SCHEMA_VERSION = 1


@lru_cache(maxsize=None)
def compiler_version(cc: str) -> str | None:
    """`cc -dumpfullversion` (e.g. "arm-none-eabi-gcc 12.2.1"), None when it is not installed."""
    if shutil.which(cc) is None:
        return None
    proc = subprocess.run([cc, "-dumpfullversion", "-dumpversion"], capture_output=True, text=True, check=False)
    version = proc.stdout.strip().splitlines()
    return f"{cc} {version[0]}" if proc.returncode == 0 and version else cc


def stamp(data: dict, arch: str | None = None) -> dict:
    """`data` with schema_version and toolkit_version first, and the compiler of `arch`."""
    from toolkit import __version__

    head: dict = {"schema_version": SCHEMA_VERSION, "toolkit_version": __version__}
    if arch is not None:
        import emulation

        try:
            head["compiler"] = compiler_version(emulation.get_arch(arch).toolchain.cc)
        except emulation.UnknownArch:
            head["compiler"] = None
    return head | data
