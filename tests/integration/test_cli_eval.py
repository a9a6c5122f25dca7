"""``promptkit eval`` end to end through click's CliRunner, on the tiny Llama and toy tasks.

One full run (QA + classification + translation, zero-shot and few-shot) is shared by the
schema tests; further runs check --set, chat formatting and the error paths.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from helpers import error_lines, invoke, read_jsonl
from promptkit.config import ModelConfig
from promptkit.config.run import RunConfig

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
TASKS = {
    "tiny_qa": TINY / "qa.yaml",
    "tiny_sentiment": TINY / "sentiment.yaml",
    "tiny_translation": TINY / "translation.yaml",
}
METRICS = {
    "tiny_qa": ["exact_match", "token_f1"],
    "tiny_sentiment": ["accuracy", "macro_f1"],
    "tiny_translation": ["bleu", "chrf"],
}
PROMPTS = {
    "tiny_qa": ["qa/extractive"],
    "tiny_sentiment": ["classification/sentiment"],
    "tiny_translation": ["translation/basic", "tiny/inline"],
}
SHOTS = {"tiny_qa": 2, "tiny_sentiment": 2, "tiny_translation": 1}
LIMIT = 6


def eval_args(model: Path, out: Path, run_id: str, *extra: str, tasks: Sequence[Path] = tuple(TASKS.values())) -> list[str]:
    args = ["eval"]
    for task in tasks:
        args += ["--task", str(task)]
    return [*args, "--model", str(model), "--method", "zero-shot", "--method", "few-shot",
            "--limit", str(LIMIT), "--out", str(out), "--run-id", run_id, *extra]


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory, tiny_llama_dir: Path) -> tuple[Result, Path]:
    out = tmp_path_factory.mktemp("runs")
    result = invoke(eval_args(tiny_llama_dir, out, "full"))
    return result, out / "full"


@pytest.fixture(scope="module")
def results(full_run: tuple[Result, Path]) -> dict[str, Any]:
    result, run_dir = full_run
    assert result.exit_code == 0, result.output
    return dict(json.loads((run_dir / "results.json").read_text(encoding="utf-8")))


# ----------------------------------------------------------------------------- the full run
def test_eval_succeeds_and_prints_a_summary(full_run: tuple[Result, Path]) -> None:
    result, run_dir = full_run
    assert result.exit_code == 0, result.output
    assert f"results: {run_dir / 'results.json'}" in result.stdout
    for task in TASKS:
        assert f"{task} (n={LIMIT})" in result.stdout
    assert result.stderr.count("✓") == 8  # one line per finished cell
    assert "Traceback" not in result.output


def test_results_json_header(results: dict[str, Any], tiny_llama_dir: Path) -> None:
    assert results["schema_version"] == 3
    assert results["run_id"] == "full"
    assert results["created"].endswith("+00:00")
    config = results["config"]
    assert config["tasks"] == [str(p) for p in TASKS.values()]
    assert config["methods"] == [{"kind": "zero-shot"}, {"kind": "few-shot", "shots": None}]
    assert config["limit"] == LIMIT and config["batch_size"] == 16 and config["seed"] == 0
    assert config["model"]["name"] == str(tiny_llama_dir)
    model = results["model"]
    assert model["architecture"] == "LlamaForCausalLM" and model["source"] == str(tiny_llama_dir)
    assert model["device"] == "cpu" and model["dtype"] == "float32" and model["parameters"] > 0
    assert results["chat_template"] is True  # the tiny tokenizer has one and the default is auto
    packages = results["environment"]["packages"]
    for name in ("promptkit", "torch", "transformers", "numpy"):
        assert packages[name] not in ("", "not installed")
    assert results["environment"]["python"].count(".") == 2
    assert results["timings"]["model_load_s"] >= 0
    assert results["timings"]["total_s"] >= results["timings"]["model_load_s"]


def test_results_json_tasks(results: dict[str, Any]) -> None:
    assert set(results["tasks"]) == set(TASKS)
    for name, info in results["tasks"].items():
        assert info["version"] == "1" and info["eval_split"] == "test" and info["n"] == LIMIT
        # Recorded relative to the working directory (here the repo root), never machine-absolute.
        assert info["path"] == TASKS[name].resolve().relative_to(Path.cwd().resolve()).as_posix()
        assert not Path(info["path"]).is_absolute() and info["source"] == "files"
        assert info["metrics"] == METRICS[name]
    assert results["tasks"]["tiny_sentiment"]["adapter"] == "classification"
    assert results["tasks"]["tiny_qa"]["generation"] == {"max_new_tokens": 6, "stop": ["\n"], "strip": True}


def test_results_json_cells(results: dict[str, Any]) -> None:
    cells = results["cells"]
    expected = [(t, p, m) for t in TASKS for p in PROMPTS[t] for m in ("zero-shot", "few-shot")]
    assert [(c["task"], c["prompt"], c["method"]) for c in cells] == expected
    for c in cells:
        assert c["error"] is None
        assert c["n"] == LIMIT
        assert c["shots"] == (SHOTS[c["task"]] if c["method"] == "few-shot" else 0)
        assert c["method_config"]["kind"] == c["method"]
        assert list(c["metrics"]) == METRICS[c["task"]]
        for metric in c["metrics"].values():
            assert set(metric) - {"details"} == {"value", "ci_low", "ci_high", "n"}  # details: the metric's settings
            assert 0 <= metric["ci_low"] <= metric["value"] <= metric["ci_high"] <= 100
            assert metric["n"] == LIMIT
        assert set(c["timings"]) == {"fit_s", "predict_s"}
        assert set(c["throughput"]) == {"examples_per_s", "output_tokens_per_s", "prompt_tokens", "output_tokens"}
        assert c["throughput"]["examples_per_s"] > 0 and c["throughput"]["prompt_tokens"] > 0
        if c["task"] == "tiny_sentiment":
            assert c["throughput"]["output_tokens"] == 0
        else:
            assert 0 < c["throughput"]["output_tokens"] <= LIMIT * 6
        assert c["samples"] == f"samples/{c['task']}/{c['method']}.jsonl"


def test_sample_files(results: dict[str, Any], full_run: tuple[Result, Path]) -> None:
    run_dir = full_run[1]
    assert sorted(p.relative_to(run_dir).as_posix() for p in (run_dir / "samples").rglob("*.jsonl")) == sorted(
        f"samples/{t}/{m}.jsonl" for t in TASKS for m in ("zero-shot", "few-shot")
    )
    for task in TASKS:
        for method in ("zero-shot", "few-shot"):
            rows = read_jsonl(run_dir / "samples" / task / f"{method}.jsonl")
            # Templates of one task share the method's file.
            assert [r["prompt_name"] for r in rows] == [p for p in PROMPTS[task] for _ in range(LIMIT)]
            for row in rows:
                assert row["method"] == method
                assert row["prompt"].startswith("<s><|user|>\n") and row["prompt"].endswith("<|assistant|>\n")
                assert isinstance(row["prediction"], str) and row["references"]
                assert row["prompt_tokens"] > 0
                assert set(row["scores"]) <= set(METRICS[task]) and row["scores"]
                assert all(0 <= v <= 100 for v in row["scores"].values())
            # Per-sample scores average to the corpus value for the mean-of-rows metrics.
            cell = next(c for c in results["cells"] if (c["task"], c["method"]) == (task, method))
            first = [r for r in rows if r["prompt_name"] == cell["prompt"]]
            if task == "tiny_qa":
                mean = sum(r["scores"]["exact_match"] for r in first) / LIMIT
                assert mean == pytest.approx(cell["metrics"]["exact_match"]["value"])


def sampled(name: str) -> list[dict[str, Any]]:
    """The test rows --limit evaluates: the seeded sample of the run's seed (0), in file order."""
    from promptkit.seeding import derive
    from promptkit.tasks import sample_indices

    rows = read_jsonl(TINY / "data" / f"{name}_test.jsonl")
    return [rows[i] for i in sample_indices(len(rows), LIMIT, derive(0, "limit"))]


def test_qa_samples(full_run: tuple[Result, Path]) -> None:
    run_dir = full_run[1]
    zero = read_jsonl(run_dir / "samples" / "tiny_qa" / "zero-shot.jsonl")
    few = read_jsonl(run_dir / "samples" / "tiny_qa" / "few-shot.jsonl")
    data = sampled("qa")
    assert [r["example_id"] for r in zero] == [r["id"] for r in data] != [f"qa-test-{i}" for i in range(LIMIT)]
    for row, source in zip(zero, data, strict=True):
        assert row["references"] == source["answers"]
        assert f"Context: {source['context']}" in row["prompt"]
    assert zero[0]["prompt"].count("<|assistant|>") == 1
    # Few-shot: two demonstrations from the train split as user/assistant turns before the query.
    assert few[0]["prompt"].count("<|assistant|>") == 3
    assert "qa-test" not in few[0]["prompt"] and few[0]["prompt"].endswith("Answer:<|end|>\n<|assistant|>\n")
    for row in zero + few:
        assert "\n" not in row["prediction"]  # cut at the stop sequence
        assert 0 < row["output_tokens"] <= 6
        assert row["prediction"] == row["raw_output"].split("\n")[0].strip()


def test_classification_samples(full_run: tuple[Result, Path]) -> None:
    rows = read_jsonl(full_run[1] / "samples" / "tiny_sentiment" / "zero-shot.jsonl")
    assert [(r["example_id"], r["label"]) for r in rows] == [(r["id"], r["label"]) for r in sampled("sentiment")]
    for row in rows:
        assert row["choices"] == ["negative", "positive"]
        assert len(row["choice_logprobs"]) == 2
        best = max(range(2), key=lambda i: row["choice_logprobs"][i])
        assert row["predicted_label"] == best and row["prediction"] == row["choices"][best]
        assert row["scores"]["accuracy"] == (100.0 if best == row["label"] else 0.0)
        assert row["references"] == [row["choices"][row["label"]]]
        assert row["output_tokens"] == 0


def test_translation_samples(full_run: tuple[Result, Path]) -> None:
    rows = read_jsonl(full_run[1] / "samples" / "tiny_translation" / "few-shot.jsonl")
    basic = [r for r in rows if r["prompt_name"] == "translation/basic"]
    inline = [r for r in rows if r["prompt_name"] == "tiny/inline"]
    data = sampled("translation")
    assert f"Translate from English to French.\nEnglish: {data[0]['en']}\nFrench:" in basic[0]["prompt"]
    assert inline[0]["prompt"].endswith(f"English: {data[0]['en']}\nFrench:<|end|>\n<|assistant|>\n")
    assert [r["references"] for r in basic] == [r["fr"] for r in data]
    assert all(r["output_tokens"] <= 5 for r in rows)


def test_report_markdown(full_run: tuple[Result, Path]) -> None:
    report = (full_run[1] / "report.md").read_text(encoding="utf-8")
    assert report.startswith("# promptkit run `full`")
    for task in TASKS:
        assert f"## {task}" in report
    assert "| method | prompt | shots | seeds | exact_match | token_f1 | n | trainable | train time | eval ex/s |" in report
    assert "| few-shot | classification/sentiment | 2 | – | " in report
    # Every metric cell is "value [low, high]".
    row = next(line for line in report.splitlines() if line.startswith("| zero-shot | qa/extractive |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    for value in cells[4:6]:
        assert re.fullmatch(r"\d+\.\d \[\d+\.\d, \d+\.\d\]", value), value
    # Every pair of methods has a secondary row per metric: difference, interval, test, p, Holm-adjusted p, MDD.
    row = next(line for line in report.splitlines()
               if line.startswith("| secondary (Holm) | few-shot vs zero-shot | qa/extractive | exact_match |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    # the paired t, or the exact sign-flip where every difference is alike (the tiny model scores 0)
    assert re.fullmatch(r"[+-]\d+\.\d", cells[4]) and cells[6] in ("paired-t", "paired-sign-flip-exact"), cells
    assert re.fullmatch(r"p (= \d\.\d{3}|< 0\.001)", cells[7]) and cells[9] in ("yes", "no"), cells
    assert "Declared decision for qa/extractive: on exact_match" in report
    assert "**Recommendation for qa/extractive: " in report
    html = (full_run[1] / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "<svg" in html and "</html>" in html


def test_no_temporary_files_are_left(full_run: tuple[Result, Path]) -> None:
    names = sorted(p.relative_to(full_run[1]).as_posix() for p in full_run[1].rglob("*") if p.is_file())
    assert names[:3] == ["report.html", "report.md", "results.json"]
    assert all(n.endswith((".html", ".md", ".json", ".jsonl")) for n in names)


# ----------------------------------------------------------------------------- options
def test_set_batch_size_gives_the_same_predictions(tmp_path: Path, tiny_llama_dir: Path, full_run: tuple[Result, Path]) -> None:
    result = invoke(eval_args(tiny_llama_dir, tmp_path, "bs2", "--set", "batch_size=2"))
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "bs2" / "results.json").read_text())
    assert data["config"]["batch_size"] == 2
    for task in TASKS:
        for method in ("zero-shot", "few-shot"):
            rel = Path("samples") / task / f"{method}.jsonl"
            small = read_jsonl(tmp_path / "bs2" / rel)
            big = read_jsonl(full_run[1] / rel)
            assert [r["prediction"] for r in small] == [r["prediction"] for r in big]
            assert [r["output_tokens"] for r in small] == [r["output_tokens"] for r in big]
    reference = json.loads((full_run[1] / "results.json").read_text())
    for a, b in zip(data["cells"], reference["cells"], strict=True):
        for name, metric in a["metrics"].items():
            assert metric["value"] == pytest.approx(b["metrics"][name]["value"], abs=1e-9)


def test_chat_template_off_and_shots_override(tmp_path: Path, tiny_llama_dir: Path) -> None:
    args = eval_args(tiny_llama_dir, tmp_path, "plain", "--chat-template", "off", "--set", "few-shot.shots=3",
                     tasks=[TASKS["tiny_qa"]])
    result = invoke(args)
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "plain" / "results.json").read_text())
    assert data["chat_template"] is False
    assert [c["shots"] for c in data["cells"]] == [0, 3]
    rows = read_jsonl(tmp_path / "plain" / "samples" / "tiny_qa" / "few-shot.jsonl")
    prompt = rows[0]["prompt"]
    assert "<|user|>" not in prompt and not prompt.startswith("<s>")
    assert prompt.startswith("Answer the question with a short phrase copied from the context.\n\nContext: ")
    assert prompt.count("\nAnswer: ") == 3 and prompt.endswith("\nAnswer:")


def test_few_shot_without_a_train_split_fails_only_its_cell(tmp_path: Path, tiny_llama_dir: Path) -> None:
    task = tmp_path / "no_train.yaml"
    text = TASKS["tiny_qa"].read_text().replace("    train: data/qa_train.jsonl\n", "").replace("data/", f"{TINY}/data/")
    task.write_text(text + "train_split: null\n")
    result = invoke(eval_args(tiny_llama_dir, tmp_path, "partial", tasks=[task]))
    assert result.exit_code == 1
    assert error_lines(result) == ["error: some cells failed (see above); finished cells are saved"]
    cells = json.loads((tmp_path / "partial" / "results.json").read_text())["cells"]
    assert cells[0]["error"] is None and cells[0]["metrics"]
    assert "few-shot needs a 'train' split" in cells[1]["error"]
    assert "Traceback" not in result.output


# ----------------------------------------------------------------------------- errors
def bad_task(tmp_path: Path, old: str, new: str) -> Path:
    """The toy QA task with one edit, written beside a copy of its data."""
    shutil.copytree(TINY / "data", tmp_path / "data", dirs_exist_ok=True)
    text = TASKS["tiny_qa"].read_text()
    assert old in text
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace(old, new))
    return path


def assert_one_line_error(result: Result, *fragments: str, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.output
    assert not result.stdout.strip()
    return lines[0]


def test_unknown_model_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    result = invoke(eval_args(missing, tmp_path / "out", "x"))
    assert_one_line_error(result, f"--model '{missing}': no such file or directory", "hub id", "smollm2-135m-instruct")
    assert not (tmp_path / "out" / "x").exists()  # nothing written before the model loaded


def test_missing_data_file(tmp_path: Path, tiny_llama_dir: Path) -> None:
    task = bad_task(tmp_path, "data/qa_test.jsonl", "data/qa_tset.jsonl")
    result = invoke(eval_args(tiny_llama_dir, tmp_path, "x", tasks=[task]))
    assert_one_line_error(result, "data file not found", "qa_tset.jsonl")


def test_template_with_a_missing_field(tmp_path: Path, tiny_llama_dir: Path) -> None:
    inline = '\n  - name: bad/prompt\n    input: "Context: {{ contxt }}\\nQuestion: {{ question }}"\n    target: "{{ answer }}"\n'
    task = bad_task(tmp_path, "prompts: [qa/extractive]", "prompts:" + inline)
    result = invoke(eval_args(tiny_llama_dir, tmp_path, "x", tasks=[task]))
    line = assert_one_line_error(result, "unknown field 'contxt'", "did you mean 'context'")
    assert str(task) in line


def test_unknown_metric(tmp_path: Path, tiny_llama_dir: Path) -> None:
    task = bad_task(tmp_path, "metrics: [exact_match, token_f1]", "metrics: [exact_match, token_f2]")
    result = invoke(eval_args(tiny_llama_dir, tmp_path, "x", tasks=[task]))
    line = assert_one_line_error(result, "unknown metric 'token_f2'", "did you mean 'token_f1'")
    assert f"{task}:" in line and "metrics[1]" in line


def test_bad_set_override(tmp_path: Path, tiny_llama_dir: Path) -> None:
    result = invoke(eval_args(tiny_llama_dir, tmp_path, "x", "--set", "batch_size=0"))
    assert_one_line_error(result, "batch_size")


def test_debug_raises_instead_of_one_line(tmp_path: Path, tiny_llama_dir: Path) -> None:
    from promptkit.errors import ConfigError

    task = bad_task(tmp_path, "metrics: [exact_match, token_f1]", "metrics: [exact_match, token_f2]")
    result = invoke(["--debug", *eval_args(tiny_llama_dir, tmp_path, "x", tasks=[task])])
    assert isinstance(result.exception, ConfigError)
    assert "unknown metric 'token_f2'" in str(result.exception)
    # Without --debug again: back to one line (the flag does not stick between invocations).
    assert_one_line_error(invoke(eval_args(tiny_llama_dir, tmp_path, "x", tasks=[task])), "token_f2")


def test_debug_prints_a_traceback_in_a_real_process(tmp_path: Path) -> None:
    """The actual program: without --debug one line and exit code 2; with it, a traceback.
    (A --set error fails before the heavy imports, which keeps this fast.)"""
    args = ["eval", "--task", str(TASKS["tiny_qa"]), "--set", "no_equals_sign"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    plain = subprocess.run([sys.executable, "-m", "promptkit.cli", *args], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert plain.returncode == 2
    assert plain.stderr.strip().splitlines() == ["error: --set 'no_equals_sign': expected key=value (e.g. batch_size=4)"]
    debug = subprocess.run([sys.executable, "-m", "promptkit.cli", "--debug", *args], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert debug.returncode != 0
    assert "Traceback (most recent call last)" in debug.stderr
    assert "promptkit.errors.ConfigError" in debug.stderr


# ----------------------------------------------------------------------------- the library
def test_the_library_never_prints(tmp_path: Path, tiny_llama_dir: Path, capfd: pytest.CaptureFixture[str]) -> None:
    from promptkit.run import run

    calls: list[tuple[str, int, int]] = []
    config = RunConfig(
        tasks=[str(TASKS["tiny_qa"]), str(TASKS["tiny_sentiment"])],
        methods=[{"kind": "zero-shot"}, {"kind": "few-shot", "shots": 1}],  # type: ignore[list-item]
        model=ModelConfig(name=str(tiny_llama_dir), device="cpu"),
        limit=3,
        batch_size=2,
        out_dir=str(tmp_path),
        run_id="lib",
        bootstrap_samples=50,
    )
    capfd.readouterr()
    result = run(config, progress=lambda label, done, total: calls.append((label, done, total)))
    captured = capfd.readouterr()
    assert captured.out == ""
    # stderr may carry transformers' own weight-loading bar (the CLI turns it off; a library
    # must not configure other libraries' logging), but nothing from promptkit.
    ours = [line for line in captured.err.replace("\r", "\n").splitlines() if line.strip() and not line.startswith("Loading weights")]
    assert ours == []
    assert len(result.cells) == 4 and all(c.error is None for c in result.cells)
    assert (tmp_path / "lib" / "results.json").is_file() and (tmp_path / "lib" / "report.md").is_file()
    assert ("generate", 3, 3) in calls and ("score", 6, 6) in calls


def test_a_run_wide_verdict_metric_no_task_scores_is_refused(tmp_path: Path, tiny_llama_dir: Path) -> None:
    result = invoke(eval_args(tiny_llama_dir, tmp_path, "x", "--set", "verdict.metric=exact_mach"))
    line = assert_one_line_error(result, "verdict.metric 'exact_mach' is not scored by any task", "accepted:")
    assert "exact_match" in line
    assert not (tmp_path / "x").exists()  # refused before anything was written


def test_a_task_verdict_metric_outside_its_metrics_is_refused(tmp_path: Path, tiny_llama_dir: Path) -> None:
    task = bad_task(tmp_path, "metrics: [exact_match, token_f1]", "metrics: [exact_match, token_f1]\nverdict: {metric: bleu}")
    result = invoke(eval_args(tiny_llama_dir, tmp_path, "x", tasks=[task]))
    assert_one_line_error(result, "verdict.metric 'bleu' is not one of the task's metrics")
