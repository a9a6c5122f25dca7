"""Inference that holds its level with few groups and does not move with a resampling seed.

Evaluation rows come in groups (questions about one article succeed or fail together), and a
test set often has 10-40 of them. At that size the cluster bootstrap is liberal: simulated at
16 articles x 5 questions its 5% paired test rejected a true null 6.6-7.0% of the time and its
95% interval covered 90.6% (84% for rates near 5%). So every decision promptkit prints is made
with tests whose level holds there and whose answer is a function of the data alone:

- **Means of per-row scores** (exact match, accuracy, token F1, ROUGE) and paired differences
  of them: the cluster-robust variance CR2 (Bell and McCaffrey, 2002) with Bell-McCaffrey
  degrees of freedom, compared to Student's t. For the mean (an intercept-only regression)
  both have closed forms, below; with every row its own group CR2 is ``s**2 / n`` and the
  degrees of freedom ``n - 1``: the paired t-test. With equal groups the degrees of freedom
  are ``G - 1``. Analytic, so no seed is involved.
- **Rates** (right/wrong metrics): a Wilson interval with the effective sample size
  ``n_eff = p (1 - p) / var_CR2`` (the design effect) and Student's t quantile at the same
  degrees of freedom (Korn and Graubard, 1998, in Wilson's form). A symmetric t interval
  covers badly near 0 and 100; Wilson's does not.
- **Corpus metrics** (BLEU, chrF, macro F1: ratios of summed statistics): a paired sign-flip
  (randomization) test that swaps whole groups between the two systems. With few groups every
  one of the ``2**G`` swaps is enumerated: exact, no seed. With more, swaps are drawn and the
  number drawn grows (:func:`sequential_p`) until the Monte Carlo error of p is clear of the
  decision threshold, so no other seed would flip the decision.

Training seeds add their own variance: :meth:`MeanEstimate.with_seed_variance` adds the
between-seed variance of each method's mean, with Satterthwaite's degrees of freedom.

Everything is numpy and the standard library (Student's t through the regularized incomplete
beta function); scipy is the test-time reference.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from promptkit.metrics.base import AdditiveMetric, FloatArray, IntArray, Metric, MetricError

# Groups up to this many are enumerated exactly by the sign-flip test (2**16 = 65,536 swaps).
EXACT_SIGN_FLIP_GROUPS = 16
# A resampled p is decided once its Monte Carlo interval at this level excludes the threshold.
MC_CONFIDENCE = 0.999
# Resampled tests stop at this many draws even if p is still within Monte Carlo error.
MAX_RESAMPLES = 200_000


# --- Student's t without scipy ----------------------------------------------------------------

def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        for num in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function ``I_x(a, b)``, ``a, b > 0``, ``0 <= x <= 1``."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_sf(t: float, df: float) -> float:
    """``P(T > t)`` for Student's t with ``df`` degrees of freedom (``inf``: the normal)."""
    if math.isnan(t) or math.isnan(df):
        return float("nan")
    if math.isinf(df):
        return 1.0 - NormalDist().cdf(t)
    if math.isinf(t):
        return 0.0 if t > 0 else 1.0
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return tail if t >= 0 else 1.0 - tail


def t_ppf(q: float, df: float) -> float:
    """The ``q`` quantile of Student's t with ``df`` degrees of freedom (``inf``: the normal)."""
    if not 0.0 < q < 1.0:
        raise MetricError(f"quantile level must be strictly between 0 and 1, got {q!r}")
    if math.isinf(df) or df > 1e7:
        return NormalDist().inv_cdf(q)
    if q < 0.5:
        return -t_ppf(1.0 - q, df)
    # Bracket, then bisect on the survival function (monotone): 200 halvings reach the float grid.
    target = 1.0 - q
    low, high = 0.0, max(1.0, NormalDist().inv_cdf(q))
    while t_sf(high, df) > target:
        low, high = high, high * 2.0
    for _ in range(200):
        mid = 0.5 * (low + high)
        if mid in (low, high):
            break
        if t_sf(mid, df) > target:
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)


# --- cluster-robust means -----------------------------------------------------------------------

@dataclass(frozen=True)
class MeanEstimate:
    """A mean (or mean paired difference) with its standard error and degrees of freedom.

    Attributes:
        estimate: the mean, on the scale of the values.
        se: its standard error (CR2 cluster-robust; plus seed variance where added).
        df: degrees of freedom of the t reference distribution.
        n / groups: rows and groups (every row its own group when ungrouped).
        seed_var: the part of ``se**2`` that comes from training seeds (0 without), and
            ``seed_df`` its Satterthwaite degrees of freedom.
    """

    estimate: float
    se: float
    df: float
    n: int
    groups: int
    seed_var: float = 0.0
    seed_df: float = math.inf

    def interval(self, alpha: float) -> tuple[float, float]:
        """The two-sided ``1 - alpha`` t interval (a point when ``se`` is 0)."""
        if self.se == 0.0:
            return self.estimate, self.estimate
        half = t_ppf(1.0 - alpha / 2.0, self.df) * self.se
        return self.estimate - half, self.estimate + half

    def p_value(self, null: float = 0.0) -> float:
        """Two-sided p-value of ``mean == null``."""
        if self.se == 0.0:
            return 1.0 if self.estimate == null else 0.0
        return min(1.0, 2.0 * t_sf(abs(self.estimate - null) / self.se, self.df))

    def with_seed_variance(self, terms: Sequence[tuple[float, int]]) -> MeanEstimate:
        """Add the variance of training seeds: one ``(variance of the seed mean, seeds)`` term per
        method trained with several seeds (``s**2 / S`` over its ``S`` seeds); the degrees of
        freedom follow Satterthwaite (each term has ``S - 1``)."""
        terms = [(v, s) for v, s in terms if s > 1]
        if not terms:
            return self
        rows_var = self.se**2
        seed_var = sum(v for v, _ in terms)
        total = rows_var + seed_var
        if total == 0.0:
            return replace(self, seed_var=0.0)
        seed_denom = sum(v**2 / (s - 1) for v, s in terms)
        denom = (rows_var**2 / self.df if rows_var else 0.0) + seed_denom
        df = total**2 / denom if denom > 0 else self.df
        seed_df = seed_var**2 / seed_denom if seed_denom > 0 else math.inf
        return replace(self, se=math.sqrt(total), df=df, seed_var=seed_var, seed_df=seed_df)


def _codes(groups: Sequence[object] | None, n: int) -> IntArray:
    if groups is None:
        return np.arange(n, dtype=np.int64)
    if len(groups) != n:
        raise MetricError(f"groups must give one group per row, got {len(groups)} for {n} rows")
    numbers: dict[object, int] = {}
    return np.array([numbers.setdefault(g, len(numbers)) for g in groups], dtype=np.int64)


def _as_rows(values: npt.ArrayLike, what: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise MetricError(f"{what} must be one value per row, got shape {array.shape}")
    bad = np.flatnonzero(~np.isfinite(array))
    if len(bad):
        raise MetricError(f"{what}[{int(bad[0])}] = {float(array[bad[0]])!r} is not finite")
    return array


def cluster_mean(values: npt.ArrayLike, groups: Sequence[object] | None = None) -> MeanEstimate:
    """The mean of per-row values with its CR2 standard error and Bell-McCaffrey degrees of freedom.

    With residuals ``e_i = y_i - mean``, group sums ``u_g`` and sizes ``n_g`` (``n`` rows, ``G``
    groups), the hat matrix of the mean is ``11'/n`` and its CR2 adjustment scales each group's
    sum by ``(1 - n_g/n)**-1/2``::

        var = sum_g u_g**2 / (1 - n_g/n) / n**2

    The degrees of freedom are Bell and McCaffrey's ``tr(M)**2 / tr(M @ M)`` for the quadratic
    form ``var = e' M e`` under independent rows of equal variance, which for the mean reduces
    to sums over groups (``w_g = 1 / (1 - n_g/n)``)::

        tr(M)     ∝ sum_g w_g n_g (1 - n_g/n)
        tr(M M)   ∝ sum_g w_g**2 n_g**2 (1 - n_g/n)**2 + (sum_g w_g n_g**2)**2 / n**2 - sum_g w_g**2 n_g**4 / n**2

    Equal groups give ``G - 1``; one row per group gives ``n - 1`` and ``var = s**2 / n``.

    Args:
        values: one value per row, shape ``(n,)`` (or ``(n, 1)``).
        groups: one label per row, or None for independent rows.

    Raises:
        MetricError: fewer than two groups, a non-finite value, or a group label per row missing.
    """
    y = _as_rows(values, "values")
    n = len(y)
    codes = _codes(groups, n)
    n_groups = int(codes.max()) + 1 if n else 0
    if n_groups < 2:
        raise MetricError(f"a standard error needs at least 2 groups of rows, got {n_groups}")
    mean = float(y.mean())
    sizes = np.bincount(codes, minlength=n_groups).astype(np.float64)
    sums = np.bincount(codes, weights=y - mean, minlength=n_groups)
    share = sizes / n
    w = 1.0 / (1.0 - share)
    var = float(np.sum(w * sums**2)) / n**2
    trace = float(np.sum(w * sizes * (1.0 - share)))
    ws2 = w * sizes**2
    trace_sq = float(np.sum((w * sizes * (1.0 - share)) ** 2) + (ws2.sum() ** 2 - np.sum(ws2**2)) / n**2)
    df = trace**2 / trace_sq
    return MeanEstimate(mean, math.sqrt(max(var, 0.0)), df, n, n_groups)


def rate_interval(values: npt.ArrayLike, groups: Sequence[object] | None = None,
                  alpha: float = 0.05, scale: float = 1.0) -> tuple[float, float]:
    """Wilson interval of a rate with the design effect of clustered rows; ``values`` are 0 or
    ``scale`` (1, or 100 for per-sample scores on the 0-100 scale), and so is the interval.

    The effective sample size is ``n_eff = p (1 - p) / var_CR2`` (at most ``n``; ``n`` when the
    observed rate is 0 or 1 and no variance is seen), and Wilson's interval is taken with
    ``n_eff`` rows and Student's t quantile at the Bell-McCaffrey degrees of freedom instead of
    the normal one.
    """
    y = _as_rows(values, "values")
    est = cluster_mean(y / scale, groups)
    p = est.estimate
    n_eff = float(est.n)
    if 0.0 < p < 1.0 and est.se > 0.0:
        n_eff = min(n_eff, p * (1.0 - p) / est.se**2)
    c = t_ppf(1.0 - alpha / 2.0, est.df)
    c2 = c * c
    centre = (p + c2 / (2.0 * n_eff)) / (1.0 + c2 / n_eff)
    half = c / (1.0 + c2 / n_eff) * math.sqrt(p * (1.0 - p) / n_eff + c2 / (4.0 * n_eff**2))
    # Wilson's interval contains p; at p = 0 or 1 rounding must not put an end a hair past it
    return scale * min(p, max(0.0, centre - half)), scale * max(p, min(1.0, centre + half))


def mean_interval(values: npt.ArrayLike, groups: Sequence[object] | None = None, alpha: float = 0.05,
                  binary: bool = False, scale: float = 100.0) -> tuple[float, float]:
    """The interval of a mean of per-row scores (0 to ``scale``): Wilson with the design effect
    for right/wrong scores (``binary``), the CR2 t interval otherwise."""
    if binary:
        return rate_interval(values, groups, alpha, scale)
    return cluster_mean(values, groups).interval(alpha)


# --- resampled p-values that a seed cannot flip ---------------------------------------------------

@dataclass(frozen=True)
class ResampledP:
    """A p-value from resampling: ``(1 + exceed) / (resamples + 1)``, or an exact enumeration.

    Attributes:
        p: the p-value.
        resamples: draws made (None: every swap enumerated, the p-value is exact).
        settled: False when the cap was reached with p still within Monte Carlo error of a
            threshold: a decision at that threshold is not made from it.
    """

    p: float
    resamples: int | None
    settled: bool = True


def sequential_p(draw: Callable[[int, int], int], thresholds: Sequence[float], start: int = 1000,
                 cap: int = MAX_RESAMPLES) -> ResampledP:
    """A Monte Carlo p-value drawn until no threshold lies within its Monte Carlo error.

    ``draw(b, k)`` makes ``b`` new draws from the ``k``-th independent stream and returns how
    many were at least as extreme as the observed statistic. Blocks double (``start``, then the
    total so far) until, for every threshold, ``|p - threshold|`` exceeds the ``MC_CONFIDENCE``
    normal bound of ``p``'s Monte Carlo error, or ``cap`` draws were made. A p that the error
    bound separates from the threshold would be on the same side of it for almost every seed.
    """
    z = NormalDist().inv_cdf(0.5 + MC_CONFIDENCE / 2.0)
    exceed, total, k = 0, 0, 0
    block = max(1, start)
    while True:
        exceed += draw(block, k)
        total += block
        k += 1
        p = (exceed + 1) / (total + 1)
        err = z * math.sqrt(max(p * (1.0 - p), 1.0 / total) / total)
        clear = all(abs(p - t) > err for t in thresholds)
        if clear or total >= cap:
            return ResampledP(p, total, clear)
        block = min(total, cap - total)


def sign_flip_test(metric: Metric, stats_a: FloatArray, stats_b: FloatArray, groups: Sequence[object] | None = None,
                   thresholds: Sequence[float] = (0.05,), seed: int = 0, start: int = 1000) -> ResampledP:
    """Two-sided paired randomization test that systems A and B are exchangeable, swapping whole
    groups (rows without groups) between them and recomputing the corpus difference.

    With at most ``EXACT_SIGN_FLIP_GROUPS`` groups all ``2**G`` swaps are enumerated and
    ``p = #{|delta_swap| >= |delta|} / 2**G`` is exact (at least ``2 / 2**G``: the identity and
    the full swap). With more, swaps are drawn by :func:`sequential_p` with streams derived
    from ``seed``.
    """
    if stats_a.shape != stats_b.shape or stats_a.ndim != 2 or len(stats_a) == 0:
        raise MetricError(f"paired test needs statistics of one shape on the same rows, got {stats_a.shape} and "
                          f"{stats_b.shape}")
    n = len(stats_a)
    codes = _codes(groups, n)
    n_groups = int(codes.max()) + 1
    observed = abs(metric.aggregate(stats_a) - metric.aggregate(stats_b))
    threshold = observed - 1e-9 * max(1.0, observed)
    moved = np.zeros((n_groups, stats_a.shape[1]))
    np.add.at(moved, codes, stats_b - stats_a)
    totals_a, totals_b = stats_a.sum(axis=0), stats_b.sum(axis=0)

    def count(masks: npt.NDArray[np.float64]) -> int:
        if isinstance(metric, AdditiveMetric):
            shift = masks @ moved
            deltas = metric.score_totals_batch(totals_a + shift, n) - metric.score_totals_batch(totals_b - shift, n)
        else:
            rows = masks[:, codes].astype(bool)
            deltas = np.array([metric.aggregate(np.where(r[:, None], stats_b, stats_a))
                               - metric.aggregate(np.where(r[:, None], stats_a, stats_b)) for r in rows])
        return int(np.count_nonzero(np.abs(deltas) >= threshold))

    if n_groups <= EXACT_SIGN_FLIP_GROUPS:
        total = 1 << n_groups
        exceed = 0
        for start_at in range(0, total, 1 << 14):
            ids = np.arange(start_at, min(total, start_at + (1 << 14)), dtype=np.int64)
            masks = ((ids[:, None] >> np.arange(n_groups)) & 1).astype(np.float64)
            exceed += count(masks)
        return ResampledP(exceed / total, None)

    def draw(b: int, k: int) -> int:
        rng = np.random.default_rng(np.random.SeedSequence([seed, k]))
        return count(rng.integers(0, 2, size=(b, n_groups)).astype(np.float64))

    return sequential_p(draw, thresholds, start=start)


# --- what a test can detect, and what it would need ---------------------------------------------

def smallest_exact_difference(n: int, alpha: float) -> float:
    """The smallest difference in rate (0-100) an exact paired test of right/wrong outcomes on ``n``
    rows can reject at two-sided ``alpha``: ``k`` rows where only one system is right, none the
    other way, reach ``p = 2 * 0.5**k``; below ``k / n`` nothing can be significant."""
    k = max(1, math.ceil(math.log2(2.0 / alpha)))
    return 100.0 * k / n if n else float("inf")


def min_detectable(se: float, df: float, alpha: float, power: float = 0.8) -> float:
    """Smallest true difference a two-sided level-``alpha`` t test with this standard error detects
    with probability ``power``: ``(t_{1-alpha/2} + t_{power}) * se``."""
    if se == 0.0:
        return 0.0
    return (t_ppf(1.0 - alpha / 2.0, df) + t_ppf(power, df)) * se


@dataclass(frozen=True)
class SizeNeeded:
    """Test-set size at which a t test with the observed spread would reach a goal.

    Attributes:
        groups / rows: how many (None: more rows cannot reach it, the seed variance alone is
            too large, or the goal is out of reach at the observed difference).
        why: the reason when None.
    """

    groups: int | None
    rows: int | None
    why: str = ""


def size_needed(est: MeanEstimate, gap: float, alpha: float, power: float = 0.8) -> SizeNeeded:
    """The fewest groups ``G'`` (and rows, at the observed rows per group) at which a t test detects
    ``gap`` with ``power`` at ``alpha``: the row part of the variance shrinks as ``G / G'``, the
    seed part does not, and the quantiles are taken at the Satterthwaite degrees of freedom of
    the two parts (``G' - 1`` for the rows, ``seed_df`` for the seeds)::

        mdd(G') = (t_{1-alpha/2, df'} + t_{power, df'}) * sqrt(rows_var * G / G' + seed_var)

    ``mdd`` falls as ``G'`` grows, so the smallest ``G'`` with ``mdd(G') <= gap`` is found by
    doubling then bisection; none exists when the seed part alone, at infinitely many groups,
    stays above ``gap``. The answer is at least the observed ``G``: an inconclusive comparison
    is not told that fewer rows would do.
    """
    if gap <= 0.0:
        return SizeNeeded(None, None, "not at this difference (beyond the margin)")
    rows_var = max(est.se**2 - est.seed_var, 0.0)
    seed_df = est.seed_df if est.seed_var > 0 else math.inf
    if (t_ppf(1.0 - alpha / 2.0, seed_df) + t_ppf(power, seed_df)) * math.sqrt(est.seed_var) >= gap:
        return SizeNeeded(None, None, "not with more rows (the training-seed variance alone exceeds it)")

    def mdd(groups: int) -> float:
        rows_part = rows_var * est.groups / groups
        total = rows_part + est.seed_var
        denom = rows_part**2 / max(groups - 1, 1) + (est.seed_var**2 / seed_df if est.seed_var else 0.0)
        df = total**2 / denom if denom > 0 else float(max(groups - 1, 1))
        return (t_ppf(1.0 - alpha / 2.0, df) + t_ppf(power, df)) * math.sqrt(total)

    low, high = 1, 2  # mdd(low) > gap is kept true (groups = 1 has no variance estimate at all)
    while mdd(high) > gap:
        low, high = high, high * 2
        if high > 10**12:
            return SizeNeeded(None, None, "beyond any test set")  # pragma: no cover - guards the loop
    while high - low > 1:
        mid = (low + high) // 2
        if mdd(mid) <= gap:
            high = mid
        else:
            low = mid
    groups = max(high, est.groups)
    return SizeNeeded(groups, math.ceil(groups * est.n / est.groups))
