"""Output filters: named pipelines that turn a generation into the answer the metrics score, as
lm-evaluation-harness's built-in filters do (``filter_list``), declared in a task file and never
code.

A task's ``filters`` is a list of pipelines, each a name and its steps::

    filters:
      - name: strict-match
        steps:
          - {function: regex, regex_pattern: "#### (\\\\-?[0-9\\\\.\\\\,]+)"}
          - {function: take_first}
      - name: flexible-extract
        steps:
          - {function: regex, regex_pattern: "(-?[$0-9.,]{2,})|(-?[0-9]+)", group_select: -1}
          - {function: take_first}

Every pipeline runs on a row's output (the generation cut at the first stop string, what an
unfiltered task scores), and every metric of the task is scored on every pipeline's result: the
columns ``exact_match[strict-match]``, ``exact_match[flexible-extract]`` (``promptkit.records.columns``).

lm-eval filters act on a list of responses per row (``repeats`` samples). promptkit decodes
greedily, once per row, so a pipeline starts from a list of one response: ``take_first``,
``take_first_k`` and ``majority_vote`` act on that list of one, and the pipeline's result is the
first response left. The step functions and their parameters are lm-eval's (0.4.13), with these
differences, each where lm-eval would fail or act on single characters:

- a ``group_select`` past the matches found gives the fallback (lm-eval raises ``IndexError``);
- a step after ``take_first`` acts on the response taken (lm-eval iterates over its characters,
  which gives the same result for one-character answers such as polemo2's ``A``-``D``);
- ``map``'s ``default_value`` is ``""`` unless given (lm-eval's ``None`` is not text);
- regex steps read at most :data:`MAX_FILTER_CHARS` characters of a response (the generation
  is at most ``max_new_tokens`` tokens anyway); a longer response is cut to its start.
"""

from __future__ import annotations

import re
import typing
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, Field, field_validator

from promptkit.config import Strict
from promptkit.config.patterns import compile_checked
from promptkit.errors import DatasetError, suggest
from promptkit.records import Example, Prediction
from promptkit.records.columns import MAX_PIPELINE_NAME, PIPELINE_NAME_RE

# What a regex step reads of one response: 4,096 new tokens (the most a task may generate) at
# 8 characters a token. A backtracking pattern's time grows with this length.
MAX_FILTER_CHARS = 32_768
MAX_PIPELINES = 16
MAX_STEPS = 16
# A row's choices by field name (read only by multi_choice_regex).
Choices = Callable[[str], Sequence[str]]


def _checked(pattern: str) -> str:
    compile_checked(pattern)  # PatternError is a ValueError: pydantic reports its message at the key
    return pattern


class RegexStep(Strict):
    """lm-eval's ``regex``: the ``group_select``-th match of ``regex_pattern`` (negative counts from
    the last); a pattern with several groups gives its first non-empty group; no match gives
    ``fallback``. The result is stripped of surrounding white space."""

    function: Literal["regex"]
    regex_pattern: str = r"#### (\-?[0-9\.\,]+)"  # lm-eval's default (GSM8K's answer line)
    group_select: int = 0
    fallback: str = "[invalid]"

    @field_validator("regex_pattern")
    @classmethod
    def _check_pattern(cls, value: str) -> str:
        return _checked(value)

    def apply(self, responses: list[str], choices: Choices) -> list[str]:
        pattern = compile_checked(self.regex_pattern)
        out = []
        for response in responses:
            found = _select(pattern.findall(response[:MAX_FILTER_CHARS]), self.group_select)
            if found is None:
                out.append(self.fallback)
                continue
            if isinstance(found, tuple):  # several groups: the first that matched something
                found = next((g for g in found if g), self.fallback)
            out.append(found.strip())  # lm-eval strips a fallback reached this way too
        return out


class TakeFirstStep(Strict):
    """lm-eval's ``take_first``: the first response (of one, in promptkit)."""

    function: Literal["take_first"]

    def apply(self, responses: list[str], choices: Choices) -> list[str]:
        return responses[:1]


class TakeFirstKStep(Strict):
    """lm-eval's ``take_first_k``: the first ``k`` responses (of one, in promptkit)."""

    function: Literal["take_first_k"]
    k: int = Field(ge=1)

    def apply(self, responses: list[str], choices: Choices) -> list[str]:
        return responses[: self.k]


class MajorityVoteStep(Strict):
    """lm-eval's ``majority_vote``: the most frequent response (the first seen among equals)."""

    function: Literal["majority_vote"]

    def apply(self, responses: list[str], choices: Choices) -> list[str]:
        return [Counter(responses).most_common(1)[0][0]] if responses else []


class RemoveWhitespaceStep(Strict):
    """lm-eval's ``remove_whitespace``: leading and trailing white space removed."""

    function: Literal["remove_whitespace"]

    def apply(self, responses: list[str], choices: Choices) -> list[str]:
        return [r.strip() for r in responses]


class LowercaseStep(Strict):
    """lm-eval's ``lowercase``."""

    function: Literal["lowercase"]

    def apply(self, responses: list[str], choices: Choices) -> list[str]:
        return [r.lower() for r in responses]


class UppercaseStep(Strict):
    """lm-eval's ``uppercase``."""

    function: Literal["uppercase"]

    def apply(self, responses: list[str], choices: Choices) -> list[str]:
        return [r.upper() for r in responses]


class MapStep(Strict):
    """lm-eval's ``map``: a response found in ``mapping_dict`` becomes its value, any other
    ``default_value``."""

    function: Literal["map"]
    mapping_dict: dict[str, str] = Field(default_factory=dict)
    default_value: str = ""

    def apply(self, responses: list[str], choices: Choices) -> list[str]:
        return [self.mapping_dict.get(r, self.default_value) for r in responses]


# format_span's label words -> the entity labels it writes (lm-eval 0.4.13's, in its order).
SPAN_LABELS = (("person", "PER"), ("location", "LOC"), ("organization", "ORG"), ("counties", "LOC"), ("places", "LOC"),
               ("people", "PER"), ("persons", "PER"), ("company", "ORG"), ("country", "LOC"), ("continent", "LOC"),
               ("time", "DATE"), ("date", "DATE"), ("per", "PER"), ("loc", "LOC"), ("org", "ORG"))
_SPAN_ENTITY = re.compile(r"\b(PER|LOC|ORG|DATE):\s*([^$]+)")


class FormatSpanStep(Strict):
    """lm-eval's ``format_span`` (MasakhaNER): a named-entity answer as ``label: entity $ label:
    entity``. The answer is lower-cased; a label word before a colon (``person:``, ``location:``,
    ``per:``...) becomes its label (``PER:``); ``$$`` becomes ``$`` and trailing ``$`` go; then
    each ``LABEL: a, b`` (up to the next ``$`` or line break) gives one ``label: entity`` per
    entity other than ``none``."""

    function: Literal["format_span"]

    def apply(self, responses: list[str], choices: Choices) -> list[str]:
        return [self._format(r[:MAX_FILTER_CHARS]) for r in responses]

    @staticmethod
    def _format(text: str) -> str:
        text = text.lower()
        for word, label in SPAN_LABELS:
            text = re.sub(rf"\b{re.escape(word)}\s*:", f"{label}:", text)
        text = "$".join(text.split("$$")).rstrip("$")
        found = _SPAN_ENTITY.findall(text.replace("\n", "$").strip())
        entities = [f"{label.lower()}: {e.strip()}" for label, values in found for e in values.split(",")
                    if e.strip().lower() != "none"]
        return " $ ".join(entities)


class MultiChoiceRegexStep(Strict):
    """lm-eval's ``multi_choice_regex``: the answer letter of a multiple-choice question.

    First ``regex_pattern`` as in ``regex`` (its ``group_select``); where it finds nothing, the
    row's choices themselves are searched for (each stripped, then, like the response, with
    ``regexes_to_ignore`` removed, lower-cased under ``ignore_case`` and without Unicode
    punctuation under ``ignore_punctuation``) and the one found becomes ``(A)``, ``(B)``...;
    then a bare letter after a colon (``Answer: B`` -> ``(B)``); else ``fallback``.
    ``choices_field`` names the row's field holding its choices (lm-eval reads the row's
    ``choices`` column): a name under the adapter's ``fields.inputs``, or ``choices`` for the
    choices of a classification or multiple-choice row.
    """

    function: Literal["multi_choice_regex"]
    regex_pattern: str = r"#### (\-?[0-9\.\,]+)"
    group_select: int = 0
    fallback: str = "[invalid]"
    ignore_case: bool = False
    ignore_punctuation: bool = False
    regexes_to_ignore: list[str] | None = None
    choices_field: str = "choices"

    @field_validator("regex_pattern")
    @classmethod
    def _check_pattern(cls, value: str) -> str:
        return _checked(value)

    @field_validator("regexes_to_ignore")
    @classmethod
    def _check_ignored(cls, value: list[str] | None) -> list[str] | None:
        for pattern in value or ():
            _checked(pattern)
        return value

    def _ignoring(self, text: str) -> str:
        for pattern in self.regexes_to_ignore or ():
            text = compile_checked(pattern).sub("", text)
        if self.ignore_case:
            text = text.lower()
        if self.ignore_punctuation:
            text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))
        return text

    def _find(self, pattern: Any, text: str, convert: Mapping[str, str]) -> str:
        found = _select(pattern.findall(text[:MAX_FILTER_CHARS]), self.group_select)
        if found is None:
            return ""
        if isinstance(found, tuple):
            found = next((g for g in found if g), "")
        found = found.strip()
        return convert.get(found, found) if found else found

    def apply(self, responses: list[str], choices: Choices) -> list[str]:
        primary = compile_checked(self.regex_pattern)
        by_text: dict[str, str] = {}
        letters: dict[str, str] = {}
        for i, choice in enumerate(choices(self.choices_field)):
            letter = chr(ord("A") + i)
            by_text[self._ignoring(choice.strip())] = f"({letter})"
            letters[letter] = f"({letter})"
        # Alternations of escaped literals: no backtracking to fear.
        texts = re.compile("|".join(re.escape(t) for t in by_text))
        bare = re.compile(r":[\s]*(" + "|".join(re.escape(x) for x in letters) + ")")
        out = []
        for response in responses:
            found = (self._find(primary, response, {})
                     or self._find(texts, self._ignoring(response[:MAX_FILTER_CHARS]), by_text)
                     or self._find(bare, response, letters))
            out.append(found or self.fallback)
        return out


class TaskCodeStep(Strict):
    """A filter of an lm-eval task's own code, run only with ``--trust-task-code``: ``hook`` names
    it among the task's imported hooks (:mod:`promptkit.tasks.lmeval.code`), which run it as
    lm-eval does (a ``Filter`` class made with ``options``, or ``custom``'s ``filter_fn``). A task
    without that code (a promptkit task file) cannot run it."""

    function: Literal["task-code"]
    hook: str = Field(min_length=1, max_length=200)
    options: dict[str, Any] = Field(default_factory=dict)
    custom: bool = False  # lm-eval's ``custom`` filter: filter_fn(resps, docs)

    def apply(self, responses: list[str], choices: Choices) -> list[str]:
        raise DatasetError(f"filter step {self.hook!r} is an lm-eval task's own code: it runs only in a run of that task "
                           "(--task lm-eval:PATH --trust-task-code)")


# Runs a task-code step on one row: (step, the row's responses, or the one taken by take_first) -> responses.
RunCode = Callable[[TaskCodeStep, Union[list[str], str]], list[str]]

STEPS = (RegexStep, TakeFirstStep, TakeFirstKStep, MajorityVoteStep, RemoveWhitespaceStep, LowercaseStep,
         UppercaseStep, MapStep, MultiChoiceRegexStep, FormatSpanStep, TaskCodeStep)
# The accepted ``function`` names, in the order the docs list them.
STEP_MODELS: dict[str, type[Strict]] = {typing.get_args(step.model_fields["function"].annotation)[0]: step for step in STEPS}
# the names a task file writes (task-code steps are made by the lm-eval converter only)
FILTER_FUNCTIONS: tuple[str, ...] = tuple(name for name in STEP_MODELS if name != "task-code")


def _known_function(value: Any) -> Any:
    """A step's ``function`` checked before the union reads it, so that the message names the key
    and the accepted functions."""
    if isinstance(value, Mapping):
        name = value.get("function")
        accepted = ", ".join(FILTER_FUNCTIONS)
        if name is None:
            raise ValueError(f"a step needs 'function'; accepted: {accepted}")
        if name not in STEP_MODELS:
            hint = suggest(str(name), FILTER_FUNCTIONS)
            hint = f"{hint} " if hint.startswith("did you mean") else ""
            raise ValueError(f"unknown filter function {name!r}; {hint}accepted: {accepted}")
    return value


FilterStep = Annotated[
    Union[RegexStep, TakeFirstStep, TakeFirstKStep, MajorityVoteStep, RemoveWhitespaceStep, LowercaseStep,
          UppercaseStep, MapStep, MultiChoiceRegexStep, FormatSpanStep, TaskCodeStep],
    Field(discriminator="function"),
    BeforeValidator(_known_function),
]


class FilterPipeline(Strict):
    """One named pipeline: its steps run in order on a row's output."""

    name: str = Field(pattern=PIPELINE_NAME_RE, max_length=MAX_PIPELINE_NAME)
    steps: list[FilterStep] = Field(min_length=1, max_length=MAX_STEPS)

    def choices_fields(self) -> set[str]:
        """The row fields the pipeline reads (``multi_choice_regex``'s choices)."""
        return {s.choices_field for s in self.steps if isinstance(s, MultiChoiceRegexStep)}

    def apply(self, output: str, choices: Choices, run: RunCode | None = None) -> str:
        """The pipeline's answer for one output; ``choices(field)`` gives the row's choices (called
        only by ``multi_choice_regex``), ``run`` runs a task-code step on the row."""
        responses = [output]
        taken = False  # after take_first lm-eval hands the next step the response, not a list
        for step in self.steps:
            if isinstance(step, TaskCodeStep) and run is not None:
                responses = run(step, responses[0] if taken and responses else responses)
            else:
                responses = step.apply(responses, choices)
            taken = taken or isinstance(step, TakeFirstStep)
        return responses[0] if responses else ""

    def runs_code(self) -> bool:
        return any(isinstance(s, TaskCodeStep) for s in self.steps)


def _select(matches: list[Any], index: int) -> Any:
    """``matches[index]``, or None when there is no such match."""
    return matches[index] if -len(matches) <= index < len(matches) else None


def row_choices(fields: Mapping[str, Any], choices: Sequence[str], field: str, example_id: str) -> list[str]:
    """The choices ``multi_choice_regex`` reads for a row: its field ``field`` (a list), or the
    row's own choices (classification, multiple choice) when ``field`` is ``choices``.

    Raises:
        DatasetError: naming the row and the field.
    """
    value = fields.get(field)
    if value is None and field == "choices" and choices:
        return list(choices)
    if not isinstance(value, (list, tuple)):
        got = "missing" if value is None else f"{type(value).__name__}, not a list"
        raise DatasetError(f"example {example_id!r}: multi_choice_regex reads the row's choices from field {field!r}, "
                           f"which is {got}; map a column holding the row's choices under adapter.fields.inputs")
    return [str(v) for v in value]


def filter_outputs(pipelines: Sequence[FilterPipeline], output: str, fields: Mapping[str, Any],
                   choices: Sequence[str] = (), example_id: str = "", run: RunCode | None = None) -> dict[str, str]:
    """Every pipeline's answer for one row's output, by pipeline name.

    Args:
        pipelines: the task's ``filters``.
        output: the row's output (the generation cut at the first stop string).
        fields: the row's example fields (``multi_choice_regex`` reads its choices there).
        choices: the row's own choices (classification, multiple choice).
        example_id: named in errors.
        run: runs the task's code filters on this row (:class:`TaskCodeStep`).
    """
    read: dict[str, list[str]] = {}

    def choices_of(field: str) -> list[str]:
        if field not in read:
            read[field] = row_choices(fields, choices, field, example_id)
        return read[field]

    return {pipeline.name: pipeline.apply(output, choices_of, run) for pipeline in pipelines}


def filter_predictions(pipelines: Sequence[FilterPipeline], predictions: Sequence[Prediction],
                       examples: Iterable[Example],
                       code: Callable[[Example | None], RunCode] | None = None) -> list[dict[str, str]] | None:
    """Every pipeline's answer for each prediction (None without pipelines: nothing to filter).

    Args:
        pipelines: the task's ``filters``.
        predictions: a cell's predictions; each ``output`` is filtered.
        examples: the examples predicted (``multi_choice_regex`` reads a row's choices there), by id.
        code: gives the runner of the task's code filters for a row (an lm-eval task's, trusted).
    """
    if not pipelines:
        return None
    by_id = {ex.id: ex for ex in examples}
    out = []
    for pd in predictions:
        ex = by_id.get(pd.example_id)
        fields = ex.fields if ex is not None else {}
        choices = ex.choices if ex is not None and ex.choices else pd.choices
        run = code(ex) if code is not None else None
        out.append(filter_outputs(pipelines, pd.output, fields, choices, pd.example_id, run))
    return out
