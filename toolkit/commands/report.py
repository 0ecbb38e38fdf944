"""toolkit report: an HTML page and a Markdown twin, with plots, for a run directory."""

from __future__ import annotations

import argparse

from toolkit.commands import argtypes as at
from toolkit.commands.base import Command


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", help="a directory from 'toolkit train' (after convert) or 'toolkit demo', or a sweep directory "
                   "('toolkit sweep': Pareto fronts per board)")
    at.add_json(p, "the paths of the pages written")


def run(args: argparse.Namespace) -> int:
    from toolkit.fileio import write_json
    from toolkit.report import build_report

    html_path, md_path = build_report(args.run_dir)
    print(f"report: {html_path}\n        {md_path}")
    if args.json:
        write_json(args.json, {"html": str(html_path), "markdown": str(md_path)})
    return 0


COMMAND = Command("report", "write an HTML and Markdown report with plots for a run or a sweep", add_arguments, run)
