"""Paired comparisons of a run's methods, and the verdict drawn from them.

Every method of a task/prompt saw the same evaluation examples, so each pair is compared on
the same rows (aligned by example id), with the test its metric calls for
(:mod:`promptkit.metrics.paired`): a cluster-robust t for means of per-row scores (exact match,
accuracy, token F1, ROUGE), a paired sign-flip test over groups for corpus metrics (BLEU, chrF,
macro F1), seed variance included for methods trained with several seeds. None of them gives a
decision that another resampling seed would flip.

Two families, kept apart:

- **confirmatory**: on the task's selection metric, each competing method against the best of
  its prompt template; Bonferroni over every pair of competing methods (the best is chosen from
  the same data), across the task's templates. The verdict (:mod:`promptkit.analysis.verdict`) is
  decided from these alone.
- **secondary**: every pair on every metric, Holm-adjusted across all of them; reported,
  labelled, and never used by the verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from promptkit.analysis.verdict import (
    POWER,
    PromptEvidence,
    ResolvedVerdict,
    choose_best,
    decide,
    excluded_reason,
    family_size,
    resolve_settings,
)
from promptkit.config.run import RunSettings
from promptkit.metrics import MetricContext, MetricError, get_metric
from promptkit.metrics.base import FloatArray, MeanMetric
from promptkit.metrics.bootstrap import bootstrap_values, percentile_interval
from promptkit.metrics.lmeval import is_lm_eval_column
from promptkit.metrics.paired import PairTest, paired_test
from promptkit.metrics.scoring import column_outputs
from promptkit.metrics.significance import holm, two_level_bootstrap_ci
from promptkit.records.comparisons import PairComparison, SeedSummary
from promptkit.records.results import CellResult, RunResult, TaskInfo
from promptkit.records.samples import SampleFiles

# 95% intervals: the unadjusted interval of each comparison, and the seed summaries
INTERVAL_ALPHA = 0.05


def method_order(result: RunResult) -> list[str]:
    """Method labels in the order the run lists them (the cells' order for older runs)."""
    labels = list(RunSettings.of(result.config).methods)
    for c in result.cells:
        if c.method not in labels:
            labels.append(c.method)
    return labels


@dataclass(frozen=True)
class _PromptData:
    """The aligned statistics of one task/prompt: rows shared by every method, their groups, and
    each metric's ``(n, k)`` statistics per method and seed."""

    prompt: str
    labels: list[str]
    by_method: dict[str, list[CellResult]]
    ids: list[str]
    groups: list[str] | None
    stats: dict[str, dict[str, list[FloatArray]]]


def compare_runs(result: RunResult, run_dir: str | Path, n_boot: int = 1000, seed: int = 0) -> None:
    """Fill ``result.comparisons`` and ``result.verdicts`` from the saved samples, in place.

    Args:
        result: the run (its finished cells).
        run_dir: the run directory holding ``samples/``.
        n_boot: first block of draws of resampled tests, and bootstrap draws of the seed
            summaries (0: corpus-metric tests and seed intervals are skipped; analytic tests
            still run).
        seed: root of the resampling streams (the run's bootstrap stream).
    """
    run_dir = Path(run_dir)
    order = method_order(result)
    recorded = (result.comparisons, result.verdicts, result.seed_summaries)
    result.comparisons, result.verdicts, result.seed_summaries = [], [], []
    files = SampleFiles(run_dir)
    tasks: dict[str, dict[str, dict[str, list[CellResult]]]] = {}
    for c in result.cells:
        if c.error is None:
            tasks.setdefault(c.task, {}).setdefault(c.prompt, {}).setdefault(c.method, []).append(c)
    for task, prompts in tasks.items():
        info = result.tasks.get(task, TaskInfo())
        ctx = MetricContext.of_task(info, task)
        data: list[_PromptData] = []
        for prompt, by_method in prompts.items():
            labels = [m for m in order if m in by_method]
            rows = {m: [{row.example_id: row for row in files.rows(c)} for c in by_method[m]] for m in labels}
            if not all(rows[m][k] or not by_method[m][k].samples for m in labels for k in range(len(rows[m]))):
                # samples files missing (a results.json copied without samples/): keep what the run
                # computed for this task/prompt instead of dropping it
                keep = (task, prompt)
                result.comparisons += [x for x in recorded[0] if (x.task, x.prompt) == keep]
                result.verdicts += [x for x in recorded[1] if (x.task, x.prompt) == keep]
                result.seed_summaries += [x for x in recorded[2] if (x.task, x.prompt) == keep]
                continue
            ids = [i for i in rows[labels[0]][0]] if labels else []
            ids = [i for i in ids if all(i in r for m in labels for r in rows[m])]
            # the rows' groups (articles...) when the split has group_by: clustered inference
            group_of = [rows[labels[0]][0][i].group for i in ids]
            groups = None if any(g is None for g in group_of) else [str(g) for g in group_of]
            metrics = [m for m in info.metrics if all(m in c.metrics for cs in by_method.values() for c in cs)]
            if not metrics:
                metrics = list(dict.fromkeys(m for cs in by_method.values() for c in cs for m in c.metrics))
            stats: dict[str, dict[str, list[Any]]] = {}
            if len(ids) >= 2:
                refs = [rows[labels[0]][0][i].references for i in ids]
                for name in metrics:
                    metric = get_metric(name)
                    # a column metric[filter] scores the filter's results, saved in the rows
                    try:
                        stats[name] = {m: [metric.stats(column_outputs(name, [r[i].prediction for i in ids],
                                                                       [r[i].filtered for i in ids]), refs, ctx)
                                           for r in rows[m]] for m in labels}
                    except MetricError:
                        if not is_lm_eval_column(name):
                            raise
                        # aggregated by the task's own code, not imported here: the run's tests stand
                        result.comparisons += [x for x in recorded[0] if (x.task, x.prompt, x.metric) == (task, prompt, name)]
                        continue
                    for m in labels:
                        if len(stats[name][m]) > 1:
                            result.seed_summaries.append(_seed_summary(task, prompt, name, metric, m, by_method[m],
                                                                       stats[name][m], n_boot, seed, groups))
            data.append(_PromptData(prompt, labels, by_method, ids, groups, stats))
        usable = [d for d in data if d.stats]
        if not usable:
            continue
        settings = resolve_settings(RunSettings.of(result.config).verdict, info.verdict, list(usable[0].stats))
        _confirmatory(result, task, info, usable, n_boot, seed, settings)
        _secondary(result, task, data, n_boot, seed, settings.alpha)


def _test(name: str, stats_a: Sequence[Any], stats_b: Sequence[Any], groups: Sequence[str] | None,
          thresholds: Sequence[float], n_boot: int, seed: int) -> PairTest | None:
    """The pair's test, or None where it needs resampling and ``n_boot`` is 0."""
    metric = get_metric(name)
    if not n_boot and not isinstance(metric, MeanMetric):
        return None
    return paired_test(metric, stats_a, stats_b, groups, thresholds, n_boot=n_boot, seed=seed)


def _record(task: str, prompt: str, name: str, a: str, b: str, test: PairTest | None, n: int, level: float,
            family: str, delta: float) -> PairComparison:
    if test is None:
        nan = float("nan")
        return PairComparison(task, prompt, name, a, b, round(delta, 4), nan, nan, "not tested (bootstrap_samples: 0)", n,
                              None, nan, family=family)
    low, high = test.interval(INTERVAL_ALPHA)
    return PairComparison(task, prompt, name, a, b, round(test.estimate, 4), float(test.p), float("nan"), test.test, n,
                          test.resamples, round(test.mdd(level, POWER), 4), family=family, ci_low=round(low, 4),
                          ci_high=round(high, 4))


def _confirmatory(result: RunResult, task: str, info: TaskInfo, data: Sequence[_PromptData], n_boot: int, seed: int,
                  settings: ResolvedVerdict) -> None:
    """Each competing method against the best of its template on the selection metric, adjusted
    over every pair of competing methods (promptkit.analysis.verdict), and the verdicts."""
    plans = []
    for d in data:
        if settings.metric not in d.stats or len(d.labels) < 2:
            continue
        values = {m: float(np.mean([c.metrics[settings.metric].value for c in d.by_method[m]])) for m in d.labels}
        excluded = {m: excluded_reason(d.by_method[m], settings.max_forgetting) for m in d.labels}
        best = choose_best(d.labels, values, excluded)
        others = [m for m in d.labels if best is not None and m != best and not excluded[m]]
        plans.append((d, values, excluded, best, others))
    size = family_size([len(p[4]) + (p[3] is not None) for p in plans])
    level = settings.alpha / size
    evidence = []
    for d, values, excluded, best, others in plans:
        stats = d.stats[settings.metric]
        tests: dict[str, PairTest | None] = {}
        if best is None:  # every method excluded: nothing to test
            evidence.append(PromptEvidence(d.prompt, d.labels, d.by_method, values, None, tests, excluded))
            continue
        tests = {m: _test(settings.metric, stats[best], stats[m], d.groups, (level,), n_boot, seed) for m in others}
        for m in others:
            pair = _record(task, d.prompt, settings.metric, best, m, tests[m], len(d.ids), level, "confirmatory",
                           values[best] - values[m])
            p_adj = min(1.0, pair.p_value * size) if pair.p_value == pair.p_value else float("nan")
            result.comparisons.append(replace(pair, p_adjusted=p_adj))
        evidence.append(PromptEvidence(d.prompt, d.labels, d.by_method, values, best, tests, excluded))
    result.verdicts.extend(decide(task, evidence, settings, size))


def _secondary(result: RunResult, task: str, data: Sequence[_PromptData], n_boot: int, seed: int, alpha: float) -> None:
    """Every pair on every metric, Holm-adjusted across all of them (reported, never decisive)."""
    plan = [(d, name, a, b) for d in data for name in d.stats for j, a in enumerate(d.labels) for b in d.labels[:j]]
    if not plan:
        return
    # Holm compares the i-th smallest p with alpha / (m - i + 1): a resampled p is drawn until it
    # is clear of every one of those thresholds. The MDD is given at the first, strictest step.
    thresholds = [alpha / k for k in range(1, len(plan) + 1)]
    level = thresholds[-1]
    pairs = []
    for d, name, a, b in plan:
        value_a = float(np.mean([c.metrics[name].value for c in d.by_method[a]]))
        value_b = float(np.mean([c.metrics[name].value for c in d.by_method[b]]))
        test = _test(name, d.stats[name][a], d.stats[name][b], d.groups, thresholds, n_boot, seed)
        pairs.append(_record(task, d.prompt, name, a, b, test, len(d.ids), level, "secondary", value_a - value_b))
    adjusted = holm([p.p_value for p in pairs])
    result.comparisons.extend(replace(p, p_adjusted=float(q)) for p, q in zip(pairs, adjusted, strict=True))


def _seed_summary(task: str, prompt: str, name: str, metric: Any, method: str, cells: Sequence[CellResult],
                  stats: Sequence[Any], n_boot: int, seed: int, groups: Sequence[str] | None = None) -> SeedSummary:
    values = [float(metric.aggregate(s)) for s in stats]
    nan = (float("nan"), float("nan"))
    ci_sample, ci_both = nan, nan
    if n_boot:
        # The same row resamples for every seed (same n, n_boot, seed): the seed mean of each
        # resample, seeds held fixed.
        ci_sample = percentile_interval(np.mean([bootstrap_values(metric, s, n_boot, seed, groups) for s in stats], axis=0), INTERVAL_ALPHA)
        ci_both = two_level_bootstrap_ci(metric, list(stats), n_boot=n_boot, alpha=INTERVAL_ALPHA, seed=seed, groups=groups)
    return SeedSummary(task, prompt, method, name, tuple(int(c.seed or 0) for c in cells), tuple(round(v, 4) for v in values),
                       round(float(np.mean(values)), 4), round(float(np.std(values, ddof=1)), 4),
                       (round(ci_sample[0], 4), round(ci_sample[1], 4)), (round(ci_both[0], 4), round(ci_both[1], 4)))
