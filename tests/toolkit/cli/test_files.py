"""Files the toolkit writes: atomic, with the umask's permissions; damaged intermediate files are stale."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from toolkit.fileio import DamagedFile, atomic_path, atomic_write, copy_file, read_json, write_json

ROOT = Path(__file__).resolve().parents[3]
MODEL = ROOT / "docs" / "models" / "hello_world_int8.tflite"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o077, 0o002])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def test_every_writer_respects_the_umask(umask, tmp_path):
    from emulation.fileio import atomic_write as emulation_write

    expected = 0o666 & ~umask
    atomic_write(tmp_path / "a.txt", "text")
    write_json(tmp_path / "b.json", {"x": 1})
    copy_file(tmp_path / "a.txt", tmp_path / "c.bin")
    with atomic_path(tmp_path / "d.png") as tmp:
        tmp.write_bytes(b"png")
    emulation_write(tmp_path / "e.c", "int x;\n")
    for name in ("a.txt", "b.json", "c.bin", "d.png", "e.c"):
        assert mode(tmp_path / name) == expected, name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.json", "c.bin", "d.png", "e.c"]


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_the_cli_writes_with_the_umask(mask, tmp_path):
    out = tmp_path / "c"
    proc = subprocess.run([sys.executable, "-m", "toolkit", "codegen", str(MODEL), "-o", str(out), "--json",
                           str(out / "codegen.json")], capture_output=True, text=True, preexec_fn=lambda: os.umask(mask))
    assert proc.returncode == 0, proc.stderr
    for name in ("model.h", "model.c", "codegen.json"):
        assert mode(out / name) == 0o666 & ~mask, name


def test_an_interrupted_write_leaves_nothing(tmp_path):
    target = tmp_path / "predictions.npz"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_json_has_no_nan(tmp_path):
    write_json(tmp_path / "r.json", {"mse": float("nan"), "rows": [float("inf"), 1.5]})
    assert read_json(tmp_path / "r.json") == {"mse": None, "rows": [None, 1.5]}


# Writing a file in place (not through toolkit.fileio / emulation.fileio): every allowed case.
WRITES = re.compile(r"""open\([^)]*["'][wa]b?\+?["']|\.write_text\(|\.write_bytes\(|np\.savez\(|\.savefig\(|shutil\.copy""")
ALLOWED = {
    ("toolkit/datasets.py", "np.savez(buf"),  # into memory, then atomic_write
    ("toolkit/report/data.py", "np.savez(buf"),
    ("toolkit/compare.py", "fig.savefig(tmp"),  # into atomic_path's temporary file
    ("toolkit/report/figures.py", "fig.savefig(tmp"),
    ("toolkit/fileio.py", "tmp.write_bytes("),
    ("toolkit/fileio.py", 'the mode `open(path, "w")` would give'),
    ("emulation/fileio.py", 'os.fdopen(fd, "wb")'),
    ("toolkit/fileio.py", "shutil.copyfile(src, tmp)"),
    ("toolkit/sweep/results.py", '.sweep.lock", "w")'),  # lock files, never read
    ("toolkit/sweep/results.py", 'open(path, "ab+")'),  # results.jsonl: append-only, a torn last line is cut
    ("toolkit/tflm/build.py", '.lock", "w")'),
    ("toolkit/wokwi/run.py", 'NamedTemporaryFile("w"'),  # a temporary file, removed after the run
    ("emulation/data.py", "shutil.copytree(src / name, tmp / name)"),  # into a directory renamed into place
    ("emulation/data.py", "shutil.copyfile(src / name, tmp / name)"),
    ("toolkit/micropython/build.py", '.lock", "w")'),
}


def test_no_file_is_written_in_place():
    found = []
    for path in [*ROOT.joinpath("toolkit").rglob("*.py"), *ROOT.joinpath("emulation").rglob("*.py")]:
        rel = path.relative_to(ROOT).as_posix()
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if WRITES.search(line) and not any(rel == f and s in line for f, s in ALLOWED):
                found.append(f"{rel}:{n}: {line.strip()}")
    assert not found, "write through toolkit.fileio (or emulation.fileio):\n" + "\n".join(found)


def _predictions():
    from toolkit.report.data import Predictions

    x = np.linspace(0, 1, 4)
    return Predictions(x, x, x, x, x, "cortex-m4")


def test_a_truncated_predictions_file_is_computed_again(tmp_path, monkeypatch, capsys):
    import toolkit.report.data as data

    (tmp_path / "model_int8.tflite").write_bytes(b"")
    path = tmp_path / "predictions.npz"
    _predictions().save(path)
    path.write_bytes(path.read_bytes()[:100])  # truncated
    calls = []
    monkeypatch.setattr(data, "compute_predictions", lambda model_dir: calls.append(model_dir) or _predictions())
    got = data._predictions(path, tmp_path)
    assert calls == [tmp_path] and got.arch == "cortex-m4"
    assert data.Predictions.load(path).arch == "cortex-m4"  # written again, whole
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "predictions.npz is damaged" in err and "computing it again" in err


def test_damaged_intermediate_files_are_one_line(tmp_path):
    from toolkit.datasets import Dataset

    (tmp_path / "dataset.npz").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(DamagedFile, match="dataset.npz is damaged"):
        Dataset.load(tmp_path / "dataset.npz")
    (tmp_path / "metrics.json").write_text('{"test_mse": 0.1')
    with pytest.raises(DamagedFile, match="metrics.json is damaged"):
        read_json(tmp_path / "metrics.json")
    assert read_json(tmp_path / "none.json", missing={}) == {}


def test_report_of_a_damaged_run_is_one_line(tmp_path):
    (tmp_path / "model_int8.tflite").write_bytes(MODEL.read_bytes())
    (tmp_path / "metrics.json").write_text('{"test_mse": ')
    proc = subprocess.run([sys.executable, "-m", "toolkit", "report", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "metrics.json is damaged" in proc.stderr
    assert not (tmp_path / "report.html").exists()
