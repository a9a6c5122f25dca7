"""Output filters end to end: ``promptkit eval`` on a tiny QA task with two filter pipelines scores
every metric on each (the columns ``metric[pipeline]``), saves each row's filtered outputs in its
samples file, and ``promptkit report RUN --metric 'metric[pipeline]'`` scores them again without
a model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import error_lines, invoke, read_jsonl

DATA = Path(__file__).resolve().parents[1] / "fixtures" / "tiny" / "data"
TASK = f"""\
name: tiny_filtered
dataset:
  kind: files
  splits: {{train: {DATA / 'qa_train.jsonl'}, test: {DATA / 'qa_test.jsonl'}}}
adapter:
  kind: qa
  fields: {{context: context, question: question, answers: answers}}
prompts: [qa/extractive]
metrics: [string_match, token_f1]
metric_options:
  string_match: {{ignore_case: true}}
generation: {{max_new_tokens: 6, stop: ["\\n"]}}
filters:
  - name: first-word
    steps: [{{function: regex, regex_pattern: "(\\\\S+)"}}, {{function: take_first}}]
  - name: last-word
    steps:
      - {{function: regex, regex_pattern: "(\\\\S+)", group_select: -1, fallback: none}}
      - {{function: uppercase}}
"""
COLUMNS = ["string_match[first-word]", "string_match[last-word]", "token_f1[first-word]", "token_f1[last-word]"]


def results(run_dir: Path) -> dict[str, Any]:
    return dict(json.loads((run_dir / "results.json").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, tiny_llama_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("filters")
    (out / "task.yaml").write_text(TASK, encoding="utf-8")
    outcome = invoke(["eval", "--task", str(out / "task.yaml"), "--model", str(tiny_llama_dir), "--method", "zero-shot",
                      "--method", "few-shot", "--limit", "8", "--out", str(out), "--run-id", "r", "--device", "cpu",
                      "--set", "bootstrap_samples=50"])
    assert outcome.exit_code == 0, outcome.output
    return out / "r"


def expected_filters(prediction: str) -> dict[str, str]:
    words = prediction.split()
    return {"first-word": words[0] if words else "[invalid]", "last-word": (words[-1] if words else "none").upper()}


def test_every_metric_is_scored_on_every_pipeline(run: Path) -> None:
    data = results(run)
    task = data["tasks"]["tiny_filtered"]
    assert task["metrics"] == COLUMNS
    assert [f["name"] for f in task["filters"]] == ["first-word", "last-word"]
    assert task["metric_options"] == {"string_match": {"ignore_case": True, "ignore_punctuation": False,
                                                       "ignore_numbers": False, "regexes_to_ignore": []}}
    for cell in data["cells"]:
        assert cell["error"] is None and list(cell["metrics"]) == COLUMNS
        assert cell["metrics"]["token_f1[last-word]"]["details"]["filter"] == "last-word"
        assert cell["metrics"]["string_match[first-word]"]["details"]["ignore_case"] == "true"
    # the verdict decides on the first column: the first metric on the first pipeline
    assert {v["metric"] for v in data["verdicts"]} == {"string_match[first-word]"}
    report = (run / "report.md").read_text(encoding="utf-8")
    assert "| string_match[first-word] | string_match[last-word] | token_f1[first-word] | token_f1[last-word] |" in report


def test_samples_hold_the_filtered_outputs_and_their_scores(run: Path) -> None:
    rows = read_jsonl(run / "samples" / "tiny_filtered" / "zero-shot.jsonl")
    assert len(rows) == 8 and any(r["prediction"].split() for r in rows)
    for row in rows:
        assert row["filtered"] == expected_filters(row["prediction"])
        first = row["filtered"]["first-word"].lower()
        assert row["scores"]["string_match[first-word]"] == 100.0 * any(first == ref.lower() for ref in row["references"])
        assert list(row["scores"]) == COLUMNS


def test_report_rescores_a_pipeline_from_the_samples(run: Path) -> None:
    before = results(run)
    outcome = invoke(["report", str(run), "--metric", "exact_match[last-word]", "--metric", "token_f1[first-word]"])
    assert outcome.exit_code == 0, outcome.output
    after = results(run)
    assert after["tasks"]["tiny_filtered"]["metrics"] == [*COLUMNS, "exact_match[last-word]"]
    for old, new in zip(before["cells"], after["cells"], strict=True):
        assert list(new["metrics"]) == [*COLUMNS, "exact_match[last-word]"]
        # scored again from the saved filtered outputs: what the run computed
        assert new["metrics"]["token_f1[first-word]"] == old["metrics"]["token_f1[first-word]"]
    rows = read_jsonl(run / "samples" / "tiny_filtered" / "few-shot.jsonl")
    for row in rows:
        last = row["filtered"]["last-word"].lower()
        assert row["scores"]["exact_match[last-word]"] == 100.0 * any(last == ref.lower() for ref in row["references"])
    outcome = invoke(["report", str(run), "--metric", "exact_match[nope]"])
    assert outcome.exit_code == 2
    assert error_lines(outcome) == ["error: column 'exact_match[nope]': the rows hold no results of filter 'nope'; "
                                    "the run's filters are 'first-word', 'last-word'"]


def test_tuning_selects_on_the_first_column_and_records_it(tmp_path: Path, tiny_llama_dir: Path) -> None:
    """With filters the selection metric is the first column, string_match[first-word]; the
    tuning record named the bare metric (string_match), which no column is."""
    (tmp_path / "task.yaml").write_text(TASK + "train_split: train\n", encoding="utf-8")
    outcome = invoke(["eval", "--task", str(tmp_path / "task.yaml"), "--model", str(tiny_llama_dir), "--method", "prompt-tuning",
                      "--tune", "--limit", "4", "--out", str(tmp_path), "--run-id", "t", "--device", "cpu",
                      "--set", "training.steps=1", "--set", "tuning.candidates=2", "--set", "tuning.dev_size=2",
                      "--set", "bootstrap_samples=0"])
    assert outcome.exit_code == 0, outcome.output
    (cell,) = results(tmp_path / "t")["cells"]
    assert cell["tuning"]["metric"] == "string_match[first-word]"
