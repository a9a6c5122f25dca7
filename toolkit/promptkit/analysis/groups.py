"""lm-evaluation-harness group aggregates (MMLU over its 57 subjects) with intervals and a paired
comparison of methods on the pooled rows.

lm-eval 0.4.13 aggregates a group over all its leaf tasks at once, nested groups flattened
(``lm_eval.api.group.Group.aggregate``): the mean of the tasks' scores weighted by their sizes
(``weight_by_size``, the default: every row counts the same) or not (every task counts the same),
over the tasks that were scored on the metric (the others are left out, as lm-eval leaves them
out with a warning). The aggregate is ``sum_t W_t * mean_t`` with fixed weights ``W_t`` summing to
1, computed here from the saved rows. An ``aggregate_metric_list`` entry without ``filter_list``
aggregates every filter its tasks were scored on, one aggregate each.

Its interval is the stratified one: the tasks are the strata, each task's rows an independent
sample, so ``Var = sum_t W_t^2 s_t^2 / n_t`` with ``s_t^2`` the task's row variance, and the
interval is normal. The same for a difference between two methods on the same rows (``s_t^2`` the
variance of the per-row differences): a paired test on the pooled rows, Holm-adjusted over the
methods compared with the group's best. Both are analytic: no resampling seed changes them. A task
with fewer than two rows gives no variance to estimate, and then there is no interval or test.
A method trained with several seeds enters with each row's score averaged over its seeds: the
interval is the test sample's only. Means of per-row scores only (accuracy, exact match, F1): a
corpus metric (BLEU) has no rows to pool, and its task values are reported on their own.
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
from promptkit.records.columns import split_column
from promptkit.records.comparisons import GroupScore
from promptkit.records.results import CellResult, RunResult, TaskInfo
from promptkit.records.samples import SampleFiles
from promptkit.tasks.lmeval.groups import Aggregate, GroupDef

ALPHA = 0.05
# the adapter a converted task has -> lm-eval's output type (promptkit.tasks.lmeval.metric_list.METRICS)
OUTPUT_TYPES = {"multiple_choice": "multiple_choice", "generation": "generate_until"}


def group_weights(sizes: Mapping[str, int], weight_by_size: bool) -> dict[str, float]:
    """Each task's weight ``W_t`` in the aggregate (summing to 1): its share of the rows, or an
    equal share, as lm-eval's ``aggregate_subtask_metrics``."""
    total = sum(sizes.values())
    return {t: (n / total if weight_by_size else 1 / len(sizes)) for t, n in sizes.items()}


def stratified(values: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> tuple[float, float]:
    """``sum_t W_t mean_t`` and its standard error ``sqrt(sum_t W_t^2 s_t^2 / n_t)``; the error
    is NaN when a task has fewer than two rows (its variance cannot be estimated)."""
    value = sum(w * float(np.mean(values[t])) for t, w in weights.items())
    if any(len(values[t]) < 2 for t in weights):
        return value, float("nan")
    var = sum(w * w * float(np.var(values[t], ddof=1)) / len(values[t]) for t, w in weights.items())
    return value, math.sqrt(var)


def group_scores(result: RunResult, run_dir: str | Path) -> list[GroupScore]:
    """Every group's aggregates per method, from the saved rows (none when no task of the run
    came from an lm-eval group). A group whose rows are not there (a results.json copied without
    its samples/) keeps what the run recorded for it.

    Raises:
        RecordError: a group definition results.json holds that promptkit did not write.
    """
    groups: dict[str, GroupDef] = {}
    for info in result.tasks.values():
        for data in info.lm_eval_groups:
            groups.setdefault(str(data.get("name") if isinstance(data, Mapping) else data), GroupDef.from_dict(data))
    if not groups:
        return []
    files = _RowScores(SampleFiles(Path(run_dir)))
    cells: dict[str, dict[str, list[CellResult]]] = {}
    for c in result.cells:
        if c.error is None:
            cells.setdefault(c.task, {}).setdefault(c.method, []).append(c)
    methods = list(dict.fromkeys(c.method for c in result.cells))
    out: list[GroupScore] = []
    for group in groups.values():
        found: list[GroupScore] = []
        for aggregate in group.aggregates:
            scores = _aggregate(result, groups, group, aggregate, cells, methods, files)
            if scores is None:  # rows missing: what the run recorded for the group, once
                found = [g for g in result.group_scores if g.group == group.name]
                break
            found += scores
        out += found
    return out


def _columns(result: RunResult, tasks: Sequence[str], aggregate: Aggregate) -> dict[str | None, dict[str, str]]:
    """For each filter aggregated (``aggregate.filter``, or every one the tasks were scored on),
    each task's promptkit column of the metric; a task without it is left out, as lm-eval leaves
    it out. An accuracy counts only where the task scored its choices that way (acc, acc_norm
    and acc_bytes all fill promptkit's one ``accuracy`` column, with the task's normalisation)."""
    from promptkit.metrics.lmeval import column_parts, is_lm_eval_column
    from promptkit.tasks.lmeval.metric_list import ACCURACIES, METRICS

    out: dict[str | None, dict[str, str]] = {}
    for task in tasks:
        info = result.tasks.get(task, TaskInfo())
        # a loglikelihood task (LAMBADA) is a multiple_choice task whose one choice is scored greedy
        output_type = "loglikelihood" if info.normalization == "greedy" else OUTPUT_TYPES.get(info.adapter, "")
        metric = METRICS.get(output_type, {}).get(aggregate.metric)
        # which accuracy a multiple_choice task's column holds (results.json of older versions do not say)
        wrong_kind = (output_type == "multiple_choice" and aggregate.metric in ACCURACIES and info.normalization != ""
                      and ACCURACIES[aggregate.metric] != info.normalization)
        for column in info.metrics:
            name, pipeline = split_column(column)
            # an lm-eval column holds lm-eval's own value of its metric (lm-eval:f1@weighted_f1_score: f1)
            own = is_lm_eval_column(column) and column_parts(column)[0] == aggregate.metric
            if not own and (metric is None or wrong_kind or name != metric):
                continue
            if aggregate.filter is None or (pipeline or "none") == aggregate.filter:
                out.setdefault(pipeline, {})[task] = column
    return out


def _aggregate(result: RunResult, groups: Mapping[str, GroupDef], group: GroupDef, aggregate: Aggregate,
               cells: Mapping[str, Mapping[str, list[CellResult]]], methods: Sequence[str],
               files: _RowScores) -> list[GroupScore] | None:
    """The group's scores on ``aggregate`` per method and filter; None when saved rows are missing."""
    out: list[GroupScore] = []
    for columns in _columns(result, _leaves(groups, group.name), aggregate).values():
        if not all(isinstance(get_metric(c), MeanMetric) for c in columns.values()):
            continue  # a corpus metric (BLEU) has no per-row scores to pool: its task values stand alone
        scores = _method_scores(result, group, aggregate, columns, cells, methods, files)
        if scores is None:
            return None
        out += scores
    return out


def _method_scores(result: RunResult, group: GroupDef, aggregate: Aggregate, columns: Mapping[str, str],
                   cells: Mapping[str, Mapping[str, list[CellResult]]], methods: Sequence[str],
                   files: _RowScores) -> list[GroupScore] | None:
    rows: dict[str, dict[str, dict[str, float]]] = {}  # method -> task -> example id -> score
    for method in methods:
        per_task: dict[str, dict[str, float]] = {}
        for task, column in columns.items():
            mine = cells.get(task, {}).get(method, [])
            if not mine:
                break  # a method with a failed or missing task has no aggregate
            # several training seeds: each row's score averaged over them
            scores = [files.of(result.tasks[task], c, column) for c in mine]
            shared = set.intersection(*(set(s) for s in scores))
            if not shared:
                return None
            per_task[task] = {i: float(np.mean([s[i] for s in scores])) for i in shared}
        else:
            rows[method] = per_task
    if not rows:
        return []
    sizes = {t: len(next(iter(rows.values()))[t]) for t in columns}
    weights = group_weights(sizes, aggregate.weight_by_size)
    z = float(scipy_stats.norm.ppf(1 - ALPHA / 2))
    estimates = {m: stratified({t: np.array(list(per_task[t].values())) for t in weights}, weights)
                 for m, per_task in rows.items()}
    best = max(estimates, key=lambda m: (estimates[m][0], -methods.index(m)))
    tests = {}
    for method in estimates:
        if method != best:
            diffs = {t: np.array([rows[best][t][i] - rows[method][t][i] for i in rows[best][t] if i in rows[method][t]])
                     for t in weights}
            diff, se = stratified(diffs, weights)
            # no variance to estimate (or none at all): no test, rather than a p-value of 0
            p = float(2 * scipy_stats.norm.sf(abs(diff) / se)) if se > 0 else (1.0 if diff == 0 else float("nan"))
            tests[method] = (diff, se, p)
    testable = [m for m in tests if not math.isnan(tests[m][2])]
    adjusted = dict(zip(testable, holm([tests[m][2] for m in testable]), strict=True)) if testable else {}
    column = next(iter(columns.values()))
    out = []
    for method, (value, se) in estimates.items():
        test = tests.get(method)
        out.append(GroupScore(
            group=group.name, alias=group.alias, metric=column, lm_eval_metric=aggregate.metric,
            weight_by_size=aggregate.weight_by_size, method=method, value=value,
            ci_low=max(value - z * se, 0.0), ci_high=min(value + z * se, 100.0), n=sum(sizes.values()), tasks=len(weights),
            best=None if test is None else best,
            difference=None if test is None else test[0],
            diff_low=None if test is None else test[0] - z * test[1],
            diff_high=None if test is None else test[0] + z * test[1],
            p_value=None if test is None else test[2],
            p_holm=None if test is None else adjusted.get(method, float("nan")),
        ))
    return out


def _leaves(groups: Mapping[str, GroupDef], name: str, seen: tuple[str, ...] = ()) -> list[str]:
    """Every task of the group, nested groups flattened (lm-eval's ``get_all_tasks``)."""
    out: list[str] = []
    for kind, member in groups[name].members:
        if kind == "task":
            out.append(member)
        elif member in groups and member not in seen:
            out += _leaves(groups, member, (*seen, name))
    return list(dict.fromkeys(out))


class _RowScores:
    """Each cell's per-row scores on a column, computed once: a task sits in several groups (an
    MMLU subject in its category and in MMLU)."""

    def __init__(self, files: SampleFiles):
        self.files = files
        self._done: dict[tuple[object, str], dict[str, float]] = {}

    def of(self, info: TaskInfo, cell: CellResult, column: str) -> dict[str, float]:
        """The cell's per-row scores on ``column`` (a mean metric's) by example id."""
        key = (cell.key, column)
        if key not in self._done:
            metric = get_metric(column)
            rows = self.files.rows(cell)
            stats = metric.stats(column_outputs(column, [r.prediction for r in rows], [r.filtered for r in rows]),
                                 [r.references for r in rows], MetricContext.of_task(info))
            self._done[key] = {r.example_id: float(v) for r, v in zip(rows, metric.sample_scores(stats), strict=True)}
        return self._done[key]
