"""``promptkit eval`` on a split grouped by ``group_by`` (questions of one article), on the tiny
Llama: results.json, the samples and the report keep the groups, and every interval and paired
test resamples whole groups. The resampling itself is checked in tests/unit/test_cluster_bootstrap.py."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import invoke


def test_a_run_on_a_grouped_split_resamples_its_groups(tmp_path: Path, tiny_llama_dir: Path) -> None:
    rows = [{"id": f"q{i}", "title": f"article-{i // 3}", "context": f"The box holds item{i} .",
             "question": "What does the box hold ?", "answers": [f"item{i}"]} for i in range(24)]
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[12:]))
    (tmp_path / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:12]))
    (tmp_path / "grouped.yaml").write_text(
        "name: grouped\ndataset: {kind: files, splits: {train: train.jsonl, test: {path: test.jsonl, group_by: title}}}\n"
        "adapter: {kind: qa, fields: {context: context, question: question, answers: answers}}\n"
        "prompts: [qa/extractive]\nmetrics: [exact_match, token_f1]\ngeneration: {max_new_tokens: 4}\nfewshot: {shots: 1}\n")
    out = tmp_path / "runs"
    result = invoke(["eval", "--task", str(tmp_path / "grouped.yaml"), "--model", str(tiny_llama_dir),
                     "--method", "zero-shot", "--method", "few-shot", "--out", str(out), "--run-id", "g",
                     "--device", "cpu", "--set", "bootstrap_samples=50"])
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "g" / "results.json").read_text())
    assert (saved["tasks"]["grouped"]["group_by"], saved["tasks"]["grouped"]["groups"]) == ("title", 4)
    samples = [json.loads(line) for line in (out / "g" / "samples" / "grouped" / "zero-shot.jsonl").open()]
    assert {s["example_id"]: s["group"] for s in samples} == {f"q{i}": f"article-{i // 3}" for i in range(12)}
    # grouped rows: every test works on whole groups, never one that assumes independent rows (the
    # CR2 t, or the exact sign-flip over groups where the tiny model's differences are all alike)
    assert {(c["family"], c["metric"]) for c in saved["comparisons"]} == {
        ("confirmatory", "exact_match"), ("secondary", "exact_match"), ("secondary", "token_f1")}
    assert {c["test"] for c in saved["comparisons"]} <= {"cluster-t-cr2", "cluster-sign-flip-exact"}
    assert {c["metrics"]["exact_match"]["details"]["interval"] for c in saved["cells"]} == {"wilson-design-effect"}
    report = (out / "g" / "report.md").read_text()
    assert "from 4 groups of 'title'; intervals and paired tests are cluster-robust (whole groups)" in report
