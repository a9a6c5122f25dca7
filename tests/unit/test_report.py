"""Run results on disk (promptkit.records.results), Markdown rendering and ``promptkit report``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from promptkit.cli import cli
from promptkit.errors import PromptkitError
from promptkit.records import Cost, Forgetting, MetricScore, TrainingReport
from promptkit.records.results import TaskInfo, write_atomic
from promptkit.report import SCHEMA_VERSION, CellResult, RunResult, render_comparison, render_markdown


def score(name: str, value: float, low: float, high: float, n: int = 4) -> MetricScore:
    return MetricScore(name, value, low, high, n, per_sample=tuple([value] * n))


def cell(task: str, method: str, em: float, prompt: str = "qa/extractive", error: str | None = None) -> CellResult:
    return CellResult(
        task=task,
        prompt=prompt,
        method=method,
        method_config={"kind": method},
        task_version="1",
        prompt_version="1",
        n=4,
        shots=3 if method == "few-shot" else 0,
        metrics={} if error else {"exact_match": score("exact_match", em, em - 10, em + 10), "token_f1": score("token_f1", em + 5, em - 5, em + 15)},
        timings={"fit_s": 0.0, "predict_s": 1.5},
        throughput={"examples_per_s": 2.667, "output_tokens_per_s": 10.0, "prompt_tokens": 100.0, "output_tokens": 15.0},
        samples=f"samples/{task}/{method}.jsonl",
        error=error,
    )


def result(run_id: str = "run-a", ems: tuple[float, float] = (25.0, 50.0), model: str = "tiny") -> RunResult:
    return RunResult(
        run_id=run_id,
        created="2025-01-01T00:00:00+00:00",
        config={"seed": 0, "batch_size": 8, "limit": 4, "tasks": ["toy_qa"]},
        model={"name": model, "architecture": "LlamaForCausalLM", "parameters": 1_500_000, "dtype": "float32", "device": "cpu"},
        chat_template=True,
        environment={"python": "3.11", "packages": {"promptkit": "0.1.0"}},
        tasks={"toy_qa": TaskInfo(version="1", eval_split="test", n=4, source="files")},
        cells=[cell("toy_qa", "zero-shot", ems[0]), cell("toy_qa", "few-shot", ems[1])],
        timings={"model_load_s": 0.5, "total_s": 4.3},
    )


# ----------------------------------------------------------------------------- results.json
def test_save_load_round_trip(tmp_path: Path) -> None:
    original = result()
    path = original.save(tmp_path / "run-a")
    assert path == tmp_path / "run-a" / "results.json"
    loaded = RunResult.load(tmp_path / "run-a")
    assert loaded == RunResult.load(path)
    assert loaded.to_dict() == original.to_dict()
    assert loaded.cells[0].metrics["exact_match"] == MetricScore("exact_match", 25.0, 15.0, 35.0, 4)
    assert loaded.cells[1].key == ("toy_qa", "qa/extractive", "few-shot", None)


def test_cost_and_training_load_back_typed(tmp_path: Path) -> None:
    original = result()
    trained = cell("toy_qa", "lora", 60.0)
    trained.cost = Cost(trainable_params=1024.0, trainable_pct=0.5, train_s=3.2, train_tokens_per_s=90.0,
                        peak_memory_mb=512.0, adapter_bytes=4096.0)
    trained.training = TrainingReport(steps=3, planned_steps=3, examples=6, losses=[2.0, 1.5, 1.2], final_loss=1.2,
                                      peak_memory_kind="process_rss")
    original.cells.append(trained)
    original.save(tmp_path)
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["cells"][0]["cost"] is None and data["cells"][-1]["cost"]["adapter_bytes"] == 4096.0
    assert "tuning_s" not in data["cells"][-1]["cost"]  # unset optional costs are left out
    loaded = RunResult.load(tmp_path)
    assert loaded.cells[-1].cost == trained.cost and loaded.cells[-1].training == trained.training
    assert isinstance(loaded.cells[-1].training, TrainingReport) and loaded.cells[0].training is None
    assert loaded.cells[-1].train_s == 3.2 and loaded.cells[0].train_s == 0.0
    # files written before cost and training were typed hold {} for untrained cells
    data["cells"][0]["cost"] = data["cells"][0]["training"] = {}
    (tmp_path / "results.json").write_text(json.dumps(data))
    assert RunResult.load(tmp_path).cells[0].cost is None


def test_forgetting_loads_back_typed_and_shows_in_the_cost_table(tmp_path: Path) -> None:
    original = result()
    trained = cell("toy_qa", "lora", 60.0)
    trained.cost = Cost(trainable_params=1024.0, trainable_pct=0.5, train_s=3.2, adapter_bytes=4096.0)
    trained.forgetting = Forgetting(probe="probe.txt", documents=40, tokens=5000, bytes=21000, base_bits_per_byte=1.25,
                                    bits_per_byte=1.2623, delta_bits_per_byte=0.0123, ci_low=0.0071, ci_high=0.0175,
                                    delta_nats_per_token=0.036, ce_ci_low=0.02, ce_ci_high=0.05)
    original.cells.append(trained)
    original.save(tmp_path)
    loaded = RunResult.load(tmp_path)
    assert loaded.cells[-1].forgetting == trained.forgetting and loaded.cells[0].forgetting is None
    text = render_markdown(loaded)
    header = next(line for line in text.splitlines() if line.startswith("| method | prompt | trainable params"))
    assert header.rstrip(" |").endswith("forgetting (bits/byte)")
    rows = {line.split("|")[1].strip(): line.split("|")[-2].strip() for line in text.splitlines()
            if line.startswith("| ") and line.count("|") == header.count("|")}
    assert rows["lora"] == "+0.0123 [+0.0071, +0.0175]" and rows["zero-shot"] == "0"
    assert "Probe: probe.txt, 40 documents, 21,000 bytes; the base model reads it at 1.2500 bits/byte" in text
    from promptkit.report.html import render_html

    page = render_html(loaded, tmp_path)
    assert "lora (forgets +0.0123 bits/byte)" in page and "zero-shot (forgets" not in page  # the cost figure's labels
    # without a forgetting figure (--no-forgetting) the column is not there
    loaded.cells[-1].forgetting = None
    assert "forgetting (bits/byte)" not in render_markdown(loaded)


def test_task_info_loads_back_typed_and_tolerates_older_files(tmp_path: Path) -> None:
    original = result()
    original.tasks["toy_qa"] = TaskInfo(version="2", eval_split="test", n=4, source="files", metrics=("exact_match",),
                                        language="en", squad_version="2.0", overlaps=("3 rows also in train",))
    original.save(tmp_path)
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["tasks"]["toy_qa"]["metrics"] == ["exact_match"] and data["tasks"]["toy_qa"]["squad_version"] == "2.0"
    assert RunResult.load(tmp_path).tasks == original.tasks
    # a file from before squad_version/bleu_tokenize were recorded: the defaults the run used then
    data["tasks"]["toy_qa"] = {"version": "1", "eval_split": "test", "n": 4, "source": "files", "metrics": ["exact_match"]}
    (tmp_path / "results.json").write_text(json.dumps(data))
    info = RunResult.load(tmp_path).tasks["toy_qa"]
    assert info.squad_version == "1.1" and info.bleu_tokenize is None and info.metrics == ("exact_match",)


def test_results_json_layout(tmp_path: Path) -> None:
    data = json.loads(result().save(tmp_path).read_text())
    assert data["schema_version"] == SCHEMA_VERSION == 3
    assert list(data) == ["schema_version", "run_id", "created", "config", "model", "chat_template",
                          "environment", "tasks", "timings", "cells", "comparisons", "verdicts", "seed_summaries", "commands"]
    assert data["cells"][0]["seed"] is None and "comparison" not in data["cells"][0]
    metric = data["cells"][0]["metrics"]["exact_match"]
    assert metric == {"value": 25.0, "ci_low": 15.0, "ci_high": 35.0, "n": 4}  # no per-sample scores
    assert data["cells"][0]["error"] is None


def test_errored_cells_round_trip(tmp_path: Path) -> None:
    original = result()
    original.cells.append(cell("toy_qa", "few-shot", 0, prompt="qa/other", error="few-shot needs a 'train' split"))
    original.save(tmp_path)
    loaded = RunResult.load(tmp_path)
    assert loaded.cells[-1].error == "few-shot needs a 'train' split"
    assert loaded.cells[-1].metrics == {}


def test_save_overwrites_atomically(tmp_path: Path) -> None:
    run = result()
    run.save(tmp_path)
    run.cells.pop()
    run.save(tmp_path)
    assert len(RunResult.load(tmp_path).cells) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]  # no temporary files left


def test_write_atomic_keeps_the_old_file_when_writing_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.md"
    write_atomic(target, "old\n")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


@pytest.mark.parametrize("version", [0, 4, None, "1"])
def test_unknown_schema_version_is_an_error(tmp_path: Path, version: object) -> None:
    data = result().to_dict()
    data["schema_version"] = version
    (tmp_path / "results.json").write_text(json.dumps(data))
    with pytest.raises(PromptkitError, match="is not supported; accepted: 1, 2, 3") as info:
        RunResult.load(tmp_path)
    assert repr(version) in str(info.value)


def test_schema_1_results_are_read_and_upgraded_by_report(tmp_path: Path) -> None:
    # Version 1 kept a comparison with the first method in every cell and had no seeds.
    data = result().to_dict()
    data["schema_version"] = 1
    for key in ("comparisons", "verdicts", "seed_summaries"):
        del data[key]
    for c in data["cells"]:
        del c["seed"]
        c["comparison"] = {"exact_match": {"baseline": "zero-shot", "delta": 25.0, "p_value": 0.001, "n": 4}}
    (tmp_path / "results.json").write_text(json.dumps(data))
    loaded = RunResult.load(tmp_path)
    assert [c.seed for c in loaded.cells] == [None, None]
    outcome = CliRunner().invoke(cli, ["report", str(tmp_path)])
    assert outcome.exit_code == 0, outcome.output
    upgraded = json.loads((tmp_path / "results.json").read_text())
    assert upgraded["schema_version"] == 3 and "comparison" not in upgraded["cells"][0]


def test_missing_and_invalid_results(tmp_path: Path) -> None:
    with pytest.raises(PromptkitError, match="not found; give a run directory or its results.json"):
        RunResult.load(tmp_path)
    (tmp_path / "results.json").write_text('{"schema_version": 1,\n  oops}')
    with pytest.raises(PromptkitError, match=r"results.json:2: invalid JSON"):
        RunResult.load(tmp_path / "results.json")


# ----------------------------------------------------------------------------- Markdown
def test_render_markdown_has_a_table_with_confidence_intervals() -> None:
    text = render_markdown(result())
    lines = text.splitlines()
    assert lines[0] == "# promptkit run `run-a`"
    assert "- model: `tiny` (LlamaForCausalLM, 1.5M parameters, float32 on cpu)" in lines
    assert "- chat template: on" in lines
    assert "- total time: 4.3 s (model load 0.5 s)" in lines
    assert "## toy_qa" in lines
    header = lines.index("| method | prompt | shots | seeds | exact_match | token_f1 | n | trainable | train time | eval ex/s |")
    assert lines[header + 1] == "|---|---|---|---|---|---|---|---|---|---|"
    assert lines[header + 2] == "| zero-shot | qa/extractive | 0 | – | 25.0 [15.0, 35.0] | 30.0 [20.0, 40.0] | 4 | – | – | 2.67 |"
    assert lines[header + 3] == "| few-shot | qa/extractive | 3 | – | 50.0 [40.0, 60.0] | 55.0 [45.0, 65.0] | 4 | – | – | 2.67 |"


def test_render_markdown_states_the_limit_or_that_each_task_has_its_own() -> None:
    assert "- seed: 0, training seeds: [0], batch size: 8, limit: 4" in render_markdown(result()).splitlines()
    run = result()
    run.config["limit"] = None  # no --limit: the task files' own limits (squad_demo: 80)
    assert "- seed: 0, training seeds: [0], batch size: 8, limit: each task's own" in render_markdown(run).splitlines()


def test_render_markdown_shows_errored_cells() -> None:
    run = result()
    run.cells.append(cell("toy_qa", "few-shot", 0, prompt="qa/other", error="no train split"))
    row = render_markdown(run).splitlines()[-1]
    assert row == "| few-shot | qa/other | 3 | – | – | – | 4 | – | – | error: no train split |"


def test_render_markdown_one_table_per_task() -> None:
    run = result()
    run.cells.append(cell("toy_mt", "zero-shot", 10.0))
    text = render_markdown(run)
    assert text.count("## ") == 2 and text.index("## toy_qa") < text.index("## toy_mt")
    assert text.count("| method | prompt |") == 2


def test_render_comparison_of_two_runs() -> None:
    a = result("run-a", (25.0, 50.0), model="tiny")
    b = result("run-b", (30.0, 45.0), model="other")
    b.cells.append(cell("toy_qa", "zero-shot", 70.0, prompt="qa/closed_book"))  # only in run b
    lines = render_comparison([a, b]).splitlines()
    assert lines[0] == "# promptkit comparison"
    assert "- run 1: `run-a` (tiny)" in lines and "- run 2: `run-b` (other)" in lines
    assert "| method | prompt | metric | run 1 | run 2 |" in lines
    assert "| zero-shot | qa/extractive | exact_match | 25.0 [15.0, 35.0] | 30.0 [20.0, 40.0] |" in lines
    assert "| few-shot | qa/extractive | token_f1 | 55.0 [45.0, 65.0] | 50.0 [40.0, 60.0] |" in lines
    assert "| zero-shot | qa/closed_book | exact_match | – | 70.0 [60.0, 80.0] |" in lines


# ----------------------------------------------------------------------------- promptkit report
def test_report_command_rerenders_one_run(tmp_path: Path) -> None:
    run_dir = tmp_path / "run-a"
    result().save(run_dir)
    outcome = CliRunner().invoke(cli, ["report", str(run_dir)])
    assert outcome.exit_code == 0, outcome.output
    assert f"wrote {run_dir / 'report.md'}" in outcome.output
    assert (run_dir / "report.md").read_text() == render_markdown(result())


def test_report_command_compares_runs(tmp_path: Path) -> None:
    result("run-a").save(tmp_path / "run-a")
    result("run-b", (30.0, 45.0)).save(tmp_path / "run-b")
    outcome = CliRunner().invoke(cli, ["report", str(tmp_path / "run-a"), str(tmp_path / "run-b")])
    assert outcome.exit_code == 0, outcome.output
    compare = tmp_path / "compare.md"
    assert compare.read_text() == render_comparison([result("run-a"), result("run-b", (30.0, 45.0))])
    custom = tmp_path / "out" / "both.md"
    outcome = CliRunner().invoke(cli, ["report", str(tmp_path / "run-a"), str(tmp_path / "run-b" / "results.json"), "--out", str(custom)])
    assert outcome.exit_code == 0 and custom.read_text().startswith("# promptkit comparison")


def test_report_command_errors_are_one_line(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(cli, ["report", str(tmp_path / "nope")])
    assert outcome.exit_code == 1
    assert outcome.output.strip().splitlines() == [f"error: {tmp_path / 'nope'}: not found; give a run directory or its results.json"]
    assert "Traceback" not in outcome.output


def test_plots_of_scores_without_intervals_are_points(tmp_path: Path) -> None:
    import math

    from promptkit.report.plots import CostPoint, Estimate, cost_plot, summary_plot

    nan = math.nan
    svg = summary_plot([Estimate("a", "a", 40.0, nan, nan), Estimate("b", "b", 55.0, 50.0, 60.0)], "exact_match", {})
    assert svg.startswith("<svg") and ">40.0<" in svg and ">55.0<" in svg
    assert summary_plot([Estimate("a", "a", nan, nan, nan)], "exact_match", {}) == ""
    assert cost_plot([CostPoint("a", "a", 40.0, 0.0, 0.0), CostPoint("b", "b", nan, 10.0, 1.0)], "exact_match", {}).startswith("<svg")
