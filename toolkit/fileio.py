"""Every file the toolkit writes goes through here, so that an interrupted run never leaves a
half-written file and files get the usual permissions (0666 less the umask, as `open` would).

`atomic_write(path, data)` writes bytes or text; `atomic_path(path)` hands a temporary path to
code that writes a file itself (matplotlib, numpy, a copy) and renames it into place. A reader
of an intermediate file (JSON, npz) treats a damaged file as stale: `read_json` and `load_npz`
raise `DamagedFile`, one line naming the file, which callers regenerate or report.

`write_json(path, obj)` writes JSON; path "-" means stdout. Inside `json_to_stdout()` (the CLI
with `--json -`), everything else printed goes to stderr, so stdout carries the JSON only.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from toolkit.errors import ToolkitError

STDOUT = "-"
_json_stream: TextIO | None = None  # the real stdout while json_to_stdout() is active


class DamagedFile(ToolkitError):
    """An intermediate file that cannot be read (truncated, not JSON, not an npz)."""


def file_mode() -> int:
    """0o666 less the process umask: the mode `open(path, "w")` would give a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside `path`; renamed to `path` (mode 0666 & ~umask) when the block ends
    without an exception, removed otherwise."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: str | Path, data: bytes | str) -> Path:
    payload = data.encode() if isinstance(data, str) else data
    with atomic_path(path) as tmp:
        tmp.write_bytes(payload)
    return Path(path)


def copy_file(src: str | Path, dst: str | Path) -> Path:
    """Copy the bytes of `src` to `dst` atomically (the mode follows the umask, not `src`)."""
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)
    return Path(dst)


def _finite(obj: Any) -> Any:
    """NaN and infinities as null: JSON has no such numbers."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def json_text(obj: Any) -> str:
    return json.dumps(_finite(obj), indent=2, sort_keys=False, allow_nan=False, default=str) + "\n"


def write_json(path: str | Path, obj: Any) -> Path | None:
    """Write `obj` as JSON to `path`, or to stdout when `path` is "-"."""
    if str(path) == STDOUT:
        stream = _json_stream or sys.stdout
        stream.write(json_text(obj))
        stream.flush()
        return None
    return atomic_write(path, json_text(obj))


@contextlib.contextmanager
def json_to_stdout() -> Iterator[None]:
    """While active, `write_json("-", ...)` goes to stdout and every other print to stderr."""
    global _json_stream
    _json_stream = sys.stdout
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        _json_stream = None


def read_json(path: str | Path, missing: Any = None) -> Any:
    """The JSON in `path`, `missing` when there is no such file; DamagedFile when it is unreadable."""
    path = Path(path)
    if not path.exists():
        return missing
    try:
        return json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise DamagedFile(f"{path} is damaged ({type(exc).__name__}: {exc}); delete it or write it again") from None


def load_npz(path: str | Path, keys: tuple[str, ...]) -> dict[str, Any]:
    """The arrays `keys` of an .npz file; DamagedFile when it is truncated or lacks one of them."""
    import numpy as np

    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in keys}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DamagedFile(f"{path} is damaged ({type(exc).__name__}); delete it or write it again") from None
