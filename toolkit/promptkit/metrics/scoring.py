"""The scoring stage: predictions in, one :class:`MetricScore` (value, CI, per-sample) per metric.

Also where metric names become metric objects, since names are how tasks and the CLI refer to
metrics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from promptkit.metrics.base import (
    METRICS,
    FloatArray,
    MeanMetric,
    Metric,
    MetricContext,
    MetricError,
)
from promptkit.metrics.bootstrap import percentile_interval, resample_counts
from promptkit.metrics.hub import PREFIX, hub_metric
from promptkit.metrics.inference import mean_interval
from promptkit.metrics.lmeval import is_lm_eval_column, lm_eval_metric
from promptkit.records import MetricScore, Prediction
from promptkit.records.columns import split_column


def metric_names() -> list[str]:
    """Names of the built-in metrics, sorted. Hub metrics are ``evaluate:<name>`` on top."""
    return METRICS.names()


def get_metric(name: str, where: str = "") -> Metric:
    """A new metric object for a registered name or ``evaluate:<hub-name>[:<result-key>]``.

    Args:
        name: ``"token_f1"``, ``"bleu"``... or ``"evaluate:bertscore:f1"``; a column
            ``"exact_match[strict-match]"`` (a metric on a filter pipeline's outputs) gives its metric.
        where: location prefixed to error messages (``"tasks/squad.yaml:7: metrics[1]"``).

    Raises:
        UnknownNameError: not a built-in metric (the message suggests the closest one).
        MetricError: a hub metric that cannot be loaded (offline, unknown).
    """
    if is_lm_eval_column(name):
        return lm_eval_metric(name)
    name, _pipeline = split_column(name)
    if name.startswith(PREFIX):
        return hub_metric(name, where)
    return METRICS.get(name, where)()


def column_outputs(name: str, predictions: Sequence[Prediction] | Sequence[str],
                   filtered: Sequence[Mapping[str, str]] | None) -> list[str]:
    """The outputs column ``name`` scores: each prediction's output, or for ``metric[pipeline]``
    the pipeline's result for each row (``filtered``, one mapping per row).

    Raises:
        MetricError: a row without that pipeline's result (naming the pipelines it has).
    """
    _metric, pipeline = split_column(name)
    outputs = [p if isinstance(p, str) else p.output for p in predictions]
    if is_lm_eval_column(name):  # each row's value, as lm-eval computed it (JSON), kept under the column's name
        pipeline = name
    if pipeline is None:
        return outputs
    rows = filtered if filtered is not None else [{}] * len(outputs)
    if len(rows) != len(outputs):
        raise MetricError(f"{len(rows)} filtered rows for {len(outputs)} predictions")
    missing = next((row for row in rows if pipeline not in row), None)
    if missing is not None and pipeline == name:
        raise MetricError(f"column {name!r}: the rows hold no values of it; an lm-eval column is computed by the run "
                          "of an lm-eval task (--task lm-eval:PATH) that lists its metric")
    if missing is not None:
        have = ", ".join(map(repr, missing))
        raise MetricError(f"column {name!r}: the rows hold no results of filter {pipeline!r}; "
                          + (f"the run's filters are {have}" if have else "the task has no filters"))
    return [row[pipeline] for row in rows]


# A module-level default: MetricContext is frozen, so sharing one instance is safe.
_NO_CONTEXT = MetricContext()


def score(
    names: Sequence[str],
    predictions: Sequence[Prediction],
    ctx: MetricContext = _NO_CONTEXT,
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    groups: Sequence[object] | None = None,
    filtered: Sequence[Mapping[str, str]] | None = None,
) -> dict[str, MetricScore]:
    """Score predictions with several metrics, each with a confidence interval.

    Means of per-row scores get analytic intervals (Wilson with the design effect for right/wrong
    scores, the CR2 cluster-robust t otherwise; ``details["interval"]`` names it). Corpus metrics
    are bootstrapped, all on the same resampled row sets (one seeded numpy generator).

    Args:
        names: metric names (see :func:`get_metric`); duplicates are scored once.
        predictions: what a method produced; ``output`` is scored against ``references``.
        ctx: target language and classification labels of the task.
        n_boot: bootstrap resamples of corpus metrics; 0 skips them and leaves their interval NaN.
        seed: seed of the resampling.
        alpha: 0.05 for 95% intervals.
        groups: one label per prediction (the article of each question, say): intervals then
            resample whole groups (a cluster bootstrap), since rows of one group are not
            independent; None resamples rows.
        filtered: each prediction's filter results by pipeline name
            (``promptkit.tasks.filters.filter_outputs``): a name ``metric[pipeline]`` scores
            ``metric`` on them (:func:`column_outputs`).

    Returns:
        ``{name: MetricScore}`` in the order of ``names``; values and intervals on a 0-100
        scale, ``per_sample`` in the order of ``predictions``, ``details`` the settings each
        metric used (:meth:`Metric.describe`).

    Raises:
        MetricError: no predictions, a prediction without references, or bad ``n_boot`` or
            ``alpha``.
        UnknownNameError: an unknown metric name.
    """
    _check(predictions, n_boot, alpha)
    metrics = {name: get_metric(name) for name in dict.fromkeys(names)}
    references = [p.references for p in predictions]
    stats: dict[str, FloatArray] = {
        name: metric.stats(column_outputs(name, predictions, filtered), references, ctx) for name, metric in metrics.items()
    }

    # Means of per-row scores get analytic intervals that hold with few groups (Wilson with the
    # design effect for right/wrong scores, cluster-robust t otherwise: promptkit.metrics.inference);
    # corpus metrics a (cluster) bootstrap, in one pass over the resamples for all of them.
    resampled: dict[str, list[FloatArray]] = {name: [] for name, m in metrics.items() if not isinstance(m, MeanMetric)}
    if n_boot and resampled:
        for counts in resample_counts(len(predictions), n_boot, seed, groups):
            for name in resampled:
                resampled[name].append(metrics[name].aggregate_counts(stats[name], counts))
    clustered = groups is not None and len(set(groups)) < len(groups)

    scores: dict[str, MetricScore] = {}
    for name, metric in metrics.items():
        details = dict(metric.describe(ctx, references))
        pipeline = split_column(name)[1]
        if pipeline is not None:
            details["filter"] = pipeline
        (low, high), how = _interval(metric, stats[name], resampled.get(name), groups, alpha, clustered)
        if how is not None:
            details["interval"] = how
        scores[name] = MetricScore(
            name=name,
            value=float(metric.aggregate(stats[name])),
            ci_low=low,
            ci_high=high,
            n=len(predictions),
            per_sample=tuple(float(x) for x in metric.sample_scores(stats[name])) if metric.per_row else (),
            details=details,
        )
    return scores


def _check(predictions: Sequence[Prediction], n_boot: int, alpha: float) -> None:
    if not predictions:
        raise MetricError("no predictions to score: the evaluation split produced no rows")
    for prediction in predictions:
        if not prediction.references:
            raise MetricError(
                f"example {prediction.example_id!r} has no reference to score against"
            )
    if n_boot < 0:
        raise MetricError(f"n_boot must be 0 (no interval) or more, got {n_boot!r}")
    percentile_interval(np.zeros(1), alpha)  # validates alpha before any work is done


def _interval(metric: Any, stats: FloatArray, resampled: list[FloatArray] | None, groups: Sequence[object] | None,
              alpha: float, clustered: bool) -> tuple[tuple[float, float], str | None]:
    """A metric's interval and the name of the method that gave it (None: no interval)."""
    if isinstance(metric, MeanMetric):
        kind = ("wilson-design-effect" if metric.binary else "cluster-t-cr2") if clustered else ("wilson" if metric.binary else "t")
        return _mean_interval(metric, stats, groups, alpha), kind
    if resampled:
        return percentile_interval(np.concatenate(resampled), alpha), \
            "cluster-bootstrap-percentile" if clustered else "bootstrap-percentile"
    return (float("nan"), float("nan")), None


def _mean_interval(metric: MeanMetric, stats: FloatArray, groups: Sequence[object] | None,
                   alpha: float) -> tuple[float, float]:
    """The analytic interval of a mean metric (NaN with fewer than two groups of rows)."""
    values = metric.sample_scores(stats)
    n_groups = len(set(groups)) if groups is not None else len(values)
    if n_groups < 2:
        return float("nan"), float("nan")
    low, high = mean_interval(values, groups, alpha, binary=metric.binary)
    if metric.bounds is None:
        return low, high
    return max(low, metric.bounds[0]), min(high, metric.bounds[1])  # a mean of 0-100 scores is in [0, 100]
