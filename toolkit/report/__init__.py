"""The run report: an HTML page and a Markdown twin with plots, from a run directory."""

from toolkit.report.page import build_report

__all__ = ["build_report"]
