"""The two-level paired bootstrap that compares methods trained with several seeds.

Its reference behaviours: with one seed per side it is the single-level paired bootstrap
(checked against that function, itself checked by exact enumeration in
test_bootstrap_reference.py); under a null hypothesis where seeds move the score a lot, it
keeps false positives near the nominal rate where a test that ignores seeds does not.
"""

from __future__ import annotations

import numpy as np
import pytest
from promptkit.metrics import get_metric, paired_bootstrap_test
from promptkit.metrics.significance import two_level_paired_bootstrap_test

F1 = get_metric("token_f1")  # a mean metric over (n, 1) statistics in [0, 1]


def _seeds(rng: np.random.Generator, base: np.ndarray, sd_seed: float, count: int = 3) -> list[np.ndarray]:
    return [np.clip(base + rng.normal(0, sd_seed) + rng.normal(0, 0.1, len(base)), 0, 1).reshape(-1, 1) for _ in range(count)]


def test_one_seed_each_is_the_single_level_test() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.random((50, 1)), rng.random((50, 1))
    assert two_level_paired_bootstrap_test(F1, [a], [b], n_boot=700, seed=4) == paired_bootstrap_test(F1, a, b, n_boot=700, seed=4)


def test_symmetric_in_the_two_methods() -> None:
    rng = np.random.default_rng(1)
    base = rng.random(40)
    a, b = _seeds(rng, base, 0.05), _seeds(rng, base + 0.03, 0.05, count=2)
    # Each side draws its seeds from its own stream, so swapping the sides swaps the streams:
    # the same p up to Monte-Carlo error (a one-sided count would differ by far more).
    p_ab, p_ba = two_level_paired_bootstrap_test(F1, a, b, 4000, 9), two_level_paired_bootstrap_test(F1, b, a, 4000, 9)
    assert 0.05 < p_ab < 0.95
    assert p_ab == pytest.approx(p_ba, abs=0.03)


def test_false_positives_stay_near_nominal_when_seeds_vary() -> None:
    rng = np.random.default_rng(0)
    sims, two_level, seedless = 200, 0, 0
    for _ in range(sims):
        base = rng.random(60)
        a, b = _seeds(rng, base, 0.1), _seeds(rng, base, 0.1)  # the same method twice: H0 true
        two_level += two_level_paired_bootstrap_test(F1, a, b, n_boot=200, seed=int(rng.integers(2**31))) < 0.05
        seedless += paired_bootstrap_test(F1, np.mean(a, axis=0), np.mean(b, axis=0), n_boot=200, seed=1) < 0.05
    # Measured: about 0.11 against 0.83 (three seeds cannot pin down the seed spread exactly).
    assert two_level / sims <= 0.16
    assert seedless / sims >= 0.5


def test_a_real_difference_is_found() -> None:
    rng = np.random.default_rng(2)
    base = rng.random(80) * 0.5
    p = two_level_paired_bootstrap_test(F1, _seeds(rng, base + 0.4, 0.02), _seeds(rng, base, 0.02), n_boot=500, seed=3)
    assert p == pytest.approx(1 / 501)


def test_the_verdicts_seed_aware_t_holds_its_level_when_seeds_vary() -> None:
    # What the verdict uses for a mean metric with several seeds: the paired t on the seed-averaged
    # differences with each method's between-seed variance added (Satterthwaite degrees of
    # freedom). Same null as above, where the two-level bootstrap rejects about 11% of the time.
    from promptkit.metrics.paired import paired_test

    rng = np.random.default_rng(0)
    sims = 1000
    rejected = 0
    for _ in range(sims):
        base = rng.random(60)
        a, b = _seeds(rng, base, 0.1), _seeds(rng, base, 0.1)
        rejected += paired_test(F1, a, b).p < 0.05
    # Measured: 0.043 over 2000 simulations; the band is about 3 standard errors of 1000 draws.
    assert 0.03 <= rejected / sims <= 0.07
