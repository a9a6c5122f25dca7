"""An lm-evaluation-harness task's ``metric_list`` (and ``process_results``) -> the converted
task's score columns.

A metric promptkit computes the same way is scored by promptkit's own metric (``acc`` by
``accuracy``, ``exact_match`` by ``string_match`` with its options, ``bleu``...), with analytic
intervals and tests. The others are scored the lm-eval way, as ``lm-eval:`` columns
(:mod:`promptkit.metrics.lmeval`, :mod:`promptkit.tasks.lmeval.results`): each row's value from
lm-eval's built-in metric function or the task's code, aggregated by lm-eval's aggregation or the
task's own. That covers ``f1`` (lm-eval's is scikit-learn's binary F1, not a macro F1), ``mcc``,
``ter``, ``brier_score``, a ``loglikelihood`` task's ``perplexity``, a metric with an aggregation
other than its own, and with ``--trust-task-code`` ``process_results``, ``!function`` metrics and
``!function`` aggregations.

promptkit ranks methods by a task's first column, higher being better: lm-eval's lower-is-better
metrics (``ter``, ``perplexity``...) are listed after the others, with a note.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from promptkit.metrics.base import MetricError, StringMatchOptions
from promptkit.metrics.lmeval import AGGREGATIONS, PREFIX
from promptkit.tasks.lmeval.code import Hook
from promptkit.tasks.lmeval.reader import FunctionRef
from promptkit.tasks.lmeval.results import (
    BUILTIN,
    DEFAULT_AGGREGATION,
    LOWER_IS_BETTER,
    MATCH_OPTIONS,
    Column,
    LmEvalScoring,
)

# lm-eval metric -> promptkit metric, per output type; acc_norm is accuracy with per-character
# normalisation of the choice scores, as in lm-eval (log-likelihood / len(choice)).
METRICS = {
    # lm-eval's exact_match is string equality after its options (ignore_case, ...): string_match
    "generate_until": {"exact_match": "string_match", "f1": "token_f1", "bleu": "bleu", "chrf": "chrf",
                       "rouge1": "rouge1", "rouge2": "rouge2", "rougeL": "rougeL"},
    "multiple_choice": {"acc": "accuracy", "acc_norm": "accuracy", "acc_bytes": "accuracy"},
    # one continuation scored after the prompt; acc: greedy decoding produces it (adapter
    # multiple_choice, normalization greedy)
    "loglikelihood": {"acc": "accuracy"},
}
# lm-eval's accuracies of a multiple_choice task, each the normalisation of the choice scores it
# takes the best of (acc_norm: per character of the choice, acc_bytes: per UTF-8 byte).
ACCURACIES = {"acc": "none", "acc_norm": "chars", "acc_bytes": "bytes"}
# lm-eval's metrics when a task lists none (lm_eval.api.registry DEFAULT_METRIC_REGISTRY).
DEFAULT_METRICS = {"generate_until": ["exact_match"], "multiple_choice": ["acc", "acc_norm"],
                   "loglikelihood": ["perplexity", "acc"]}
# Options every metric_list entry may hold. weight_by_size weighs a group's subtasks
# (aggregate_metric_list); lm-eval ignores it on a task's own metric, and so does promptkit.
METRIC_OPTIONS = {"metric", "aggregation", "higher_is_better", "weight_by_size"}
_KEY = re.compile(r"^[A-Za-z0-9_.\-@]{1,64}$")


class Converting(Protocol):
    notes: list[str]

    def fail(self, message: str, *path: str | int, quotes: bool = True) -> None: ...
    def code_hook(self, key: str, ref: FunctionRef, *path: str | int) -> Hook | None: ...


@dataclass
class MetricList:
    """The converted task's ``metrics``, its choice normalisation, exact_match's options, and
    how its ``lm-eval:`` columns are computed (None: it has none)."""

    metrics: list[str]
    normalization: str = "none"
    match_options: dict[str, Any] = field(default_factory=dict)
    scoring: LmEvalScoring | None = None


def read_metrics(data: Mapping[str, Any], conv: Converting, output_type: str) -> MetricList:
    """Read ``metric_list`` and ``process_results`` as lm-eval 0.4.13 does (see the module doc)."""
    process = data.get("process_results")
    results = conv.code_hook("process_results", process, "process_results") if isinstance(process, FunctionRef) else None
    raw = data.get("metric_list")
    entries: list[tuple[int | None, Any, Mapping[str, Any]]] = []
    if raw is None:
        entries = [(None, m, {}) for m in DEFAULT_METRICS[output_type]]
    elif not isinstance(raw, list) or not raw:
        conv.fail("expected a list of {metric: name} entries", "metric_list")
    else:
        for i, entry in enumerate(raw):
            metric = entry.get("metric") if isinstance(entry, Mapping) else None
            if not isinstance(metric, (str, FunctionRef)):
                conv.fail(f"expected {{metric: name, ...}}, got {entry!r}", "metric_list", i)
                continue
            entries.append((i, metric, entry))
    out = MetricList([])
    columns: list[Column] = []
    accuracies: list[str] = []
    later: list[str] = []  # lower-is-better columns, listed last
    for index, metric, entry in entries:
        where: tuple[str | int, ...] = ("metric_list", index) if index is not None else ("output_type",)
        aggregation = entry.get("aggregation")
        native = METRICS[output_type].get(metric) if isinstance(metric, str) else None
        # hf_evaluate: lm-eval loads the metric from the hub, and calls it on generated text only
        # (its exact_match is lm-eval's own definition)
        hub = bool(entry.get("hf_evaluate")) and metric != "exact_match" and output_type == "generate_until"
        if native and results is None and aggregation in (None, "mean", metric) and not hub:
            options = _options(conv, entry, metric, output_type, where, None)
            if options is None:
                continue
            if metric == "exact_match":
                out.match_options.update(options)
            accuracies += [metric] if metric in ACCURACIES else []
            if native not in out.metrics:
                out.metrics.append(native)
            continue
        column = _column(conv, metric, entry, output_type, isinstance(process, FunctionRef), where)
        if column is None or any(c.metric == column.metric for c in columns):
            continue
        columns.append(column)
        (out.metrics if column.higher_is_better else later).append(column.metric)
    if later:
        conv.notes.append(f"lower is better: {', '.join(later)} (listed after the other columns: promptkit ranks "
                          "methods by the first)")
        if not out.metrics and output_type == "loglikelihood":  # lm-eval's other metric of it
            out.metrics.append("accuracy")
            conv.notes.append("acc scored too (whether greedy decoding gives the continuation): promptkit ranks methods "
                              "by a higher-is-better first column")
        elif not out.metrics:
            conv.fail(f"every metric is lower-is-better ({', '.join(later)}); promptkit ranks methods by a task's first "
                      "metric, higher being better: list one that is", *(("metric_list",) if raw is not None else ("output_type",)))
        out.metrics += later
    if len(set(accuracies)) > 1:
        conv.notes.append(f"{accuracies[1]} not computed: promptkit scores a task's choices one way, "
                          f"{accuracies[0]} (the first listed) here")
    out.normalization = ACCURACIES[accuracies[0]] if accuracies else "none"
    if columns:
        out.scoring = LmEvalScoring(output_type, columns, results)
    if not out.metrics:
        out.metrics = ["string_match" if output_type == "generate_until" else "accuracy"]
    return out


def _options(conv: Converting, entry: Mapping[str, Any], key: str, output_type: str, where: tuple[str | int, ...],
             function: Hook | None) -> dict[str, Any] | None:
    """The options lm-eval passes to the entry's metric function: a task's own function takes
    them all; lm-eval's exact_match its four (checked); other metric functions take none, and a
    multiple_choice or loglikelihood task calls none, so there they are read past with a note.
    None: refused (the problem recorded)."""
    options = {str(k): v for k, v in entry.items() if k not in METRIC_OPTIONS and k != "hf_evaluate"}
    if function is not None or not options:
        return options
    if output_type != "generate_until" or key != "exact_match":
        why = ("a multiple_choice or loglikelihood task calls no metric function" if output_type != "generate_until"
               else f"lm-eval's {key} takes none (it passes the answer on to its aggregation)")
        conv.notes.append(f"not used: {'.'.join(map(str, where))} {', '.join(sorted(options))} ({why})")
        return {}
    unknown = sorted(set(options) - set(MATCH_OPTIONS))
    if unknown:
        conv.fail(f"metric option {unknown[0]!r}: lm-eval's exact_match takes {', '.join(MATCH_OPTIONS)} (lm-eval fails on "
                  "another)", *where, unknown[0])
        return None
    for name, value in options.items():
        if name != "regexes_to_ignore" and not isinstance(value, bool):  # lm-eval tests it for truth
            conv.notes.append(f"{'.'.join(map(str, where))}.{name}: {str(value)[:40]!r} is not true or false; lm-eval "
                              f"applies it as {bool(value)}")
            options[name] = bool(value)
    for name, value in options.items():
        try:
            StringMatchOptions.from_mapping({name: value})
        except MetricError as exc:
            conv.fail(str(exc), *where, name)
            return None
    return options


def _column(conv: Converting, metric: str | FunctionRef, entry: Mapping[str, Any], output_type: str, coded: bool,
            where: tuple[str | int, ...]) -> Column | None:
    """One entry scored the lm-eval way (None: refused, the problem recorded)."""
    function = None
    if isinstance(metric, FunctionRef):
        function = conv.code_hook(f"{'.'.join(map(str, where))}.metric", metric, *where, "metric")
        key = metric.ref.rpartition(".")[2]  # lm-eval names a function metric by the function
        if function is not None and output_type != "generate_until" and not coded:
            conv.fail(f"!function {metric.ref}: lm-eval calls a metric function on generated answers only "
                      f"(output_type generate_until), not on {output_type}", *where, "metric")
            return None
    else:
        key = metric
        if not coded and key not in BUILTIN[output_type]:
            known = sorted({*METRICS[output_type], *BUILTIN[output_type]})
            conv.fail(f"unknown metric {key!r} for {output_type}; accepted: {', '.join(known)} (with --trust-task-code, "
                      "also what the task's process_results computes)", *where, *(("metric",) if len(where) > 1 else ()))
            return None
    if not _KEY.match(key):
        conv.fail(f"metric name {key!r}: promptkit names a column by it; use letters, digits and _ . - @", *where)
        return None
    if entry.get("hf_evaluate") and key != "exact_match" and output_type == "generate_until" and function is None:
        conv.fail(f"hf_evaluate: lm-eval loads {key} from the Hugging Face hub, which promptkit does not; drop the key "
                  "to score lm-eval's own definition", *where, "hf_evaluate")
        return None
    aggregation = entry.get("aggregation")
    hook = None
    if isinstance(aggregation, FunctionRef):
        hook = conv.code_hook(f"{'.'.join(map(str, where))}.aggregation", aggregation, *where, "aggregation")
        name = aggregation.ref.rpartition(".")[2]
    elif aggregation is None:
        name = DEFAULT_AGGREGATION.get(key, "")
        if not name:
            conv.fail(f"metric {key!r} has no aggregation in lm-eval's registry (lm-eval would fail on it); add "
                      f"aggregation: one of {', '.join(AGGREGATIONS)}", *where)
            return None
    elif aggregation in AGGREGATIONS:
        name = str(aggregation)
    else:
        conv.fail(f"aggregation {aggregation!r}: not one of lm-eval's ({', '.join(AGGREGATIONS)}) nor a !function",
                  *where, "aggregation")
        return None
    if (isinstance(metric, FunctionRef) and function is None) or (isinstance(aggregation, FunctionRef) and hook is None):
        return None  # task code not trusted: refused by code_hook
    options = _options(conv, entry, key, output_type, where, function) if not coded else {}
    if options is None:
        return None
    better = entry.get("higher_is_better", key not in LOWER_IS_BETTER)
    if not isinstance(better, bool):
        conv.fail(f"expected true or false, got {better!r}", *where, "higher_is_better")
        return None
    column = f"{PREFIX}{key}" + ("" if name == "mean" and "@" not in key else f"@{name}")
    return Column(key, column, options, function, hook, better)
