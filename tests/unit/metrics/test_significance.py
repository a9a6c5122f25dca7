"""Exact McNemar, Holm, minimum detectable difference, p-value wording and the two-level
bootstrap, each checked against a reference computed independently of the code: scipy, a
brute-force definition written here, or a seeded simulation whose right answer is known."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from promptkit.metrics import (
    MetricContext,
    MetricError,
    bootstrap_ci,
    format_p,
    get_metric,
    holm,
    mcnemar_exact,
    min_detectable_difference,
    two_level_bootstrap_ci,
    two_level_bootstrap_values,
)
from promptkit.metrics.bootstrap import bootstrap_values
from scipy import stats

# --- mcnemar_exact ---------------------------------------------------------------------------


def _scipy_mcnemar(a: np.ndarray, b: np.ndarray) -> float:
    n10 = int(np.sum(a & ~b))
    n01 = int(np.sum(~a & b))
    if n01 + n10 == 0:
        return 1.0  # binomtest refuses n = 0; no discordant pair is no evidence at all
    return float(stats.binomtest(min(n01, n10), n01 + n10, 0.5).pvalue)


def test_mcnemar_textbook_example() -> None:
    # 15 rows only B gets right, 5 only A: 2 * P(X <= 5), X ~ Binomial(20, 1/2), by hand.
    a = np.array([0] * 15 + [1] * 5 + [1] * 30 + [0] * 10)
    b = np.array([1] * 15 + [0] * 5 + [1] * 30 + [0] * 10)
    exact = 2 * Fraction(sum(math.comb(20, k) for k in range(6)), 2**20)
    assert mcnemar_exact(a, b) == pytest.approx(float(exact), rel=1e-14)
    assert float(exact) == pytest.approx(stats.binomtest(5, 20, 0.5).pvalue, rel=1e-12)
    assert mcnemar_exact(b, a) == mcnemar_exact(a, b)


@pytest.mark.parametrize("n", [1, 2, 7, 40, 300, 5000])
def test_mcnemar_matches_scipy_binomtest(n: int) -> None:
    rng = np.random.default_rng(n)
    for trial in range(25):
        # Agreement from total to none, and skewed win rates, so the discordant count runs
        # from 0 to n and the p-value from 1 down to underflow-scale tails.
        agree = rng.random()
        a = rng.random(n) < rng.random()
        b = np.where(rng.random(n) < agree, a, rng.random(n) < rng.random())
        expected = _scipy_mcnemar(a, b)
        got = mcnemar_exact(a, b)
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-300), (n, trial)
        # The same outcomes as 0/1 ints, 0/100 per-sample scores and (n, 1) statistics.
        assert mcnemar_exact(a.astype(int), 100.0 * b) == got
        assert mcnemar_exact(a.astype(float).reshape(-1, 1), b) == got


def test_mcnemar_discordant_edge_cases() -> None:
    same = np.array([1, 0, 1, 1, 0])
    assert mcnemar_exact(same, same) == 1.0  # no discordant pair
    one = same.copy()
    one[0] = 0
    assert mcnemar_exact(same, one) == 1.0 == stats.binomtest(0, 1, 0.5).pvalue
    # Every discordant pair one way: 2 / 2**N exactly.
    a, b = np.ones(30, dtype=bool), np.zeros(30, dtype=bool)
    assert mcnemar_exact(a, b) == 2.0**-29


def test_mcnemar_is_exact_for_100000_discordant_pairs() -> None:
    # N = 1e5 discordant pairs split 49.5% / 50.5% (p ~ 0.0016), where lgamma would lose
    # ten digits to cancellation.
    n01, n10 = 49_500, 50_500
    a = np.r_[np.zeros(n01), np.ones(n10)]
    b = 1.0 - a
    expected = stats.binomtest(n01, n01 + n10, 0.5).pvalue
    assert mcnemar_exact(a, b) == pytest.approx(expected, rel=1e-9)


def test_mcnemar_rejects_non_binary_input() -> None:
    with pytest.raises(MetricError, match=r"a\[2\] = 0.5 is not a binary outcome"):
        mcnemar_exact([1, 0, 0.5], [1, 0, 1])
    with pytest.raises(MetricError, match=r"b\[1\] = 100.0 but b also holds 1.0"):
        mcnemar_exact([1, 0, 1], [1, 100, 1])
    with pytest.raises(MetricError, match=r"b\[0\] = nan"):
        mcnemar_exact([1], [float("nan")])
    with pytest.raises(MetricError, match="same rows, got 3 and 2"):
        mcnemar_exact([1, 0, 1], [1, 0])
    with pytest.raises(MetricError, match="no rows"):
        mcnemar_exact([], [])


# --- holm ------------------------------------------------------------------------------------


def _holm_by_procedure(pvalues: list[float]) -> list[float]:
    """Holm adjusted p-values from the definition: the smallest level at which Holm's
    step-down procedure rejects the hypothesis (1 if it never does at a level <= 1)."""
    finite = [i for i, p in enumerate(pvalues) if not math.isnan(p)]
    m = len(finite)
    ranked = sorted(finite, key=lambda i: pvalues[i])

    def rejected(level: float) -> set[int]:
        out: set[int] = set()
        for k, i in enumerate(ranked):  # reject while p_(k) <= level / (m - k)
            if pvalues[i] * (m - k) > level:
                break
            out.add(i)
        return out

    # The rejected set only changes at levels (m - k) * p_(k), so those are the candidates.
    levels = sorted({min(1.0, (m - k) * pvalues[i]) for k, i in enumerate(ranked)} | {1.0})
    adjusted = [math.nan] * len(pvalues)
    for i in finite:
        adjusted[i] = min((lv for lv in levels if i in rejected(lv)), default=1.0)
    return adjusted


def test_holm_matches_step_down_procedure() -> None:
    rng = np.random.default_rng(0)
    for _ in range(300):
        m = int(rng.integers(1, 9))
        p = rng.random(m) ** 3  # many small p-values, where the adjustment matters
        p[rng.random(m) < 0.2] = np.nan
        if m > 1 and rng.random() < 0.3:
            p[1] = p[0]  # ties
        values = [float(v) for v in p]
        got = holm(values)
        want = _holm_by_procedure(values)
        assert len(got) == len(values)
        for g, w in zip(got, want, strict=True):
            assert (math.isnan(g) and math.isnan(w)) or g == pytest.approx(w, rel=1e-12)


def test_holm_known_values_and_properties() -> None:
    # Textbook example: 0.01, 0.04, 0.03, 0.005 -> 4*0.005, 3*0.01, max(2*0.03, .), 1*0.04.
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    p = [0.2, math.nan, 0.001, 0.9, 0.04, math.nan, 0.3]
    adj = holm(p)
    assert [math.isnan(v) for v in adj] == [math.isnan(v) for v in p]
    # NaN does not count in m: the finite values are adjusted as a family of five.
    assert adj[2] == pytest.approx(5 * 0.001)
    finite = sorted((v, a) for v, a in zip(p, adj, strict=True) if not math.isnan(v))
    adjusted_in_order = [a for _, a in finite]
    assert adjusted_in_order == sorted(adjusted_in_order)  # monotone in the raw order
    assert all(a >= v for v, a in finite) and max(adjusted_in_order) <= 1.0
    assert holm([0.6, 0.7, 0.9]) == [1.0, 1.0, 1.0]  # capped
    assert holm([]) == []


def test_holm_rejects_non_p_values() -> None:
    with pytest.raises(MetricError, match=r"pvalues\[1\] = 1.5 is not a p-value"):
        holm([0.1, 1.5])


# --- min_detectable_difference ---------------------------------------------------------------


def _ternary(rng: np.random.Generator, size: tuple[int, ...], up: float, down: float) -> np.ndarray:
    """Paired differences of a binary metric on the 0-100 scale: +100, -100 or 0."""
    u = rng.random(size)
    return np.where(u < up, 100.0, np.where(u < up + down, -100.0, 0.0))


def test_mdd_matches_hand_formula() -> None:
    rng = np.random.default_rng(1)
    diffs = _ternary(rng, (300,), 0.2, 0.1)
    sd = np.std(diffs, ddof=1)
    for alpha, power in [(0.05, 0.8), (0.01, 0.9), (0.1, 0.5)]:
        want = (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * sd / math.sqrt(300)
        assert min_detectable_difference(diffs, alpha, power) == pytest.approx(want, rel=1e-9)
    assert min_detectable_difference(diffs.reshape(-1, 1)) == min_detectable_difference(diffs)


@pytest.mark.parametrize("shape", ["normal", "ternary"])
def test_mdd_gives_the_stated_power(shape: str) -> None:
    # Pilot differences fix the spread; data sets whose true mean difference is the MDD (same
    # spread) must then be detected by a two-sided 5% paired z-test about 80% of the time.
    rng = np.random.default_rng(7)
    n, sims = 200, 2000
    pilot = _ternary(rng, (n,), 0.2, 0.1)
    mdd = min_detectable_difference(pilot, 0.05, 0.8)
    var = float(np.var(pilot, ddof=1))
    if shape == "normal":
        data = rng.normal(mdd, math.sqrt(var), size=(sims, n))
    else:  # P(+100) - P(-100) = mdd / 100 and P(+100) + P(-100) = (var + mdd^2) / 100^2
        total, net = (var + mdd**2) / 1e4, mdd / 100.0
        data = _ternary(rng, (sims, n), (total + net) / 2, (total - net) / 2)
    z = data.mean(axis=1) / (data.std(axis=1, ddof=1) / math.sqrt(n))
    rejected = float(np.mean(np.abs(z) > stats.norm.ppf(0.975)))
    assert 0.76 <= rejected <= 0.84, rejected


def test_mdd_edge_cases() -> None:
    assert min_detectable_difference([5.0, 5.0, 5.0]) == 0.0  # no spread observed
    with pytest.raises(MetricError, match="at least 2 rows"):
        min_detectable_difference([1.0])
    with pytest.raises(MetricError, match=r"diffs\[1\] = nan is not finite"):
        min_detectable_difference([1.0, float("nan")])
    with pytest.raises(MetricError, match="alpha"):
        min_detectable_difference([1.0, 2.0], alpha=1.0)
    with pytest.raises(MetricError, match="power"):
        min_detectable_difference([1.0, 2.0], power=0.0)


# --- format_p --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_resamples", "bound"),
    [(1000, "0.001"), (10000, "0.0001"), (200, "0.005"), (999, "0.001"), (249, "0.004")],
)
def test_format_p_at_the_resampling_floor(n_resamples: int, bound: str) -> None:
    floor = (0 + 1) / (n_resamples + 1)  # how the resampling tests compute it
    text = format_p(floor, n_resamples)
    assert text == f"p < {bound} (B = {n_resamples})"
    assert "p = " not in text and "p=" not in text.replace(" ", "")
    # An adjusted or recomputed value a rounding error away is still the floor.
    assert format_p(floor * (1 + 1e-12), n_resamples) == text


def test_format_p_values() -> None:
    assert format_p(0.0344) == "p = 0.034"
    assert format_p(0.5) == "p = 0.500"
    assert format_p(1.0) == "p = 1.000"
    assert format_p(0.001) == "p = 0.001"
    assert format_p(0.0004) == "p < 0.001"  # an exact test below the shown precision
    assert format_p(0.0) == "p < 0.001"
    assert format_p(2 / 1001, 1000) == "p = 0.002"  # above the floor: a plain value
    assert format_p(0.0344, 1000) == "p = 0.034"
    nan_text = format_p(float("nan"))
    assert nan_text.startswith("p = ") and not any(c.isdigit() for c in nan_text)
    assert format_p(float("nan"), 1000) == nan_text


def test_format_p_rejects_bad_input() -> None:
    with pytest.raises(MetricError, match="1.5"):
        format_p(1.5)
    with pytest.raises(MetricError, match="n_resamples must be at least 1"):
        format_p(0.5, 0)


# --- two-level bootstrap ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["token_f1", "bleu"])
def test_two_level_with_one_seed_is_bootstrap_ci(
    name: str, corpus: tuple[list[str], list[list[str]]]
) -> None:
    metric = get_metric(name)
    hyps, refs = corpus
    s = metric.stats(hyps * 10, refs * 10, MetricContext(language="en"))
    for seed in (0, 5):
        assert two_level_bootstrap_ci(metric, [s], 300, 0.05, seed) == bootstrap_ci(
            metric, s, 300, 0.05, seed
        )
        np.testing.assert_array_equal(
            two_level_bootstrap_values(metric, [s], 300, seed),
            bootstrap_values(metric, s, 300, seed),
        )


def test_two_level_covers_over_seeds_and_rows() -> None:
    # y[s, i] = mu + u_s + e_i + eta_si: a seed offset u_s, a row effect e_i shared by every
    # seed and seed-specific noise. The seed offsets' sd is 1.5 standard errors of one seed's
    # test mean, so the seed spread is as large as the test-sample noise. (With 3 seeds, or a
    # seed spread that dominates, the percentile interval over so few seeds runs short: 91-93%
    # at 3 seeds and this spread.)
    metric = get_metric("token_f1")
    rng = np.random.default_rng(11)
    n, n_seeds, sims, n_boot, mu = 60, 5, 1000, 400, 0.5
    sd_e, sd_eta = 0.2, 0.22
    sd_u = 1.5 * math.hypot(sd_e, sd_eta) / math.sqrt(n)
    covered_two, covered_rows = 0, 0
    for sim in range(sims):
        y = (
            mu
            + rng.normal(0, sd_u, (n_seeds, 1))
            + rng.normal(0, sd_e, (1, n))
            + rng.normal(0, sd_eta, (n_seeds, n))
        )
        by_seed = [row.reshape(-1, 1) for row in y]
        low, high = two_level_bootstrap_ci(metric, by_seed, n_boot, 0.05, sim)
        covered_two += low <= 100 * mu <= high
        # The sample-only interval of the seed mean: rows resampled, seeds taken as fixed.
        low, high = bootstrap_ci(metric, y.mean(axis=0).reshape(-1, 1), n_boot, 0.05, sim)
        covered_rows += low <= 100 * mu <= high
    assert 0.93 <= covered_two / sims <= 0.97, covered_two / sims
    assert covered_rows / sims < 0.90, covered_rows / sims


def test_two_level_rejects_misaligned_seeds() -> None:
    metric = get_metric("token_f1")
    with pytest.raises(MetricError, match="same test rows, got \\[5, 4\\]"):
        two_level_bootstrap_ci(metric, [np.ones((5, 1)), np.ones((4, 1))])
    with pytest.raises(MetricError, match="at least one seed"):
        two_level_bootstrap_ci(metric, [])
    with pytest.raises(MetricError, match=r"stats_by_seed\[0\] has no rows"):
        two_level_bootstrap_values(metric, [np.ones((0, 1)), np.ones((0, 1))], 10, 0)
    with pytest.raises(MetricError, match="n_boot"):
        two_level_bootstrap_values(metric, [np.ones((3, 1))], 0, 0)


def test_bounds_are_rounded_up_never_to_zero() -> None:
    from promptkit.metrics.significance import format_p_bound

    assert format_p_bound(3 / 10001) == "p ≤ 0.0003"
    assert format_p_bound(12 / 1001) == "p ≤ 0.02"
    assert format_p_bound(0.008) == "p ≤ 0.008"
    assert format_p_bound(1.0) == "p ≤ 1"
