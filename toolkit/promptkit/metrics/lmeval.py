"""lm-evaluation-harness's own scoring as score columns: each row's value computed as lm-eval
computes it (its built-in metric functions, or with ``--trust-task-code`` the task's
``process_results`` or ``!function`` metric: :mod:`promptkit.tasks.lmeval.results`), aggregated as
lm-eval aggregates it (its built-in aggregations here, or the task's ``!function`` aggregation).

A column is ``lm-eval:<metric>`` when lm-eval averages the rows' values, else
``lm-eval:<metric>@<aggregation>`` (``lm-eval:f1@f1``: scikit-learn's binary F1 over the rows'
``(gold, prediction)`` pairs, lm-eval's ``f1``; ``lm-eval:f1@weighted_f1_score``: the task's own
function). Values keep lm-eval's scale (accuracies in 0-1), as hub metrics keep theirs.

A row's value is computed once, when its cell is scored, and kept JSON-encoded in its samples row
beside the filter results (``SampleRow.filtered``, under the column's name), so ``promptkit
report`` reads it back without the model or the task's code. A mean needs nothing more (a
:class:`~promptkit.metrics.base.MeanMetric`: analytic intervals and paired tests). Another
aggregation is a function of a set of rows' values, called again on each resample: the statistic
of a row is the index of its value in a store of this process, and the aggregation is the one
registered for the task (:func:`register_aggregations`, the task named by
``MetricContext.task``). A task's own aggregation is known only in a process that imported its
code (the run): elsewhere such a column cannot be rescored, and ``promptkit report`` keeps the
comparisons the run recorded.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from promptkit.metrics.base import FloatArray, MeanMetric, Metric, MetricContext, MetricError, check_rows
from promptkit.records.columns import split_column

PREFIX = "lm-eval:"
Aggregation = Callable[[list[Any]], Any]


def is_lm_eval_column(name: str) -> bool:
    """``lm-eval:acc``, ``lm-eval:f1@f1[strict-match]``..."""
    return split_column(name)[0].startswith(PREFIX)


def places(name: str) -> int:
    """Decimals a column's numbers are written with: three on lm-eval's own scale (accuracies in
    0-1), one on promptkit's 0-100."""
    return 3 if is_lm_eval_column(name) else 1


def column_parts(name: str) -> tuple[str, str | None]:
    """``"lm-eval:f1@weighted_f1_score[none]"`` -> ``("f1", "weighted_f1_score")``; a mean: ``(key, None)``."""
    metric = split_column(name)[0][len(PREFIX):]
    key, at, aggregation = metric.partition("@")
    return key, (aggregation if at else None)


def lm_eval_metric(name: str) -> Metric:
    """The metric object of an ``lm-eval:`` column.

    Raises:
        MetricError: a malformed name (no metric after the prefix).
    """
    key, aggregation = column_parts(name)
    if not key or aggregation == "":
        raise MetricError(f"{name!r}: an lm-eval column is lm-eval:METRIC or lm-eval:METRIC@AGGREGATION")
    metric: Metric = LmEvalMean() if aggregation in (None, "mean") else LmEvalAggregate()
    metric.name = split_column(name)[0]
    return metric


def decode(value: str, column: str, row: int) -> Any:
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        raise MetricError(f"{column}: row {row} holds {value!r}, not the JSON value promptkit writes") from None


def encode(value: Any) -> str:
    """A row's value as the samples file keeps it (tuples and numpy values as JSON lists and numbers)."""
    return json.dumps(_plain(value))


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


class LmEvalMean(MeanMetric):
    """lm-eval's ``mean`` of the rows' numbers (booleans count 1 and 0), on lm-eval's scale."""

    bounds = None

    def sample_score(self, prediction: str, references: Sequence[str], ctx: MetricContext) -> float:
        raise NotImplementedError  # stats reads the values the task computed, not the outputs

    def stats(self, predictions: Sequence[str], references: Sequence[Sequence[str]], ctx: MetricContext) -> FloatArray:
        check_rows(predictions, references)
        values = []
        for i, text in enumerate(predictions):
            value = decode(text, self.name, i)
            if isinstance(value, bool) or (isinstance(value, (int, float)) and value is not None):
                values.append(float(value))
            else:
                raise MetricError(f"{self.name}: row {i}'s value is {_shown(value)}, not a number lm-eval could "
                                  "average; name its aggregation in metric_list")
        return np.asarray(values, dtype=np.float64).reshape(len(values), 1)

    def score_totals(self, totals: FloatArray, n: int) -> float:
        return float(totals[0] / n) if n else float("nan")

    def score_totals_batch(self, totals: FloatArray, n: int | Any) -> FloatArray:
        ns = np.broadcast_to(np.asarray(n, dtype=np.float64), (len(totals),))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(ns > 0, totals[:, 0] / np.maximum(ns, 1.0), np.nan)

    def sample_scores(self, stats: FloatArray) -> FloatArray:
        return np.asarray(stats[:, 0], dtype=np.float64)


# Every value an LmEvalAggregate has read in this process, with the aggregation it belongs to.
_STORE: list[tuple[Aggregation, Any]] = []
# The task's own aggregations: (task, column metric) -> function (register_aggregations).
_TASK_AGGREGATIONS: dict[tuple[str, str], Aggregation] = {}


def register_aggregations(task: str, functions: Mapping[str, Aggregation]) -> None:
    """Make a task's own aggregations (imported with ``--trust-task-code``) known to its columns
    (``{"lm-eval:f1@weighted_f1_score": function}``) in this process."""
    for column, function in functions.items():
        _TASK_AGGREGATIONS[(task, split_column(column)[0])] = function


class LmEvalAggregate(Metric):
    """A column lm-eval aggregates by a function of all its rows' values (F1 over the rows' pairs,
    a perplexity, the task's own function). Statistics: each row's index in this process's store."""

    per_row = False  # a row's value is an item of the aggregation (a pair...), not a score

    def stats(self, predictions: Sequence[str], references: Sequence[Sequence[str]], ctx: MetricContext) -> FloatArray:
        check_rows(predictions, references)
        function = self._function(ctx)
        start = len(_STORE)
        _STORE.extend((function, decode(text, self.name, i)) for i, text in enumerate(predictions))
        return np.arange(start, len(_STORE), dtype=np.float64).reshape(-1, 1)

    def _function(self, ctx: MetricContext) -> Aggregation:
        _key, aggregation = column_parts(self.name)
        assert aggregation is not None
        if aggregation in AGGREGATIONS:
            return AGGREGATIONS[aggregation]
        function = _TASK_AGGREGATIONS.get((ctx.task, self.name))
        if function is None:
            raise MetricError(f"{self.name}: aggregated by task {ctx.task!r}'s own code ({aggregation}), which this "
                              "process has not imported (--trust-task-code); the run's recorded values stand")
        return function

    def aggregate(self, stats: FloatArray) -> float:
        if len(stats) == 0:
            return float("nan")
        entries = [_STORE[int(i)] for i in stats[:, 0]]
        function = entries[0][0]
        try:
            value = function([item for _f, item in entries])
        except Exception as exc:  # the aggregation (the task's code, or lm-eval's on items it cannot take)
            raise MetricError(f"{self.name}: the aggregation raised {type(exc).__name__}: "
                              f"{' '.join(str(exc).split())[:300]}") from exc
        try:
            return float(value)
        except (TypeError, ValueError):
            raise MetricError(f"{self.name}: the aggregation returned {_shown(value)}, not a number") from None

    def sample_scores(self, stats: FloatArray) -> FloatArray:
        values = [_STORE[int(i)][1] for i in stats[:, 0]]
        return np.array([float(v) if isinstance(v, (int, float)) else np.nan for v in values], dtype=np.float64)


def _shown(value: Any) -> str:
    return " ".join(repr(value).split())[:80]


# ----------------------------------------------------------------- lm-eval 0.4.13's aggregations
def _pairs(items: Sequence[Any], name: str) -> tuple[list[Any], list[Any]]:
    if not all(isinstance(x, (list, tuple)) and len(x) == 2 for x in items):
        bad = next(x for x in items if not (isinstance(x, (list, tuple)) and len(x) == 2))
        raise ValueError(f"{name} aggregates (gold, prediction) pairs; a row holds {_shown(bad)}")
    return [_label(x[0]) for x in items], [_label(x[1]) for x in items]


def _label(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def mean(items: Sequence[float]) -> float:
    return sum(items) / len(items)


def median(items: Sequence[float]) -> float:
    return sorted(items)[len(items) // 2]  # lm-eval's: the upper middle of an even count


def nanmean(items: Sequence[float]) -> float:
    values = np.asarray(items, dtype=np.float64)
    return float("nan") if len(values) == 0 or np.isnan(values).all() else float(np.nanmean(values))


def weighted_mean(items: Sequence[Sequence[float]]) -> float:
    return sum(a for a, _b in items) / sum(b for _a, b in items)


def binary_f1(items: Sequence[Any]) -> float:
    """scikit-learn's ``f1_score(golds, preds)`` (``average="binary"``, positive label 1), as lm-eval's ``f1``."""
    golds, preds = _pairs(items, "f1")
    labels = set(golds) | set(preds)
    if len(labels) > 2 or (len(labels) == 2 and 1 not in labels):  # scikit-learn raises on both
        raise ValueError(f"lm-eval's f1 is binary F1 of the label 1 (scikit-learn's default); the rows hold the labels "
                         f"{sorted(map(repr, labels))[:6]}: name another aggregation")
    tp = sum(1 for g, p in zip(golds, preds, strict=True) if g == 1 and p == 1)
    fp = sum(1 for g, p in zip(golds, preds, strict=True) if g != 1 and p == 1)
    fn = sum(1 for g, p in zip(golds, preds, strict=True) if g == 1 and p != 1)
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def matthews(items: Sequence[Any]) -> float:
    """scikit-learn's ``matthews_corrcoef(golds, preds)`` (multiclass, from the confusion matrix)."""
    golds, preds = _pairs(items, "matthews_corrcoef")
    classes = {c: i for i, c in enumerate(dict.fromkeys([*golds, *preds]))}
    confusion = np.zeros((len(classes), len(classes)))
    for g, p in zip(golds, preds, strict=True):
        confusion[classes[g], classes[p]] += 1
    t, p, n = confusion.sum(axis=1), confusion.sum(axis=0), confusion.sum()
    cov_tp = np.trace(confusion) * n - t @ p
    cov_pp, cov_tt = n * n - p @ p, n * n - t @ t
    return 0.0 if cov_pp * cov_tt == 0 else float(cov_tp / math.sqrt(cov_tt * cov_pp))


def _corpus(items: Sequence[Any], name: str) -> tuple[list[str], list[list[str]]]:
    """lm-eval's ``_sacreformat``: predictions, and the references transposed into sacrebleu's streams."""
    refs, preds = _pairs(items, name)
    refs = [list(r) if isinstance(r, tuple) else [r] for r in refs]
    preds = [p[0] if isinstance(p, tuple) else p for p in preds]
    width = max(len(r) for r in refs)
    return [str(p) for p in preds], [[str(r[k]) if k < len(r) else "" for r in refs] for k in range(width)]


def corpus_bleu(items: Sequence[Any]) -> float:
    import sacrebleu

    preds, refs = _corpus(items, "bleu")
    return float(sacrebleu.corpus_bleu(preds, refs).score)


def corpus_chrf(items: Sequence[Any]) -> float:
    import sacrebleu

    preds, refs = _corpus(items, "chrf")
    return float(sacrebleu.corpus_chrf(preds, refs).score)


def corpus_ter(items: Sequence[Any]) -> float:
    import sacrebleu

    preds, refs = _corpus(items, "ter")
    return float(sacrebleu.corpus_ter(preds, refs).score)


def brier_score(items: Sequence[Any]) -> float:
    golds, probs = _pairs(items, "brier_score")
    matrix = np.asarray(probs, dtype=np.float64)
    onehot = np.eye(matrix.shape[1])[list(golds)]
    return float(np.mean(np.sum((matrix - onehot) ** 2, axis=1)))


AGGREGATIONS: dict[str, Aggregation] = {
    "mean": mean,
    "nanmean": nanmean,
    "median": median,
    "perplexity": lambda items: math.exp(-mean(items)),
    "weighted_perplexity": lambda items: math.exp(-weighted_mean(items)),
    "bits_per_byte": lambda items: -weighted_mean(items) / math.log(2),
    "f1": binary_f1,
    "matthews_corrcoef": matthews,
    "bleu": corpus_bleu,
    "chrf": corpus_chrf,
    "ter": corpus_ter,
    "brier_score": brier_score,
}
