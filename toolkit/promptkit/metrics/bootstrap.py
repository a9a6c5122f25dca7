"""Resampling statistics over per-sample metric statistics: confidence intervals and paired
significance tests.

Everything works on the ``(n, k)`` statistics a :class:`~promptkit.metrics.base.Metric`
returns, so a resample costs a sum and a formula, not a re-tokenization. Resampled row indices
come from ``numpy.random.default_rng(seed)`` in a fixed order, so the same ``(n, n_boot,
seed)`` gives the same resamples to every metric and every call.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from promptkit.metrics.base import (
    AdditiveMetric,
    FloatArray,
    IntArray,
    Metric,
    MetricError,
)

# Differences are compared up to this relative rounding error: totals summed in another order
# must not turn a tie with the observed difference into a miss.
_REL_TOL = 1e-9

# Upper bound on the entries of one (resamples x rows) index block, to bound memory on large
# test sets (4M int64 entries = 32 MiB) while keeping numpy calls large.
_BLOCK_ENTRIES = 1 << 22


def _check_stats(stats: FloatArray, what: str = "stats") -> None:
    if stats.ndim != 2:
        raise MetricError(f"{what} must be a 2-D (rows, statistics) array, got shape {stats.shape}")
    if len(stats) == 0:
        raise MetricError(f"{what} has no rows: nothing to resample")


def _check_count(value: int, name: str) -> None:
    if value < 1:
        raise MetricError(f"{name} must be at least 1, got {value!r}")


def resample_indices(n: int, n_boot: int, seed: int) -> Iterator[IntArray]:
    """Yield bootstrap resamples of ``n`` rows, drawn with replacement.

    Args:
        n: number of rows.
        n_boot: number of resamples in total.
        seed: seed of the numpy ``Generator``.

    Yields:
        Blocks of shape ``(b, n)``; block sizes depend only on ``n``, so the sequence of
        resamples is a function of ``(n, n_boot, seed)``.
    """
    rng = np.random.default_rng(seed)
    block = max(1, _BLOCK_ENTRIES // max(n, 1))
    left = n_boot
    while left > 0:
        b = min(block, left)
        yield rng.integers(0, n, size=(b, n), dtype=np.int64)
        left -= b


def group_codes(groups: Sequence[object] | None, n: int) -> IntArray | None:
    """Each row's cluster as an integer (clusters numbered by first appearance), or None when
    there are no groups or every row is its own group (the row bootstrap is then exact)."""
    if groups is None:
        return None
    if len(groups) != n:
        raise MetricError(f"groups must give one group per row, got {len(groups)} for {n} rows")
    numbers: dict[object, int] = {}
    codes = np.array([numbers.setdefault(g, len(numbers)) for g in groups], dtype=np.int64)
    return None if len(numbers) == n else codes


def resample_counts(n: int, n_boot: int, seed: int, groups: Sequence[object] | None = None) -> Iterator[IntArray]:
    """Yield bootstrap resamples as row multiplicities, blocks of shape ``(b, n)``.

    Without ``groups`` these are the resamples of :func:`resample_indices` (same ``n``,
    ``n_boot``, ``seed``), counted. With ``groups`` (one label per row: the article of each
    question, say) it is a cluster bootstrap: each resample draws as many groups as there are,
    with replacement, and takes every row of each drawn group. Rows of one group are not
    independent (questions about one paragraph succeed or fail together), and resampling them
    one by one gives intervals that are too narrow; resampling whole groups keeps that
    dependence (Field and Welsh, 2007). Resample sizes then vary around ``n``.
    """
    codes = group_codes(groups, n)
    if codes is None:
        for idx in resample_indices(n, n_boot, seed):
            b = len(idx)
            offsets = idx + (np.arange(b, dtype=np.int64) * n)[:, None]
            yield np.bincount(offsets.ravel(), minlength=b * n).reshape(b, n)
        return
    n_groups = int(codes.max()) + 1
    rng = np.random.default_rng(seed)
    block = max(1, _BLOCK_ENTRIES // max(n, 1))
    left = n_boot
    while left > 0:
        b = min(block, left)
        drawn = rng.integers(0, n_groups, size=(b, n_groups), dtype=np.int64)
        offsets = drawn + (np.arange(b, dtype=np.int64) * n_groups)[:, None]
        per_group = np.bincount(offsets.ravel(), minlength=b * n_groups).reshape(b, n_groups)
        yield per_group[:, codes]
        left -= b


def bootstrap_values(metric: Metric, stats: FloatArray, n_boot: int, seed: int,
                     groups: Sequence[object] | None = None) -> FloatArray:
    """The metric's corpus value on each of ``n_boot`` bootstrap resamples of the rows (of the
    groups of rows, with ``groups``: see :func:`resample_counts`)."""
    _check_stats(stats)
    _check_count(n_boot, "n_boot")
    blocks = [metric.aggregate_counts(stats, counts) for counts in resample_counts(len(stats), n_boot, seed, groups)]
    return np.concatenate(blocks)


def percentile_interval(values: FloatArray, alpha: float) -> tuple[float, float]:
    """The central ``1 - alpha`` percentile interval of bootstrap values.

    Raises:
        MetricError: ``alpha`` is not strictly between 0 and 1.
    """
    if not 0.0 < alpha < 1.0:
        raise MetricError(f"alpha must be between 0 and 1 (0.05 for a 95% interval), got {alpha!r}")
    low, high = np.percentile(values, [50.0 * alpha, 100.0 - 50.0 * alpha])
    return float(low), float(high)


def bootstrap_ci(
    metric: Metric,
    stats: FloatArray,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    groups: Sequence[object] | None = None,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of a corpus metric.

    Rows are resampled with replacement and the corpus value recomputed from the resample's
    statistics (for BLEU: summed n-gram counts, not averaged sentence BLEU).

    Args:
        metric: the metric that produced ``stats``.
        stats: its ``(n, k)`` per-row statistics.
        n_boot: number of resamples.
        alpha: 0.05 for a 95% interval.
        seed: seed of the resampling.
        groups: one label per row; resample whole groups (a cluster bootstrap) instead of rows.

    Returns:
        ``(low, high)``, on the metric's scale.
    """
    return percentile_interval(bootstrap_values(metric, stats, n_boot, seed, groups), alpha)


def _check_pair(stats_a: FloatArray, stats_b: FloatArray, same_columns: bool) -> None:
    _check_stats(stats_a, "stats_a")
    _check_stats(stats_b, "stats_b")
    if len(stats_a) != len(stats_b):
        raise MetricError(
            f"paired test needs both systems scored on the same rows, got {len(stats_a)} and "
            f"{len(stats_b)} rows"
        )
    if same_columns and stats_a.shape != stats_b.shape:
        raise MetricError(
            f"statistics of the two systems differ in shape ({stats_a.shape} vs "
            f"{stats_b.shape}); for macro_f1 give both the same labels"
        )


def paired_bootstrap_test(
    metric: Metric,
    stats_a: FloatArray,
    stats_b: FloatArray,
    n_boot: int = 1000,
    seed: int = 0,
    groups: Sequence[object] | None = None,
) -> float:
    """Two-sided p-value that systems A and B differ, by paired bootstrap.

    Rows are resampled jointly (row ``i`` of A is always paired with row ``i`` of B) and the
    corpus difference ``delta* = metric(A*) - metric(B*)`` recomputed per resample. Its
    distribution is shifted to the null hypothesis by subtracting the observed ``delta``
    (Berg-Kirkpatrick et al., 2012, made two-sided), and::

        p = (1 + #{|delta* - delta| >= |delta|}) / (n_boot + 1)

    The ``+1`` keeps the test valid with a finite number of resamples (p is never 0);
    identical systems get ``p = 1``.

    Args:
        metric: the metric that produced both statistics.
        stats_a: statistics of system A, shape ``(n, k)``.
        stats_b: statistics of system B on the same rows in the same order.
        n_boot: number of resamples; p cannot go below ``1 / (n_boot + 1)``.
        seed: seed of the resampling.
        groups: one label per row; resample whole groups, jointly for A and B (a paired
            cluster bootstrap).

    Returns:
        The p-value in ``(0, 1]``.

    Raises:
        MetricError: no rows, or the two systems have different numbers of rows.
    """
    _check_pair(stats_a, stats_b, same_columns=False)
    _check_count(n_boot, "n_boot")
    observed = metric.aggregate(stats_a) - metric.aggregate(stats_b)
    threshold = abs(observed) - _REL_TOL * max(1.0, abs(observed))
    exceed = 0
    for counts in resample_counts(len(stats_a), n_boot, seed, groups):
        deltas = metric.aggregate_counts(stats_a, counts) - metric.aggregate_counts(stats_b, counts)
        exceed += int(np.count_nonzero(np.abs(deltas - observed) >= threshold))
    return (exceed + 1) / (n_boot + 1)


def paired_permutation_test(
    metric: Metric,
    stats_a: FloatArray,
    stats_b: FloatArray,
    n_trials: int = 10000,
    seed: int = 0,
) -> float:
    """Two-sided p-value that systems A and B differ, by approximate randomization.

    Under the null hypothesis the two systems' outputs for a row are exchangeable, so each
    trial swaps every row between A and B with probability 1/2 and recomputes the corpus
    difference (Noreen, 1989; Riezler and Maxwell, 2005; sacrebleu's ``--paired-ar``)::

        p = (1 + #{|delta_trial| >= |delta|}) / (n_trials + 1)

    Args:
        metric: the metric that produced both statistics.
        stats_a: statistics of system A, shape ``(n, k)``.
        stats_b: statistics of system B on the same rows, same shape.
        n_trials: number of random swaps; p cannot go below ``1 / (n_trials + 1)``.
        seed: seed of the swaps.

    Returns:
        The p-value in ``(0, 1]``.

    Raises:
        MetricError: no rows, or the statistics differ in shape.
    """
    _check_pair(stats_a, stats_b, same_columns=True)
    _check_count(n_trials, "n_trials")
    n = len(stats_a)
    observed = abs(metric.aggregate(stats_a) - metric.aggregate(stats_b))
    threshold = observed - _REL_TOL * max(1.0, observed)
    rng = np.random.default_rng(seed)
    block = max(1, _BLOCK_ENTRIES // n)
    exceed = 0
    left = n_trials
    while left > 0:
        b = min(block, left)
        left -= b
        swap = rng.integers(0, 2, size=(b, n), dtype=np.int8).astype(bool)
        if isinstance(metric, AdditiveMetric):
            # Swapping rows moves (stats_b - stats_a) of the swapped rows from A's totals to
            # B's, so each trial costs one matrix product instead of two copies.
            moved = swap.astype(np.float64) @ (stats_b - stats_a)
            totals_a, totals_b = stats_a.sum(axis=0), stats_b.sum(axis=0)
            scores_a = metric.score_totals_batch(totals_a + moved, n)
            scores_b = metric.score_totals_batch(totals_b - moved, n)
            deltas = scores_a - scores_b
        else:
            deltas = np.array(
                [
                    metric.aggregate(np.where(mask[:, None], stats_b, stats_a))
                    - metric.aggregate(np.where(mask[:, None], stats_a, stats_b))
                    for mask in swap
                ]
            )
        exceed += int(np.count_nonzero(np.abs(deltas) >= threshold))
    return (exceed + 1) / (n_trials + 1)
