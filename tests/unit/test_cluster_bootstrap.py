"""Cluster bootstrap: rows grouped by the split's ``group_by`` (questions of one article) are
resampled as whole groups, in intervals, paired tests and the minimum detectable difference.

References are brute force (every ordered draw of groups enumerated) and closed forms, never
the resampling code's own output. A run on a grouped split, end to end:
tests/integration/test_cluster_bootstrap_cli.py.
"""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
from promptkit.metrics import bootstrap_ci, get_metric, paired_bootstrap_test
from promptkit.metrics.bootstrap import bootstrap_values, resample_counts
from promptkit.metrics.significance import min_detectable_difference, two_level_bootstrap_values

EM = get_metric("exact_match")


def _em_stats(values: list[float]) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(-1, 1)


def test_a_cluster_resample_takes_whole_groups() -> None:
    groups = ["a", "a", "b", "c", "c", "c", "b"]
    for counts in resample_counts(len(groups), 500, seed=3, groups=groups):
        for g in "abc":
            rows = [i for i, x in enumerate(groups) if x == g]
            assert (counts[:, rows] == counts[:, rows[:1]]).all()  # every row of a drawn group, as often
        per_group = counts[:, [0, 2, 3]]  # one row of a, b, c
        assert (per_group.sum(axis=1) == 3).all()  # as many group draws as there are groups


def test_the_cluster_bootstrap_distribution_matches_every_enumerated_draw() -> None:
    # three articles of 1, 2 and 3 questions: 3^3 equally likely ordered draws of articles
    groups = ["x", "y", "y", "z", "z", "z"]
    right = [1.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    members = {g: [i for i, x in enumerate(groups) if x == g] for g in "xyz"}
    exact: Counter[float] = Counter()
    for draw in itertools.product("xyz", repeat=3):
        rows = [i for g in draw for i in members[g]]
        exact[round(100 * sum(right[i] for i in rows) / len(rows), 6)] += 1
    n_boot = 40_000
    values = bootstrap_values(EM, _em_stats(right), n_boot, seed=0, groups=groups)
    seen = Counter(round(float(v), 6) for v in values)
    assert set(seen) <= set(exact)
    for value, ways in exact.items():
        assert seen[value] / n_boot == pytest.approx(ways / 27, abs=0.01), value


def test_correlated_groups_widen_the_interval_to_the_group_level() -> None:
    # 10 articles of 5 questions, each article all right or all wrong: in effect 10 observations
    cluster_means = np.array([1, 1, 1, 0, 1, 0, 0, 1, 1, 0], dtype=np.float64)
    right = np.repeat(cluster_means, 5)
    groups = np.repeat(np.arange(10), 5).tolist()
    clustered = bootstrap_values(EM, _em_stats(right.tolist()), 20_000, seed=1, groups=groups)
    rows = bootstrap_values(EM, _em_stats(right.tolist()), 20_000, seed=1)
    # equal-sized groups: the resampled mean is a mean of 10 group means drawn with replacement,
    # whose sd is sd_pop(group means) / sqrt(10)
    expected_sd = 100 * cluster_means.std(ddof=0) / np.sqrt(10)
    assert clustered.std() == pytest.approx(expected_sd, rel=0.03)
    assert rows.std() == pytest.approx(expected_sd / np.sqrt(5), rel=0.05)  # the row bootstrap: 50 "independent" rows
    low, high = bootstrap_ci(EM, _em_stats(right.tolist()), n_boot=2000, groups=groups)
    row_low, row_high = bootstrap_ci(EM, _em_stats(right.tolist()), n_boot=2000)
    assert high - low > 1.8 * (row_high - row_low)


def test_singleton_groups_are_the_row_bootstrap() -> None:
    stats = _em_stats([1, 0, 1, 1, 0, 0, 1])
    ids = [f"row-{i}" for i in range(7)]
    assert np.array_equal(bootstrap_values(EM, stats, 300, seed=5, groups=ids), bootstrap_values(EM, stats, 300, seed=5))
    assert np.array_equal(two_level_bootstrap_values(EM, [stats, stats[::-1]], 300, seed=5, groups=ids),
                          two_level_bootstrap_values(EM, [stats, stats[::-1]], 300, seed=5))


def test_the_paired_cluster_test_matches_the_enumerated_p_value() -> None:
    groups = ["a", "a", "b", "b", "b", "c", "d", "d"]
    sys_a = [1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0]
    sys_b = [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    members = {g: [i for i, x in enumerate(groups) if x == g] for g in "abcd"}

    def delta(rows: list[int]) -> float:
        return 100 * (sum(sys_a[i] for i in rows) - sum(sys_b[i] for i in rows)) / len(rows)

    observed = delta(list(range(8)))
    hits = sum(abs(delta([i for g in draw for i in members[g]]) - observed) >= abs(observed) - 1e-9
               for draw in itertools.product("abcd", repeat=4))
    exact = hits / 4**4
    n_boot = 40_000
    p = paired_bootstrap_test(EM, _em_stats(sys_a), _em_stats(sys_b), n_boot=n_boot, seed=2, groups=groups)
    assert p == pytest.approx((exact * n_boot + 1) / (n_boot + 1), abs=0.01)


def test_the_cluster_robust_mdd_counts_a_correlated_group_as_one_row() -> None:
    rng = np.random.default_rng(0)
    per_group = rng.normal(size=12)
    diffs = np.repeat(per_group, 4)  # 12 groups of 4 identical differences
    groups = np.repeat(np.arange(12), 4).tolist()
    # equal groups of equal differences: the standard error of 12 observations
    assert min_detectable_difference(diffs, groups=groups) == pytest.approx(min_detectable_difference(per_group), rel=1e-12)
    singletons = rng.normal(size=30)
    assert min_detectable_difference(singletons, groups=list(range(30))) == pytest.approx(
        min_detectable_difference(singletons), rel=1e-12)
