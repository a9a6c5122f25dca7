"""Each row's lm-eval metric values, computed as lm-evaluation-harness 0.4.13 computes them
(``ConfigurableTask.process_results``), for the task's ``lm-eval:`` score columns
(:mod:`promptkit.metrics.lmeval`, which aggregates them).

A row's ``results`` are what lm-eval hands ``process_results``: for ``generate_until`` the one
answer of the filter pipeline being scored (``[text]``), for ``multiple_choice`` each choice's
``(log-likelihood, is_greedy)``, for ``loglikelihood`` the continuation's. The values are then
the task's own ``process_results(doc, results)`` (``--trust-task-code``), else lm-eval's built-in
metric functions: ``acc`` / ``acc_norm`` / ``acc_bytes`` (argmax of the log-likelihoods, per
character, per byte), ``f1`` and ``mcc`` (the ``(gold, prediction)`` pair their aggregation
takes), ``exact_match`` (greedy decoding gives the gold choice; for generation lm-eval's
``exact_match`` with its options), ``brier_score``, ``perplexity``; for generation any other
registered metric passes ``[gold, answer]`` on, and a ``!function`` metric is called as lm-eval
calls it (``fn(references=[gold], predictions=[answer], **options)``, else ``fn([gold, answer])``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from promptkit.metrics.base import StringMatchOptions
from promptkit.metrics.lmeval import encode
from promptkit.metrics.matching import normalize
from promptkit.records import Example, Prediction
from promptkit.records.columns import column_name
from promptkit.tasks.lmeval.code import Hook, TaskCodeError

# lm-eval 0.4.13's registry: each metric's default aggregation and direction (lm_eval.api.metrics).
DEFAULT_AGGREGATION = {
    "acc": "mean", "acc_norm": "mean", "acc_bytes": "mean", "acc_mutual_info": "mean", "exact_match": "mean",
    "f1": "f1", "mcc": "matthews_corrcoef", "bleu": "bleu", "chrf": "chrf", "ter": "ter", "brier_score": "brier_score",
    "perplexity": "perplexity", "word_perplexity": "weighted_perplexity", "byte_perplexity": "weighted_perplexity",
    "bits_per_byte": "bits_per_byte",
}
MATCH_OPTIONS = ("ignore_case", "ignore_punctuation", "ignore_numbers", "regexes_to_ignore")
LOWER_IS_BETTER = {"ter", "brier_score", "perplexity", "word_perplexity", "byte_perplexity", "bits_per_byte"}
# lm-eval's built-in per-row values, by output type (generation: exact_match, and the passthrough metrics).
BUILTIN = {
    "multiple_choice": ("acc", "acc_norm", "acc_bytes", "f1", "mcc", "exact_match", "brier_score"),
    "loglikelihood": ("acc", "perplexity"),
    "generate_until": ("exact_match", "acc", "acc_norm", "f1", "mcc", "bleu", "chrf", "ter", "brier_score"),
}


@dataclass(frozen=True)
class Column:
    """One ``metric_list`` entry scored the lm-eval way."""

    key: str  # lm-eval's name of the value (acc, f1, the !function metric's name, a process_results key)
    metric: str  # the score column without its pipeline: lm-eval:f1@weighted_f1_score
    options: Mapping[str, Any] = field(default_factory=dict)  # passed to the metric function (lm-eval's kwargs)
    function: Hook | None = None  # a !function metric
    aggregation: Hook | None = None  # a !function aggregation
    higher_is_better: bool = True


@dataclass
class LmEvalScoring:
    """How a converted task's ``lm-eval:`` columns get each row's value."""

    output_type: str
    columns: list[Column]
    process_results: Hook | None = None

    def lower_is_better(self) -> tuple[str, ...]:
        return tuple(c.metric for c in self.columns if not c.higher_is_better)

    def aggregations(self, functions: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
        """Column -> the task's own aggregation function (from the imported ``functions``, by hook key)."""
        return {c.metric: functions[c.aggregation.key] for c in self.columns if c.aggregation is not None}

    def values(self, functions: Mapping[str, Callable[..., Any]], predictions: Sequence[Prediction],
               examples: Sequence[Example], pipelines: Sequence[str | None],
               filtered: Sequence[Mapping[str, str]] | None, where: str) -> list[dict[str, str]]:
        """Each row's values, JSON-encoded, by column (``lm-eval:acc[pipeline]``).

        Raises:
            TaskCodeError: the task's code raised or returned no value for a column, naming the row.
        """
        by_id = {ex.id: ex for ex in examples}
        out: list[dict[str, str]] = []
        for i, pd in enumerate(predictions):
            ex = by_id.get(pd.example_id)
            doc = dict(ex.doc) if ex is not None and ex.doc is not None else {}
            row: dict[str, str] = {}
            for pipeline in pipelines:
                answer = pd.output if pipeline is None or filtered is None else filtered[i][pipeline]
                values = self._row(functions, doc, pd, answer, f"{where} row {pd.example_id}")
                for column in self.columns:
                    if column.key not in values:
                        raise TaskCodeError(f"{where} row {pd.example_id}: no value for metric {column.key!r}; "
                                            f"the row's values are {sorted(values)}")
                    row[column_name(column.metric, pipeline)] = encode(values[column.key])
            out.append(row)
        return out

    def _row(self, functions: Mapping[str, Callable[..., Any]], doc: dict[str, Any], pd: Prediction, answer: str,
             where: str) -> dict[str, Any]:
        if self.output_type == "generate_until":
            results: list[Any] = [answer]
        else:
            greedy = pd.choice_greedy or (False,) * len(pd.choice_logprobs)
            results = [(float(ll), bool(g)) for ll, g in zip(pd.choice_logprobs, greedy, strict=True)]
        if self.process_results is not None:
            value = _call(functions[self.process_results.key], self.process_results, where, doc, results)
            if not isinstance(value, Mapping):
                raise TaskCodeError(f"{where}: task code {self.process_results.describe()} returned "
                                    f"{type(value).__name__}, not a mapping of metric names to values")
            return dict(value)
        if self.output_type == "generate_until":
            return {c.key: self._generated(functions, c, pd, answer, where) for c in self.columns}
        return _choice_values(self.output_type, pd, results)

    def _generated(self, functions: Mapping[str, Callable[..., Any]], column: Column, pd: Prediction, answer: str,
                   where: str) -> Any:
        refs = list(pd.references)
        gold: Any = refs[0] if len(refs) == 1 else refs
        golds = gold if isinstance(gold, list) else [gold]
        if column.function is not None:
            function = functions[column.function.key]
            scores = [_metric_call(function, column, g, answer, where) for g in golds]
            return scores[0] if len(golds) == 1 else (1.0 if any(scores) else 0.0)
        if column.key == "exact_match":
            return 1.0 if any(exact_match(g, answer, column.options) for g in golds) else 0.0
        # lm-eval's other metrics of generated text pass (gold, answer) on to their aggregation;
        # with several golds lm-eval scores 1.0 (any non-empty pair is true)
        return [gold, answer] if len(golds) == 1 else 1.0


def _choice_values(output_type: str, pd: Prediction, results: list[tuple[float, bool]]) -> dict[str, Any]:
    lls = np.array([ll for ll, _g in results], dtype=np.float64)
    greedy = [g for _ll, g in results]
    if output_type == "loglikelihood":
        return {"perplexity": float(lls[0]), "acc": int(greedy[0])}
    gold = pd.label if pd.label is not None and 0 <= pd.label < len(pd.choices) else -100
    chars = np.array([float(len(c)) for c in pd.choices])
    nbytes = np.array([float(len(c.encode("utf-8"))) for c in pd.choices])
    pred = int(np.argmax(lls))
    shifted = np.exp(lls - lls.max())
    return {
        "acc": 1.0 if pred == gold else 0.0,
        "acc_norm": 1.0 if int(np.argmax(lls / chars)) == gold else 0.0,
        "acc_bytes": 1.0 if int(np.argmax(lls / nbytes)) == gold else 0.0,
        "f1": (gold, pred),
        "mcc": (gold, pred),
        "exact_match": int(greedy[gold]) if gold != -100 else 0,
        "brier_score": (gold, (shifted / shifted.sum()).tolist()),
    }


def exact_match(gold: Any, answer: str, options: Mapping[str, Any]) -> bool:
    """lm-eval's ``exact_match`` of one answer (HF evaluate's definition, with its options:
    promptkit's ``string_match``, which follows it to numpy's handling of the strings)."""
    settings = StringMatchOptions.from_mapping({k: v for k, v in options.items() if k in MATCH_OPTIONS})
    return normalize([str(answer)], settings) == normalize([str(gold)], settings)


def _metric_call(function: Callable[..., Any], column: Column, gold: Any, answer: str, where: str) -> Any:
    assert column.function is not None
    try:
        try:
            value = function(references=[gold], predictions=[answer], **column.options)
        except TypeError:  # lm-eval's fallback for metrics that take one list of items
            value = function([gold, answer])
    except Exception as exc:  # the task's own code
        raise TaskCodeError(f"{where}: task code {column.function.describe()} raised {type(exc).__name__}: "
                            f"{' '.join(str(exc).split())[:300]}") from exc
    if isinstance(value, Mapping):  # lm-eval reads a dict's entry of the metric's name
        if column.key in value:
            return value[column.key]
        if len(value) == 1:
            return next(iter(value.values()))
        raise TaskCodeError(f"{where}: task code {column.function.describe()} returned the values {sorted(value)}; "
                            f"promptkit scores the one named {column.key!r}")
    return value


def _call(function: Callable[..., Any], hook: Hook, where: str, *args: Any) -> Any:
    try:
        return function(*args)
    except Exception as exc:  # the task's own code: any error is the task's, reported with its row
        raise TaskCodeError(f"{where}: task code {hook.describe()} raised {type(exc).__name__}: "
                            f"{' '.join(str(exc).split())[:300]}") from exc
