"""lm-eval's own scoring (promptkit.metrics.lmeval, promptkit.tasks.lmeval.results): built-in
aggregations against scikit-learn and sacrebleu, and task code (process_results, !function metrics
and aggregations) run through `promptkit eval` only with --trust-task-code, each value checked
against one computed independently from the saved samples."""

from __future__ import annotations

import json
import math
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from promptkit.errors import ConfigError
from promptkit.metrics.lmeval import AGGREGATIONS
from promptkit.tasks.lmeval import convert_file

from tests.helpers import error_lines, invoke, read_jsonl

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lmeval"
SCORED = FIXTURES / "scored"


@pytest.mark.parametrize("seed", range(20))
def test_f1_and_mcc_are_scikit_learns(seed: int) -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = random.Random(seed)
    n = rng.randint(1, 30)
    binary = [(rng.randint(0, 1), rng.randint(0, 1)) for _ in range(n)]
    many = [(rng.randint(0, 3), rng.randint(0, 3)) for _ in range(n)]
    golds, preds = zip(*binary, strict=True)
    assert AGGREGATIONS["f1"](binary) == pytest.approx(metrics.f1_score(golds, preds, zero_division=0.0))
    for items in (binary, many):
        golds, preds = zip(*items, strict=True)
        assert AGGREGATIONS["matthews_corrcoef"](items) == pytest.approx(metrics.matthews_corrcoef(golds, preds))


def test_f1_of_more_than_two_labels_is_refused_as_scikit_learn_refuses_it() -> None:
    with pytest.raises(ValueError, match="binary F1 of the label 1"):
        AGGREGATIONS["f1"]([(0, 1), (2, 1), (1, 1)])


def test_corpus_scores_are_sacrebleus_with_references_transposed() -> None:
    sacrebleu = pytest.importorskip("sacrebleu")
    items = [(["the cat sat", "a cat sat"], "the cat sat down"), (["hello world", "hi world"], "hello there world")]
    preds = ["the cat sat down", "hello there world"]
    streams = [["the cat sat", "hello world"], ["a cat sat", "hi world"]]
    assert AGGREGATIONS["bleu"](items) == pytest.approx(sacrebleu.corpus_bleu(preds, streams).score)
    assert AGGREGATIONS["chrf"](items) == pytest.approx(sacrebleu.corpus_chrf(preds, streams).score)
    assert AGGREGATIONS["ter"](items) == pytest.approx(sacrebleu.corpus_ter(preds, streams).score)


def test_perplexities_and_the_median_are_lm_evals() -> None:
    assert AGGREGATIONS["perplexity"]([-1.0, -3.0]) == pytest.approx(math.exp(2.0))
    assert AGGREGATIONS["weighted_perplexity"]([(-4.0, 2), (-2.0, 2)]) == pytest.approx(math.exp(1.5))
    assert AGGREGATIONS["bits_per_byte"]([(-4.0, 2), (-2.0, 2)]) == pytest.approx(1.5 / math.log(2))
    assert AGGREGATIONS["median"]([4, 1, 3, 2]) == 3  # lm-eval takes the upper middle of an even count
    assert AGGREGATIONS["brier_score"]([(0, [1.0, 0.0]), (1, [0.5, 0.5])]) == pytest.approx(0.25)


def test_metrics_promptkit_has_none_of_its_own_are_scored_as_lm_eval_scores_them() -> None:
    task = convert_file(SCORED / "scored_sst2.yaml", trust_code=True).task
    # lm-eval's f1 on choices is binary F1 (scikit-learn's default), not a macro F1; a
    # lower-is-better metric goes last, since promptkit ranks methods by the first column
    assert task["metrics"] == ["accuracy", "lm-eval:f1@weighted_f1", "lm-eval:mcc@matthews_corrcoef",
                               "lm-eval:brier_score@brier_score"]
    plain = (FIXTURES / "sst2_choice.yaml").read_text(encoding="utf-8").replace("  - metric: acc\n", "  - metric: f1\n")
    assert "lm-eval:f1@f1" in convert_from_text(plain, "plain.yaml")["metrics"]


def convert_from_text(text: str, name: str) -> dict[str, Any]:
    path = FIXTURES / name
    try:
        path.write_text(text, encoding="utf-8")
        return convert_file(path).task
    finally:
        path.unlink()


@pytest.mark.parametrize(("fixture", "line"), [
    ("scored_sst2.yaml", "scored_sst2.yaml:14: metric_list[1].aggregation: !function scored_utils.weighted_f1: task code, "
                         "run only with --trust-task-code"),
    ("scored_qa.yaml", "scored_qa.yaml:10: process_results: !function scored_utils.process_results: task code, run only "
                       "with --trust-task-code"),
])
def test_scoring_code_is_refused_without_the_flag_and_nothing_else_is_blamed(fixture: str, line: str) -> None:
    with pytest.raises(ConfigError) as caught:
        convert_file(SCORED / fixture)
    problems = [str(p) for p in caught.value.problems]
    # each piece of code at its own line; a process_results task's metric names are its own, not
    # "unknown metric" while its code is refused
    assert line in problems[0] and all("run only with --trust-task-code" in p for p in problems), problems


def test_a_promptkit_task_may_not_name_an_lm_eval_column(tmp_path: Path) -> None:
    from promptkit.tasks import load_task

    shutil.copytree(Path(__file__).resolve().parents[1] / "fixtures" / "toy_tasks", tmp_path / "t")
    path = tmp_path / "t" / "toy_sentiment.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("metrics: [accuracy, macro_f1]", "metrics: [accuracy, 'lm-eval:acc']"), encoding="utf-8")
    with pytest.raises(ConfigError, match="an lm-eval column is computed by the run of an lm-eval task"):
        load_task(path)


def run_eval(task: Path, out: Path, tiny_llama_dir: Path, *methods: str) -> Any:
    args = ["eval", "--task", f"lm-eval:{task}", "--model", str(tiny_llama_dir), "--chat-template", "off",
            "--out", str(out), "--run-id", "r", "--device", "cpu", "--trust-task-code"]
    for method in methods:
        args += ["--method", method]
    return invoke(args)


def cell_scores(out: Path) -> dict[str, dict[str, Any]]:
    data = json.loads((out / "r" / "results.json").read_text(encoding="utf-8"))
    return {c["method"]: c["metrics"] for c in data["cells"]}


def test_a_code_aggregation_and_lm_evals_aggregations_score_the_saved_choices(tmp_path: Path, tiny_llama_dir: Path) -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    result = run_eval(SCORED / "scored_sst2.yaml", tmp_path, tiny_llama_dir, "zero-shot", "few-shot")
    assert result.exit_code == 0 and not error_lines(result), result.output
    for method, scores in cell_scores(tmp_path).items():
        rows = read_jsonl(tmp_path / "r" / "samples" / "scored_sst2" / f"{method}.jsonl")
        golds = [r["label"] for r in rows]
        preds = [max(range(len(r["choice_logprobs"])), key=lambda i, r=r: (r["choice_logprobs"][i], -i)) for r in rows]
        assert scores["lm-eval:f1@weighted_f1"]["value"] == pytest.approx(
            metrics.f1_score(golds, preds, average="weighted", labels=sorted(set(golds))))
        assert scores["lm-eval:mcc@matthews_corrcoef"]["value"] == pytest.approx(metrics.matthews_corrcoef(golds, preds))
        probs = [[math.exp(x) / sum(math.exp(y) for y in r["choice_logprobs"]) for x in r["choice_logprobs"]] for r in rows]
        assert scores["lm-eval:brier_score@brier_score"]["value"] == pytest.approx(
            sum(sum((p - (i == g)) ** 2 for i, p in enumerate(ps)) for ps, g in zip(probs, golds, strict=True)) / len(rows))
        assert scores["accuracy"]["value"] == pytest.approx(100 * sum(p == g for p, g in zip(preds, golds, strict=True)) / len(rows))
    report = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert "lm-eval:f1@weighted_f1" in report and "scored_utils.weighted_f1" in report
    # promptkit report cannot rerun the task's aggregation without the flag: the run's comparisons stand
    before = json.loads((tmp_path / "r" / "results.json").read_text(encoding="utf-8"))["comparisons"]
    again = invoke(["report", str(tmp_path / "r")])
    assert again.exit_code == 0, again.output
    after = json.loads((tmp_path / "r" / "results.json").read_text(encoding="utf-8"))["comparisons"]
    assert [c for c in after if c["metric"] == "lm-eval:f1@weighted_f1"] == [c for c in before if c["metric"] == "lm-eval:f1@weighted_f1"]
    assert any(c["metric"] == "lm-eval:f1@weighted_f1" for c in before)


def test_process_results_gives_each_rows_values_from_its_doc(tmp_path: Path, tiny_llama_dir: Path) -> None:
    result = run_eval(SCORED / "scored_qa.yaml", tmp_path, tiny_llama_dir, "zero-shot")
    assert result.exit_code == 0 and not error_lines(result), result.output
    rows = read_jsonl(tmp_path / "r" / "samples" / "scored_qa" / "zero-shot.jsonl")
    docs = {json.loads(line)["id"]: json.loads(line) for line in (FIXTURES / "data" / "qa_test.jsonl").read_text().splitlines()}
    exact = [float(r["prediction"].strip().lower() in [a.lower() for a in docs[f"lq-test-{r['example_id'].split('-')[-1]}"]["answers"]])
             for r in rows]
    scores = cell_scores(tmp_path)["zero-shot"]
    assert scores["lm-eval:exact"]["value"] == pytest.approx(sum(exact) / len(exact))
    words = sorted(len(r["prediction"].strip().split()) for r in rows)
    assert scores["lm-eval:answer_words@median_words"]["value"] == words[len(words) // 2]
    # each row's value is kept with the row: the doc process_results was given is the row's own
    assert [json.loads(r["filtered"]["lm-eval:answer_words@median_words"])[0] for r in rows] == \
        [f"lq-test-{r['example_id'].split('-')[-1]}" for r in rows]


def test_tasks_convert_refuses_a_task_scored_the_lm_eval_way(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / "lm")
    path = tmp_path / "lm" / "sst2_choice.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("  - metric: acc\n", "  - metric: acc\n  - metric: mcc\n"),
                    encoding="utf-8")
    result = invoke(["tasks", "convert", str(path)])
    assert result.exit_code == 2
    assert error_lines(result) == [f"error: {path}: this task is scored the lm-eval way (lm-eval:mcc@matthews_corrcoef), "
                                   f"which a promptkit task file cannot name: run it as --task lm-eval:{path}"]


def test_options_lm_eval_never_applies_are_read_past_and_exact_matchs_are_taken_as_lm_eval_takes_them(tmp_path: Path) -> None:
    """afrimmlu's multiple_choice f1 carries hf_evaluate, average and exact-match options: lm-eval
    calls no metric function on choices, so none applies. afriqa's exact_match writes
    ``ignore_punctuation: true`` followed by a stray list, which YAML reads as one string: lm-eval
    tests it for truth."""
    shutil.copytree(FIXTURES, tmp_path / "lm")
    path = tmp_path / "lm" / "sst2_choice.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "  - metric: acc\n", "  - metric: acc\n    ignore_case: true\n  - metric: f1\n    hf_evaluate: true\n"
        "    average: weighted\n"), encoding="utf-8")
    conversion = convert_file(path)
    assert conversion.task["metrics"] == ["accuracy", "lm-eval:f1@f1"]
    assert any(n.startswith("not used: metric_list.1 average (a multiple_choice") for n in conversion.notes)
    qa = tmp_path / "lm" / "qa_generate.yaml"
    qa.write_text(qa.read_text(encoding="utf-8").replace("    ignore_punctuation: true\n",
                                                         '    ignore_punctuation: true\n      - "."\n'), encoding="utf-8")
    conversion = convert_file(qa)
    assert conversion.task["metric_options"]["string_match"] == {"ignore_case": True, "ignore_punctuation": True}
    assert any("is not true or false; lm-eval applies it as True" in n for n in conversion.notes)
    with pytest.raises(ConfigError, match=r"metric_list\[0\]\.hf_evaluate: hf_evaluate: lm-eval loads bleu from the Hugging Face hub"):
        qa.write_text(qa.read_text(encoding="utf-8").replace("metric: exact_match", "metric: bleu\n    hf_evaluate: true"),
                      encoding="utf-8")
        convert_file(qa)


def test_filters_of_the_tasks_own_code_run_on_each_row_as_lm_eval_runs_them(tmp_path: Path, tiny_llama_dir: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        convert_file(SCORED / "filtered_qa.yaml")
    assert [(p.line, "--trust-task-code" in str(p)) for p in caught.value.problems] == [(14, True), (21, True)]
    result = run_eval(SCORED / "filtered_qa.yaml", tmp_path, tiny_llama_dir, "zero-shot")
    assert result.exit_code == 0 and not error_lines(result), result.output
    rows = read_jsonl(tmp_path / "r" / "samples" / "filtered_qa" / "zero-shot.jsonl")
    docs = [json.loads(line) for line in (FIXTURES / "data" / "qa_test.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["filtered"]["first-word"] for r in rows] == [
        (r["prediction"].split()[0].upper() + "!") if r["prediction"].split() else "" for r in rows]
    assert [r["filtered"]["by-doc"] for r in rows] == [f"{d['id']}:{r['prediction']}" for d, r in zip(docs, rows, strict=True)]
    scores = cell_scores(tmp_path)["zero-shot"]
    assert set(scores) == {"string_match[first-word]", "string_match[by-doc]"}


def test_a_code_filter_that_raises_fails_the_cell_naming_the_hook_and_the_row(tmp_path: Path, tiny_llama_dir: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / "lm")
    utils = tmp_path / "lm" / "scored" / "scored_utils.py"
    utils.write_text(utils.read_text(encoding="utf-8").replace('return [f"{doc[\'id\']}:{r}"', 'return [doc["missing"]'),
                     encoding="utf-8")
    result = run_eval(tmp_path / "lm" / "scored" / "filtered_qa.yaml", tmp_path / "out", tiny_llama_dir, "zero-shot")
    assert "custom" in (tmp_path / "lm" / "scored" / "filtered_qa.yaml").read_text(encoding="utf-8")
    assert result.exit_code != 0
    assert ("filtered_qa / lm-eval/filtered_qa / zero-shot: task 'filtered_qa' row lq-test-0: task code filter_list.1.filter.1: "
            "!function scored_utils.with_row_id (filtered_qa.yaml:21) raised KeyError: 'missing'") in result.output


def test_a_promptkit_task_may_not_hold_a_task_code_filter(tmp_path: Path) -> None:
    from promptkit.tasks import load_task

    shutil.copytree(Path(__file__).resolve().parents[1] / "fixtures" / "toy_tasks", tmp_path / "t")
    path = tmp_path / "t" / "toy_qa.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "filters:\n  - name: x\n    steps:\n"
                    "      - {function: task-code, hook: filter_list.0.filter.0}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="filter 'x' has a task-code step, which only an lm-eval task's own code fills"):
        load_task(path)


def test_a_lower_is_better_column_cannot_decide_the_verdict(tmp_path: Path) -> None:
    result = invoke(["eval", "--task", f"lm-eval:{SCORED / 'scored_sst2.yaml'}", "--trust-task-code", "--method", "zero-shot",
                     "--model", str(tmp_path / "no-model-here"), "--out", str(tmp_path / "runs"),
                     "--set", "verdict.metric=lm-eval:brier_score@brier_score"])
    assert result.exit_code == 2
    assert error_lines(result) == [
        "error: verdict.metric 'lm-eval:brier_score@brier_score': lower is better on it, and promptkit's verdict ranks the "
        "higher value first; choose one of accuracy, lm-eval:f1@weighted_f1, lm-eval:mcc@matthews_corrcoef"]
    assert not (tmp_path / "runs").exists()
