"""Accuracy and macro-F1 against hand-computed confusion counts."""

from __future__ import annotations

import numpy as np
import pytest
from promptkit.metrics import MetricContext, get_metric

GOLD = [["a"], ["a"], ["b"], ["c"]]
PRED = ["a", "b", "b", "a"]
# a: tp 1, fp 1, fn 1 -> 2/4; b: tp 1, fp 1, fn 0 -> 2/3; c: tp 0, fp 0, fn 1 -> 0.
MACRO = 100 * (1 / 2 + 2 / 3 + 0) / 3


def macro_f1(pred: list[str], gold: list[list[str]], labels: tuple[str, ...] = ()) -> float:
    metric = get_metric("macro_f1")
    return metric.aggregate(metric.stats(pred, gold, MetricContext(labels=labels)))


def test_accuracy_compares_stripped_first_reference() -> None:
    metric = get_metric("accuracy")
    stats = metric.stats(
        [" yes", "no", "maybe"], [["yes "], ["yes", "no"], ["maybe"]], MetricContext()
    )
    assert metric.aggregate(stats) == pytest.approx(200 / 3)
    assert list(metric.sample_scores(stats)) == [100.0, 0.0, 100.0]


def test_macro_f1_hand_computed() -> None:
    assert macro_f1(PRED, GOLD) == pytest.approx(MACRO)
    # A label with no support and no predictions is left out of the mean.
    assert macro_f1(PRED, GOLD, labels=("a", "b", "c", "d")) == pytest.approx(MACRO)


def test_macro_f1_output_outside_the_labels_is_a_miss() -> None:
    # "maybe" is no class: a false negative for "b" only. a: 2/2 -> 1; b: tp 0, fn 1 -> 0.
    assert macro_f1(["a", "maybe"], [["a"], ["b"]], labels=("a", "b")) == pytest.approx(50.0)
    # Without labels every output is a class: "maybe" adds a class with F1 0.
    assert macro_f1(["a", "maybe"], [["a"], ["b"]]) == pytest.approx(100 / 3)


def test_macro_f1_per_sample_is_correctness() -> None:
    metric = get_metric("macro_f1")
    stats = metric.stats(PRED, GOLD, MetricContext())
    assert stats.shape == (4, 9)
    assert list(metric.sample_scores(stats)) == [100.0, 0.0, 100.0, 0.0]


def test_macro_f1_of_a_resample_is_macro_f1_of_those_rows() -> None:
    metric = get_metric("macro_f1")
    ctx = MetricContext(labels=("a", "b", "c"))
    stats = metric.stats(PRED, GOLD, ctx)
    rows = [0, 0, 1, 2, 2]
    direct = metric.aggregate(metric.stats([PRED[i] for i in rows], [GOLD[i] for i in rows], ctx))
    assert metric.aggregate(stats[rows]) == pytest.approx(direct)
    idx = np.array([rows])
    assert metric.aggregate_resamples(stats, idx) == pytest.approx([direct])
