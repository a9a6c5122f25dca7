"""``--limit N``: a seeded random sample of the evaluated split, stratified by its groups."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest
from promptkit.tasks import load_task, sample_indices


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_a_plain_sample_is_a_seeded_subset_in_file_order(seed: int) -> None:
    picked = sample_indices(100, 10, seed)
    assert picked == sorted(set(picked)) and len(picked) == 10 and all(0 <= i < 100 for i in picked)
    assert picked == sample_indices(100, 10, seed)  # the same seed, the same rows
    assert picked == sorted(random.Random(seed).sample(range(100), 10))  # Python's own draw


def test_a_grouped_sample_gives_every_group_its_share() -> None:
    # a file sorted by article: 60 rows of a, 30 of b, 9 of c, 1 of d (first-N would take a only)
    groups = ["a"] * 60 + ["b"] * 30 + ["c"] * 9 + ["d"]
    for seed in range(20):
        picked = sample_indices(len(groups), 20, seed, groups)
        assert len(picked) == 20 and picked == sorted(set(picked))
        counts = Counter(groups[i] for i in picked)
        # brute force: each group within one of its exact share 20 * size / 100
        for g, size in Counter(groups).items():
            assert abs(counts.get(g, 0) - 20 * size / 100) < 1, (seed, g, counts)
        assert counts == {"a": 12, "b": 6, "c": 2}  # 12, 6, 1.8 -> 2 (largest remainder), 0.2 -> 0
    assert len({tuple(sample_indices(len(groups), 20, s, groups)) for s in range(20)}) > 1


def test_task_examples_sample_by_the_splits_groups(tmp_path: Path) -> None:
    rows = [{"id": f"q{i}", "title": f"article-{i // 10}", "context": "c", "question": "q", "answers": ["a"]} for i in range(50)]
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "t.yaml").write_text(
        "name: t\ndataset: {kind: files, splits: {test: {path: rows.jsonl, group_by: title}}}\n"
        "adapter: {kind: qa, fields: {context: context, question: question, answers: answers}}\n"
        "train_split: null\nprompts: [qa/extractive]\nmetrics: [exact_match]\n")
    task = load_task(tmp_path / "t.yaml")
    sample = task.examples("test", None, 10, seed=3)
    assert Counter(ex.id[1:] and int(ex.id[1:]) // 10 for ex in sample) == {k: 2 for k in range(5)}  # 2 per article
    assert [ex.id for ex in task.examples("test", None, 10)] == [f"q{i}" for i in range(10)]  # no seed: the first rows
    assert len(task.examples("test", None, 100, seed=3)) == 50  # a limit over the size: every row
