"""lm-evaluation-harness group aggregates (MMLU over its 57 subjects) with intervals and a paired
comparison of methods on the pooled rows.

lm-eval's aggregate of a group is the mean of its members' scores, weighted by their sizes
(``weight_by_size``: every row counts the same) or not (every member counts the same); a nested
group enters its parent with its own aggregate and its total size. Unrolled, the aggregate is
``sum_t W_t * mean_t`` over the member tasks ``t``, with fixed weights ``W_t`` summing to 1, which
is what is computed here, from the saved rows.

Its interval is the stratified one: the tasks are the strata, each task's rows an independent
sample, so ``Var = sum_t W_t^2 s_t^2 / n_t`` with ``s_t^2`` the task's row variance, and the
interval is normal. The same for a difference between two methods on the same rows (``s_t^2`` the
variance of the per-row differences): a paired test on the pooled rows, Holm-adjusted over the
methods compared with the group's best. Both are analytic: no resampling seed changes them.
Means of per-row scores only (accuracy, exact match, F1): a corpus metric (BLEU) has no rows to
pool, and its task values are reported on their own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from scipy import stats as scipy_stats

from promptkit.metrics import MetricContext, get_metric
from promptkit.metrics.base import MeanMetric
from promptkit.metrics.scoring import column_outputs
from promptkit.metrics.significance import holm
from promptkit.records.columns import column_name
from promptkit.records.comparisons import GroupScore
from promptkit.records.results import CellResult, RunResult, TaskInfo
from promptkit.records.samples import SampleFiles
from promptkit.tasks.lmeval.groups import Aggregate, GroupDef

ALPHA = 0.05
# lm-eval's metric name -> promptkit's, by adapter (promptkit.tasks.lmeval.convert.METRICS)
OUTPUT_TYPES = {"multiple_choice": "multiple_choice", "generation": "generate_until"}


def group_weights(groups: Mapping[str, GroupDef], name: str, sizes: Mapping[str, int], aggregate: Aggregate,
                  seen: tuple[str, ...] = ()) -> dict[str, float]:
    """Each member task's weight ``W_t`` in group ``name``'s aggregate (they sum to 1).

    A nested group weighs its own members by its own entry for the same metric (else equally),
    and enters its parent with its total size, as lm-eval aggregates it.
    """
    group = groups[name]
    parts: list[tuple[dict[str, float], int]] = []
    for kind, member in group.members:
        if kind == "task":
            if member in sizes:
                parts.append(({member: 1.0}, sizes[member]))
        elif member in groups and member not in seen:
            own = next((a for a in groups[member].aggregates if (a.metric, a.filter) == (aggregate.metric, aggregate.filter)),
                       Aggregate(aggregate.metric, False, aggregate.filter))
            inner = group_weights(groups, member, sizes, own, (*seen, name))
            if inner:
                parts.append((inner, sum(sizes[t] for t in inner)))
    total = sum(size for _, size in parts)
    out: dict[str, float] = {}
    for inner, size in parts:
        share = size / total if aggregate.weight_by_size else 1 / len(parts)
        for task, w in inner.items():
            out[task] = out.get(task, 0.0) + share * w
    return out


def stratified(values: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> tuple[float, float]:
    """``sum_t W_t mean_t`` and its standard error ``sqrt(sum_t W_t^2 s_t^2 / n_t)`` (a task of
    one row adds no variance it could estimate)."""
    value = sum(w * float(np.mean(values[t])) for t, w in weights.items())
    var = sum(w * w * float(np.var(values[t], ddof=1)) / len(values[t]) for t, w in weights.items() if len(values[t]) > 1)
    return value, math.sqrt(var)


def group_scores(result: RunResult, run_dir: str | Path) -> list[GroupScore]:
    """Every group's aggregates per method, from the saved rows (none when no task of the run
    came from an lm-eval group). A group whose rows are not there (a results.json copied without
    its samples/) keeps what the run recorded for it."""
    groups: dict[str, GroupDef] = {}
    for info in result.tasks.values():
        for data in info.lm_eval_groups:
            groups.setdefault(str(data["name"]), GroupDef.from_dict(data))
    if not groups:
        return []
    files = SampleFiles(Path(run_dir))
    cells: dict[str, dict[str, list[CellResult]]] = {}
    for c in result.cells:
        if c.error is None:
            cells.setdefault(c.task, {}).setdefault(c.method, []).append(c)
    methods = list(dict.fromkeys(c.method for c in result.cells))
    out: list[GroupScore] = []
    for group in groups.values():
        for aggregate in group.aggregates:
            found = _aggregate(result, groups, group, aggregate, cells, methods, files)
            out += found if found is not None else [g for g in result.group_scores if g.group == group.name]
    return out


def _aggregate(result: RunResult, groups: Mapping[str, GroupDef], group: GroupDef, aggregate: Aggregate,
               cells: Mapping[str, Mapping[str, list[CellResult]]], methods: Sequence[str],
               files: SampleFiles) -> list[GroupScore] | None:
    """The group's scores on ``aggregate`` per method; None when saved rows are missing."""
    from promptkit.tasks.lmeval.convert import METRICS

    tasks = _leaves(groups, group.name)
    columns: dict[str, str] = {}
    for task in tasks:
        info = result.tasks.get(task, TaskInfo())
        metric = METRICS.get(OUTPUT_TYPES.get(info.adapter, ""), {}).get(aggregate.metric)
        column = column_name(metric, aggregate.filter) if metric and aggregate.filter != "none" else metric
        if column is None or column not in info.metrics:
            return []  # a member without that column: lm-eval has no aggregate of it either
        columns[task] = column
    if not all(isinstance(get_metric(c), MeanMetric) for c in columns.values()):
        return []  # a corpus metric (BLEU) has no per-row scores to pool: its task values stand alone
    rows: dict[str, dict[str, dict[str, float]]] = {}  # method -> task -> example id -> score
    for method in methods:
        per_task: dict[str, dict[str, float]] = {}
        for task in tasks:
            mine = cells.get(task, {}).get(method, [])
            if not mine:
                break  # a method with a failed or missing member has no aggregate
            # several training seeds: each row's score averaged over them
            scores = [_row_scores(result.tasks[task], c, columns[task], files) for c in mine]
            shared = set.intersection(*(set(s) for s in scores))
            if not shared:
                return None
            per_task[task] = {i: float(np.mean([s[i] for s in scores])) for i in shared}
        else:
            rows[method] = per_task
    if not rows:
        return []
    sizes = {t: len(next(iter(rows.values()))[t]) for t in tasks}
    weights = group_weights(groups, group.name, sizes, aggregate)
    z = float(scipy_stats.norm.ppf(1 - ALPHA / 2))
    estimates = {}
    for method, per_task in rows.items():
        values = {t: np.array(list(per_task[t].values())) for t in weights}
        estimates[method] = stratified(values, weights)
    best = max(estimates, key=lambda m: (estimates[m][0], -methods.index(m)))
    tests = {}
    for method in estimates:
        if method == best:
            continue
        diffs = {t: np.array([rows[best][t][i] - rows[method][t][i] for i in rows[best][t] if i in rows[method][t]])
                 for t in weights}
        diff, se = stratified(diffs, weights)
        p = float(2 * scipy_stats.norm.sf(abs(diff) / se)) if se > 0 else (1.0 if diff == 0 else 0.0)
        tests[method] = (diff, se, p)
    adjusted = dict(zip(tests, holm([t[2] for t in tests.values()]), strict=True)) if tests else {}
    out = []
    for method, (value, se) in estimates.items():
        test = tests.get(method)
        out.append(GroupScore(
            group=group.name, alias=group.alias, metric=columns[tasks[0]], lm_eval_metric=aggregate.metric,
            weight_by_size=aggregate.weight_by_size, method=method, value=value,
            ci_low=max(value - z * se, 0.0), ci_high=min(value + z * se, 100.0), n=sum(sizes.values()), tasks=len(weights),
            best=None if test is None else best,
            difference=None if test is None else test[0],
            diff_low=None if test is None else test[0] - z * test[1],
            diff_high=None if test is None else test[0] + z * test[1],
            p_value=None if test is None else test[2],
            p_holm=None if test is None else float(adjusted[method]),
        ))
    return out


def _leaves(groups: Mapping[str, GroupDef], name: str, seen: tuple[str, ...] = ()) -> list[str]:
    out: list[str] = []
    for kind, member in groups[name].members:
        if kind == "task":
            out.append(member)
        elif member in groups and member not in seen:
            out += _leaves(groups, member, (*seen, name))
    return list(dict.fromkeys(out))


def _row_scores(info: TaskInfo, cell: CellResult, column: str, files: SampleFiles) -> dict[str, float]:
    """The cell's per-row scores on ``column`` (a mean metric's) by example id."""
    metric = get_metric(column)
    rows = files.rows(cell)
    stats = metric.stats(column_outputs(column, [r.prediction for r in rows], [r.filtered for r in rows]),
                         [r.references for r in rows], MetricContext.of_task(info))
    return {r.example_id: float(s) for r, s in zip(rows, metric.sample_scores(stats), strict=True)}
