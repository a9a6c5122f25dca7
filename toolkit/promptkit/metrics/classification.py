"""Classification metrics over verbalizers: accuracy and macro-averaged F1.

The gold label of a row is its first reference and the predicted label its output, both
stripped of surrounding whitespace and otherwise compared exactly (the harness already maps a
classification prediction to one of the verbalizers).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from promptkit.metrics.base import (
    METRICS,
    AdditiveMetric,
    FloatArray,
    IntArray,
    MeanMetric,
    MetricContext,
    check_rows,
)


@METRICS.register("accuracy")
class Accuracy(MeanMetric):
    """Share of rows whose output equals the gold label (the first reference)."""

    name = "accuracy"
    binary = True

    def sample_score(self, prediction: str, references: Sequence[str], ctx: MetricContext) -> float:
        return float(prediction.strip() == references[0].strip())


@METRICS.register("macro_f1")
class MacroF1(AdditiveMetric):
    """Unweighted mean of per-class F1.

    Classes are ``ctx.labels`` plus any gold label outside them (a class with support always
    counts); with no labels given, every label seen among references and outputs. Pass the
    labels when comparing systems with :func:`~promptkit.metrics.paired_permutation_test`, so
    that both systems' statistics have the same columns. An output
    that is no class at all is simply wrong: a false negative for the gold class. A class with
    neither support nor predictions in the scored rows (or resample) is left out of the mean,
    as in scikit-learn's ``f1_score(average="macro")`` over the labels present.

    Statistics are one-hot per row: columns ``[tp_1..tp_K, fp_1..fp_K, fn_1..fn_K]``, so that
    summing any subset of rows gives that subset's confusion counts.
    """

    name = "macro_f1"

    def stats(
        self,
        predictions: Sequence[str],
        references: Sequence[Sequence[str]],
        ctx: MetricContext,
    ) -> FloatArray:
        check_rows(predictions, references)
        gold = [refs[0].strip() for refs in references]
        predicted = [p.strip() for p in predictions]
        classes = list(dict.fromkeys(label.strip() for label in ctx.labels))
        classes += sorted(set(gold) - set(classes))
        if not ctx.labels:
            # Gold classes first: two systems scored on the same rows then share the leading
            # columns, which keeps their statistics comparable in paired tests.
            classes += sorted(set(predicted) - set(classes))
        column = {label: i for i, label in enumerate(classes)}
        k = len(classes)

        out = np.zeros((len(gold), 3 * k))
        for row, (g, p) in enumerate(zip(gold, predicted, strict=True)):
            if g == p:
                out[row, column[g]] = 1.0  # true positive
                continue
            if p in column:
                out[row, k + column[p]] = 1.0  # false positive for the predicted class
            out[row, 2 * k + column[g]] = 1.0  # false negative for the gold class
        return out

    def score_totals(self, totals: FloatArray, n: int) -> float:
        return float(self.score_totals_batch(totals[None, :], n)[0])

    def score_totals_batch(self, totals: FloatArray, n: int | IntArray) -> FloatArray:
        k = totals.shape[1] // 3
        tp, fp, fn = totals[:, :k], totals[:, k : 2 * k], totals[:, 2 * k :]
        denominator = 2 * tp + fp + fn
        present = denominator > 0
        f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=present)
        with np.errstate(invalid="ignore", divide="ignore"):
            # NaN when no class is present at all, i.e. no rows.
            return np.asarray(100.0 * f1.sum(axis=1) / present.sum(axis=1), dtype=np.float64)

    def sample_scores(self, stats: FloatArray) -> FloatArray:
        # Macro-F1 has no per-row value; a row's contribution is whether it was right.
        k = stats.shape[1] // 3
        return np.asarray(100.0 * (stats[:, :k].sum(axis=1) > 0), dtype=np.float64)
