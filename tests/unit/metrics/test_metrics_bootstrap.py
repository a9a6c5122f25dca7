"""Bootstrap confidence intervals, paired significance tests and the score() entry point."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from promptkit.errors import PromptkitError
from promptkit.metrics import (
    MetricContext,
    MetricError,
    bootstrap_ci,
    get_metric,
    paired_bootstrap_test,
    paired_permutation_test,
    score,
)
from promptkit.metrics.base import Metric
from promptkit.records import Prediction

scipy_stats = pytest.importorskip("scipy.stats")

MakePredictions = Callable[..., list[Prediction]]


def accuracy_stats(correct: np.ndarray) -> np.ndarray:
    return correct.astype(np.float64).reshape(-1, 1)


def test_ci_contains_value_and_is_deterministic() -> None:
    metric = get_metric("accuracy")
    stats = accuracy_stats(np.random.default_rng(0).random(200) < 0.7)
    value = metric.aggregate(stats)
    low, high = bootstrap_ci(metric, stats, 500, 0.05, 3)
    assert low < value < high
    assert bootstrap_ci(metric, stats, 500, 0.05, 3) == (low, high)
    assert bootstrap_ci(metric, stats, 500, 0.05, 4) != (low, high)
    # A 90% interval sits inside the 95% one (same resamples).
    low90, high90 = bootstrap_ci(metric, stats, 500, 0.10, 3)
    assert low <= low90 <= high90 <= high


def test_ci_narrows_with_more_rows() -> None:
    metric = get_metric("accuracy")
    rng = np.random.default_rng(0)
    small = accuracy_stats(rng.random(50) < 0.6)
    large = accuracy_stats(rng.random(2000) < 0.6)
    width_small = np.subtract(*bootstrap_ci(metric, small, 400, 0.05, 0)[::-1])
    width_large = np.subtract(*bootstrap_ci(metric, large, 400, 0.05, 0)[::-1])
    assert width_large < width_small / 3  # ~ 1/sqrt(40)


def test_score_matches_per_metric_bootstrap(
    make_predictions: MakePredictions, corpus: tuple[list[str], list[list[str]]]
) -> None:
    hyps, refs = corpus
    predictions = make_predictions(hyps * 10, refs * 10)
    ctx = MetricContext(language="en")
    names = ["bleu", "token_f1", "chrf"]
    scores = score(names, predictions, ctx, n_boot=200, seed=7)
    assert list(scores) == names
    # token F1 is a mean of per-row scores: its interval is the t interval (scipy's), not a bootstrap
    f1 = get_metric("token_f1").sample_scores(get_metric("token_f1").stats(hyps * 10, refs * 10, ctx))
    reference = scipy_stats.t.interval(0.95, len(f1) - 1, loc=f1.mean(), scale=scipy_stats.sem(f1))
    assert (scores["token_f1"].ci_low, scores["token_f1"].ci_high) == pytest.approx(reference, rel=1e-9)
    assert scores["token_f1"].details["interval"] == "t"
    for name in ["bleu", "chrf"]:
        metric = get_metric(name)
        stats = metric.stats(hyps * 10, refs * 10, ctx)
        result = scores[name]
        assert result.name == name and result.n == 30
        assert result.value == metric.aggregate(stats)
        # score() shares one set of resamples across metrics: same interval as alone.
        assert (result.ci_low, result.ci_high) == pytest.approx(
            bootstrap_ci(metric, stats, 200, 0.05, 7)
        )
        assert result.ci_low <= result.value <= result.ci_high
        assert result.per_sample == pytest.approx(tuple(metric.sample_scores(stats)))


def test_score_without_bootstrap(make_predictions: MakePredictions) -> None:
    result = score(["exact_match"], make_predictions(["x"], [["x"]]), MetricContext(), n_boot=0)
    assert result["exact_match"].value == 100.0
    assert math.isnan(result["exact_match"].ci_low)


def test_score_rejects_unscorable_input(make_predictions: MakePredictions) -> None:
    with pytest.raises(MetricError, match="no predictions"):
        score(["token_f1"], [], MetricContext())
    with pytest.raises(MetricError, match="'ex-1' has no reference"):
        score(["token_f1"], make_predictions(["a", "b"], [["a"], []]), MetricContext())
    with pytest.raises(PromptkitError, match="alpha"):
        score(["token_f1"], make_predictions(["a"], [["a"]]), MetricContext(), alpha=5)
    metric = get_metric("token_f1")
    with pytest.raises(MetricError, match="references must be a list"):
        metric.stats(["a"], ["a"], MetricContext())
    with pytest.raises(MetricError, match="1 predictions but 2"):
        metric.stats(["a"], [["a"], ["b"]], MetricContext())


def _systems(metric: Metric) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # 300 rows; system A is right 80% of the time, B 50%, C is B with five rows flipped.
    rng = np.random.default_rng(0)
    if metric.name == "macro_f1":
        refs = [[("positive", "negative", "neutral")[i % 3]] for i in range(300)]
        wrong = ["negative", "neutral", "positive"]
    else:
        refs = [[f"the answer to question {i} is {7 * i} metres"] for i in range(300)]
        wrong = ["i do not know the answer"] * 3
    good = [r[0] if rng.random() < 0.8 else wrong[i % 3] for i, r in enumerate(refs)]
    bad = [r[0] if rng.random() < 0.5 else wrong[i % 3] for i, r in enumerate(refs)]
    close = list(bad)
    for i in range(0, 300, 60):
        close[i] = refs[i][0] if close[i] != refs[i][0] else wrong[i % 3]
    ctx = MetricContext()
    return (
        metric.stats(good, refs, ctx),
        metric.stats(bad, refs, ctx),
        metric.stats(close, refs, ctx),
    )


@pytest.mark.parametrize("test", [paired_bootstrap_test, paired_permutation_test])
@pytest.mark.parametrize("name", ["exact_match", "bleu", "macro_f1"])
def test_paired_tests(name: str, test: Callable[..., float]) -> None:
    metric = get_metric(name)
    good, bad, close = _systems(metric)
    assert test(metric, good, bad, 1000, 0) < 0.01
    assert test(metric, bad, good, 1000, 0) < 0.01  # two-sided
    assert test(metric, good, good, 1000, 0) == 1.0
    assert test(metric, bad, close, 1000, 0) > 0.1
    assert test(metric, good, bad, 1000, 0) == test(metric, good, bad, 1000, 0)


def test_paired_tests_reject_misaligned_systems() -> None:
    metric = get_metric("exact_match")
    a = np.ones((5, 1))
    with pytest.raises(MetricError, match="same rows"):
        paired_bootstrap_test(metric, a, np.ones((4, 1)))
    with pytest.raises(MetricError, match="no rows"):
        paired_permutation_test(metric, np.ones((0, 1)), np.ones((0, 1)))
