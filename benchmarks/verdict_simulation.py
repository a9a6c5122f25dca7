"""Level and coverage of promptkit's decisions with few groups: the cluster bootstrap (before)
against the CR2 t test and the design-effect Wilson interval (after).

    python benchmarks/verdict_simulation.py [--reps 1000] [--groups 16 40] [--mus 0.3 0.05] [--seed 0]

Simulated test sets of G articles x 5 questions, right/wrong outcomes (``exact_match``
statistics). Article g has a success probability ``p_g ~ Beta`` with mean ``mu`` and
intra-article correlation ``icc`` (``a + b = 1 / icc - 1``); questions are independent given it.
For every (G, mu) the script reports, over ``--reps`` data sets:

- **type-I error of the paired test at 5%**, under two true nulls: "shared" (A and B have the
  same ``p_g``) and "interaction" (each its own ``p_g`` from the same Beta: equal on average,
  different per article). Before: ``paired_bootstrap_test`` (1000 paired cluster-bootstrap
  draws, a new seed per data set). After: ``paired_test`` (CR2 t with Bell-McCaffrey df).
- **coverage of the 95% interval of a rate** (A's rate; the truth is ``mu``). Before: the
  percentile cluster bootstrap ``bootstrap_ci``. After: ``rate_interval`` (Wilson with the
  design effect and Student's t).
- **coverage of the 95% interval of a paired difference** (B's probability is ``0.8 p_g``, so
  the truth is ``E[A - B] = 0.2 mu``). Before: the percentile cluster bootstrap of the per-row
  differences. After: ``paired_test(...).interval``.

Nominal values are 5% and 95%; the Monte Carlo error of each cell (two standard errors) is
printed with the table. Not part of the test suite (see tests/unit/test_inference.py and
tests/slow/test_inference_simulation.py for the held bands). Single process, numpy only.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import markdown_table  # noqa: E402


def simulate(n_groups: int, mu: float, reps: int, questions: int, icc: float, n_boot: int,
             seed: int) -> dict[str, tuple[float, float]]:
    """(before, after) rates of every measure for one setting."""
    from promptkit.metrics import bootstrap_ci, get_metric, paired_bootstrap_test
    from promptkit.metrics.inference import rate_interval
    from promptkit.metrics.paired import paired_test

    metric = get_metric("exact_match")
    rng = np.random.default_rng([seed, n_groups, round(1000 * mu)])
    s = 1.0 / icc - 1.0

    def probabilities() -> np.ndarray:
        return rng.beta(mu * s, (1.0 - mu) * s, size=(reps, n_groups))

    def outcomes(p: np.ndarray) -> np.ndarray:
        rows = np.repeat(p, questions, axis=1)
        return (rng.random(rows.shape) < rows).astype(np.float64)[:, :, None]  # (reps, n, 1)

    p = probabilities()
    a = outcomes(p)
    b_shared, b_own, b_lower = outcomes(p), outcomes(probabilities()), outcomes(0.8 * p)
    groups = [g for g in range(n_groups) for _ in range(questions)]
    truth_rate, truth_diff = 100.0 * mu, 100.0 * 0.2 * mu  # exact_match's 0-100 scale
    counts = {key: [0, 0] for key in ("shared", "interaction", "rate", "difference")}
    for r in range(reps):
        boot_seed = seed * 1_000_003 + r
        for key, b in (("shared", b_shared[r]), ("interaction", b_own[r])):
            counts[key][0] += paired_bootstrap_test(metric, a[r], b, n_boot=n_boot, seed=boot_seed, groups=groups) < 0.05
            counts[key][1] += paired_test(metric, [a[r]], [b], groups).p < 0.05
        low, high = bootstrap_ci(metric, a[r], n_boot=n_boot, alpha=0.05, seed=boot_seed, groups=groups)
        counts["rate"][0] += low <= truth_rate <= high
        low, high = rate_interval(a[r], groups, 0.05, scale=1.0)
        counts["rate"][1] += low <= mu <= high
        low, high = bootstrap_ci(metric, a[r] - b_lower[r], n_boot=n_boot, alpha=0.05, seed=boot_seed, groups=groups)
        counts["difference"][0] += low <= truth_diff <= high
        low, high = paired_test(metric, [a[r]], [b_lower[r]], groups).interval(0.05)
        counts["difference"][1] += low <= truth_diff <= high
    return {key: (before / reps, after / reps) for key, (before, after) in counts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=1000, help="simulated test sets per setting")
    parser.add_argument("--groups", type=int, nargs="+", default=[16, 40], help="articles per test set")
    parser.add_argument("--mus", type=float, nargs="+", default=[0.3, 0.05], help="mean success rates")
    parser.add_argument("--icc", type=float, default=0.25, help="intra-article correlation")
    parser.add_argument("--questions", type=int, default=5, help="questions per article")
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap draws of the 'before' methods")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rows = []
    start = time.perf_counter()
    for n_groups in args.groups:
        for mu in args.mus:
            result = simulate(n_groups, mu, args.reps, args.questions, args.icc, args.n_boot, args.seed)
            cells = [f"{before:.3f} -> **{after:.3f}**" for before, after in result.values()]
            rows.append(f"| {n_groups} | {mu:g} | " + " | ".join(cells) + " |")
    level_se = 2 * math.sqrt(0.05 * 0.95 / args.reps)
    print(f"{args.reps} simulated test sets per row, {args.questions} questions per article, icc {args.icc:g}, "
          f"{args.n_boot} bootstrap draws, seed {args.seed}; before -> **after**")
    print(f"Monte Carlo error (2 se): +-{level_se:.3f} at 5%, +-{level_se:.3f} at 95%\n")
    print(markdown_table(["articles", "mu", "type-I, shared null (5%)", "type-I, interaction null (5%)",
                          "rate CI coverage (95%)", "difference CI coverage (95%)"], rows))
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
