"""The terminal lines of `promptkit eval`: one line per cell, text shown literally."""

from __future__ import annotations

import pytest
from promptkit.cli_display import LiveDisplay
from promptkit.records import MetricScore
from promptkit.report.results import CellResult


def cell(**fields: object) -> CellResult:
    base = CellResult(task="my_task", prompt="qa/extractive", method="lora-r64", method_config={}, task_version="1", prompt_version="1", n=3)
    for key, value in fields.items():
        setattr(base, key, value)
    return base


def test_failed_cell_message_is_shown_literally_on_one_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # error texts hold user input; brackets must not be read as rich markup (or crash it: "[/]")
    monkeypatch.setenv("COLUMNS", "40")
    error = "prompt 'x': input: unknown field '[bold]contxt[/bold]' in methods[2] [/] " + "long " * 20
    LiveDisplay().cell_done(cell(error=error))
    err = capsys.readouterr().err
    assert err == f"✗ my_task / qa/extractive / lora-r64: {error}\n"


def test_finished_cell_line(capsys: pytest.CaptureFixture[str]) -> None:
    score = MetricScore(name="exact_match", value=81.0, ci_low=73.0, ci_high=88.0, n=3, per_sample=(1.0, 0.0, 1.0))
    LiveDisplay().cell_done(cell(metrics={"exact_match": score}, timings={"predict_s": 2.5}))
    assert capsys.readouterr().err == "✓ my_task / qa/extractive / lora-r64: exact_match 81.0 (3 ex, 2.5 s)\n"
