"""Train/test leakage guards (``promptkit.tasks.leakage``): one test per kind of overlap, on toy JSONL
written to ``tmp_path``, through :func:`find_overlaps` and through ``promptkit.run.plan.prepare``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from promptkit.config.run import RunConfig
from promptkit.errors import LeakageError
from promptkit.records import Example
from promptkit.tasks import Task, load_task
from promptkit.tasks.leakage import ComparedSplit, find_overlaps, normalise

QA = """\
adapter:
  kind: qa
  fields: {context: context, question: question, answers: answers}
prompts: [qa/extractive]
metrics: [exact_match]
"""
TRANSLATION = """\
adapter:
  kind: translation
  source_lang: en
  target_lang: fr
  fields: {source: en, references: fr}
prompts: [translation/basic]
metrics: [chrf]
"""


def qa_rows(prefix: str, questions: Sequence[str], answer: str = "Anna", title: str | None = None) -> list[dict[str, Any]]:
    rows = []
    for i, q in enumerate(questions):
        rows.append({"id": f"{prefix}-{i}", "context": "The red car belongs to Anna.", "question": q, "answers": [answer],
                     "title": title if title is not None else f"{prefix} article {i}"})
    return rows


TRAIN = qa_rows("tr", ["Who owns the red car?", "What color is the car?", "Who wrote the book?"])
TEST = qa_rows("te", ["Where does Tom live?", "How many legs has a cat?"])


def write_task(tmp_path: Path, splits: str, files: dict[str, list[dict[str, Any]]], body: str = QA, extra: str = "") -> Path:
    """A task file whose ``dataset`` block is ``splits`` (YAML), beside the given JSONL files."""
    for name, rows in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    task = tmp_path / "toy.yaml"
    task.write_text(f"name: toy\ndataset:\n  kind: files\n  splits:\n{splits}{body}{extra}", encoding="utf-8")
    return task


def overlaps(path: Path, *, train: bool = True, fewshot: bool = False) -> list[str]:
    """What ``promptkit.run.plan.prepare`` finds for a trainable run (``train``) and/or a few-shot run."""
    task = load_task(path)
    tc = task.config
    compared = []
    if train and tc.train_split:
        compared.append(ComparedSplit(tc.train_split, "training", task.examples(tc.train_split)))
    if fewshot:
        compared.append(ComparedSplit(tc.fewshot.split, "few-shot pool", task.examples(tc.fewshot.split)))
    return find_overlaps(task, None, task.examples(tc.eval_split), compared)


def test_normalise_ignores_case_width_spacing_and_punctuation() -> None:
    assert normalise("  Who OWNS\tthe red-car?! ") == normalise("who owns the redcar") == "who owns the redcar"
    assert normalise("ＡＢＣ，  déjà") == "abc déjà"  # NFKC folds full-width forms
    assert normalise("Straße") == normalise("STRASSE")  # casefold, not lower


# ----------------------------------------------------------------------------- from the config
def test_one_file_as_train_and_test(tmp_path: Path) -> None:
    path = write_task(tmp_path, "    train: data/all.jsonl\n    test: data/all.jsonl\n", {"data/all.jsonl": TRAIN})
    source, rows = overlaps(path)
    assert source == f"{path}: splits 'test' and 'train' (training) resolve to the same rows: both read 'data/all.jsonl'"
    assert rows == (
        f"{path}: 3 of 3 'test' rows have the same input (context, question; normalised) as a row of 'train' "
        "(training): test 'tr-0' = train 'tr-0', test 'tr-1' = train 'tr-1', test 'tr-2' = train 'tr-2'"
    )


def test_one_file_under_two_spellings(tmp_path: Path) -> None:
    path = write_task(tmp_path, "    train: ./data/x.jsonl\n    test: data/../data/x.jsonl\n", {"data/x.jsonl": TRAIN})
    problems = overlaps(path)
    assert problems[0] == (
        f"{path}: splits 'test' and 'train' (training) resolve to the same rows: both read "
        "'data/../data/x.jsonl' (written './data/x.jsonl' in 'train')"
    )


def test_one_file_listed_among_others(tmp_path: Path) -> None:
    splits = "    train: {path: [data/a.jsonl, data/b.jsonl]}\n    test: {path: [data/c.jsonl, ./data/b.jsonl]}\n"
    files = {"data/a.jsonl": TRAIN, "data/b.jsonl": TEST, "data/c.jsonl": qa_rows("c", ["Who sleeps?"])}
    path = write_task(tmp_path, splits, files)
    assert "resolve to the same rows: both read './data/b.jsonl' (written 'data/b.jsonl' in 'train')" in overlaps(path)[0]


def test_overlapping_part_ranges(tmp_path: Path) -> None:
    splits = (
        "    train: {path: d.jsonl, group_by: title, part: [0.0, 0.6]}\n"
        "    test: {path: d.jsonl, group_by: title, part: [0.5, 1.0]}\n"
    )
    path = write_task(tmp_path, splits, {"d.jsonl": qa_rows("r", [f"Question {i}?" for i in range(40)])})
    problems = overlaps(path)
    assert problems[0] == (
        f"{path}: overlapping part ranges [0.5, 1.0) of 'test' and [0.0, 0.6) of 'train' (training) "
        "on 'd.jsonl' (group_by 'title')"
    )


def test_disjoint_part_ranges_pass(tmp_path: Path) -> None:
    splits = (
        "    train: {path: d.jsonl, group_by: title, part: [0.0, 0.5]}\n"
        "    test: {path: ./d.jsonl, group_by: title, part: [0.5, 1.0]}\n"
    )
    path = write_task(tmp_path, splits, {"d.jsonl": qa_rows("r", [f"Question {i}?" for i in range(40)])})
    task = load_task(path)
    assert task.examples("train") and task.examples("test")  # both parts hold rows
    assert overlaps(path, fewshot=True) == []


def test_same_rows_within_one_group_are_still_found(tmp_path: Path) -> None:
    # Disjoint parts split groups, not inputs: a question asked in two articles still leaks.
    rows = qa_rows("r", [f"Question {i}?" for i in range(40)]) + qa_rows("s", [f"question {i}" for i in range(40)], title="other")
    splits = (
        "    train: {path: d.jsonl, group_by: title, part: [0.0, 0.5]}\n"
        "    test: {path: d.jsonl, group_by: title, part: [0.5, 1.0]}\n"
    )
    problems = overlaps(write_task(tmp_path, splits, {"d.jsonl": rows}))
    assert len(problems) == 1 and "as a row of 'train' (training)" in problems[0]


def test_different_group_by_on_one_file(tmp_path: Path) -> None:
    splits = (
        "    train: {path: d.jsonl, group_by: title, part: [0.0, 0.5]}\n"
        "    test: {path: d.jsonl, group_by: id, part: [0.5, 1.0]}\n"
    )
    path = write_task(tmp_path, splits, {"d.jsonl": qa_rows("r", [f"Question {i}?" for i in range(40)])})
    assert overlaps(path)[0] == (
        f"{path}: splits 'test' and 'train' (training) both read 'd.jsonl', grouped by different columns "
        "('id' and 'title'), so their parts may share rows; group both by one column"
    )


def test_part_of_a_file_the_other_split_reads_whole(tmp_path: Path) -> None:
    splits = "    train: d.jsonl\n    test: {path: d.jsonl, group_by: title, part: [0.5, 1.0]}\n"
    path = write_task(tmp_path, splits, {"d.jsonl": qa_rows("r", [f"Question {i}?" for i in range(40)])})
    assert overlaps(path)[0].endswith("resolve to the same rows: both read 'd.jsonl' ('train' all of it)")


# ----------------------------------------------------------------------------- from the rows
def test_duplicate_inputs_between_test_and_train(tmp_path: Path) -> None:
    test = qa_rows("te", ["WHO owns   the red car", "Where does Tom live?", "what color is the car ?!"])
    path = write_task(tmp_path, "    train: train.jsonl\n    test: test.jsonl\n", {"train.jsonl": TRAIN, "test.jsonl": test})
    (problem,) = overlaps(path)
    assert problem == (
        f"{path}: 2 of 3 'test' rows have the same input (context, question; normalised) as a row of 'train' "
        "(training): test 'te-0' = train 'tr-0', test 'te-2' = train 'tr-1'"
    )


def test_only_a_few_ids_are_quoted(tmp_path: Path) -> None:
    questions = [f"Question {i}?" for i in range(7)]
    files = {"a.jsonl": qa_rows("a", questions), "b.jsonl": qa_rows("b", questions)}
    path = write_task(tmp_path, "    train: a.jsonl\n    test: b.jsonl\n", files)
    (problem,) = overlaps(path)
    assert "7 of 7 'test' rows" in problem and problem.endswith("test 'b-2' = train 'a-2' and 4 more")


def test_duplicate_inputs_between_test_and_fewshot_pool(tmp_path: Path) -> None:
    dev = qa_rows("dv", ["Where does tom live"])
    splits = "    train: train.jsonl\n    dev: dev.jsonl\n    test: test.jsonl\n"
    files = {"train.jsonl": TRAIN, "dev.jsonl": dev, "test.jsonl": TEST}
    path = write_task(tmp_path, splits, files, extra="fewshot: {split: dev}\n")
    (problem,) = overlaps(path, train=True, fewshot=True)
    assert problem == (
        f"{path}: 1 of 2 'test' rows have the same input (context, question; normalised) as a row of 'dev' "
        "(few-shot pool): test 'te-0' = dev 'dv-0'"
    )
    assert overlaps(path, train=True, fewshot=False) == []  # the pool is checked only when it is used


def test_train_used_for_training_and_demonstrations_is_reported_once(tmp_path: Path) -> None:
    path = write_task(tmp_path, "    train: t.jsonl\n    test: t.jsonl\n", {"t.jsonl": TRAIN})
    problems = overlaps(path, train=True, fewshot=True)
    assert len(problems) == 2 and all("'train' (training and few-shot pool)" in p for p in problems)


def test_equal_references_are_not_a_leak(tmp_path: Path) -> None:
    # Every row answers "Anna": only inputs count.
    path = write_task(tmp_path, "    train: train.jsonl\n    test: test.jsonl\n", {"train.jsonl": TRAIN, "test.jsonl": TEST})
    assert overlaps(path, fewshot=True) == []


def test_translation_compares_the_source_only(tmp_path: Path) -> None:
    train = [{"id": "a", "en": "The cat is black.", "fr": "le chat est noir"},
             {"id": "b", "en": "I love the sea", "fr": "j'aime la mer"}]
    test = [{"id": "c", "en": "the cat is black", "fr": "le chat noir"},  # same source, other reference
            {"id": "d", "en": "the dog sleeps", "fr": "j'aime la mer"}]  # same reference only
    path = write_task(tmp_path, "    train: a.jsonl\n    test: b.jsonl\n", {"a.jsonl": train, "b.jsonl": test}, body=TRANSLATION)
    (problem,) = overlaps(path)
    assert "1 of 2 'test' rows" in problem and "(source; normalised) as a row of 'train' (training): test 'c' = train 'a'" in problem


# ----------------------------------------------------------------------------- hub splits
def hub_task(tmp_path: Path, train: str, test: str) -> Task:
    path = tmp_path / "hub.yaml"
    path.write_text(f"name: hub\ndataset:\n  kind: hub\n  path: org/data\n  splits: {{train: '{train}', test: '{test}'}}\n{QA}")
    return load_task(path)


def hub_overlaps(task: Task) -> list[str]:
    # The check needs no hub access: rows are given (distinct here, so only the config can leak).
    test = [Example(id="x", fields={"context": "c", "question": "q1"}, references=("a",))]
    train = [Example(id="y", fields={"context": "c", "question": "q2"}, references=("a",))]
    return find_overlaps(task, None, test, [ComparedSplit("train", "training", train)])


def test_hub_same_split_expression(tmp_path: Path) -> None:
    task = hub_task(tmp_path, "train[:100]", "train[ : 100]")
    assert hub_overlaps(task) == [
        f"{task.path}: splits 'test' and 'train' (training) resolve to the same rows: both read hub split "
        "'train[:100]' of 'org/data'"
    ]


@pytest.mark.parametrize(
    ("train", "test", "leaks"),
    [
        ("train[:1000]", "train[500:]", True),
        ("train[:1000]", "train[1000:]", False),
        ("train[:50%]", "train[40%:60%]", True),
        ("train[:50%]", "train[50%:]", False),
        ("train", "train[90%:]", True),
        ("train[:1000]", "validation", False),
        ("train[:1000]+validation", "validation[:10]", True),
        ("train[:1000]", "train[90%:]", False),  # rows vs percent: depends on the size, not compared
        ("train[:-100]", "train[-100:]", False),  # negative indices: not compared
    ],
)
def test_hub_slices(tmp_path: Path, train: str, test: str, leaks: bool) -> None:
    problems = hub_overlaps(hub_task(tmp_path, train, test))
    assert bool(problems) == leaks, problems
    if leaks and problems:
        assert "read overlapping slices of hub split" in problems[0] or "same rows" in problems[0]


# ----------------------------------------------------------------------------- the runner
def run_config(path: Path, methods: list[str], **kw: Any) -> RunConfig:
    return RunConfig.model_validate({"tasks": [str(path)], "methods": methods, **kw})


def test_runner_refuses_before_the_model(tmp_path: Path) -> None:
    from promptkit.run.plan import prepare

    path = write_task(tmp_path, "    train: data/all.jsonl\n    test: data/all.jsonl\n", {"data/all.jsonl": TRAIN})
    with pytest.raises(LeakageError) as info:
        prepare(run_config(path, ["lora"]))
    err = info.value
    assert err.exit_code == 2 and len(err.problems) == 2
    lines = str(err).splitlines()
    assert lines[:2] == err.problems and all(line.startswith(f"{path}: ") for line in lines[:2])
    assert lines[-1].startswith("--allow-overlap")
    # Zero-shot reads neither the train split nor a pool: nothing leaks into it.
    assert prepare(run_config(path, ["zero-shot"])).tasks[0].overlaps == []


def test_runner_allow_overlap_records_the_problems(tmp_path: Path) -> None:
    from promptkit.run.plan import prepare

    path = write_task(tmp_path, "    train: data/all.jsonl\n    test: data/all.jsonl\n", {"data/all.jsonl": TRAIN})
    (prepared,) = prepare(run_config(path, ["few-shot"], allow_overlap=True)).tasks
    assert len(prepared.overlaps) == 2 and "'train' (few-shot pool)" in prepared.overlaps[0]
