"""The resampling statistics of ``metrics/bootstrap.py`` against references that do not use
its code: a seeded coverage simulation, exact bootstrap and permutation distributions
enumerated here, and scipy.

Each test is aimed at a plausible wrong statistic (a mutant of ``bootstrap.py``) and was seen
to fail on it:

(a) a 90% interval reported as 95% (``percentile_interval`` cutting ``100 * alpha`` from each
    tail instead of ``50 * alpha``): ``test_ci_covers_the_true_mean_at_the_stated_rate``.
(b) an unpaired bootstrap (A and B rows resampled with independent indices):
    ``test_paired_bootstrap_matches_exact_enumeration`` and ``..._for_bleu`` (both signs),
    ``test_paired_tests_are_symmetric[paired_bootstrap_test]``.
(c) a halved p-value: in ``paired_bootstrap_test``,
    ``test_paired_bootstrap_matches_exact_enumeration`` and ``..._for_bleu``; in
    ``paired_permutation_test``, ``test_permutation_matches_exact_sign_flips_and_scipy`` and
    ``test_permutation_matches_exact_swaps_for_bleu``.
(d) a one-sided test: counting ``delta* - delta >= |delta|`` (bootstrap) or
    ``delta_trial >= |delta|`` (permutation) kills every exact-enumeration test of that
    function and ``test_paired_tests_are_symmetric``; a signed observed ``delta`` where
    ``|delta|`` belongs is caught by the ``sign = -1`` cases (negative observed difference) of
    the exact enumerations and by ``test_paired_tests_are_symmetric``.

Monte-Carlo p-values are compared with the exact ones within four binomial standard errors,
with fixed seeds, so the tests are deterministic and a correct implementation is far inside
the tolerance.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from promptkit.metrics import (
    MetricContext,
    bootstrap_ci,
    get_metric,
    paired_bootstrap_test,
    paired_permutation_test,
)
from promptkit.metrics.base import AdditiveMetric
from scipy import stats

# Rows where the two systems' per-sample scores move together (hard rows are hard for both),
# so that pairing matters: the row-to-row spread is far larger than the spread of the
# per-row differences.
SCORES_A = np.array([0.92, 0.35, 0.71, 0.55, 0.18, 0.83])
SCORES_B = SCORES_A - np.array([0.10, 0.04, -0.06, 0.12, -0.05, 0.07])

# Twelve short translations by two systems for the BLEU checks.
REFS = [
    ["the cat sat on the mat"],
    ["a dog barked at night"],
    ["hello there world"],
    ["we went to the market today"],
    ["it is raining again"],
    ["she reads a book every week"],
    ["the train was late this morning"],
    ["open the window please"],
    ["my brother plays the guitar"],
    ["the soup is too hot"],
    ["they won the match easily"],
    ["birds fly south in winter"],
]
HYPS_A = [
    "the cat sat on the mat",
    "a dog barked at night",
    "hello world",
    "we went to market today",
    "it is raining again",
    "she reads a book each week",
    "the train was late",
    "open the window please",
    "my brother plays guitar",
    "the soup is hot",
    "they won the match",
    "birds fly south in winter",
]
HYPS_B = [
    "the cat is on a mat",
    "a dog barked loudly at night",
    "hello there world",
    "we go to the market",
    "it rains again",
    "she reads books every week",
    "the train is late this morning",
    "open window",
    "my brother plays the guitar",
    "soup is too hot",
    "they easily won",
    "birds fly in winter",
]


def _mc_tolerance(p: float, draws: int) -> float:
    """Four binomial standard errors of a Monte-Carlo p-value, plus its 1/(B+1) offset."""
    return 4.0 * math.sqrt(p * (1.0 - p) / draws) + 1.0 / (draws + 1)


def _compositions(total: int, parts: int) -> Iterator[tuple[int, ...]]:
    """Every way of writing ``total`` as an ordered sum of ``parts`` non-negative counts."""
    if parts == 1:
        yield (total,)
        return
    for first in range(total + 1):
        for rest in _compositions(total - first, parts - 1):
            yield (first, *rest)


def _exact_paired_bootstrap_p(
    value: Callable[[np.ndarray], float], value_b: Callable[[np.ndarray], float], n: int
) -> float:
    """Exact two-sided paired bootstrap p-value, P(|delta* - delta| >= |delta|).

    A joint resample of n rows (the same rows for A and B) is summarised by how often each
    row is drawn; a count vector c has probability n! / prod(c_i!) / n^n. ``value`` and
    ``value_b`` give each system's corpus value from a count vector.
    """
    ones = np.ones(n)
    observed = value(ones) - value_b(ones)
    counts = [np.array(c, dtype=np.float64) for c in _compositions(n, n)]
    assert len(counts) == math.comb(2 * n - 1, n)
    weights = [
        math.factorial(n) / math.prod(math.factorial(int(k)) for k in c) / n**n for c in counts
    ]
    assert math.isclose(sum(weights), 1.0)
    # Ties with |delta| (a resample at the same distance) count, up to rounding.
    threshold = abs(observed) * (1.0 - 1e-9)
    return sum(
        w
        for c, w in zip(counts, weights, strict=True)
        if abs(value(c) - value_b(c) - observed) >= threshold
    )


def _exact_swap_p(metric: AdditiveMetric, a: np.ndarray, b: np.ndarray) -> float:
    """Exact two-sided permutation p-value over all 2^n ways of swapping rows between A and
    B: P(|delta_swap| >= |delta|), the identity included."""
    n = len(a)

    def delta(rows_a: np.ndarray, rows_b: np.ndarray) -> float:
        totals_a, totals_b = rows_a.sum(axis=0), rows_b.sum(axis=0)
        return metric.score_totals(totals_a, n) - metric.score_totals(totals_b, n)

    threshold = abs(delta(a, b)) * (1.0 - 1e-9)
    hits = 0
    for pattern in itertools.product((False, True), repeat=n):
        swap = np.array(pattern)[:, None]
        hits += abs(delta(np.where(swap, b, a), np.where(swap, a, b))) >= threshold
    return hits / 2**n


def _bleu_stats() -> tuple[np.ndarray, np.ndarray]:
    bleu = get_metric("bleu")
    ctx = MetricContext(language="en")
    return bleu.stats(HYPS_A, REFS, ctx), bleu.stats(HYPS_B, REFS, ctx)


def test_ci_covers_the_true_mean_at_the_stated_rate() -> None:
    # Kills (a). Token-F1-like scores from Beta(2, 3), true mean 40 on the 0-100 scale; at
    # n = 100 the percentile bootstrap of a mean is accurate, so a 95% interval covers the
    # mean in ~95% of data sets (a 90% one labelled 95% in ~89.5%).
    metric = get_metric("token_f1")
    rng = np.random.default_rng(2024)
    sims, n = 1000, 100
    covered = 0
    for sim in range(sims):
        sample = rng.beta(2.0, 3.0, size=n).reshape(-1, 1)
        low, high = bootstrap_ci(metric, sample, 500, 0.05, sim)
        covered += low <= 40.0 <= high
    assert 0.93 <= covered / sims <= 0.97, covered / sims


@pytest.mark.parametrize("sign", [1, -1])
def test_paired_bootstrap_matches_exact_enumeration(sign: int) -> None:
    # Kills (b), (c) and, with sign = -1 (negative observed difference), (d).
    a, b = (SCORES_A, SCORES_B) if sign == 1 else (SCORES_B, SCORES_A)
    n = len(a)
    p_exact = _exact_paired_bootstrap_p(lambda c: 100.0 * c @ a / n, lambda c: 100.0 * c @ b / n, n)
    assert 0.15 < p_exact < 0.3  # a p-value where every mutant lands far away
    metric = get_metric("token_f1")
    draws = 20000
    p = paired_bootstrap_test(metric, a.reshape(-1, 1), b.reshape(-1, 1), draws, 0)
    assert abs(p - p_exact) <= _mc_tolerance(p_exact, draws), (p, p_exact)


@pytest.mark.parametrize("sign", [1, -1])
def test_paired_bootstrap_matches_exact_enumeration_for_bleu(sign: int) -> None:
    # Corpus BLEU is not a mean: the exact distribution is built from resampled count totals.
    bleu = get_metric("bleu")
    assert isinstance(bleu, AdditiveMetric)
    stats_a, stats_b = _bleu_stats()
    rows = [1, 2, 4, 6, 8, 10]  # six rows where A's BLEU lead is real but not decisive
    stats_a, stats_b = stats_a[rows], stats_b[rows]
    if sign == -1:
        stats_a, stats_b = stats_b, stats_a
    n = len(stats_a)
    p_exact = _exact_paired_bootstrap_p(
        lambda c: bleu.score_totals(c @ stats_a, n), lambda c: bleu.score_totals(c @ stats_b, n), n
    )
    assert 0.15 < p_exact < 0.4
    draws = 20000
    p = paired_bootstrap_test(bleu, stats_a, stats_b, draws, 1)
    assert abs(p - p_exact) <= _mc_tolerance(p_exact, draws), (p, p_exact)


@pytest.mark.parametrize("sign", [1, -1])
def test_permutation_matches_exact_sign_flips_and_scipy(sign: int) -> None:
    # Kills (c) and (d). Binary outcomes on 12 rows: 9 discordant, 7 of them won by A.
    a = np.array([1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 1], dtype=np.float64)
    b = np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1], dtype=np.float64)
    if sign == -1:
        a, b = b, a
    metric = get_metric("accuracy")
    # Swapping row i flips the sign of d_i = a_i - b_i: enumerate all 2^12 sign patterns.
    d = 100.0 * (a - b)
    flips = np.array(list(itertools.product((1.0, -1.0), repeat=len(d))))
    null = flips @ d / len(d)
    observed = d.mean()
    p_exact = float(np.mean(np.abs(null) >= abs(observed) * (1.0 - 1e-9)))
    # Two independent references agree with the enumeration: scipy's exact permutation test,
    # and the sign test on the discordant rows (2 * P(X <= 2), X ~ Binomial(9, 1/2)).
    scipy_p = stats.permutation_test(
        (a, b),
        lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=np.inf,
        alternative="two-sided",
    ).pvalue
    assert p_exact == pytest.approx(scipy_p, rel=1e-12)
    assert p_exact == pytest.approx(stats.binomtest(2, 9, 0.5).pvalue, rel=1e-12)
    draws = 20000
    p = paired_permutation_test(metric, a.reshape(-1, 1), b.reshape(-1, 1), draws, 0)
    assert abs(p - p_exact) <= _mc_tolerance(p_exact, draws), (p, p_exact)


@pytest.mark.parametrize("sign", [1, -1])
def test_permutation_matches_exact_swaps_for_bleu(sign: int) -> None:
    # Kills (c) and (d) for a non-mean metric: all 2^12 swap patterns of corpus BLEU.
    bleu = get_metric("bleu")
    stats_a, stats_b = _bleu_stats()
    if sign == -1:
        stats_a, stats_b = stats_b, stats_a
    assert isinstance(bleu, AdditiveMetric)
    p_exact = _exact_swap_p(bleu, stats_a, stats_b)
    assert 0.03 < p_exact < 0.1
    draws = 10000
    p = paired_permutation_test(bleu, stats_a, stats_b, draws, 0)
    assert abs(p - p_exact) <= _mc_tolerance(p_exact, draws), (p, p_exact)


@pytest.mark.parametrize("test", [paired_bootstrap_test, paired_permutation_test])
def test_paired_tests_are_symmetric(test: Callable[..., float]) -> None:
    # Kills (d): a two-sided test cannot depend on which system is called A. With the same
    # seed both orders see the same resamples, so the p-values are equal exactly.
    token_f1 = get_metric("token_f1")
    a, b = SCORES_A.reshape(-1, 1), SCORES_B.reshape(-1, 1)
    assert test(token_f1, a, b, 2000, 3) == test(token_f1, b, a, 2000, 3)
    bleu = get_metric("bleu")
    stats_a, stats_b = _bleu_stats()
    assert test(bleu, stats_a, stats_b, 500, 3) == test(bleu, stats_b, stats_a, 500, 3)
