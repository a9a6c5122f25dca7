"""Paired tests and their wording: the exact McNemar test, Holm's adjustment, a normal-theory
minimum detectable difference, the two-level (training seed x test row) bootstrap, and how
p-values are written. The verdict's own tests live in promptkit.metrics.inference and
promptkit.metrics.paired; McNemar and this MDD stay as public functions (and references).

Everything here is numpy and the standard library: scipy is a test-time reference only, so
``import promptkit.metrics`` stays cheap. Random streams come from explicit integer seeds; the
caller derives them from the run seed (``derive(seed, "bootstrap")``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from promptkit.metrics.base import FloatArray, Metric, MetricError
from promptkit.metrics.bootstrap import (
    _check_count,
    _check_stats,
    group_codes,
    percentile_interval,
    resample_counts,
)

# A p-value this close (relatively) to a resampling test's floor 1 / (B + 1) is at the floor:
# adjusted or recomputed values must not slip past the check by a rounding error.
_FLOOR_REL_TOL = 1e-9


def _binary_outcomes(values: npt.ArrayLike, name: str) -> npt.NDArray[np.bool_]:
    """Per-row correctness from 0/1, 0/100 or boolean outcomes, shape ``(n,)``."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MetricError(f"{name} must be numeric 0/1 outcomes, got {values!r}") from exc
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]  # the (n, 1) statistics of accuracy / exact_match
    if array.ndim != 1:
        raise MetricError(f"{name} must be one outcome per row, got shape {array.shape}")
    bad = np.flatnonzero(~np.isin(array, (0.0, 1.0, 100.0)))  # NaN is never in the set
    if len(bad):
        row = int(bad[0])
        raise MetricError(
            f"{name}[{row}] = {float(array[row])!r} is not a binary outcome; expected 0/1, 0/100 "
            "or bools"
        )
    # 1 and 100 in one array would make "correct" ambiguous: refuse rather than guess a scale.
    if np.any(array == 1.0) and np.any(array == 100.0):
        row = int(np.flatnonzero(array == 100.0)[0])
        raise MetricError(
            f"{name}[{row}] = 100.0 but {name} also holds 1.0; use one scale, 0/1 or 0/100"
        )
    return array > 0.0


def mcnemar_exact(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Two-sided exact McNemar test that two systems are equally often right on the same rows.

    Only discordant rows carry information: with ``n01`` rows where only B is right and ``n10``
    where only A is, under the null each discordant row is a fair coin, so::

        p = min(1, 2 * P(X <= min(n01, n10))),   X ~ Binomial(n01 + n10, 1/2)

    and ``p = 1`` when no row is discordant. The binomial tail is exact: the largest term's
    coefficient is an exact integer (``math.comb``) divided by ``2**(N - 1)`` in integer
    arithmetic (correctly rounded), and the smaller terms are summed as ratios to it, so the
    relative error stays near 1e-14 for ``N`` up to 1e5 and beyond, where ``lgamma`` would lose
    ten digits to cancellation.

    Args:
        a: per-row outcomes of system A: 0/1, 0/100 (per-sample scores) or bools; shape
            ``(n,)`` or the ``(n, 1)`` statistics of ``accuracy`` / ``exact_match``.
        b: the outcomes of system B on the same rows in the same order.

    Returns:
        The p-value in ``[0, 1]`` (0.0 only where it underflows, beyond 1e-308).

    Raises:
        MetricError: a value is not a binary outcome, the arrays differ in length, or they
            are empty.
    """
    right_a = _binary_outcomes(a, "a")
    right_b = _binary_outcomes(b, "b")
    if len(right_a) != len(right_b):
        raise MetricError(
            f"paired test needs both systems scored on the same rows, got {len(right_a)} and "
            f"{len(right_b)} rows"
        )
    if len(right_a) == 0:
        raise MetricError("a and b have no rows: nothing to compare")
    n10 = int(np.count_nonzero(right_a & ~right_b))
    n01 = int(np.count_nonzero(~right_a & right_b))
    total, low = n01 + n10, min(n01, n10)
    if total == 0:
        return 1.0
    # sum_{k <= low} C(N, k) = C(N, low) * (1 + r_1 + r_1 r_2 + ...), r_j = C(N, low-j) / C(N,
    # low-j+1) = (low-j+1) / (N-low+j) < 1: the ratios shrink geometrically away from the
    # largest term, so a float cumulative product loses nothing that matters.
    j = np.arange(1, low + 1, dtype=np.float64)
    ratios = np.cumprod((low - j + 1.0) / (total - low + j))
    tail_sum = 1.0 + float(ratios.sum())
    # 2 * C(N, low) / 2**N as one correctly rounded division of exact integers.
    lead = math.comb(total, low) / (1 << (total - 1))
    return min(1.0, lead * tail_sum)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values, which control the family-wise error rate.

    With the ``m`` finite p-values sorted ascending, ``p_(1) <= ... <= p_(m)``::

        adj_(i) = max_{j <= i} min(1, (m - j + 1) * p_(j))

    Rejecting every hypothesis with ``adj <= alpha`` is Holm's procedure at level alpha. NaN
    entries (a comparison that could not be computed) come back as NaN and do not count in
    ``m``, so a missing comparison does not make the others stricter.

    Args:
        pvalues: raw p-values in [0, 1] or NaN, in any order.

    Returns:
        The adjusted p-values in the input order.

    Raises:
        MetricError: a value is outside [0, 1].
    """
    values = np.asarray(pvalues, dtype=np.float64).reshape(-1)
    finite = ~np.isnan(values)
    bad = np.flatnonzero(finite & ((values < 0.0) | (values > 1.0)))
    if len(bad):
        i = int(bad[0])
        raise MetricError(f"pvalues[{i}] = {float(values[i])!r} is not a p-value in [0, 1]")
    adjusted = np.full(len(values), np.nan)
    where = np.flatnonzero(finite)
    m = len(where)
    if m:
        # A stable sort keeps ties in input order; ties get equal adjusted values either way.
        order = where[np.argsort(values[where], kind="stable")]
        scaled = np.minimum(1.0, (m - np.arange(m)) * values[order])
        adjusted[order] = np.maximum.accumulate(scaled)
    return [float(v) for v in adjusted]


def min_detectable_difference(
    diffs: npt.ArrayLike, alpha: float = 0.05, power: float = 0.8, groups: Sequence[object] | None = None
) -> float:
    """Smallest true mean paired difference that these rows would detect with this power.

    For a two-sided level-``alpha`` test of the mean of ``n`` paired differences (normal
    approximation)::

        MDD = (z_{1 - alpha/2} + z_{power}) * sd(diffs, ddof=1) / sqrt(n)

    It uses the *observed* spread of the differences as if it were the true one, and ignores
    the (negligible) chance of rejecting in the wrong direction. A verdict "no significant
    difference" is only informative about differences at least this large.

    With ``groups`` the standard error ``sd / sqrt(n)`` becomes the cluster-robust one,
    ``sqrt(G / (G - 1) * sum_g (sum_{i in g} (d_i - mean))^2) / n`` over the ``G`` groups: rows
    of one group that move together count closer to one row than to several. With every row
    its own group it equals ``sd / sqrt(n)``.

    Args:
        diffs: per-row differences ``score_a - score_b`` on the metric's scale, shape ``(n,)``
            (or ``(n, 1)``).
        alpha: level of the test, 0.05 for 95%.
        power: wanted probability of rejecting when the true difference is the MDD.
        groups: one label per row (clustered rows), or None for independent rows.

    Returns:
        The MDD on the scale of ``diffs``; 0.0 when all differences are equal (no spread
        observed, e.g. identical systems), where no sampling noise is visible to detect
        through.

    Raises:
        MetricError: fewer than two rows, a non-finite difference, or ``alpha`` / ``power``
            not strictly between 0 and 1.
    """
    if not 0.0 < alpha < 1.0:
        raise MetricError(f"alpha must be between 0 and 1 (0.05 for a 95% test), got {alpha!r}")
    if not 0.0 < power < 1.0:
        raise MetricError(f"power must be between 0 and 1 (0.8 is usual), got {power!r}")
    values = np.asarray(diffs, dtype=np.float64)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise MetricError(f"diffs must be one difference per row, got shape {values.shape}")
    if len(values) < 2:
        raise MetricError(f"diffs needs at least 2 rows to estimate a spread, got {len(values)}")
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise MetricError(f"diffs[{int(bad[0])}] = {float(values[bad[0]])!r} is not finite")
    sd = float(np.std(values, ddof=1))
    if sd == 0.0:
        return 0.0
    codes = group_codes(groups, len(values))
    if codes is None:
        se = sd / math.sqrt(len(values))
    else:
        n_groups = int(codes.max()) + 1
        sums = np.bincount(codes, weights=values - values.mean(), minlength=n_groups)
        se = math.sqrt(n_groups / (n_groups - 1) * float(np.sum(sums**2))) / len(values) if n_groups > 1 else float("inf")
    z = NormalDist()
    return (z.inv_cdf(1.0 - alpha / 2.0) + z.inv_cdf(power)) * se


def _round_up_one_digit(value: float) -> str:
    """``value`` rounded up to one significant digit, as a plain decimal (0.000999 -> 0.001)."""
    # Shrink first so that a value already on the grid (1/1000 stored as 0.0010000000000000000208)
    # stays there instead of rounding up to 0.002.
    target = value * (1.0 - _FLOOR_REL_TOL)
    exponent = math.floor(math.log10(target))
    digit = math.ceil(target / 10.0**exponent)
    if digit == 10:
        digit, exponent = 1, exponent + 1
    return f"{digit * 10.0**exponent:.{max(0, -exponent)}f}"


def format_p_bound(p: float) -> str:
    """An upper bound on a p-value, rounded up so it never understates it: ``"p ≤ 0.008"``.

    For a Holm-adjusted p computed from a resampling p at its floor: the adjusted value is then
    only a bound too (``0.0003`` for three tests at B = 10000, never ``"p ≤ 0.000"``).
    """
    if math.isnan(p):
        return "p = –"
    if p >= 1.0:
        return "p ≤ 1"
    return f"p ≤ {_round_up_one_digit(p)}"


def format_p(p: float, n_resamples: int | None = None) -> str:
    """A p-value as a report writes it: ``"p = 0.034"``.

    Three decimals; below 0.001 an exact test reads ``"p < 0.001"``. A resampling test cannot
    give less than its floor ``1 / (B + 1)``, so a p at that floor only says "below about
    1/B": it reads ``"p < 0.001 (B = 1000)"``, the bound being the floor rounded up to one
    significant digit (0.005 for B = 200, 0.0001 for B = 10000), never ``"p = 0.001"``.
    Adjusted p-values use the same function; only a value at the floor itself gets the bound.

    Args:
        p: the p-value in [0, 1], or NaN for a comparison that could not be made.
        n_resamples: the number ``B`` of resamples or trials of a resampling test; None for an
            exact test.

    Returns:
        The formatted p-value; ``"p = –"`` for NaN.

    Raises:
        MetricError: ``p`` is outside [0, 1] or ``n_resamples`` is below 1.
    """
    if math.isnan(p):
        return "p = –"
    if not 0.0 <= p <= 1.0:
        raise MetricError(f"p must be a p-value in [0, 1], got {p!r}")
    if n_resamples is not None:
        _check_count(n_resamples, "n_resamples")
        floor = 1.0 / (n_resamples + 1)
        if p <= floor * (1.0 + _FLOOR_REL_TOL):
            return f"p < {_round_up_one_digit(floor)} (B = {n_resamples})"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}"


def _check_seeds(stats_by_seed: Sequence[FloatArray]) -> int:
    if len(stats_by_seed) == 0:
        raise MetricError("stats_by_seed is empty: give the statistics of at least one seed")
    for i, stats in enumerate(stats_by_seed):
        _check_stats(stats, f"stats_by_seed[{i}]")
    rows = [len(stats) for stats in stats_by_seed]
    if len(set(rows)) > 1:
        raise MetricError(
            f"every seed must be scored on the same test rows, got {rows} rows per seed"
        )
    return rows[0]


def two_level_bootstrap_values(
    metric: Metric, stats_by_seed: Sequence[FloatArray], n_boot: int, seed: int,
    groups: Sequence[object] | None = None,
) -> FloatArray:
    """Bootstrap values that vary both the training seed and the test sample.

    Each resample draws ``S`` seeds with replacement from the ``S`` trained seeds, and one
    resample of the test rows; the rows are the same test examples for every seed, so all
    drawn seeds share that row resample. Its value is the mean over the drawn seeds of the
    metric on the resampled rows. The row resamples are exactly those of
    :func:`~promptkit.metrics.bootstrap.bootstrap_values` for the same ``seed`` (the seed draws
    use a child stream of it), so with one seed the values are identical to it.

    Args:
        metric: the metric that produced the statistics.
        stats_by_seed: one ``(n, k)`` statistics array per training seed, same rows in the
            same order.
        n_boot: number of resamples.
        seed: seed of the resampling.
        groups: one label per row; the row level resamples whole groups (cluster bootstrap).

    Returns:
        The ``n_boot`` values, on the metric's scale.

    Raises:
        MetricError: no seeds, a seed with no rows, or seeds scored on different numbers of
            rows.
    """
    n = _check_seeds(stats_by_seed)
    _check_count(n_boot, "n_boot")
    # spawn() gives a stream independent of default_rng(seed), which draws the rows.
    seed_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    blocks = [_seed_means(metric, stats_by_seed, counts, seed_rng) for counts in resample_counts(n, n_boot, seed, groups)]
    return np.concatenate(blocks)


def _seed_means(metric: Metric, stats_by_seed: Sequence[FloatArray], counts: npt.NDArray[np.int64],
                seed_rng: np.random.Generator) -> FloatArray:
    """For each row resample of ``counts`` (row multiplicities): draw the seeds with
    replacement, average their values."""
    b, n_seeds = len(counts), len(stats_by_seed)
    # per_seed[s, j]: seed s on row resample j, through the counts @ stats path of additive
    # metrics; the drawn seeds then only pick and average rows of this (S, b) table.
    per_seed = np.stack([metric.aggregate_counts(stats, counts) for stats in stats_by_seed])
    if n_seeds == 1:
        return np.asarray(per_seed[0], dtype=np.float64)
    drawn = seed_rng.integers(0, n_seeds, size=(b, n_seeds), dtype=np.int64)
    means = per_seed[drawn, np.arange(b)[:, None]].mean(axis=1)
    # Resampling S seeds shrinks their variance by (S - 1) / S (3 seeds: by a third); scale the
    # seed-level deviation back so the between-seed spread is estimated without that bias.
    centre = per_seed.mean(axis=0)
    return np.asarray(centre + math.sqrt(n_seeds / (n_seeds - 1)) * (means - centre), dtype=np.float64)


def two_level_paired_bootstrap_test(
    metric: Metric,
    stats_a: Sequence[FloatArray],
    stats_b: Sequence[FloatArray],
    n_boot: int = 1000,
    seed: int = 0,
    groups: Sequence[object] | None = None,
) -> float:
    """Two-sided p-value that methods A and B differ, over training seeds and test rows.

    The paired bootstrap of :func:`~promptkit.metrics.bootstrap.paired_bootstrap_test` with a
    second level: each resample draws one row resample shared by both methods (same test
    examples) and, independently for each method, its seeds with replacement; the difference
    of the seed means, shifted by the observed difference, gives the null distribution::

        p = (1 + #{|delta* - delta| >= |delta|}) / (n_boot + 1)

    A method evaluated once (zero-shot, a saved adapter) has one "seed" and contributes only
    row variance. With one seed on both sides the resamples are those of the single-level test.

    Args:
        metric: the metric that produced the statistics.
        stats_a: one ``(n, k)`` statistics array per seed of A.
        stats_b: the same for B, on the same rows in the same order.
        n_boot: number of resamples; p cannot go below ``1 / (n_boot + 1)``.
        seed: seed of the resampling.
        groups: one label per row; the shared row resample draws whole groups.

    Returns:
        The p-value in ``(0, 1]``.

    Raises:
        MetricError: no seeds or rows, or arrays scored on different numbers of rows.
    """
    n = _check_seeds([*stats_a, *stats_b])
    _check_count(n_boot, "n_boot")
    observed = float(np.mean([metric.aggregate(s) for s in stats_a]) - np.mean([metric.aggregate(s) for s in stats_b]))
    threshold = abs(observed) - 1e-9 * max(1.0, abs(observed))
    rng_a, rng_b = (np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(2))
    exceed = 0
    for counts in resample_counts(n, n_boot, seed, groups):
        deltas = _seed_means(metric, stats_a, counts, rng_a) - _seed_means(metric, stats_b, counts, rng_b)
        exceed += int(np.count_nonzero(np.abs(deltas - observed) >= threshold))
    return (exceed + 1) / (n_boot + 1)


def two_level_bootstrap_ci(
    metric: Metric,
    stats_by_seed: Sequence[FloatArray],
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    groups: Sequence[object] | None = None,
) -> tuple[float, float]:
    """Percentile interval of the seed-averaged metric over training seeds and test rows.

    A sample-only interval of the seed mean ignores that another set of training seeds
    would have given another model; this one resamples both (see
    :func:`two_level_bootstrap_values`). With one seed it equals
    :func:`~promptkit.metrics.bootstrap.bootstrap_ci` with the same ``seed``. Like any
    bootstrap over seeds it can only see the spread among the seeds it is given: with three
    seeds whose spread dominates the test-sample noise it is too narrow.

    Args:
        metric: the metric that produced the statistics.
        stats_by_seed: one ``(n, k)`` statistics array per training seed, same rows.
        n_boot: number of resamples.
        alpha: 0.05 for a 95% interval.
        seed: seed of the resampling.
        groups: one label per row; the row level resamples whole groups.

    Returns:
        ``(low, high)``, on the metric's scale.

    Raises:
        MetricError: as :func:`two_level_bootstrap_values`, or ``alpha`` outside (0, 1).
    """
    return percentile_interval(
        two_level_bootstrap_values(metric, stats_by_seed, n_boot, seed, groups), alpha
    )
