"""The context-length policy: a prompt longer than the model reads is truncated from the left,
skipped or refused, and counted, never fed past the model's positions.

``fit_prompts`` is checked against brute force with a word tokenizer; the runner is run on the
toy QA task with a row whose context is 20,000 words, on the tiny Llama (512 positions), and with
few-shot, where that row (also in train) is a demonstration that must be dropped.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers import tiny_training
from promptkit.config.run import RunConfig
from promptkit.prompting.context import ContextLengthError, fit_prompts
from promptkit.records import Example, Prompt
from promptkit.run import run as run_config

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
POSITIONS = 512  # the tiny Llama's max_position_embeddings (tests/conftest.py)
MAX_NEW = 6  # tiny_qa's generation.max_new_tokens
LONG_WORDS = 20_000


# ----------------------------------------------------------------------------- fit_prompts
def render(ex: Example) -> Prompt:
    query = f"Context: {ex.fields['context']}\nQuestion: {ex.fields['question']}\nAnswer:"
    return Prompt(example_id=ex.id, template="t", query=query, target="x", references=("x",), instruction="Read it.")


def words(prompt: Prompt) -> int:
    return len(prompt.text.split())


def split(text: str) -> list[str]:
    return text.split()


def example(i: int, n_words: int) -> Example:
    context = " ".join(f"w{k}" for k in range(n_words))
    return Example(id=f"ex-{i}", fields={"context": context, "question": "who is it ?", "title": "short"}, references=("x",))


def fit(examples: list[Example], budget: int, policy: str) -> Any:
    vocab: dict[str, int] = {}
    names: list[str] = []

    def encode(text: str) -> list[int]:
        out = []
        for w in text.split():
            if w not in vocab:
                vocab[w] = len(names)
                names.append(w)
            out.append(vocab[w])
        return out

    return fit_prompts(examples, render, words, budget, policy, encode=encode,
                       decode=lambda ids: " ".join(names[i] for i in ids), where="task 't', m: ")


def test_truncate_left_keeps_the_most_recent_context_that_fits() -> None:
    examples = [example(0, 10), example(1, 500), example(2, 30)]
    fitted = fit(examples, budget=40, policy="truncate-left")
    assert fitted.skip == frozenset() and fitted.report.truncated == ["ex-1"]
    assert fitted.prompts[0] == render(examples[0]) and fitted.prompts[2].text == render(examples[2]).text
    cut = fitted.prompts[1]
    # brute force: the longest tail of the context whose prompt has at most 40 words
    fixed = words(render(Example("e", {"context": "", "question": "who is it ?"}, ())))
    kept = 40 - fixed
    assert words(cut) == 40
    assert cut.query == render(Example("e", {"context": " ".join(f"w{k}" for k in range(500 - kept, 500)),
                                               "question": "who is it ?"}, ())).query
    assert cut.query.endswith("Question: who is it ?\nAnswer:") and cut.instruction == "Read it."
    assert fitted.report.longest == words(render(examples[1]))


def test_truncate_left_skips_what_cannot_fit_even_without_its_context() -> None:
    fitted = fit([example(0, 50)], budget=5, policy="truncate-left")
    assert fitted.skip == {0} and fitted.report.skipped == ["ex-0"] and fitted.report.truncated == []


def test_skip_and_error_policies() -> None:
    examples = [example(0, 10), example(1, 500)]
    skipped = fit(examples, budget=40, policy="skip")
    assert skipped.skip == {1} and skipped.report.skipped == ["ex-1"] and skipped.prompts[1] == render(examples[1])
    n = words(render(examples[1]))
    with pytest.raises(ContextLengthError) as exc:
        fit(examples, budget=40, policy="error")
    assert str(exc.value) == (f"task 't', m: example 'ex-1' has {n} prompt tokens, {n - 40} more than the 40 the model can "
                              "read here; set context_policy: truncate-left (cut the longest field from the left) or skip")
    unbounded = fit(examples, budget=None, policy="error")  # a model without a position limit
    assert unbounded.skip == frozenset() and unbounded.report.summary().budget is None


# ----------------------------------------------------------------------------- runs
@pytest.fixture()
def long_task(tmp_path: Path) -> Path:
    """tiny_qa with a 20,000-word context as the first test row and the first train row."""
    task_dir = tmp_path / "task"
    shutil.copytree(TINY, task_dir)
    context = " ".join(["the red car belongs to anna ."] * (LONG_WORDS // 7)) + " tom lives in paris ."
    for split_name, row_id, question, answer in (("test", "long-test", "where does tom live ?", "paris"),
                                                 ("train", "long-train", "who owns the red car ?", "anna")):
        path = task_dir / "data" / f"qa_{split_name}.jsonl"
        row = {"id": row_id, "context": context, "question": question, "answers": [answer]}
        path.write_text(json.dumps(row) + "\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    return task_dir / "qa.yaml"


def run(task: Path, model: Path, out: Path, policy: str | None, methods: list[Any] | None = None) -> Any:
    config = RunConfig.model_validate({
        "tasks": [str(task)], "methods": methods or [{"kind": "zero-shot"}], "model": {"name": str(model), "device": "cpu"},
        "limit": 3, "batch_size": 2, "out_dir": str(out), "run_id": policy or "default", "bootstrap_samples": 20,
        "context_policy": policy, "training": tiny_training(2),
    })
    result = run_config(config)
    samples = out / (policy or "default") / "samples/tiny_qa/zero-shot.jsonl"
    rows = [json.loads(line) for line in samples.open(encoding="utf-8")] if samples.is_file() else []
    return result, rows


def test_the_default_truncates_the_long_row_to_the_model_and_counts_it(long_task: Path, tiny_llama_dir: Path,
                                                                       tmp_path: Path) -> None:
    result, rows = run(long_task, tiny_llama_dir, tmp_path, None)
    cell = result.cells[0]
    assert cell.error is None
    assert cell.context.to_dict()["policy"] == "truncate-left" and cell.context.to_dict()["truncated"] == 1 and cell.context.to_dict()["skipped"] == 0
    assert cell.context.to_dict()["truncated_ids"] == ["long-test"] and cell.context.to_dict()["budget"] == POSITIONS - MAX_NEW
    assert cell.context.to_dict()["longest_prompt_tokens"] > LONG_WORDS
    long_row = rows[0]
    assert long_row["example_id"] == "long-test"
    assert 0.9 * (POSITIONS - MAX_NEW) < long_row["prompt_tokens"] <= POSITIONS - MAX_NEW
    # the question and the end of the context survive; the start of the context went
    assert "tom lives in paris .\nquestion: where does tom live ?" in long_row["prompt"].lower()
    assert all(r["prompt_tokens"] + r["output_tokens"] <= POSITIONS for r in rows)
    report = (tmp_path / "default" / "report.md").read_text(encoding="utf-8")
    assert (f"- Context length, zero-shot / qa/extractive: evaluated prompts: 1 truncated (policy truncate-left, at most "
            f"{POSITIONS - MAX_NEW} tokens, longest {cell.context.to_dict()['longest_prompt_tokens']:,}).") in report


def test_skip_gives_the_long_row_an_empty_answer_and_error_fails_the_cell(long_task: Path, tiny_llama_dir: Path,
                                                                         tmp_path: Path) -> None:
    result, rows = run(long_task, tiny_llama_dir, tmp_path, "skip")
    cell = result.cells[0]
    assert cell.context.to_dict()["skipped"] == 1 and cell.context.to_dict()["skipped_ids"] == ["long-test"] and cell.n == 3
    assert rows[0]["prediction"] == "" and rows[0]["prompt_tokens"] == 0 and rows[0]["scores"]["exact_match"] == 0.0
    assert all(r["prompt_tokens"] > 0 for r in rows[1:])

    failed, _ = run(long_task, tiny_llama_dir, tmp_path, "error")
    error = failed.cells[0].error
    assert error is not None and error.startswith("task 'tiny_qa', zero-shot: example 'long-test' has ")
    assert error.endswith("set context_policy: truncate-left (cut the longest field from the left) or skip")


def test_training_prompts_follow_the_policy_within_max_length(long_task: Path, tiny_llama_dir: Path, tmp_path: Path) -> None:
    result, _ = run(long_task, tiny_llama_dir, tmp_path, None, methods=[{"kind": "lora", "rank": 2}])
    cell = result.cells[0]
    assert cell.error is None, cell.error
    training = cell.context.to_dict()["training"]
    assert training["truncated"] == 1 and training["truncated_ids"] == ["long-train"] and training["budget"] == 512
    assert cell.context.to_dict()["truncated"] == 1  # and its evaluated long row


def test_a_prompt_within_the_byte_bound_is_not_tokenized_and_the_result_is_the_same() -> None:
    examples = [example(0, 10), example(1, 500), example(2, 30)]
    measured: list[str] = []

    def counting(prompt: Prompt) -> int:
        measured.append(prompt.example_id)
        return words(prompt)

    def chars(prompt: Prompt) -> int:  # an upper bound of the word count
        return len(prompt.text)

    plain = fit(examples, budget=300, policy="truncate-left")
    vocab: list[str] = []
    bounded = fit_prompts(examples, render, counting, 300, "truncate-left",
                          encode=lambda t: [vocab.append(w) or len(vocab) - 1 for w in t.split()],
                          decode=lambda ids: " ".join(vocab[i] for i in ids), where="", bound=chars)
    assert measured[0] == "ex-1" and set(measured) == {"ex-1"}  # only the one its bound cannot clear
    assert [p.text for p in bounded.prompts] == [p.text for p in plain.prompts]
    assert bounded.report.truncated == plain.report.truncated == ["ex-1"] and bounded.report.longest == plain.report.longest


def test_few_shot_prompts_lose_the_long_demonstration_rather_than_being_skipped(long_task: Path, tiny_llama_dir: Path,
                                                                                tmp_path: Path) -> None:
    # 7 shots from a pool of 7: the 20,000-word train row is a demonstration of every prompt
    result, _ = run(long_task, tiny_llama_dir, tmp_path, "skip", methods=[{"kind": "few-shot", "shots": 7}])
    cell = result.cells[0]
    assert cell.error is None, cell.error
    # only the row too long with no demonstrations is skipped; the two others ran shorter
    assert cell.context.to_dict()["skipped_ids"] == ["long-test"] and cell.context.to_dict()["truncated"] == 0
    assert cell.context.to_dict()["shots_dropped"] == 2 and cell.context.to_dict()["demonstrations_dropped"] >= 2
    samples = tmp_path / "skip" / "samples/tiny_qa/few-shot.jsonl"
    rows = [json.loads(line) for line in samples.open(encoding="utf-8")]
    ran = [r for r in rows if r["example_id"] != "long-test"]
    assert len(ran) == 2 and all(0 < r["prompt_tokens"] + r["output_tokens"] <= POSITIONS for r in ran)
    assert all("the red car belongs to anna" not in r["prompt"].lower() for r in ran)
