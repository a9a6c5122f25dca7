"""The terminal lines of `promptkit eval`: one line per cell, text shown literally."""

from __future__ import annotations

import pytest
from promptkit.cli.display import LiveDisplay
from promptkit.records import MetricScore
from promptkit.records.results import CellResult


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
    assert capsys.readouterr().err == "✓ my_task / qa/extractive / lora-r64: exact_match 81.0 (3 ex, evaluation 2.5 s)\n"


def test_trained_cell_line_has_training_and_evaluation_time(capsys: pytest.CaptureFixture[str]) -> None:
    from promptkit.records import TrainingReport

    score = MetricScore(name="exact_match", value=81.0, ci_low=73.0, ci_high=88.0, n=3, per_sample=(1.0, 0.0, 1.0))
    LiveDisplay().cell_done(cell(metrics={"exact_match": score}, seed=2, training=TrainingReport(steps=20),
                                 timings={"fit_s": 140.25, "predict_s": 2.5}))
    assert capsys.readouterr().err == ("✓ my_task / qa/extractive / lora-r64 seed 2: exact_match 81.0 "
                                       "(3 ex, training 140.2 s, evaluation 2.5 s)\n")


def test_progress_prints_plain_lines_when_not_on_a_terminal(capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import promptkit.cli.display as display

    clock = iter([0.0, 5.0, 31.0, 40.0, 75.0, 80.0])
    monkeypatch.setattr(display.time, "monotonic", lambda: next(clock))
    live = LiveDisplay(every_s=30)
    assert live.plain  # pytest's stderr is not a terminal
    for done in (0, 1, 2, 3, 4):
        live.progress("train lora", done, 8)
    live.progress("train lora", 8, 8)
    assert capsys.readouterr().err.splitlines() == [
        "train lora: 0/8 (0%), 0:00 elapsed",   # started
        "train lora: 2/8 (25%), 0:31 elapsed",  # 31 s after the last line
        "train lora: 4/8 (50%), 1:15 elapsed",
        "train lora: 8/8 (100%), 1:20 elapsed",  # the end, always
    ]
