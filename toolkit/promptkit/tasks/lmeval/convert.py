"""lm-evaluation-harness task data -> the promptkit task that builds the same prompts.

lm-eval's context is ``description + shot_1 + ... + shot_k + doc_to_text(doc)``, each shot being
``doc_to_text + target_delimiter + target + fewshot_delimiter``; a choice (or the generation) is
scored after it as ``target_delimiter + choice``. promptkit's plain rendering is the same with
``instruction = description``, ``instruction_delimiter = ""``, the input template from
``doc_to_text``, and lm-eval's delimiters; see ``docs/lm-eval.md`` for every key.

lm-eval gives one key several meanings (``doc_to_text`` is a column when the data has a column
of that name, else a Jinja template); the converter resolves each into promptkit's one-meaning
fields (a column path, or a template). Task code (``process_docs``, a ``!function`` computing a
row's text, target or choices) is refused unless the user trusts it (``trust_code``,
``--trust-task-code``); then the converted task reads the hooks' values from columns and the
:class:`~promptkit.tasks.lmeval.code.TaskCode` beside it computes them (:mod:`.code`). Other
code (``process_results``, code metrics and filters, a ``class``) is reported, never run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from promptkit.config import FILE_NAME_RE, MAX_CHOICES, slug
from promptkit.errors import ConfigError, Problem, suggest
from promptkit.prompting.template import environment, template_variables
from promptkit.tasks.lmeval.code import COLUMNS, FLAG, Hook, TaskCode
from promptkit.tasks.lmeval.fewshot import demonstrations
from promptkit.tasks.lmeval.filters import choices_columns, filters_from_lm_eval
from promptkit.tasks.lmeval.metric_list import read_metrics
from promptkit.tasks.lmeval.reader import FunctionRef, LmEvalDocument, read_lm_eval
from promptkit.tasks.lmeval.results import LmEvalScoring
from promptkit.tasks.lmeval.source import dataset_source

OUTPUT_TYPES = ("generate_until", "multiple_choice", "loglikelihood")
# Keys read (``include`` is merged by the reader).
READ_KEYS = (
    "task", "tag", "group", "dataset_path", "dataset_name", "dataset_kwargs", "training_split",
    "validation_split", "test_split", "fewshot_split", "output_type", "doc_to_text", "doc_to_target",
    "doc_to_choice", "description", "target_delimiter", "fewshot_delimiter", "num_fewshot",
    "generation_kwargs", "metric_list", "metadata", "repeats", "fewshot_config", "gen_prefix", "filter_list",
)
# Keys that change neither the prompts nor the scores promptkit computes: read past, with a note.
IGNORED_KEYS = ("should_decontaminate", "doc_to_decontamination_query", "task_alias")
# Keys whose !function computes a row's prompt text, target or choices (run when trusted).
ROW_HOOKS = ("doc_to_text", "doc_to_target", "doc_to_choice")
IGNORED_WHY = ("decontamination: promptkit's leakage check compares the evaluated rows with the train split and "
               "few-shot pool; task_alias: the task is named by `task`")
# Code lm-eval would import and run, with what to do instead (process_docs runs with --trust-task-code).
CODE_HOOKS = {
    "process_docs": "rewrite the data file instead",
    "process_results": "score with the metrics of metric_list instead",
    "custom_dataset": "point dataset_kwargs.data_files at local files instead",
    "class": "promptkit reads declarative tasks only",
    "doc_to_image": "promptkit reads text tasks only",
    "doc_to_audio": "promptkit reads text tasks only",
}
UNSUPPORTED_KEYS = {
    "use_prompt": "promptsource templates are not read; write doc_to_text as a Jinja template",
    "unsafe_code": "promptkit runs no code from tasks",
}
# lm-eval 0.4.13's names of the number of new tokens, first wins (lm_eval.models.utils.normalize_gen_kwargs)
TOKEN_KEYS = ("max_gen_toks", "max_new_tokens", "max_tokens", "max_completion_tokens")
GENERATION_KEYS = ("until", *TOKEN_KEYS, "do_sample", "temperature")
# Settings of sampling only: with do_sample false (the only decoding promptkit and these files use)
# the model never reads them.
SAMPLING_ONLY = ("top_p", "top_k", "min_p", "typical_p")
LM_EVAL_MAX_GEN_TOKS = 256  # lm-eval's default max_gen_toks
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# ``{{ answers.text[0] }}``: a template that only reads one value, as a promptkit column path.
_PATH_TEMPLATE = re.compile(r"^\{\{-?\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[\d+\]|\[(['\"])\w+\2\])*)\s*-?\}\}$")


@dataclass
class Conversion:
    """A promptkit task (the data of a task YAML, paths relative to the lm-eval file's folder)
    and notes on what was read past."""

    task: dict[str, Any]
    source: Path
    notes: list[str] = field(default_factory=list)
    # The task code the task runs (only when converted with trust_code); None: it runs none.
    code: TaskCode | None = None
    # How its lm-eval: score columns are computed (None: it has none).
    scoring: LmEvalScoring | None = None


def convert_file(path: str | Path, trust_code: bool = False) -> Conversion:
    """Read and convert an lm-eval task file. ``trust_code``: accept the task's code hooks
    (:mod:`promptkit.tasks.lmeval.code`; nothing is imported here).

    Raises:
        ConfigError: every problem, with file, line and key, and what would be accepted.
    """
    return convert(read_lm_eval(path), trust_code)


def convert(doc: LmEvalDocument, trust_code: bool = False) -> Conversion:
    """Convert a read lm-eval task (see :func:`convert_file`)."""
    return _Converter(doc, trust_code).run()


class _Converter:
    def __init__(self, doc: LmEvalDocument, trust_code: bool = False):
        self.doc = doc
        self.trust = trust_code
        self.code = TaskCode()
        self.data = doc.data
        self.problems: list[Problem] = []
        self.notes: list[str] = doc.duplicates()
        self.columns: set[str] | None = None
        self.match_options: dict[str, Any] = {}  # exact_match's options, for string_match
        self.output_type: str | None = None

    def fail(self, message: str, *path: str | int, quotes: bool = True) -> None:
        """Record a problem at ``path``; ``quotes=False``: the message quotes no value of the
        file (a key-level refusal), so it is kept for a key from an included file too."""
        self.problems.append(self.doc.problem(message, path, quotes))

    def code_hook(self, key: str, ref: FunctionRef, *path: str | int) -> Hook | None:
        """Task code at ``key``: a :class:`Hook` when trusted, else refused naming the flag (None)."""
        if not self.trust:
            instead = ("or rewrite the data file instead" if key.endswith("process_docs")
                       else "or score with lm-eval's built-in metrics instead" if key.startswith(("metric_list", "process_results"))
                       else f"or write {key} as a column name or a Jinja template")
            self.fail(f"!function {ref.ref}: task code, run only with {FLAG} (promptkit then imports it from the task's "
                      f"folder and runs it as lm-eval does); {instead}", *(path or key.split(".")))
            return None
        # only a multiple_choice prompt can be lm-eval's multiple-input form (an index for doc_to_text)
        hook = Hook(key, ref, "text" if key == "doc_to_text" and self.output_type != "multiple_choice" else "")
        if key.startswith(("metric_list", "process_results", "filter_list")):  # scoring code: run on the outputs
            self.code.results.append(hook)
        return hook

    def hook(self, key: str, ref: FunctionRef, *path: str | int) -> str | None:
        """Task code at ``key`` (``process_docs``, ``doc_to_text``, ``fewshot_config.doc_to_text``...):
        taken when trusted, refused naming the flag otherwise. Returns the column a row hook's
        value is read from (None for process_docs, or when refused)."""
        hook = self.code_hook(key, ref, *path)
        if hook is None:
            return None
        if key == "process_docs":
            self.code.process_docs = hook
            return None
        if key == "fewshot_config.process_docs":
            self.code.fewshot_process_docs = hook
            return None
        self.code.columns[COLUMNS[key]] = hook
        return COLUMNS[key]

    # ------------------------------------------------------------------------- the whole task
    def run(self) -> Conversion:
        self._check_keys()
        output_type = self.output_type = self._output_type()
        name = self._name()
        eval_split, train_split, fewshot_split = self._splits()
        source, self.columns = dataset_source(self.data, self.doc.path.parent,
                                              [s for s in (eval_split, train_split, fewshot_split) if s], self.fail,
                                              self.notes.append)
        if self.code.process_docs is not None:
            self.columns = None  # process_docs makes the columns the templates read: unknown until it runs
        if source is not None and source["kind"] == "files" and "trust_remote_code" in (self.data.get("dataset_kwargs") or {}):
            self.notes.append("not used: dataset_kwargs.trust_remote_code (local data files have no loading script; "
                              "promptkit never runs one)")
        target_delimiter = self._string("target_delimiter", " ")
        fewshot_delimiter = self._string("fewshot_delimiter", "\n\n")
        description = self._string("description", "")
        task: dict[str, Any] = {"name": name, "version": self._version()}
        if output_type is None or source is None:
            raise ConfigError(self.problems)
        prompt_input, inputs = self._input_template()
        demos = demonstrations(self.data, self, output_type, fewshot_split, fewshot_delimiter)
        inputs.update(demos.columns)
        answer_prefix = self._answer_prefix(inputs)
        if description and self.columns is not None and description in self.columns:  # lm-eval's rule, as for doc_to_*
            inputs[description] = description
            description = "{{ " + description + " }}"
        elif description:
            inputs.update({v: v for v in sorted(self._variables("description", description))})
        metric_list = read_metrics(self.data, self, output_type)
        self.match_options = metric_list.match_options
        metrics, normalization = metric_list.metrics, metric_list.normalization
        filters = self._filters(output_type, inputs)
        if output_type == "multiple_choice":
            adapter = self._multiple_choice(inputs, normalization)
            target = "{{ label_text }}"
            reserved = {"label_text"}
        elif output_type == "loglikelihood":
            adapter = self._continuation(inputs)
            target = "{{ label_text }}"
            reserved = {"label_text"}
        else:
            adapter = self._generation(inputs)
            target = "{{ reference }}"
            reserved = {"reference", "references"}
            task["generation"] = self._generation_settings(fewshot_delimiter)
        for var in sorted(reserved & set(inputs)):
            self.fail(f"uses a column named {var!r}, which promptkit's {output_type} prompt needs for the target; "
                      "rename the column in the data", "doc_to_text")
        prompt: dict[str, Any] = {
            "name": f"lm-eval/{name}"[:128],
            "kind": adapter["kind"],
            "input": prompt_input,
            "target": target,
            "target_delimiter": target_delimiter,
            "fewshot": {"delimiter": fewshot_delimiter, **demos.format},
        }
        if answer_prefix:
            prompt["answer_prefix"] = answer_prefix
        if output_type == "loglikelihood":
            # lm-eval scores the target right after the context (construct_requests: (ctx, target));
            # its demonstrations still join text and target with target_delimiter
            prompt["fewshot"].setdefault("target_delimiter", target_delimiter)
            prompt["target_delimiter"] = ""
        if description:
            # lm-eval writes the description right before the first demonstration (or the query).
            prompt.update(instruction=description, instruction_delimiter="")
        shots = self._shots()
        pool = demos.settings.get("split")
        if pool is not None and pool == eval_split:
            self.fail(f"demonstrations from {pool!r}, the evaluated split: promptkit never draws them from the evaluated "
                      "split; set another split", "fewshot_config", "split")
        if shots and not pool and "rows" not in demos.settings:
            self.fail("num_fewshot > 0 needs a split to draw demonstrations from: set fewshot_split or training_split "
                      "(promptkit never draws them from the evaluated split)", "num_fewshot")
        if self.problems:
            raise ConfigError(self.problems)
        notes = "; ".join(self.notes)
        task.update(
            description=f"lm-evaluation-harness task {self.data['task']!r} ({self.doc.path.name})" + (f"; {notes}" if notes else ""),
            tags=self._tags(),
            dataset=source,
            adapter=adapter,
            eval_split=eval_split,
            train_split=train_split,
            prompts=[prompt],
            metrics=metrics,
            **({"filters": filters} if filters else {}),
            **({"metric_options": {"string_match": self.match_options}} if self.match_options and "string_match" in metrics else {}),
            # fewshot.split must name another split than the evaluated one, even when unused.
            fewshot={**demos.settings, "split": pool or ("train" if eval_split != "train" else "validation"),
                     **({"shots": shots} if shots else {})},
        )
        return Conversion(task=task, source=self.doc.path, notes=self.notes, code=self.code if self.code.hooks() else None,
                          scoring=metric_list.scoring)

    def _check_keys(self) -> None:
        ignored = [k for k in IGNORED_KEYS if k in self.data]
        if ignored:
            self.notes.append(f"not used: {', '.join(ignored)} ({IGNORED_WHY})")
        for key, value in self.data.items():
            if key == "process_docs" and isinstance(value, FunctionRef):
                self.hook(key, value)
            elif key == "process_results" and isinstance(value, FunctionRef):
                continue  # read with metric_list (read_metrics)
            elif key in CODE_HOOKS:
                self.fail(f"lm-eval code hooks are never run by promptkit; {CODE_HOOKS[key]}", key, quotes=False)
            elif key in UNSUPPORTED_KEYS:
                self.fail(f"not supported: {UNSUPPORTED_KEYS[key]}", key, quotes=False)
            elif key not in READ_KEYS and key not in IGNORED_KEYS:
                hint = suggest(key, READ_KEYS)
                hint = f"{hint} " if hint.startswith("did you mean") else ""
                self.fail(f"unsupported lm-eval key {key!r}; {hint}promptkit reads: {', '.join(READ_KEYS)}", key)
            elif isinstance(value, FunctionRef) and key not in ROW_HOOKS:
                self.fail(f"!function {value.ref}: promptkit never imports code from a task file; write {key} as a "
                          "column name or a Jinja template", key)
        repeats = self.data.get("repeats", 1)
        if repeats != 1 and not isinstance(repeats, FunctionRef):
            self.fail(f"repeats {repeats!r}: promptkit decodes greedily, so a repeat gives the same answer; set 1 "
                      "(several training seeds: --seeds N)", "repeats")
        for path, ref in _functions(self.data):
            # filter_list reports its own (filters_from_lm_eval: a custom filter, with the accepted ones)
            reported = path[0] in (*CODE_HOOKS, "filter_list", "metric_list") or (path[0] == "fewshot_config" and len(path) == 2)
            if not reported and not isinstance(self.data.get(str(path[0])), FunctionRef):
                self.fail(f"!function {ref.ref}: promptkit never imports code from a task file", *path)

    def _output_type(self) -> str | None:
        value = self.data.get("output_type", "generate_until")  # lm-eval's default
        if value == "loglikelihood_rolling":
            self.fail(f"output_type {value!r} (perplexity over whole documents) is not supported by promptkit yet; "
                      f"accepted: {', '.join(map(repr, OUTPUT_TYPES))}", "output_type")
            return None
        if value not in OUTPUT_TYPES:
            known = (*OUTPUT_TYPES, "loglikelihood", "loglikelihood_rolling")
            hint = suggest(str(value), known)
            hint = f"{hint} " if hint.startswith("did you mean") else ""
            self.fail(f"unknown output type {value!r}; {hint}accepted: {', '.join(map(repr, OUTPUT_TYPES))}", "output_type")
            return None
        return str(value)

    def _name(self) -> str:
        value = self.data.get("task")
        if isinstance(value, list):
            self.fail("a list of tasks is an lm-eval group: run it as --task lm-eval:PATH (its tasks, and its "
                      "aggregate in the report); convert each task file on its own", "task")
            return "x"
        if not isinstance(value, str) or not value.strip():
            self.fail("required: the task's name (a string)", "task")
            return "x"
        return task_name(value)

    def _version(self) -> int | str:
        meta = self.data.get("metadata")
        if meta is None:
            return 1
        if not isinstance(meta, Mapping):
            self.fail(f"expected a mapping, got {type(meta).__name__}", "metadata")
            return 1
        version = meta.get("version", 1)
        return version if isinstance(version, (int, str)) and not isinstance(version, bool) else str(version)

    def _tags(self) -> list[str]:
        tags: list[str] = ["lm-eval"]
        for key in ("tag", "group"):
            value = self.data.get(key)
            values = value if isinstance(value, list) else [value] if value is not None else []
            for v in values:
                if isinstance(v, str):
                    tags.append(v)
                else:
                    self.fail(f"expected a name or a list of names, got {v!r}", key)
        return list(dict.fromkeys(tags))

    def _string(self, key: str, default: str) -> str:
        value = self.data.get(key, default)
        if value is None:
            return default
        if not isinstance(value, str):
            self.fail(f"expected text, got {type(value).__name__} {value!r}", key)
            return default
        return value

    def _shots(self) -> int:
        value = self.data.get("num_fewshot")
        if value is None:
            return 0
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 64:
            self.fail(f"expected a number of demonstrations from 0 to 64, got {value!r}", "num_fewshot")
            return 0
        return value

    # ------------------------------------------------------------------------- data
    def _splits(self) -> tuple[str, str | None, str | None]:
        names = {}
        for key in ("test_split", "validation_split", "training_split", "fewshot_split"):
            value = self.data.get(key)
            if value is not None and not isinstance(value, str):
                self.fail(f"expected a split name, got {value!r}", key)
                value = None
            names[key] = value
        evaluated = names["test_split"] or names["validation_split"]  # lm-eval evaluates test when it has one
        if evaluated is None:
            self.fail("the task names no split to evaluate: set test_split or validation_split", "test_split")
            evaluated = "test"
        train = names["training_split"]
        fewshot = names["fewshot_split"] or train or (names["validation_split"] if names["validation_split"] != evaluated else None)
        if fewshot == evaluated and self._shots():
            self.fail(f"demonstrations drawn from the evaluated split {evaluated!r}: promptkit draws them from another "
                      "split; set fewshot_split or training_split", "fewshot_split" if names["fewshot_split"] else "test_split")
        return evaluated, train, fewshot if fewshot != evaluated else None

    # ------------------------------------------------------------------------- templates
    def _variables(self, key: str, source: str) -> set[str]:
        """The columns a template reads; each must be a column when the columns are known."""
        try:
            names = template_variables(source) - set(environment().globals)
            environment().from_string(source)  # unknown filters and tests fail here, not per row
        except jinja2.TemplateSyntaxError as exc:
            self.fail(f"invalid Jinja2 on line {exc.lineno} of the template: {exc.message}", key)
            return set()
        except jinja2.TemplateError as exc:
            self.fail(f"template not accepted: {exc}", key)
            return set()
        if self.columns is not None:
            for name in sorted(names - self.columns):
                self.fail(f"the template reads {name!r}, which is not a column of the data "
                          f"(columns: {', '.join(sorted(self.columns))})", key)
        for name in sorted(names):
            if not _IDENT.match(name):
                self.fail(f"column {name!r} is not a name a template can use", key)
        return names

    def _is_column(self, value: str) -> bool:
        """lm-eval's rule: a string naming a column of the data is that column. Without the
        columns at hand (a hub dataset), a bare name is taken for one."""
        if self.columns is not None:
            return value in self.columns
        return bool(_IDENT.match(value))

    def _answer_prefix(self, inputs: dict[str, str]) -> str | None:
        """``gen_prefix`` (a column, or a template rendered per row) as the prompt's answer prefix."""
        value = self.data.get("gen_prefix")
        if value is None or isinstance(value, FunctionRef):
            return None
        if not isinstance(value, str):
            self.fail(f"expected text, a column name or a Jinja template, got {type(value).__name__}", "gen_prefix")
            return None
        if self._is_column(value):
            inputs[value] = value
            return "{{ " + value + " }}"
        inputs.update({v: v for v in sorted(self._variables("gen_prefix", value))})
        return value

    def _input_template(self) -> tuple[str, dict[str, str]]:
        value = self.data.get("doc_to_text")
        if value is None:
            self.fail("required: a column name or a Jinja template", "doc_to_text")
            return "", {}
        if isinstance(value, FunctionRef):
            column = self.hook("doc_to_text", value)
            return ("{{ " + column + " }}", {column: column}) if column else ("", {})
        if not isinstance(value, str):
            self.fail(f"{type(value).__name__} {value!r}: promptkit reads doc_to_text as a column name or a Jinja "
                      "template (not an index or a list: cloze tasks with several contexts are not converted)",
                      "doc_to_text")
            return "", {}
        if self._is_column(value):
            if not _IDENT.match(value):
                self.fail(f"column {value!r} is not a name a template can use", "doc_to_text")
            return "{{ " + value + " }}", {value: value}
        return value, {v: v for v in sorted(self._variables("doc_to_text", value))}

    def _generation(self, inputs: dict[str, str]) -> dict[str, Any]:
        value = self.data.get("doc_to_target")
        if "doc_to_choice" in self.data:
            self.fail("doc_to_choice applies to output_type multiple_choice", "doc_to_choice")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            # lm-eval gives the number itself, compared as text with the answer (IFEval's 0, which its
            # process_results never reads)
            return {"kind": "generation", "fields": {"inputs": inputs}, "references_template": str(value)}
        if isinstance(value, str) and not self._is_column(value) and _PATH_TEMPLATE.match(value) is None:
            # a target the template computes ({{ ['A', 'B'][answer] }}): rendered per row, as lm-eval does
            self._variables("doc_to_target", value)
            return {"kind": "generation", "fields": {"inputs": inputs}, "references_template": value}
        references = self._column_path("doc_to_target", value)
        return {"kind": "generation", "fields": {"inputs": inputs, "references": references or "x"}}

    def _continuation(self, inputs: dict[str, str]) -> dict[str, Any]:
        """lm-eval's ``loglikelihood`` output: the row's target, one continuation, scored after the
        prompt; right when greedy decoding produces it (``acc``). The multiple_choice adapter with
        that one choice (a template rendering a one-item list) and ``normalization: greedy``."""
        value = self.data.get("doc_to_target")
        if "doc_to_choice" in self.data:
            self.fail("doc_to_choice applies to output_type multiple_choice", "doc_to_choice")
        adapter: dict[str, Any] = {"kind": "multiple_choice", "fields": {"inputs": inputs}, "label_template": "0",
                                   "normalization": "greedy", "choices_template": "{{ ['x'] }}"}
        if isinstance(value, FunctionRef):
            column = self.hook("doc_to_target", value)
            if column:
                adapter["choices_template"] = "{{ [" + column + "] }}"
        elif isinstance(value, str) and self._is_column(value) and _IDENT.match(value):
            adapter["choices_template"] = "{{ [" + value + "] }}"
        elif isinstance(value, str):
            self._variables("doc_to_target", value)
            # the target template rendered as it is, then given as the one choice
            adapter["choices_template"] = "{% set target %}" + value + "{% endset %}{{ [target] }}"
        else:
            self.fail("required: the continuation scored after the prompt (a column name or a Jinja template)"
                      if value is None else f"{type(value).__name__} {value!r}: expected a column name or a Jinja template",
                      "doc_to_target")
        return adapter

    def _column_path(self, key: str, value: Any) -> str | None:
        if value is None:
            self.fail("required: a column name or a {{ column }} template", key)
            return None
        if isinstance(value, FunctionRef):
            return self.hook(key, value)
        if not isinstance(value, str):
            self.fail(f"{type(value).__name__} {value!r}: for generate_until promptkit reads the target from a column "
                      "or a {{ column.path }} template", key)
            return None
        if self._is_column(value):
            return value
        match = _PATH_TEMPLATE.match(value)
        if match is None:
            self.fail(f"the template {value[:80]!r} computes its target; for generate_until promptkit reads the target "
                      "from a column or a template that shows one value ({{ answer }}, {{ answers.text[0] }}): "
                      "write the computed target into the data file", key)
            return None
        path = re.sub(r"\[(\d+)\]", r".\1", match.group(1))
        path = re.sub(r"\[(['\"])(\w+)\1\]", r".\2", path)
        self._variables(key, value)
        return path

    def _multiple_choice(self, inputs: dict[str, str], normalization: str) -> dict[str, Any]:
        fields: dict[str, Any] = {"inputs": inputs}
        adapter: dict[str, Any] = {"kind": "multiple_choice", "fields": fields}
        choices = self.data.get("doc_to_choice")
        if choices is None:
            self.fail("required for multiple_choice: a list, a column name or a Jinja template rendering a list",
                      "doc_to_choice")
        elif isinstance(choices, Mapping):
            choices = list(choices.values())
        if isinstance(choices, list):
            bad = next((c for c in choices if not isinstance(c, str)), None)
            if len(choices) > MAX_CHOICES:
                self.fail(f"{len(choices):,} choices; at most {MAX_CHOICES:,} (each choice is one scored continuation "
                          "per example): give a shorter list", "doc_to_choice", quotes=False)
            elif bad is not None or len(choices) < 2:
                hint = " (YAML reads yes/no/true/false as booleans: quote them)" if any(isinstance(c, bool) for c in choices) else ""
                got = f"{type(bad).__name__} {bad!r}" if bad is not None else repr(choices)
                self.fail(f"expected at least two choices, each text; got {got}{hint}", "doc_to_choice")
            adapter["choices"] = [str(c) for c in choices]
        elif isinstance(choices, FunctionRef):
            column = self.hook("doc_to_choice", choices)
            if column:
                fields["choices"] = column
        elif isinstance(choices, str):
            if self._is_column(choices):
                fields["choices"] = choices
            else:
                self._variables("doc_to_choice", choices)
                adapter["choices_template"] = choices
        elif choices is not None:
            self.fail(f"{type(choices).__name__} {choices!r}: expected a list, a column name or a Jinja template",
                      "doc_to_choice")
        target = self.data.get("doc_to_target")
        if target is None:
            self.fail("required: the gold choice's index or text (an int, a column name or a Jinja template)", "doc_to_target")
        elif isinstance(target, int) and not isinstance(target, bool):
            adapter["label_template"] = str(target)
        elif isinstance(target, FunctionRef):
            column = self.hook("doc_to_target", target)
            if column:
                fields["label"] = column
        elif isinstance(target, str):
            if self._is_column(target):
                fields["label"] = target
            else:
                self._variables("doc_to_target", target)
                adapter["label_template"] = target
        else:
            self.fail(f"{type(target).__name__} {target!r}: expected an index, a column name or a Jinja template "
                      "(one gold choice per row)", "doc_to_target")
        text_hook = self.code.columns.get(COLUMNS["doc_to_text"])
        if text_hook is not None:
            # a doc_to_text hook returning an index is lm-eval's multiple-input form (Winogrande):
            # known only once it runs, so the adapter tells the two apart row by row
            fields["context_index"] = COLUMNS["doc_to_text"]
        if "generation_kwargs" in self.data:
            self.notes.append("generation_kwargs not used (multiple_choice scores choices, it generates nothing)")
        if normalization != "none":
            adapter["normalization"] = normalization
        return adapter

    # ------------------------------------------------------------------------- scoring
    def _filters(self, output_type: str, inputs: dict[str, str]) -> list[dict[str, Any]]:
        """``filter_list`` as promptkit's ``filters`` (lm-eval's built-in filters; code when trusted)."""
        value = self.data.get("filter_list")
        if value is None or isinstance(value, FunctionRef):
            return []
        if output_type != "generate_until":
            self.fail("filters apply to generated text (output_type generate_until)", "filter_list", quotes=False)
            return []
        filters = filters_from_lm_eval(value, self.fail, self.notes.append, self.code_hook)
        inputs.update({column: column for column in choices_columns(filters)})  # multi_choice_regex reads the row's choices
        return filters

    def _generation_settings(self, fewshot_delimiter: str) -> dict[str, Any]:
        raw = self.data.get("generation_kwargs")
        # lm-eval's defaults: stop at the few-shot delimiter, 256 new tokens, greedy; the answer is
        # scored and filtered as generated (lm-eval strips nothing)
        settings: dict[str, Any] = {"max_new_tokens": LM_EVAL_MAX_GEN_TOKS, "stop": [fewshot_delimiter], "strip": False}
        if raw is None:
            return settings
        if not isinstance(raw, Mapping):
            self.fail(f"expected a mapping, got {type(raw).__name__}", "generation_kwargs")
            return settings
        inert = [str(k) for k in raw if k in SAMPLING_ONLY]
        if inert:  # they shape sampling, which lm-eval's greedy decoding (do_sample false) never does
            self.notes.append(f"not used: generation_kwargs {', '.join(inert)} (sampling settings; the decoding is greedy)")
        for key in raw:
            if key == "num_beams" and raw[key] == 1:
                continue  # one beam is greedy decoding
            if key not in GENERATION_KEYS and key not in SAMPLING_ONLY:
                self.fail(f"not supported; promptkit decodes greedily and accepts: {', '.join(GENERATION_KEYS)} "
                          f"(and reads past {', '.join(SAMPLING_ONLY)}, which greedy decoding never uses)",
                          "generation_kwargs", str(key))
        until = raw.get("until", [fewshot_delimiter])
        until = [until] if isinstance(until, str) else until
        if not isinstance(until, list) or not all(isinstance(u, str) and u for u in until):
            self.fail(f"expected a string or a list of strings, got {until!r}", "generation_kwargs", "until")
        else:
            settings["stop"] = until
        key = next((k for k in TOKEN_KEYS if raw.get(k) is not None), "max_gen_toks")
        tokens = raw.get(key, LM_EVAL_MAX_GEN_TOKS)
        if not isinstance(tokens, int) or isinstance(tokens, bool) or not 1 <= tokens <= 4096:
            self.fail(f"expected a number of tokens from 1 to 4096, got {tokens!r}", "generation_kwargs", key)
        else:
            settings["max_new_tokens"] = tokens
        sample = raw.get("do_sample", False)
        temperature = raw.get("temperature", 0.0)
        if sample is not False:
            self.fail(f"do_sample {sample!r}: promptkit decodes greedily; set do_sample: false", "generation_kwargs", "do_sample")
        elif "do_sample" not in raw and isinstance(temperature, (int, float)) and temperature > 0:
            self.fail(f"temperature {temperature!r} without do_sample: false leaves sampling to the model's defaults; "
                      "promptkit decodes greedily: set temperature: 0", "generation_kwargs", "temperature")
        return settings


def task_name(value: str) -> str:
    """The promptkit name of the lm-eval task ``value``: one file-name segment."""
    name = slug(value).lstrip("_.-")[:100] or "task"
    return name if re.match(FILE_NAME_RE, name) else "task"


def _functions(data: Any, path: tuple[str | int, ...] = ()) -> list[tuple[tuple[str | int, ...], FunctionRef]]:
    """Every ``!function`` marker in ``data`` with its key path."""
    if isinstance(data, FunctionRef):
        return [(path, data)]
    if isinstance(data, Mapping):
        return [f for k, v in data.items() for f in _functions(v, (*path, str(k)))]
    if isinstance(data, list):
        return [f for i, v in enumerate(data) for f in _functions(v, (*path, i))]
    return []
