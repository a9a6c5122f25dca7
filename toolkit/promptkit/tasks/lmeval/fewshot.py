"""lm-evaluation-harness's demonstrations, as lm-eval 0.4.x draws and writes them: which rows
(``fewshot_config.sampler``: ``default`` or ``first_n``, seeded as ``simple_evaluate`` seeds it),
from where (``fewshot_config.split`` / ``samples``, else ``fewshot_split``, ``training_split``,
``validation_split``), and how each is written (``fewshot_config.doc_to_text`` /
``doc_to_target`` / ``target_delimiter`` / ``fewshot_delimiter``).

The converter (:mod:`promptkit.tasks.lmeval.convert`) asks :func:`demonstrations` for the task's
``fewshot`` settings and the prompt's ``fewshot`` format. ``process_docs`` and a ``!function``
``doc_to_text`` / ``doc_to_target`` are task code, taken only when the user trusts it (the
converter's ``hook``); other code (a ``!function`` sampler or ``samples``) is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from promptkit.config import LM_EVAL_FEWSHOT_SEED, MAX_INLINE_ROWS
from promptkit.tasks.lmeval.reader import FunctionRef

SAMPLERS = {"default": "lm-eval", "first_n": "first-n"}
# fewshot_config keys promptkit reads, and those it refuses with the reason.
READ = ("sampler", "split", "samples", "doc_to_text", "doc_to_target", "target_delimiter", "fewshot_delimiter")
REFUSED = {
    "fewshot_indices": "not supported: a subset of the pool by index; write those rows as fewshot_config.samples",
    "doc_to_choice": "not supported: demonstrations with other choices than the evaluated row's",
    "gen_prefix": "not supported: an answer prefix after the query",
}


class Converting(Protocol):
    """What this module needs of the converter: its problems and its template rules."""

    notes: list[str]

    def fail(self, message: str, *path: str | int, quotes: bool = True) -> None: ...
    def _is_column(self, value: str) -> bool: ...
    def _variables(self, key: str, source: str) -> set[str]: ...
    def hook(self, key: str, ref: FunctionRef, *path: str | int) -> str | None: ...


@dataclass
class Demonstrations:
    """The converted task's ``fewshot`` settings, its prompt's ``fewshot`` format, and the
    columns the demonstrations' own templates read (they join the adapter's fields)."""

    settings: dict[str, Any] = field(default_factory=dict)
    format: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)


def demonstrations(data: Mapping[str, Any], conv: Converting, output_type: str, pool_split: str | None,
                   fewshot_delimiter: str) -> Demonstrations:
    """Read ``fewshot_config`` (and the split keys) as lm-eval 0.4.x does.

    ``pool_split``: the split the converter would draw from without ``fewshot_config``
    (``fewshot_split``, else ``training_split``, else ``validation_split``).
    """
    raw = data.get("fewshot_config")
    config: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    if raw is not None and not isinstance(raw, Mapping):
        conv.fail(f"expected a mapping of few-shot settings, got {type(raw).__name__}", "fewshot_config")
    for key, value in config.items():
        if key == "process_docs" and isinstance(value, FunctionRef):
            pass  # below: it applies only where the demonstrations' split is declared
        elif key == "process_docs" and value is not None:
            conv.fail(f"expected !function module.name, got {type(value).__name__}", "fewshot_config", key)
        elif key in REFUSED:
            conv.fail(REFUSED[key], "fewshot_config", key, quotes=False)
        elif key not in READ:
            conv.fail(f"unsupported fewshot_config key {key!r}; promptkit reads: {', '.join(READ)}", "fewshot_config", key)
        elif isinstance(value, FunctionRef) and key not in ("doc_to_text", "doc_to_target"):
            conv.fail(f"!function {value.ref}: promptkit never imports code from a task file", "fewshot_config", key)
    out = Demonstrations()
    sampler = config.get("sampler", "default")
    if sampler not in SAMPLERS:
        if not isinstance(sampler, FunctionRef):
            conv.fail(f"unknown sampler {sampler!r}; accepted: {', '.join(map(repr, SAMPLERS))}", "fewshot_config", "sampler")
        sampler = "default"
    split = _text(config, "split", conv)
    samples = config.get("samples")
    if samples is not None and not isinstance(samples, FunctionRef):
        if not isinstance(samples, list) or not samples or not all(isinstance(s, dict) for s in samples):
            conv.fail("expected a list of rows (mappings of column to value)", "fewshot_config", "samples")
        elif len(samples) > MAX_INLINE_ROWS:
            conv.fail(f"{len(samples):,} rows; at most {MAX_INLINE_ROWS:,} are written inline", "fewshot_config", "samples")
        elif split is None:  # lm-eval: a split, when both are set, wins
            out.settings["rows"] = samples
    # lm-eval drops the evaluated document from the draw when the demonstrations' split is its
    # test split, None == None included (ConfigurableTask.fewshot_context)
    declared = split if split is not None else data.get("fewshot_split")
    hook = config.get("process_docs")
    if isinstance(hook, FunctionRef) and declared is not None:
        conv.hook("fewshot_config.process_docs", hook, "fewshot_config", "process_docs")
    elif isinstance(hook, FunctionRef):
        # lm-eval reads the demonstrations of a task without a few-shot split from its training
        # (else validation) docs, with the task's own process_docs (Task.fewshot_docs)
        conv.notes.append("not used: fewshot_config.process_docs (lm-eval applies it only to a declared few-shot split: "
                          "fewshot_split or fewshot_config.split)")
    out.settings.update(sampler=SAMPLERS[sampler], seed=LM_EVAL_FEWSHOT_SEED,
                        exclude_evaluated=declared == data.get("test_split"))
    if split is not None:
        out.settings["split"] = split
    elif pool_split is not None:
        out.settings["split"] = pool_split
    _formats(config, conv, output_type, fewshot_delimiter, out)
    return out


def _text(config: Mapping[str, Any], key: str, conv: Converting) -> str | None:
    value = config.get(key)
    if value is None or isinstance(value, FunctionRef):
        return None
    if not isinstance(value, str):
        conv.fail(f"expected text, got {type(value).__name__} {value!r}", "fewshot_config", key)
        return None
    return value


def _formats(config: Mapping[str, Any], conv: Converting, output_type: str, fewshot_delimiter: str,
             out: Demonstrations) -> None:
    """The demonstrations' own input, target and delimiters (lm-eval inherits each from the
    task when fewshot_config does not set it)."""
    delimiter = _text(config, "fewshot_delimiter", conv)
    if delimiter is not None and delimiter != fewshot_delimiter:
        out.format["delimiter"] = delimiter
    target_delimiter = _text(config, "target_delimiter", conv)
    if target_delimiter is not None:
        out.format["target_delimiter"] = target_delimiter
    for key, part in (("doc_to_text", "input"), ("doc_to_target", "target")):
        value = _text(config, key, conv)
        if value is None and not isinstance(config.get(key), FunctionRef):
            continue
        if key == "doc_to_target" and output_type == "multiple_choice":
            conv.fail("not supported for multiple_choice: a demonstration's answer is its gold choice", "fewshot_config", key)
            continue
        if value is None:  # a !function: task code, its value a column
            column = conv.hook(f"fewshot_config.{key}", config[key], "fewshot_config", key)
            if column:
                out.format[part] = "{{ " + column + " }}"
                out.columns[column] = column
            continue
        template, columns = _template(value, conv, f"fewshot_config.{key}")
        out.format[part] = template
        out.columns.update(columns)


def _template(value: str, conv: Converting, key: str) -> tuple[str, dict[str, str]]:
    """lm-eval's rule for a doc_to_* string: a column's name is the column, else a template
    (``key`` names it in problems)."""
    if conv._is_column(value):
        return "{{ " + value + " }}", {value: value}
    return value, {v: v for v in sorted(conv._variables(key, value))}
