"""lm-evaluation-harness task files through ``promptkit eval --task lm-eval:FILE``, end to end on
the tiny Llama: a QA ``generate_until`` task, an SST-2 style ``multiple_choice`` task and an
ARC-style one with per-row choices, each with zero-shot, few-shot, prompt tuning and LoRA on a
three-step budget (``tests/integration/test_training_runs.py`` runs the same budget)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import invoke, tiny_budget
from promptkit.methods import TrainableMethod

LMEVAL = Path(__file__).resolve().parents[1] / "fixtures" / "lmeval"
FILES = {"toy_qa": "qa_generate.yaml", "toy_sst2": "sst2_choice.yaml", "toy_arc": "arc_style.yaml",
         "toy_lambada": "lambada_style.yaml"}
METHODS = ("zero-shot", "few-shot", "prompt-tuning", "lora")
BUDGET = tiny_budget(3, "prompt-tuning.num_virtual_tokens=4")
SST2_Q = "\nQuestion: Is this sentence positive or negative?\nAnswer:"


def rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (LMEVAL / "data" / name).read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def fit_targets() -> Iterator[dict[str, list[str]]]:
    """What each trained method was trained to produce, per task (the prompts' targets)."""
    seen: dict[str, list[str]] = {}
    original = TrainableMethod.fit

    def spy(self: TrainableMethod, train: Any) -> Any:
        seen.setdefault(train[0].template, []).extend(p.target for p in train)
        return original(self, train)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(TrainableMethod, "fit", spy)
        yield seen


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, tiny_llama_dir: Path, fit_targets: dict[str, list[str]]) -> Path:
    out = tmp_path_factory.mktemp("lmeval")
    args = ["eval", "--model", str(tiny_llama_dir), "--limit", "4", "--chat-template", "off", "--out", str(out),
            "--run-id", "lmeval", *BUDGET]
    for file in FILES.values():
        args += ["--task", f"lm-eval:{LMEVAL / file}"]
    for method in METHODS:
        args += ["--method", method]
    result = invoke(args)
    assert result.exit_code == 0, result.output
    return out / "lmeval"


def samples(run_dir: Path, task: str, method: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "samples" / task / f"{method}.jsonl").read_text().splitlines()]


def test_every_cell_of_every_task_ran(run: Path) -> None:
    results = json.loads((run / "results.json").read_text())
    cells = {(c["task"], c["method"]): c for c in results["cells"]}
    assert sorted(cells) == sorted((t, m) for t in FILES for m in METHODS)
    for (task, method), cell in cells.items():
        assert cell["error"] is None, (task, method, cell["error"])
        metric = "string_match" if task == "toy_qa" else "accuracy"
        assert list(cell["metrics"])[0] == metric and 0 <= cell["metrics"][metric]["value"] <= 100
        if task == "toy_lambada":  # lm-eval's perplexity of the continuation: exp(-mean log-likelihood)
            lls = [r["choice_logprobs"][0] for r in samples(run, task, method)]
            assert list(cell["metrics"]) == [metric, "lm-eval:perplexity@perplexity"]
            assert cell["metrics"]["lm-eval:perplexity@perplexity"]["value"] == pytest.approx(math.exp(-sum(lls) / len(lls)))
        else:
            assert list(cell["metrics"]) == [metric]
        if method in ("prompt-tuning", "lora"):
            losses = cell["training"]["losses"]
            assert len(losses) == 3 and all(math.isfinite(x) for x in losses)
            assert (run / cell["adapter"] / "adapter_config.json").is_file()
    assert results["tasks"]["toy_sst2"]["adapter"] == results["tasks"]["toy_arc"]["adapter"] == "multiple_choice"
    assert results["tasks"]["toy_sst2"]["eval_split"] == "validation" and results["tasks"]["toy_qa"]["path"].endswith("qa_generate.yaml")


def test_zero_shot_prompts_are_lm_evals(run: Path) -> None:
    by_sentence = {r["sentence"]: r for r in rows("sst2_validation.jsonl")}
    for row in samples(run, "toy_sst2", "zero-shot"):
        sentence = row["prompt"].removesuffix(SST2_Q)
        assert row["prompt"] == sentence + SST2_Q and sentence in by_sentence
        assert row["choices"] == ["negative", "positive"] and row["label"] == by_sentence[sentence]["label"]
    arc = {r["id"]: r for r in rows("arc_test.jsonl")}
    for row in samples(run, "toy_arc", "zero-shot"):
        doc = arc[row["example_id"]]
        assert row["prompt"] == f"Pick the right answer.\nQuestion: {doc['question']}\nAnswer:"
        assert row["choices"] == doc["choices"]["text"]
        assert row["references"] == [doc["choices"]["text"][doc["choices"]["label"].index(doc["answerKey"])]]
    qa = {r["id"]: r for r in rows("qa_test.jsonl")}
    for row in samples(run, "toy_qa", "zero-shot"):
        doc = qa[row["example_id"]]
        assert row["prompt"] == ("Answer the question with a short phrase from the context.\n\n"
                                 f"Context: {doc['context']}\nQuestion: {doc['question']}\nAnswer:")
        assert row["references"] == [doc["answers"][0]] and "\n" not in row["prediction"]


def test_few_shot_prompts_hold_demonstrations_in_lm_evals_format(run: Path) -> None:
    train = {f"{r['sentence']}{SST2_Q} {['negative', 'positive'][r['label']]}" for r in rows("sst2_train.jsonl")}
    for row in samples(run, "toy_sst2", "few-shot"):
        *shots, query = row["prompt"].split("\n\n")
        assert len(shots) == 3 and set(shots) <= train and query.endswith(SST2_Q)
    for row in samples(run, "toy_qa", "few-shot"):
        assert row["prompt"].startswith("Answer the question with a short phrase from the context.\n\nContext: ")
        assert row["prompt"].count("\nAnswer:") == 3  # two demonstrations, then the question


def test_training_targets_are_the_gold_choices_and_answers(run: Path, fit_targets: dict[str, list[str]]) -> None:
    arc_gold = {r["choices"]["text"][r["choices"]["label"].index(r["answerKey"])] for r in rows("arc_train.jsonl")}
    assert set(fit_targets["lm-eval/toy_sst2"]) == {"negative", "positive"}
    assert set(fit_targets["lm-eval/toy_arc"]) == arc_gold
    assert set(fit_targets["lm-eval/toy_qa"]) == {r["answers"][0] for r in rows("qa_train.jsonl")}
    # loglikelihood (LAMBADA): trained to produce each passage's last word after the rest
    assert set(fit_targets["lm-eval/toy_lambada"]) == {" " + r["text"].split(" ")[-1] for r in rows("lambada_train.jsonl")}


def test_task_code_runs_with_the_flag_for_every_method_and_the_report_says_so(
        tmp_path: Path, tiny_llama_dir: Path, fit_targets: dict[str, list[str]]) -> None:
    """A task whose rows are made by its own code (process_docs, !function hooks): refused without
    --trust-task-code before any model loads; with it, zero-shot and the trained methods run on the processed
    rows, and results.json and the report name the hooks that ran."""
    coded = LMEVAL / "coded" / "coded_arc.yaml"
    args = ["eval", "--model", str(tiny_llama_dir), "--chat-template", "off", "--out", str(tmp_path), "--run-id", "coded",
            "--task", f"lm-eval:{coded}", "--task", f"lm-eval:{coded.parent / 'wino_style.yaml'}",
            "--method", "zero-shot", "--method", "prompt-tuning", "--method", "lora", *BUDGET]
    refused = invoke(args)
    assert refused.exit_code == 2 and "run only with --trust-task-code" in refused.output
    result = invoke([*args, "--trust-task-code"])
    assert result.exit_code == 0, result.output
    run_dir = tmp_path / "coded"
    results = json.loads((run_dir / "results.json").read_text())
    info = results["tasks"]["coded_arc"]
    assert info["n"] == 3 and info["n_train"] == 3  # process_docs dropped a four-choice row of each split
    assert info["task_code"][0] == "process_docs: !function coded_utils.process_docs (coded_arc.yaml:14)"
    assert len(info["task_code"]) == 6
    assert all(c["error"] is None for c in results["cells"])
    first = samples(run_dir, "coded_arc", "zero-shot")[0]
    assert first["prompt"] == "Q: What color is the sea ?\nA:" and first["choices"] == ["RED", "BLUE", "BLACK"]
    # prompt tuning and LoRA trained on the train split as the task's process_docs and hooks made it
    assert set(fit_targets["lm-eval/coded_arc"]) == {"WHITE", "ON THE SEA", "SLEEPS"}
    # lm-eval's multiple-input form (Winogrande): a choice ends the prompt, the rest is the target
    wino = samples(run_dir, "wino_style", "lora")
    assert [r["choices"][r["label"]] for r in wino] == ["The ice melted in the sun because the sun",
                                                         "Tom thanked Bob because Bob", "The bottle broke the glass because the bottle"]
    assert all(len(r["choice_logprobs"]) == 2 for r in wino)
    assert set(fit_targets["lm-eval/wino_style"]) == {"was too big.", "climbed a tree.", "had forgotten hers."}
    report = (run_dir / "report.md").read_text()
    assert "- task code ran (--trust-task-code): process_docs: !function coded_utils.process_docs" in report
    assert "task code ran (--trust-task-code)" in (run_dir / "report.html").read_text()


def test_a_group_runs_its_tasks_and_the_report_aggregates_them_as_lm_eval(tmp_path: Path, tiny_llama_dir: Path) -> None:
    """--task lm-eval:GROUP.yaml runs every task of the group (nested groups and tags resolved)
    and the report gives each group's aggregate per method, lm-eval's weighted mean of the rows
    (recomputed here from the saved per-row scores, level by level as lm-eval does)."""
    group = LMEVAL / "group" / "_toy_group.yaml"
    args = ["eval", "--model", str(tiny_llama_dir), "--out", str(tmp_path), "--run-id", "group", "--task",
            f"lm-eval:{group}", "--method", "zero-shot", "--method", "prompt-tuning", "--method", "lora", *BUDGET]
    result = invoke(args)
    assert result.exit_code == 0, result.output
    run_dir = tmp_path / "group"
    results = json.loads((run_dir / "results.json").read_text())
    assert list(results["tasks"]) == ["toy_sub_a", "toy_sub_b", "toy_sub_c"]
    assert {g["name"] for g in results["tasks"]["toy_sub_b"]["lm_eval_groups"]} == {"toy_group", "toy_inner"}
    scores = {(g["group"], g["method"]): g for g in results["group_scores"]}
    methods = ("zero-shot", "prompt-tuning", "lora")
    assert sorted(scores) == sorted((g, m) for g in ("toy_group", "toy_inner") for m in methods)
    for method in methods:
        rows = {t: [r["scores"]["accuracy"] for r in samples(run_dir, t, method)] for t in results["tasks"]}
        mean = {t: sum(v) / len(v) for t, v in rows.items()}
        inner = (mean["toy_sub_b"] + mean["toy_sub_c"]) / 2  # weight_by_size: false
        # weight_by_size: true, over every task of the group, nested ones included (lm-eval 0.4.13)
        outer = (mean["toy_sub_a"] * 6 + mean["toy_sub_b"] * 6 + mean["toy_sub_c"] * 6) / 18
        assert scores[("toy_inner", method)]["value"] == pytest.approx(inner)
        assert scores[("toy_group", method)]["value"] == pytest.approx(outer)
        assert scores[("toy_group", method)]["n"] == 18 and scores[("toy_group", method)]["tasks"] == 3
    best = [g for g in results["group_scores"] if g["group"] == "toy_group" and g["best"] is None]
    assert len(best) == 1
    report = (run_dir / "report.md").read_text()
    assert "lm-eval groups: each group's aggregate" in report and "| inner | accuracy (acc, by task) |" in report
    # re-rendered without its samples (a results.json shared alone), the run keeps its group scores
    import shutil

    shutil.rmtree(run_dir / "samples")
    assert invoke(["report", str(run_dir)]).exit_code == 0
    assert json.loads((run_dir / "results.json").read_text())["group_scores"] == results["group_scores"]
