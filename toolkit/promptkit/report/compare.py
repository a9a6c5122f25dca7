"""All-pairs paired comparisons of a run's methods, and the verdict drawn from them.

Every method of a task/prompt saw the same evaluation examples, so each pair is compared on
the same rows (aligned by example id): an exact McNemar test for metrics whose per-sample
score is right/wrong (exact match, accuracy), a paired bootstrap for the others (token F1, and
corpus BLEU / chrF / ROUGE recomputed per resample). When a method was trained with several
seeds, the test resamples seeds as well as rows (a two-level paired bootstrap), so a
difference has to be larger than the seed-to-seed spread to count. When the evaluated split
has a ``group_by`` (several questions per article), rows of a group are not independent: every
test, McNemar's included, becomes a paired cluster bootstrap that resamples whole groups, and
the minimum detectable difference uses the cluster-robust standard error. The p-values of all pairs
and metrics of a task/prompt are Holm-adjusted together: with four methods and two metrics
that is twelve tests, and at least one unadjusted p < 0.05 among twelve null differences is
more likely than not.

The verdict of a task/prompt names, on its first (selection) metric, the best method, the
methods statistically tied with it (Holm-adjusted p >= alpha), and recommends the cheapest
method of that group: fewest trainable parameters, then least training time, then the
shortest prompts (few-shot pays for its demonstrations at every call).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from promptkit.config import entry_label
from promptkit.report.results import CellResult, PairComparison, RunResult, SeedSummary, TaskInfo, Verdict

ALPHA = 0.05
# Power of the minimum detectable difference: the usual 80%.
POWER = 0.8


def _rows(run_dir: Path, cell: CellResult, files: dict[Path, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The cell's sample rows by example id. A samples file holds every prompt and seed of a
    method, so each file is parsed once (``files``) however many cells read it."""
    path = run_dir / cell.samples
    if not cell.samples or not path.is_file():
        return {}
    if path not in files:
        files[path] = [json.loads(line) for line in path.open(encoding="utf-8")]
    return {row["example_id"]: row for row in files[path]
            if row.get("prompt_name") == cell.prompt and row.get("method") == cell.method and row.get("seed") == cell.seed}


def method_order(result: RunResult) -> list[str]:
    """Method labels in the order the run lists them (the cells' order for older runs)."""
    labels = [entry_label(m) for m in result.config.get("methods", [])]
    for c in result.cells:
        if c.method not in labels:
            labels.append(c.method)
    return labels


def _binary(name: str) -> bool:
    from promptkit.metrics import get_metric

    return bool(getattr(get_metric(name), "binary", False))


def compare_runs(result: RunResult, run_dir: str | Path, n_boot: int = 1000, seed: int = 0) -> None:
    """Fill ``result.comparisons`` and ``result.verdicts`` from the saved samples, in place.

    Args:
        result: the run (its finished cells).
        run_dir: the run directory holding ``samples/``.
        n_boot: resamples of the bootstrap tests (0: resampling tests are skipped, p is NaN).
        seed: seed of the resampling (the run's bootstrap stream).
    """
    from promptkit.metrics import MetricContext, get_metric
    from promptkit.metrics.significance import holm, mcnemar_exact, min_detectable_difference

    run_dir = Path(run_dir)
    order = method_order(result)
    recorded = (result.comparisons, result.verdicts, result.seed_summaries)
    result.comparisons, result.verdicts, result.seed_summaries = [], [], []
    files: dict[Path, list[dict[str, Any]]] = {}
    groups: dict[tuple[str, str], dict[str, list[CellResult]]] = {}
    for c in result.cells:
        if c.error is None:
            groups.setdefault((c.task, c.prompt), {}).setdefault(c.method, []).append(c)
    for (task, prompt), by_method in groups.items():
        labels = [m for m in order if m in by_method]
        rows = {m: [_rows(run_dir, c, files) for c in by_method[m]] for m in labels}
        if labels and not all(rows[m][k] or not by_method[m][k].samples for m in labels for k in range(len(rows[m]))):
            # samples files missing (a results.json copied without samples/): keep what the run
            # computed for this task/prompt instead of dropping it
            keep = (task, prompt)
            result.comparisons += [x for x in recorded[0] if (x.task, x.prompt) == keep]
            result.verdicts += [x for x in recorded[1] if (x.task, x.prompt) == keep]
            result.seed_summaries += [x for x in recorded[2] if (x.task, x.prompt) == keep]
            continue
        ids = [i for i in rows[labels[0]][0]] if labels else []
        ids = [i for i in ids if all(i in r for m in labels for r in rows[m])]
        # the rows' groups (articles...) when the split has group_by: resampled as clusters
        group_of = [rows[labels[0]][0][i].get("group") for i in ids]
        row_groups = None if any(g is None for g in group_of) else [str(g) for g in group_of]
        info = result.tasks.get(task, TaskInfo())
        ctx = MetricContext(language=info.language, labels=info.labels, squad_version=info.squad_version,
                            bleu_tokenize=info.bleu_tokenize)
        metrics = [m for m in info.metrics if all(m in c.metrics for cs in by_method.values() for c in cs)]
        if not metrics:
            metrics = list(dict.fromkeys(m for cs in by_method.values() for c in cs for m in c.metrics))
        pairs: list[PairComparison] = []
        if len(ids) >= 2:
            refs = [rows[labels[0]][0][i]["references"] for i in ids]
            for name in metrics:
                metric = get_metric(name)
                stats = {m: [metric.stats([r[i]["prediction"] for i in ids], refs, ctx) for r in rows[m]] for m in labels}
                for m in labels:
                    if len(stats[m]) > 1:
                        result.seed_summaries.append(_seed_summary(task, prompt, name, metric, m, by_method[m], stats[m], n_boot, seed,
                                                                   row_groups))
                for j, a in enumerate(labels):
                    for b in labels[:j]:
                        pairs.append(_pair(task, prompt, name, metric, a, b, stats[a], stats[b], n_boot, seed,
                                           mcnemar_exact, min_detectable_difference, row_groups))
        adjusted = holm([p.p_value for p in pairs])
        pairs = [PairComparison(**{**p.to_dict(), "p_holm": float(q)}) for p, q in zip(pairs, adjusted, strict=True)]
        result.comparisons.extend(pairs)
        if any(p.metric == metrics[0] for p in pairs):  # a verdict needs two methods on shared examples
            result.verdicts.append(_verdict(task, prompt, metrics[0], labels, by_method, pairs))


def _pair(task: str, prompt: str, name: str, metric: Any, a: str, b: str, stats_a: Sequence[Any], stats_b: Sequence[Any],
          n_boot: int, seed: int, mcnemar: Any, mdd: Any, groups: Sequence[str] | None = None) -> PairComparison:
    """One pair's test. McNemar assumes independent rows: with grouped rows (several questions
    per article) right/wrong metrics get the paired cluster bootstrap like the others."""
    from promptkit.metrics import paired_bootstrap_test
    from promptkit.metrics.bootstrap import group_codes
    from promptkit.metrics.significance import two_level_paired_bootstrap_test

    delta = float(np.mean([metric.aggregate(s) for s in stats_a]) - np.mean([metric.aggregate(s) for s in stats_b]))
    diffs = np.mean([metric.sample_scores(s) for s in stats_a], axis=0) - np.mean([metric.sample_scores(s) for s in stats_b], axis=0)
    resamples: int | None = n_boot
    clustered = groups is not None and group_codes(groups, len(diffs)) is not None
    groups = groups if clustered else None
    kind = "paired-cluster-bootstrap" if clustered else "paired-bootstrap"
    if len(stats_a) == 1 and len(stats_b) == 1 and getattr(metric, "binary", False) and not clustered:
        test, p, resamples = "mcnemar-exact", mcnemar(stats_a[0][:, 0], stats_b[0][:, 0]), None
    elif not n_boot:
        test, p = kind, float("nan")
    elif len(stats_a) == 1 and len(stats_b) == 1:
        test, p = kind, paired_bootstrap_test(metric, stats_a[0], stats_b[0], n_boot=n_boot, seed=seed, groups=groups)
    else:
        test, p = "two-level-" + kind, two_level_paired_bootstrap_test(metric, stats_a, stats_b, n_boot=n_boot, seed=seed,
                                                                       groups=groups)
    return PairComparison(task, prompt, name, a, b, round(delta, 4), float(p), float("nan"), test, len(diffs), resamples,
                          round(float(mdd(diffs, alpha=ALPHA, power=POWER, groups=groups)), 4))


def _cost_key(cells: Sequence[CellResult]) -> tuple[float, float, float]:
    c = cells[0]
    return (c.cost.trainable_params if c.cost else 0.0, float(np.mean([x.train_s for x in cells])),
            c.throughput.get("prompt_tokens", 0.0))


def _mean_value(cells: Sequence[CellResult], metric: str) -> float:
    return float(np.mean([c.metrics[metric].value for c in cells]))


def _verdict(task: str, prompt: str, metric: str, labels: Sequence[str], by_method: Mapping[str, Sequence[CellResult]],
             pairs: Sequence[PairComparison]) -> Verdict:
    values = {m: _mean_value(by_method[m], metric) for m in labels}
    best = max(labels, key=lambda m: values[m])  # first listed wins an exact tie

    def p_vs_best(m: str) -> float:
        return next((p.p_holm for p in pairs if p.metric == metric and {p.a, p.b} == {m, best}), float("nan"))

    # NaN: no test was run (bootstrap_samples: 0 for a non-binary metric). Such a method is
    # neither tied nor beaten; the verdict says so instead of guessing.
    untested = [m for m in labels if m != best and p_vs_best(m) != p_vs_best(m)]
    tied = tuple(m for m in labels if m == best or p_vs_best(m) >= ALPHA)
    recommended = min(tied, key=lambda m: (_cost_key(by_method[m]), labels.index(m)))
    reason = _reason(metric, best, values, tied, recommended, by_method, p_vs_best)
    if untested:
        reason += f" Not tested against {best} (bootstrap_samples is 0): {', '.join(untested)}."
    return Verdict(task, prompt, metric, ALPHA, best, round(values[best], 4), tied, recommended, reason)


def _describe_cost(cells: Sequence[CellResult]) -> str:
    c = cells[0]
    tokens = c.throughput.get("prompt_tokens", 0.0) / max(c.n, 1)
    if not c.cost:
        return f"no training, {tokens:.0f} prompt tokens per example"
    return (f"{int(c.cost.trainable_params):,} trainable parameters, "
            f"{np.mean([x.train_s for x in cells]):.0f} s training")


def _reason(metric: str, best: str, values: Mapping[str, float], tied: Sequence[str], recommended: str,
            by_method: Mapping[str, Sequence[CellResult]], p_vs_best: Any) -> str:
    from promptkit.metrics.significance import format_p

    if len(tied) == 1:
        return (f"best on {metric} ({values[best]:.1f}); every other method tested is worse by a Holm-adjusted "
                f"paired test at alpha {ALPHA}.")
    if recommended == best:
        others = ", ".join(f"{m} ({values[m]:.1f})" for m in tied if m != best)
        return (f"best on {metric} ({values[best]:.1f}); statistically tied with {others}, and the cheapest of "
                f"them ({_describe_cost(by_method[best])}).")
    return (f"statistically tied with the best on {metric}, {best} ({values[recommended]:.1f} vs {values[best]:.1f}; "
            f"Holm-adjusted {format_p(p_vs_best(recommended))}), and cheaper: "
            f"{_describe_cost(by_method[recommended])} against {_describe_cost(by_method[best])}.")


def _seed_summary(task: str, prompt: str, name: str, metric: Any, method: str, cells: Sequence[CellResult],
                  stats: Sequence[Any], n_boot: int, seed: int, groups: Sequence[str] | None = None) -> SeedSummary:
    from promptkit.metrics.bootstrap import bootstrap_values, percentile_interval
    from promptkit.metrics.significance import two_level_bootstrap_ci

    values = [float(metric.aggregate(s)) for s in stats]
    nan = (float("nan"), float("nan"))
    ci_sample, ci_both = nan, nan
    if n_boot:
        # The same row resamples for every seed (same n, n_boot, seed): the seed mean of each
        # resample, seeds held fixed.
        ci_sample = percentile_interval(np.mean([bootstrap_values(metric, s, n_boot, seed, groups) for s in stats], axis=0), ALPHA)
        ci_both = two_level_bootstrap_ci(metric, list(stats), n_boot=n_boot, alpha=ALPHA, seed=seed, groups=groups)
    return SeedSummary(task, prompt, method, name, tuple(int(c.seed or 0) for c in cells), tuple(round(v, 4) for v in values),
                       round(float(np.mean(values)), 4), round(float(np.std(values, ddof=1)), 4),
                       (round(ci_sample[0], 4), round(ci_sample[1], 4)), (round(ci_both[0], 4), round(ci_both[1], 4)))
