"""``promptkit report RUN... --out DIR``: runs merged into one report (paired tests across runs on
the same examples, side by side otherwise), and ``--metric`` re-scoring from saved samples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sacrebleu
from click.testing import CliRunner
from promptkit.cli import cli

QA = Path(__file__).resolve().parents[1] / "fixtures" / "tiny" / "qa.yaml"


def run(out: Path, run_id: str, model: Path, *extra: str) -> Path:
    args = ["eval", "--task", str(QA), "--model", str(model), "--out", str(out), "--run-id", run_id, "--device", "cpu",
            "--set", "bootstrap_samples=200", *extra]
    outcome = CliRunner().invoke(cli, args)
    assert outcome.exit_code == 0, outcome.output
    return out / run_id


def load(run_dir: Path) -> dict[str, Any]:
    return dict(json.loads((run_dir / "results.json").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, tiny_llama_dir: Path) -> tuple[Path, Path, Path]:
    out = tmp_path_factory.mktemp("merge")
    a = run(out, "a", tiny_llama_dir, "--method", "zero-shot", "--method", "few-shot", "--limit", "8")
    b = run(out, "b", tiny_llama_dir, "--method", "few-shot", "--shots", "1", "--limit", "8")  # the same 8 questions
    c = run(out, "c", tiny_llama_dir, "--method", "zero-shot", "--limit", "4")  # other questions
    return a, b, c


def test_runs_on_the_same_examples_are_compared_and_others_kept_apart(runs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    a, b, c = runs
    outcome = CliRunner().invoke(cli, ["report", str(a), str(b), str(c), "--out", str(tmp_path / "merged")])
    assert outcome.exit_code == 0, outcome.output
    merged = load(tmp_path / "merged")
    assert set(merged["tasks"]) == {"tiny_qa [a, b]", "tiny_qa [c]"}
    assert [(x["task"], x["method"]) for x in merged["cells"]] == [
        ("tiny_qa [a, b]", "zero-shot @ a"), ("tiny_qa [a, b]", "few-shot @ a"), ("tiny_qa [a, b]", "few-shot @ b"),
        ("tiny_qa [c]", "zero-shot @ c")]
    pairs = {(p["a"], p["b"], p["metric"]): p for p in merged["comparisons"] if p["family"] == "secondary"}
    assert {p["task"] for p in merged["comparisons"]} == {"tiny_qa [a, b]"}  # nothing tested across other examples
    assert len(pairs) == 3 * 2  # three methods, two metrics
    # the difference is the one between the two runs' own values
    f1 = {(r, x["method"]): x["metrics"]["token_f1"]["value"] for r, d in (("a", a), ("b", b)) for x in load(d)["cells"]}
    pair = pairs.get(("few-shot @ b", "few-shot @ a", "token_f1")) or pairs[("few-shot @ a", "few-shot @ b", "token_f1")]
    sign = 1 if pair["a"] == "few-shot @ b" else -1
    assert pair["delta"] == pytest.approx(sign * (f1[("b", "few-shot")] - f1[("a", "few-shot")]), abs=1e-3)
    report = (tmp_path / "merged" / "report.md").read_text(encoding="utf-8")
    assert "## tiny_qa [a, b]" in report and "## tiny_qa [c]" in report
    html = (tmp_path / "merged" / "report.html").read_text(encoding="utf-8")
    assert "few-shot @ b" in html and "class='browser'" in html
    # the merged directory is a run directory of its own: it renders again
    again = CliRunner().invoke(cli, ["report", str(tmp_path / "merged")])
    assert again.exit_code == 0, again.output
    assert load(tmp_path / "merged")["comparisons"] == merged["comparisons"]


def test_a_metric_added_later_is_scored_from_the_samples(runs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    import shutil

    run_dir = tmp_path / "a"
    shutil.copytree(runs[0], run_dir)
    before = load(run_dir)
    outcome = CliRunner().invoke(cli, ["report", str(run_dir), "--metric", "chrf"])
    assert outcome.exit_code == 0, outcome.output
    after = load(run_dir)
    assert "chrf" in after["tasks"]["tiny_qa"]["metrics"]
    for cell, old in zip(after["cells"], before["cells"], strict=True):
        assert cell["metrics"]["exact_match"] == old["metrics"]["exact_match"]  # nothing else moves
        rows = [json.loads(line) for line in (run_dir / cell["samples"]).open()]
        rows = [r for r in rows if r["method"] == cell["method"]]
        refs = [r["references"] for r in rows]
        width = max(len(x) for x in refs)
        columns = [[x[i] if i < len(x) else "" for x in refs] for i in range(width)]
        expected = sacrebleu.corpus_chrf([r["prediction"] for r in rows], columns).score
        chrf = cell["metrics"]["chrf"]
        assert chrf["value"] == pytest.approx(expected, abs=1e-6)
        assert chrf["ci_low"] <= chrf["value"] <= chrf["ci_high"] and chrf["n"] == len(rows)
        assert all("chrf" in r["scores"] for r in rows)
    assert "chrf" in (run_dir / "report.md").read_text(encoding="utf-8")


def test_an_unknown_metric_changes_nothing(runs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    import shutil

    run_dir = tmp_path / "a"
    shutil.copytree(runs[0], run_dir)
    before = (run_dir / "results.json").read_bytes()
    outcome = CliRunner().invoke(cli, ["report", str(run_dir), "--metric", "chrff"])
    assert outcome.exit_code != 0 and "did you mean 'chrf'" in outcome.output and "Traceback" not in outcome.output
    assert (run_dir / "results.json").read_bytes() == before


def test_a_merged_report_never_replaces_a_run_unless_forced(runs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """Issue 22 item 7: ``report A B --out DIR`` replaced the run already in DIR."""
    a, b, _ = runs
    target = tmp_path / "taken"
    target.mkdir()
    (target / "results.json").write_text('{"mine": true}', encoding="utf-8")
    refused = CliRunner().invoke(cli, ["report", str(a), str(b), "--out", str(target)])
    assert refused.exit_code != 0 and "already holds a run (results.json); give another directory, or --force" in refused.output
    assert (target / "results.json").read_text(encoding="utf-8") == '{"mine": true}'
    forced = CliRunner().invoke(cli, ["report", str(a), str(b), "--out", str(target), "--force"])
    assert forced.exit_code == 0, forced.output
