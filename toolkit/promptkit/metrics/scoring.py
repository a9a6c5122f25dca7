"""The scoring stage: predictions in, one :class:`MetricScore` (value, CI, per-sample) per metric.

Also where metric names become metric objects, since names are how tasks and the CLI refer to
metrics.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from promptkit.metrics.base import (
    METRICS,
    FloatArray,
    Metric,
    MetricContext,
    MetricError,
)
from promptkit.metrics.bootstrap import percentile_interval, resample_counts
from promptkit.metrics.hub import PREFIX, hub_metric
from promptkit.records import MetricScore, Prediction


def metric_names() -> list[str]:
    """Names of the built-in metrics, sorted. Hub metrics are ``evaluate:<name>`` on top."""
    return METRICS.names()


def get_metric(name: str, where: str = "") -> Metric:
    """A new metric object for a registered name or ``evaluate:<hub-name>[:<result-key>]``.

    Args:
        name: ``"token_f1"``, ``"bleu"``... or ``"evaluate:bertscore:f1"``.
        where: location prefixed to error messages (``"tasks/squad.yaml:7: metrics[1]"``).

    Raises:
        UnknownNameError: not a built-in metric (the message suggests the closest one).
        MetricError: a hub metric that cannot be loaded (offline, unknown).
    """
    if name.startswith(PREFIX):
        return hub_metric(name, where)
    return METRICS.get(name, where)()


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
) -> dict[str, MetricScore]:
    """Score predictions with several metrics, each with a bootstrap confidence interval.

    Every metric is bootstrapped on the same resampled row sets (one seeded numpy generator),
    so intervals of different metrics describe the same resamples.

    Args:
        names: metric names (see :func:`get_metric`); duplicates are scored once.
        predictions: what a method produced; ``output`` is scored against ``references``.
        ctx: target language and classification labels of the task.
        n_boot: bootstrap resamples; 0 skips the bootstrap and leaves the interval NaN.
        seed: seed of the resampling.
        alpha: 0.05 for 95% intervals.
        groups: one label per prediction (the article of each question, say): intervals then
            resample whole groups (a cluster bootstrap), since rows of one group are not
            independent; None resamples rows.

    Returns:
        ``{name: MetricScore}`` in the order of ``names``; values and intervals on a 0-100
        scale, ``per_sample`` in the order of ``predictions``, ``details`` the settings each
        metric used (:meth:`Metric.describe`).

    Raises:
        MetricError: no predictions, a prediction without references, or bad ``n_boot`` or
            ``alpha``.
        UnknownNameError: an unknown metric name.
    """
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

    metrics = {name: get_metric(name) for name in dict.fromkeys(names)}
    outputs = [p.output for p in predictions]
    references = [p.references for p in predictions]
    stats: dict[str, FloatArray] = {
        name: metric.stats(outputs, references, ctx) for name, metric in metrics.items()
    }

    # One pass over the resamples for all metrics: the index blocks are drawn once and shared.
    resampled: dict[str, list[FloatArray]] = {name: [] for name in metrics}
    if n_boot:
        for counts in resample_counts(len(predictions), n_boot, seed, groups):
            for name, metric in metrics.items():
                resampled[name].append(metric.aggregate_counts(stats[name], counts))

    scores: dict[str, MetricScore] = {}
    for name, metric in metrics.items():
        low, high = (
            percentile_interval(np.concatenate(resampled[name]), alpha)
            if n_boot
            else (float("nan"), float("nan"))
        )
        scores[name] = MetricScore(
            name=name,
            value=float(metric.aggregate(stats[name])),
            ci_low=low,
            ci_high=high,
            n=len(predictions),
            per_sample=tuple(float(x) for x in metric.sample_scores(stats[name])),
            details=metric.describe(ctx, references),
        )
    return scores
