"""Run results on disk (results.json, samples/) and their rendering (Markdown)."""

from promptkit.records.results import SCHEMA_VERSION, CellResult, RunResult
from promptkit.report.markdown import render_comparison, render_markdown

__all__ = ["SCHEMA_VERSION", "CellResult", "RunResult", "render_comparison", "render_markdown"]
