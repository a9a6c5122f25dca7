"""One pair of methods on one metric, on the same rows: the difference, its test and its interval.

Which test runs is decided by the metric, never by a seed:

- a mean of per-row scores (:class:`~promptkit.metrics.base.MeanMetric`: exact match, accuracy,
  token F1, ROUGE) gets the cluster-robust t of :func:`~promptkit.metrics.inference.cluster_mean`
  on the per-row differences (``paired-t`` on independent rows, ``cluster-t-cr2`` on grouped
  ones), with the between-seed variance of each method added when it was trained with several
  seeds (``+seeds``). p-value, interval and minimum detectable difference all come from that
  one t distribution, so they agree with each other.
- a corpus metric (BLEU, chrF, macro F1, hub metrics) gets the paired sign-flip test over
  groups (exact with few groups, Monte Carlo drawn until settled otherwise), or the two-level
  bootstrap test when a method has several seeds; its interval and MDD use the standard error
  of the paired (cluster) bootstrap of the difference with t quantiles at ``G - 1`` degrees of
  freedom (a standard error from 4,000 draws moves by about 1% with the seed, a percentile
  endpoint by far more; an equivalence claim must clear the margin by that error, see
  :meth:`PairTest.within`). That interval is not the inversion of the sign-flip test: near the
  threshold the two can disagree, and "worse" is read from the test. The two-level bootstrap
  for multi-seed corpus metrics is not level-checked by simulation.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from promptkit.metrics.base import FloatArray, MeanMetric, Metric
from promptkit.metrics.inference import (
    MeanEstimate,
    ResampledP,
    SizeNeeded,
    cluster_mean,
    min_detectable,
    sequential_p,
    sign_flip_test,
    size_needed,
    smallest_exact_difference,
)
from promptkit.metrics.significance import two_level_bootstrap_values, two_level_paired_bootstrap_test

# Bootstrap draws behind the standard error of a corpus metric's difference.
SE_RESAMPLES = 4000


@dataclass(frozen=True)
class PairTest:
    """The comparison ``a - b`` of two methods on one metric.

    Attributes:
        estimate: the difference of the (seed-averaged) metric values.
        p: two-sided p-value of no difference.
        test: which test gave ``p`` (see the module docstring).
        resamples: draws behind ``p`` (None: analytic or exactly enumerated).
        settled: False when a resampled p stayed within Monte Carlo error of a threshold.
        spread: the t distribution of the estimate (its standard error and degrees of freedom,
            the part from training seeds, rows and groups).
        binary: right/wrong scores on both sides with one seed each (the exact-test floor of the
            MDD applies).
        flat: every row's difference is the same (no discordant row, or all discordant one way):
            the t test has no spread to work with, so the interval is the bound of
            :meth:`_flat_halfwidth`.
        se_draws: bootstrap draws behind ``spread.se`` (corpus metrics; 0: analytic). Its
            relative Monte Carlo error is about ``1 / sqrt(2 * se_draws)``, and an equivalence
            claim must clear the margin by that much.
        largest_group: rows in the largest group (the flat bound counts groups of that size).
    """

    estimate: float
    p: float
    test: str
    resamples: int | None
    settled: bool
    spread: MeanEstimate
    binary: bool
    flat: bool = False
    se_draws: int = 0
    largest_group: int = 1

    def _flat_halfwidth(self, alpha: float, groups: float | None = None) -> float:
        """Where every difference is alike, the share of rows on which the two methods would
        differ (the other way) is only bounded: with none among ``G`` independent groups, the
        one-sided ``1 - alpha/2`` Clopper-Pearson bound on the share of groups is
        ``1 - (alpha/2)**(1/G)``. Groups differ in size, so ``G`` counts groups of the largest
        size that the rows could fill (``n / largest``): a bound on the share of rows. A per-row
        score moves the mean by at most 100 per row."""
        effective = self.spread.n / self.largest_group if groups is None else groups
        return 100.0 * (1.0 - (alpha / 2.0) ** (1.0 / max(effective, 1.0)))

    def interval(self, alpha: float) -> tuple[float, float]:
        if not self.flat:
            return self.spread.interval(alpha)
        half = self._flat_halfwidth(alpha)
        low, high = max(-100.0, self.estimate - half), min(100.0, self.estimate + half)
        if self.p >= alpha:  # the exact test does not reject: the interval keeps 0, as it must
            low, high = min(low, 0.0), max(high, 0.0)
        return low, high

    def within(self, margin: float, alpha: float) -> bool:
        """Whether the level-``alpha`` interval lies within ``±margin`` (equivalence), with a
        bootstrap standard error's Monte Carlo error (3.29 of its relative sd: 99.9%) added to the
        half-width first, so that no other resampling seed would decide otherwise."""
        low, high = self.interval(alpha)
        if self.se_draws:
            slack = 3.29 * (high - low) / 2.0 / math.sqrt(2.0 * self.se_draws)
            low, high = low - slack, high + slack
        return -margin < low and high < margin

    def mdd(self, alpha: float, power: float = 0.8) -> float:
        """Smallest true difference this test detects with ``power`` at two-sided ``alpha`` (the
        family's adjusted level): from the test's own standard error, and for right/wrong
        outcomes never below what an exact test on these rows can reject at all."""
        if self.flat:
            return max(self._flat_halfwidth(alpha), smallest_exact_difference(self.spread.n, alpha))
        value = min_detectable(self.spread.se, self.spread.df, alpha, power)
        if self.binary:
            value = max(value, smallest_exact_difference(self.spread.n, alpha))
        return value

    def size_needed(self, gap: float, alpha: float, power: float = 0.8, separate: bool = False) -> SizeNeeded:
        """Test-set size at which this comparison would detect ``gap`` (``separate``: the observed
        difference) or bound the difference within it (see
        :func:`~promptkit.metrics.inference.size_needed`). With flat differences: the groups at
        which the exact test's smallest p, ``2 / 2**G``, falls to ``alpha`` (to separate), or at
        which the bound of :meth:`interval` falls to ``gap``."""
        if not self.flat:
            return size_needed(self.spread, gap, alpha, power)
        if gap <= 0.0:
            return SizeNeeded(None, None, "not at this difference (beyond the margin)")
        per_group = self.spread.n / self.spread.groups
        if separate:
            groups = max(self.spread.groups, math.ceil(1.0 + math.log2(1.0 / alpha)))
        elif gap >= 100.0:
            groups = self.spread.groups
        else:
            # largest-size groups whose bound is gap, converted to groups of the observed sizes
            needed = math.log(alpha / 2.0) / math.log(1.0 - gap / 100.0)
            groups = max(2, math.ceil(needed * self.largest_group / per_group))
        return SizeNeeded(groups, math.ceil(groups * per_group))


def _seed_terms(metric: Metric, stats_by_seed: Sequence[FloatArray]) -> tuple[float, int]:
    values = [metric.aggregate(s) for s in stats_by_seed]
    if len(values) < 2:
        return 0.0, len(values)
    return float(np.var(values, ddof=1)) / len(values), len(values)


def paired_test(metric: Metric, stats_a: Sequence[FloatArray], stats_b: Sequence[FloatArray],
                groups: Sequence[object] | None = None, thresholds: Sequence[float] = (0.05,),
                n_boot: int = 1000, seed: int = 0) -> PairTest:
    """Compare methods A and B on the same rows (one statistics array per training seed each).

    Args:
        metric: the metric both were scored with.
        stats_a / stats_b: ``(n, k)`` statistics per seed, rows in the same order.
        groups: one label per row (clustered rows), or None.
        thresholds: the p-value thresholds decisions will be taken at (a resampled p is drawn
            until it is clear of each); analytic tests ignore them.
        n_boot: first block of draws of a resampled test (and at least that many bootstrap
            draws behind a corpus metric's standard error).
        seed: root of the resampling streams.
    """
    delta = float(np.mean([metric.aggregate(s) for s in stats_a]) - np.mean([metric.aggregate(s) for s in stats_b]))
    single = len(stats_a) == 1 and len(stats_b) == 1
    clustered = groups is not None and len(set(groups)) < len(groups)
    if isinstance(metric, MeanMetric):
        diffs = (np.mean([metric.sample_scores(s) for s in stats_a], axis=0)
                 - np.mean([metric.sample_scores(s) for s in stats_b], axis=0))
        spread = cluster_mean(diffs, groups).with_seed_variance([_seed_terms(metric, stats_a), _seed_terms(metric, stats_b)])
        if spread.se == 0.0:
            # Every difference alike: no t test. The exact sign-flip test over groups gives
            # p = 2 / 2**G when they all point one way (only no swap and every swap reach it).
            p = 1.0 if delta == 0.0 else min(1.0, 2.0 ** (1 - spread.groups))
            test = ("cluster" if clustered else "paired") + "-sign-flip-exact" + ("" if single else "+seeds")
            largest = max(Counter(groups).values()) if groups is not None else 1
            return PairTest(delta, p, test, None, True, spread, single and metric.binary, flat=True, largest_group=largest)
        test = ("cluster-t-cr2" if clustered else "paired-t") + ("" if single else "+seeds")
        return PairTest(delta, spread.p_value(), test, None, True, spread, single and metric.binary)
    draws = max(n_boot, SE_RESAMPLES)
    spread = _bootstrap_spread(metric, stats_a, stats_b, groups, draws, seed, delta)
    if single:
        result = sign_flip_test(metric, stats_a[0], stats_b[0], groups, thresholds, seed=seed, start=max(n_boot, 1))
        test = "sign-flip-exact" if result.resamples is None else "sign-flip"
    else:
        result = _two_level_p(metric, stats_a, stats_b, groups, thresholds, n_boot, seed)
        test = "two-level-bootstrap"
    test = ("cluster-" if clustered else "paired-") + test
    return PairTest(delta, result.p, test, result.resamples, result.settled, spread, False, se_draws=draws)


def _bootstrap_spread(metric: Metric, stats_a: Sequence[FloatArray], stats_b: Sequence[FloatArray],
                      groups: Sequence[object] | None, n_boot: int, seed: int, delta: float) -> MeanEstimate:
    """The standard error of ``a - b`` from the paired (cluster, two-level over seeds) bootstrap,
    as a t spread with ``G - 1`` degrees of freedom."""
    values_a = two_level_bootstrap_values(metric, stats_a, n_boot, seed, groups)
    values_b = two_level_bootstrap_values(metric, stats_b, n_boot, seed, groups)  # same row resamples
    n = len(stats_a[0])
    n_groups = len(set(groups)) if groups is not None else n
    se = float(np.nanstd(values_a - values_b, ddof=1))
    return MeanEstimate(delta, se if math.isfinite(se) else 0.0, float(max(n_groups - 1, 1)), n, n_groups)


def _two_level_p(metric: Metric, stats_a: Sequence[FloatArray], stats_b: Sequence[FloatArray],
                 groups: Sequence[object] | None, thresholds: Sequence[float], n_boot: int, seed: int) -> ResampledP:
    def draw(b: int, k: int) -> int:
        p = two_level_paired_bootstrap_test(metric, stats_a, stats_b, n_boot=b, seed=seed * 1_000_003 + k, groups=groups)
        return round(p * (b + 1)) - 1

    return sequential_p(draw, thresholds, start=max(n_boot, 1))
