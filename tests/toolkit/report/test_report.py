"""The run report: pages, plots, and what a browser shows of them."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from toolkit.report import build_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def run_dir(trained_sine, tmp_path_factory):
    d = tmp_path_factory.mktemp("run")
    for f in trained_sine.iterdir():
        if f.is_file():
            shutil.copy(f, d / f.name)
    (d / "budget.json").write_text(json.dumps([
        {"board": "ram-2k", "flash_bytes": 2000, "flash_limit": 32768, "ram_bytes": 40, "stack_bytes": 100, "ram_limit": 2048, "fits": True},
        {"board": "arduino-nano-33-ble", "flash_bytes": 2000, "flash_limit": 1048576, "ram_bytes": 40, "stack_bytes": 100,
         "ram_limit": 262144, "fits": True},
    ]))
    build_report(d)
    return d


def test_pages_and_images(run_dir):
    html = (run_dir / "report.html").read_text()
    md = (run_dir / "report.md").read_text()
    images = re.findall(r"!\[[^\]]*\]\((report_files/[^)]+)\)", md)
    assert {Path(i).name for i in images} >= {"network.png", "loss.png", "predictions.png", "errors.png", "memory.png"}
    for rel in images:
        with Image.open(run_dir / rel) as img:
            assert img.size[0] > 400
    assert html.count('src="data:image/png;base64,') == len(images)  # self-contained: every plot inlined
    assert "differs from the TFLM interpreter in 0 of 256 outputs" in md
    assert "0 + 32 + 272 + 17 = 321 parameters" in md and "0 + 32 + 272 + 17 = 321 parameters" in html


def test_network_drawing_counts_parameters(run_dir):
    # the drawing's title is rendered text; its parameter sum comes from metrics.json
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert [layer["params"] for layer in metrics["layers"]] == [32, 272, 17]


def test_cli(run_dir):
    from tests.toolkit.test_cli import run

    r = run("report", run_dir)
    assert r.returncode == 0 and "report.html" in r.stdout
    r = run("report", run_dir / "nope")
    assert r.returncode == 2 and "not a directory" in r.stderr


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make setup installs Debian's chromium)")
def test_renders_in_chromium(run_dir, tmp_path):
    """Headless Chromium loads the page; every image decodes; the screenshot is not blank."""
    page = tmp_path / "probe.html"
    probe = ("<script>window.addEventListener('load', () => { const imgs = [...document.images];"
             " document.body.setAttribute('data-loaded', imgs.filter(i => i.complete && i.naturalWidth > 0).length);"
             " document.body.setAttribute('data-total', imgs.length); });</script></body>")
    page.write_text((run_dir / "report.html").read_text().replace("</body>", probe))
    profile = tmp_path / "profile"
    dom = subprocess.run([CHROMIUM, *CHROME_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=10000",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    loaded = re.search(r'data-loaded="(\d+)"', dom.stdout)
    total = re.search(r'data-total="(\d+)"', dom.stdout)
    assert loaded and total, dom.stderr[-1000:]
    assert int(total.group(1)) >= 5 and loaded.group(1) == total.group(1)
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, *CHROME_FLAGS, f"--user-data-dir={profile}", "--window-size=1100,2400",
                    f"--screenshot={shot}", (run_dir / "report.html").as_uri()], capture_output=True, timeout=120)
    with Image.open(shot) as img:
        colours = img.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # text, plots and tables, not a blank page


def test_the_report_shows_the_deployment(run_dir):
    """A plain train + convert run directory: the figures measured on cortex-m4, both models."""
    md, html = (run_dir / "report.md").read_text(), (run_dir / "report.html").read_text()
    section = md.split("## On the microcontroller", 1)[1].split("\n## ", 1)[0]
    assert "instructions / inference" in section and "flash (B)" in section and "peak stack (B)" in section
    rows = json.loads((run_dir / "deployment.json").read_text())
    assert [r["model"] for r in rows] == ["int8", "float"] and all(r["arch"] == "cortex-m4" for r in rows)
    for r in rows:
        assert r["instructions"] > 0 and r["flash_bytes"] > 0 and r["stack_bytes"] > 0 and r["mismatches"] == 0
        assert f"{r['instructions']:,}" in section
    assert "estimated (cortex-m4" in section  # Unicorn's cycles are labelled as estimates
    assert "c_const_bytes" not in md and "cycles_est" not in md  # human column names
    assert "`" not in html.split("<body>", 1)[1]  # Markdown rendered: `code` became <code>
    assert "<code>" in html


def test_a_damaged_deployment_file_is_measured_again(run_dir, capsys):
    (run_dir / "deployment.json").write_text('[{"board": ')
    build_report(run_dir)
    assert "measuring it again" in capsys.readouterr().err
    assert json.loads((run_dir / "deployment.json").read_text())[0]["instructions"] > 0
