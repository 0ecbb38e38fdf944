"""DIR/results.jsonl: one JSON line per (trial, target), appended once the trial is complete.

Only the driver writes it, one trial's lines in one write followed by fsync, so a sweep
that is killed leaves at most a torn last line; reading skips it and the next append
cuts it off. A row is done when its (trial, target) pair is in the file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from toolkit.errors import ToolkitError
from toolkit.fileio import atomic_write

RESULTS = "results.jsonl"


def results_path(out: Path) -> Path:
    return Path(out) / RESULTS


def target_of(row: dict[str, Any]) -> str:
    """A row's target name: its board, or its core when it ran on a bare core."""
    return row.get("board") or row["arch"]


def key_of(row: dict[str, Any]) -> tuple[str, str]:
    return row["trial"], target_of(row)


def read_rows(out: Path) -> list[dict[str, Any]]:
    """Every complete row; a torn last line (an interrupted write) is skipped. For a
    (trial, target) written twice (--retry-failed), the later row wins."""
    path = results_path(out)
    if not path.exists():
        return []
    rows: dict[tuple[str, str], dict] = {}
    lines = path.read_text().splitlines(keepends=True)
    for n, line in enumerate(lines, 1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            if n == len(lines) and not line.endswith("\n"):
                continue
            raise ToolkitError(f"{path}:{n}: not a JSON line; the file was changed by hand?") from None
        if not isinstance(row, dict) or not {"trial", "arch", "params"} <= row.keys():
            raise ToolkitError(f"{path}:{n}: not a result row (trial, params, board, arch, metrics)")
        rows[key_of(row)] = row
    return list(rows.values())


def load_results(out: str | Path) -> list[dict[str, Any]]:
    out = Path(out)
    if not results_path(out).exists():
        raise ToolkitError(f"{out}: no {RESULTS} here (is it a directory written by 'toolkit sweep'?)")
    return read_rows(out)


def append_rows(out: Path, rows: list[dict[str, Any]]) -> None:
    path = results_path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = "".join(json.dumps(row, sort_keys=False) + "\n" for row in rows).encode()
    with open(path, "ab+") as f:
        _cut_torn_tail(f)
        f.write(payload)
        f.flush()
        os.fsync(f.fileno())


def _cut_torn_tail(f) -> None:
    """Remove a last line without its newline (left by a write that was interrupted)."""
    size = f.seek(0, os.SEEK_END)
    if size == 0:
        return
    f.seek(size - 1)
    if f.read(1) == b"\n":
        return
    f.seek(max(0, size - 65536))
    tail = f.read()
    cut = tail.rfind(b"\n")
    f.truncate(size - len(tail) + cut + 1 if cut >= 0 else max(0, size - len(tail)))
    f.seek(0, os.SEEK_END)


def write_files(out: Path, trial_id: str, files: dict[str, bytes]) -> Path:
    d = Path(out) / "trials" / trial_id
    for name, data in files.items():
        atomic_write(d / name, data)
    return d


@contextmanager
def sweep_lock(out: Path) -> Iterator[None]:
    """One sweep at a time per directory."""
    import fcntl

    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".sweep.lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ToolkitError(f"{out}: another sweep is running in this directory") from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
