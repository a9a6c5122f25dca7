"""An lm-evaluation-harness ``filter_list`` as promptkit's ``filters`` (``promptkit.tasks.filters``).

lm-eval's built-in filters are declarative (a registered name and its parameters), so a pipeline
made of them converts step for step. A filter of the task's own code (``!function`` filters,
``custom`` with its ``filter_fn``) becomes a ``task-code`` step when the user trusts the task's
code (``--trust-task-code``: :meth:`promptkit.tasks.lmeval.code.LoadedCode.filter_runner` runs it)
and is refused naming the flag otherwise; ``regex_pos`` (its answer is a list, not text) and ``decontaminate`` are refused at their key, with the accepted names::

    filter_list:                         filters:
      - name: strict-match                 - name: strict-match
        filter:                              steps:
          - function: regex                    - {function: regex, regex_pattern: ...}
            regex_pattern: ...                 - {function: take_first}
          - function: take_first

``multi_choice_regex`` reads the row's ``choices`` column, as in lm-eval (``choices_field:
choices``): the converted task must map that column under ``adapter.fields.inputs``
(:func:`choices_columns` names the columns the filters read).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Optional

from pydantic import ValidationError

from promptkit.config.patterns import PatternError, compile_checked
from promptkit.errors import suggest
from promptkit.records.columns import MAX_PIPELINE_NAME, PIPELINE_NAME_RE
from promptkit.tasks.filters import FILTER_FUNCTIONS, MAX_PIPELINES, MAX_STEPS, STEP_MODELS
from promptkit.tasks.lmeval.reader import FunctionRef, plain_data

if TYPE_CHECKING:
    from promptkit.tasks.lmeval.code import Hook

# fail(message, *key path, quotes=...): the converter's problem sink (``_Converter.fail``).
Fail = Callable[..., None]
# hook(key, ref, *key path): the converter's code_hook (a Hook when the user trusts task code).
HookFn = Callable[..., Optional["Hook"]]
# lm-eval filters that promptkit does not take, and why (the accepted names follow in the message).
REFUSED_FILTERS = {
    "custom": "it runs a Python function (filter_fn), and promptkit runs no code from task files",
    "decontaminate": "lm-eval's decontamination filter; promptkit's leakage check compares the evaluated rows "
                     "with the train split and few-shot pool instead",
    "regex_pos": "a part-of-speech extraction whose answer is a list of tags, not text",
}
_ACCEPTED = ", ".join(FILTER_FUNCTIONS)


def filters_from_lm_eval(value: Any, fail: Fail, note: Callable[[str], None] | None = None,
                         hook: HookFn | None = None) -> list[dict[str, Any]]:
    """lm-eval's ``filter_list`` as the data of promptkit's ``filters``.

    Args:
        value: the ``filter_list`` of the task file.
        fail: called with the message and the key path (``"filter_list", 0, "filter", 1,
            "function"``) of every problem, and ``quotes=False`` where the message quotes no
            value of the file (``_Converter.fail``).
        note: called with what the conversion changes (``map`` without ``default_value``).
        hook: takes a filter of the task's own code (``!function``, ``custom``'s ``filter_fn``) when
            the user trusts it (the converter's ``code_hook``: refused naming the flag otherwise);
            None: such a filter is refused.

    Returns:
        The pipelines converted so far; use them only when ``fail`` was never called.
    """
    if not isinstance(value, list) or not value:
        fail("expected a list of {name, filter} pipelines", "filter_list", quotes=False)
        return []
    if len(value) > MAX_PIPELINES:
        fail(f"{len(value)} pipelines; at most {MAX_PIPELINES} (each scores every metric once more)", "filter_list", quotes=False)
        return []
    pipelines: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, entry in enumerate(value):
        where = ("filter_list", i)
        if not isinstance(entry, Mapping):
            fail("expected {name: ..., filter: [steps]}", *where, quotes=False)
            continue
        for key in entry:
            if key not in ("name", "filter"):
                fail("unknown key in a filter pipeline; lm-eval reads name and filter", *where, str(key), quotes=False)
        name = entry.get("name")
        if not isinstance(name, str) or not re.match(PIPELINE_NAME_RE, name) or len(name) > MAX_PIPELINE_NAME:
            fail(f"a pipeline name is up to {MAX_PIPELINE_NAME} letters, digits, '_', '.', '@' or '-' (it names the score "
                 f"columns, metric[name]), got {name!r}", *where, "name")
            name = f"filter-{i}"
        elif name in seen:
            fail(f"the pipeline name {name!r} is used twice; each names its own score columns", *where, "name")
        seen.add(name)
        steps = entry.get("filter")
        if not isinstance(steps, list) or not steps:
            fail("expected a list of steps ({function: name, ...})", *where, "filter", quotes=False)
            continue
        if len(steps) > MAX_STEPS:
            fail(f"{len(steps)} steps; at most {MAX_STEPS}", *where, "filter", quotes=False)
            continue
        converted = [_step(step, (*where, "filter", j), fail, note, hook) for j, step in enumerate(steps)]
        pipelines.append({"name": name, "steps": [s for s in converted if s is not None]})
    return pipelines


def choices_columns(filters: Sequence[Mapping[str, Any]]) -> list[str]:
    """The columns the converted ``filters`` read from a row (``multi_choice_regex``'s choices):
    the converted task maps each under ``adapter.fields.inputs``."""
    return sorted({str(s.get("choices_field", "choices")) for f in filters for s in f.get("steps", [])
                   if s.get("function") == "multi_choice_regex"})


def _step(step: Any, where: tuple[str | int, ...], fail: Fail, note: Callable[[str], None] | None,
          hook: HookFn | None = None) -> dict[str, Any] | None:
    if not isinstance(step, Mapping):
        fail(f"expected {{function: name, ...}}; accepted functions: {_ACCEPTED}", *where, quotes=False)
        return None
    function = step.get("function")
    code = step.get("filter_fn") if function == "custom" else function
    if hook is not None and isinstance(code, FunctionRef):
        return _code_step(step, code, where, fail, hook)
    if isinstance(function, FunctionRef):
        fail(f"a custom filter (!function {function.ref}): promptkit never imports code from a task file; the built-in "
             f"filters it converts are: {_ACCEPTED}", *where, "function")
        return None
    if not isinstance(function, str):
        fail(f"a step needs its filter's name under 'function'; accepted: {_ACCEPTED}", *where, quotes=False)
        return None
    if function in REFUSED_FILTERS:
        fail(f"the lm-eval filter {function!r} is not converted: {REFUSED_FILTERS[function]}; accepted: {_ACCEPTED}",
             *where, "function")
        return None
    model = STEP_MODELS.get(function) if function in FILTER_FUNCTIONS else None  # task-code: made here only
    if model is None:
        hint = suggest(function, FILTER_FUNCTIONS)
        hint = f"{hint} " if hint.startswith("did you mean") else ""
        fail(f"unknown lm-eval filter {function!r}; {hint}accepted: {_ACCEPTED}", *where, "function")
        return None
    accepted = [k for k in model.model_fields if k not in ("function", "choices_field")]  # lm-eval's own parameters
    out: dict[str, Any] = {"function": function}
    ok = True
    for key, raw in step.items():
        if key == "function":
            continue
        if isinstance(raw, FunctionRef) or key not in accepted:
            shown = f"!function {raw.ref}: promptkit never imports code; " if isinstance(raw, FunctionRef) else ""
            fail(f"{shown}{function} takes {', '.join(accepted) or 'no parameters'}", *where, str(key), quotes=not shown)
            ok = False
            continue
        out[str(key)] = raw
    if function == "map":
        ok = _map(out, where, fail, note) and ok
    for key in ("regex_pattern",):
        if isinstance(out.get(key), str):
            try:
                compile_checked(out[key])
            except PatternError as exc:
                fail(str(exc), *where, key)
                ok = False
    if not ok:
        return None
    try:
        model.model_validate(out)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            message = str(err.get("ctx", {}).get("error", err["msg"]))
            fail(message[:1].lower() + message[1:], *where, *err["loc"])
        return None
    return out


def _code_step(step: Mapping[str, Any], ref: FunctionRef, where: tuple[str | int, ...], fail: Fail,
               hook: HookFn) -> dict[str, Any] | None:
    """A filter of the task's own code: a ``Filter`` class (``function: !function ...``) made with
    the step's other keys, or ``custom``'s ``filter_fn``, as lm-eval 0.4.13 runs them."""
    custom = step.get("function") == "custom"
    taken = hook(".".join(map(str, where)), ref, *where, "filter_fn" if custom else "function")
    if taken is None:
        return None  # refused by hook, naming the flag
    options = {str(k): v for k, v in step.items() if k not in ("function", "filter_fn")}
    bad = next((k for k, v in options.items() if not plain_data(v)), None)
    if bad is not None:
        fail(f"{bad}: a filter's option is text, a number, a list or a mapping of them", *where, bad)
        return None
    return {"function": "task-code", "hook": taken.key, "options": options, "custom": custom}


def _map(out: dict[str, Any], where: tuple[str | int, ...], fail: Fail, note: Callable[[str], None] | None) -> bool:
    """lm-eval's ``map`` compares each response (text) with the keys and gives the value as it
    is; promptkit's outputs are text, so numbers become their text (``0`` -> ``"0"``)."""
    ok = True
    mapping = out.get("mapping_dict", {})
    if not isinstance(mapping, Mapping):
        fail("expected a mapping of response -> value", *where, "mapping_dict", quotes=False)
        return False
    converted: dict[str, str] = {}
    for key, value in mapping.items():
        if not isinstance(key, str):
            fail(f"the key {key!r} is not text: lm-eval compares it with the response, which is text, so it never "
                 "matches; quote it", *where, "mapping_dict")
            ok = False
        elif not isinstance(value, (str, int, float)) or isinstance(value, bool):
            fail(f"the value of {key!r} must be text or a number, got {value!r}", *where, "mapping_dict", key)
            ok = False
        else:
            converted[key] = str(value)
    out["mapping_dict"] = converted
    default = out.get("default_value")
    if default is None:
        out.pop("default_value", None)
        if note is not None:
            note("map without default_value: a response not in mapping_dict becomes \"\" (lm-eval's None is not text)")
    elif isinstance(default, (int, float)) and not isinstance(default, bool):
        out["default_value"] = str(default)
    return ok
