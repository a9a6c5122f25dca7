"""Shared data for the metrics tests: small hand-checkable corpora."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from promptkit.records import Prediction

# Three rows with 2, 1 and 3 references: sacrebleu must see the missing ones as None.
HYPOTHESES = [
    "The cat sat on the mat.",
    "A dog barked loudly at night",
    "hello world",
]
REFERENCES = [
    ["The cat is on the mat.", "There is a cat on the mat."],
    ["A dog barked at night."],
    ["hello there world", "hi world", "hello world !"],
]

ZH_HYPOTHESES = ["我爱北京天安门。", "今天天气很好", "他喜欢读书和写字"]
ZH_REFERENCES = [["我爱北京天安门！"], ["今天天气非常好", "今天的天气很好"], ["他喜欢看书"]]


Corpus = tuple[list[str], list[list[str]]]


@pytest.fixture
def corpus() -> Corpus:
    """English outputs with unequal numbers of references per row."""
    return list(HYPOTHESES), [list(r) for r in REFERENCES]


@pytest.fixture
def zh_corpus() -> Corpus:
    """Chinese outputs, one with two references."""
    return list(ZH_HYPOTHESES), [list(r) for r in ZH_REFERENCES]


@pytest.fixture
def streams() -> Callable[[Sequence[Sequence[str]]], list[list[str | None]]]:
    """Reference streams the way sacrebleu documents them, built independently of the code:
    the i-th reference of every row, None where a row has fewer."""

    def transpose(references: Sequence[Sequence[str]]) -> list[list[str | None]]:
        width = max(len(r) for r in references)
        return [[r[i] if i < len(r) else None for r in references] for i in range(width)]

    return transpose


@pytest.fixture
def make_predictions() -> Callable[..., list[Prediction]]:
    """Build Prediction records from outputs and reference lists."""

    def build(outputs: Sequence[str], references: Sequence[Sequence[str]]) -> list[Prediction]:
        return [
            Prediction(example_id=f"ex-{i}", prompt="", output=out, references=tuple(refs))
            for i, (out, refs) in enumerate(zip(outputs, references, strict=True))
        ]

    return build
