"""The shipped ``squad_demo`` data (a CC BY-SA 4.0 subset of SQuAD v1.1 dev): it loads through the
task, keeps its promises (answers in context, articles and questions not shared across splits),
carries its attribution, and ``scripts/build_squad_demo.py`` rebuilds it byte for byte."""

from __future__ import annotations

import importlib.util
import json
import string
import sys
from pathlib import Path
from types import ModuleType

import pytest
from promptkit.prompting import FewShotSampler
from promptkit.records import Example
from promptkit.tasks import Task, load_task

REPO = Path(__file__).resolve().parents[2]
TASK_FILE = REPO / "tasks" / "squad_demo.yaml"
DATA = REPO / "tasks" / "data" / "squad_demo"
ATTRIBUTION = DATA / "README.md"
SCRIPT = REPO / "scripts" / "build_squad_demo.py"
# ../shared/data beside the repository: the offline SQuAD v1.1 dev set the files are cut from.
SHARED_DEV = REPO.parent / "shared" / "data" / "squad_v1.1" / "dev.jsonl"
SPLITS = ("train", "test")


def read_jsonl(path: Path) -> list[dict[str, object]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def normalise(question: str) -> str:
    # Independent of the script's own normaliser, so a bug there is not mirrored here.
    text = question.casefold().translate(str.maketrans(string.punctuation + "“”‘’", " " * (len(string.punctuation) + 4)))
    return " ".join(text.split())


@pytest.fixture(scope="module")
def task() -> Task:
    return load_task(TASK_FILE)


@pytest.fixture(scope="module")
def examples(task: Task) -> dict[str, list[Example]]:
    return {split: task.examples(split) for split in SPLITS}


@pytest.fixture(scope="module")
def rows() -> dict[str, list[dict[str, object]]]:
    return {split: read_jsonl(DATA / f"{split}.jsonl") for split in SPLITS}


def test_task_loads_both_splits(task: Task, examples: dict[str, list[Example]]) -> None:
    assert task.name == "squad_demo" and task.config.adapter.kind == "qa"
    assert {"demo", "qa"} <= set(task.config.tags)
    assert 350 <= len(examples["train"]) <= 450
    assert 150 <= len(examples["test"]) <= 250
    for split in SPLITS:
        for ex in examples[split]:
            assert ex.references and ex.fields["context"] and ex.fields["question"]


def test_examples_render_with_the_task_prompts(task: Task, examples: dict[str, list[Example]]) -> None:
    # tests/unit/test_shipped_yaml.py renders the tasks named demo_*; this one is named squad_demo.
    source, _ = task.source(None)
    assert getattr(source, "relative_to", None) == "task", "demo data ships next to the task file"
    sampler = FewShotSampler(examples[task.config.fewshot.split], k=task.config.fewshot.shots, seed=0)
    for template in task.prompts:
        for ex in examples[task.config.eval_split][:5]:
            prompt = template.render(ex, sampler.sample(ex))
            assert prompt.target == ex.references[0] and ex.fields["context"] in prompt.query


def test_ids_are_the_squad_ids_and_unique(rows: dict[str, list[dict[str, object]]], examples: dict[str, list[Example]]) -> None:
    for split in SPLITS:
        assert [ex.id for ex in examples[split]] == [r["id"] for r in rows[split]]
    ids = [r["id"] for split in SPLITS for r in rows[split]]
    assert len(ids) == len(set(ids))


def test_rows_have_exactly_the_documented_fields(rows: dict[str, list[dict[str, object]]]) -> None:
    for split in SPLITS:
        for r in rows[split]:
            assert list(r) == ["id", "title", "context", "question", "answers"]
            assert all(isinstance(r[k], str) and r[k] for k in ("id", "title", "context", "question"))
            assert isinstance(r["answers"], list) and r["answers"]


def test_every_reference_occurs_verbatim_in_its_context(examples: dict[str, list[Example]]) -> None:
    for split in SPLITS:
        for ex in examples[split]:
            assert len(set(ex.references)) == len(ex.references), ex.id
            for ref in ex.references:
                assert ref and ref in ex.fields["context"], (split, ex.id, ref)


def test_contexts_are_short(rows: dict[str, list[dict[str, object]]]) -> None:
    lengths = sorted(len(str(r["context"]).split()) for split in SPLITS for r in rows[split])
    assert lengths[-1] <= 60  # MAX_WORDS of the build script: the default run must fit 10 CPU minutes
    assert 30 <= lengths[len(lengths) // 2] <= 60


def test_articles_are_disjoint_and_many(rows: dict[str, list[dict[str, object]]]) -> None:
    train = {r["title"] for r in rows["train"]}
    test = {r["title"] for r in rows["test"]}
    assert not train & test
    assert len(train) >= 20 and len(test) >= 10
    # No article dominates a split.
    for split in SPLITS:
        counts: dict[object, int] = {}
        for r in rows[split]:
            counts[r["title"]] = counts.get(r["title"], 0) + 1
        assert max(counts.values()) <= 30


def test_no_normalised_test_question_occurs_in_train(rows: dict[str, list[dict[str, object]]]) -> None:
    train = {normalise(str(r["question"])) for r in rows["train"]}
    assert not [r["id"] for r in rows["test"] if normalise(str(r["question"])) in train]


def test_attribution_names_the_source_the_licence_and_every_article(rows: dict[str, list[dict[str, object]]]) -> None:
    text = ATTRIBUTION.read_text(encoding="utf-8")
    for needle in ("CC BY-SA 4.0", "creativecommons.org/licenses/by-sa/4.0", "Rajpurkar", "SQuAD: 100,000+ Questions",
                   "modified subset", "scripts/build_squad_demo.py"):
        assert needle in text, needle
    for split in SPLITS:
        for title in {str(r["title"]) for r in rows[split]}:
            assert f"`{title}`" in text, title


def load_script(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_squad_demo", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the script is executed.
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_build_script_reproduces_the_shipped_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not SHARED_DEV.is_file():
        pytest.skip(f"{SHARED_DEV} is not present")
    script = load_script(monkeypatch)
    assert script.DEFAULT_SOURCE.resolve() == SHARED_DEV.resolve()
    assert script.main([str(SHARED_DEV), "--out", str(tmp_path), "--quiet"]) == 0
    for split in SPLITS:
        assert (tmp_path / f"{split}.jsonl").read_bytes() == (DATA / f"{split}.jsonl").read_bytes(), split
