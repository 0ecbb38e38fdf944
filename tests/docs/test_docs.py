"""Every command in the docs runs: each ```sh block of a page, in order, in a fresh directory.

A page's blocks share one directory, so later commands use what earlier ones made, as a
reader following the page would. The pages name the repository's example models as
docs/models/..., as from the repository's root.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.M | re.S)
PAGES = [p for p in sorted((ROOT / "docs").glob("*.md")) if BLOCK.search(p.read_text())]


def test_the_tutorial_has_commands():
    assert ROOT / "docs" / "tutorial.md" in PAGES


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_commands_run(page, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "docs").symlink_to(ROOT / "docs")
    script = "set -euo pipefail\n" + "\n".join(BLOCK.findall(page.read_text()))
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}", TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, f"{page.name}: a command failed\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.M | re.S)


def test_the_api_page_runs(tmp_path):
    """docs/api.md's examples, as one script in a fresh directory."""
    (tmp_path / "docs").symlink_to(ROOT / "docs")
    script = "\n".join(PYTHON_BLOCK.findall((ROOT / "docs" / "api.md").read_text()))
    assert "api.emulate" in script
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "error: " in proc.stdout and "z80" in proc.stdout  # the error example printed one line
    assert (tmp_path / "build" / "api-c" / "model.h").is_file()


def test_the_op_table_lists_every_registered_op():
    from toolkit.ops import OPS

    table = (ROOT / "docs" / "ops.md").read_text().split("## Supported operators", 1)[1]
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| ") and not line.startswith("| op")]
    listed = {name.strip() for row in rows for name in row.split(",")}
    assert listed == set(OPS), f"docs/ops.md lists {sorted(listed - set(OPS))} but not {sorted(set(OPS) - listed)}"
