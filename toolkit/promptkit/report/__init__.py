"""Run results on disk (results.json, samples/) and their rendering (Markdown)."""

from promptkit.report.markdown import render_comparison, render_markdown
from promptkit.report.results import SCHEMA_VERSION, CellResult, RunResult

__all__ = ["SCHEMA_VERSION", "CellResult", "RunResult", "render_comparison", "render_markdown"]
