"""Metrics from the Hugging Face hub via ``evaluate.load``, named ``evaluate:<name>[:<key>]``.

A hub metric is a black box computed on a whole corpus, so it has no sufficient statistics.
Its "statistics" are instead row ids into the predictions and references this metric object
has seen, and :meth:`HubMetric.aggregate` re-runs the hub metric on the rows a resample
selects. Ids keep growing across :meth:`HubMetric.stats` calls, so two systems scored by the
same object can be resampled jointly (and swapped row by row) in paired tests.

Values are whatever the hub metric returns (often on a 0-1 scale, unlike the built-ins).
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real
from typing import Any

import numpy as np

from promptkit.metrics.base import (
    METRICS,
    FloatArray,
    Metric,
    MetricContext,
    MetricError,
    check_rows,
)

PREFIX = "evaluate:"


def _load(hub_name: str) -> Any:
    builtins = ", ".join(METRICS.names())
    try:
        # evaluate pulls in datasets and takes seconds to import; only hub metrics pay that.
        import evaluate
    except ImportError as exc:
        raise MetricError(
            f"metric {PREFIX}{hub_name} needs the 'evaluate' package ({exc}); "
            f"built-in metrics work without it: {builtins}"
        ) from exc
    try:
        return evaluate.load(hub_name)
    except Exception as exc:
        # evaluate raises FileNotFoundError, ConnectionError, ValueError... depending on
        # whether the hub is unreachable or the name is unknown; all mean "cannot use it".
        raise MetricError(
            f"cannot load hub metric {hub_name!r} with evaluate.load: {exc}. The Hugging Face "
            f"hub may be unreachable (offline?) or the metric may not exist; "
            f"built-in metrics work offline: {builtins}"
        ) from exc


class HubMetric(Metric):
    """A wrapper around ``evaluate.load(hub_name)``.

    Args:
        hub_name: the hub metric (``"bertscore"``, ``"user/metric"``).
        key: which entry of the metric's result dict is the score. By default the entry named
            like the metric, else the only numeric entry.

    Raises:
        MetricError: the metric cannot be loaded.
    """

    def __init__(self, hub_name: str, key: str | None = None):
        self.hub_name = hub_name
        self.key = key
        self.name = PREFIX + hub_name + (f":{key}" if key else "")
        self._module = _load(hub_name)
        self._predictions: list[str] = []
        self._references: list[list[str]] = []

    def stats(
        self,
        predictions: Sequence[str],
        references: Sequence[Sequence[str]],
        ctx: MetricContext,
    ) -> FloatArray:
        check_rows(predictions, references)
        start = len(self._predictions)
        self._predictions.extend(predictions)
        self._references.extend(list(refs) for refs in references)
        return np.arange(start, len(self._predictions), dtype=np.float64).reshape(-1, 1)

    def aggregate(self, stats: FloatArray) -> float:
        return self._compute([int(i) for i in stats[:, 0]])

    def sample_scores(self, stats: FloatArray) -> FloatArray:
        return np.array([self._compute([int(i)]) for i in stats[:, 0]], dtype=np.float64)

    def _compute(self, rows: list[int]) -> float:
        predictions = [self._predictions[i] for i in rows]
        references: list[Any] = [self._references[i] for i in rows]
        # Single-reference metrics (exact_match, accuracy...) reject lists of lists; pass plain
        # strings whenever every row has exactly one reference.
        if all(len(refs) == 1 for refs in references):
            references = [refs[0] for refs in references]
        try:
            result = self._module.compute(predictions=predictions, references=references)
        except Exception as exc:
            raise MetricError(f"hub metric {self.name} failed to compute: {exc}") from exc
        return self._pick(result)

    def _pick(self, result: Any) -> float:
        if not isinstance(result, dict):
            raise MetricError(f"hub metric {self.name} returned {result!r}, not a dict")
        if self.key is not None:
            if self.key not in result:
                raise MetricError(
                    f"hub metric {self.hub_name!r} has no result {self.key!r}; "
                    f"it returned: {', '.join(map(repr, result))}"
                )
            return self._as_float(self.key, result[self.key])
        own = self.hub_name.rsplit("/", 1)[-1]
        if own in result:
            return self._as_float(own, result[own])
        numeric = [k for k, v in result.items() if isinstance(v, Real)]
        if len(numeric) == 1:
            return float(result[numeric[0]])
        raise MetricError(
            f"hub metric {self.hub_name!r} returned several values "
            f"({', '.join(map(repr, result))}); name one as "
            f"'{PREFIX}{self.hub_name}:<key>'"
        )

    def _as_float(self, key: str, value: Any) -> float:
        if isinstance(value, Real):
            return float(value)
        try:
            # Per-sample lists (bertscore's f1) are averaged into the corpus value.
            return float(np.mean(np.asarray(value, dtype=np.float64)))
        except (TypeError, ValueError) as exc:
            raise MetricError(
                f"hub metric {self.hub_name!r} result {key!r} is {value!r}, not a number"
            ) from exc


def hub_metric(name: str, where: str = "") -> HubMetric:
    """Build the hub metric named ``evaluate:<name>`` or ``evaluate:<name>:<key>``.

    Raises:
        MetricError: the name is empty or the metric cannot be loaded.
    """
    spec = name[len(PREFIX) :]
    hub_name, _, key = spec.partition(":")
    if not hub_name:
        prefix = f"{where}: " if where else ""
        raise MetricError(
            f"{prefix}metric {name!r} names no hub metric; write e.g. 'evaluate:bertscore'"
        )
    try:
        return HubMetric(hub_name, key or None)
    except MetricError as exc:
        if where:
            raise MetricError(f"{where}: {exc}") from exc.__cause__
        raise
