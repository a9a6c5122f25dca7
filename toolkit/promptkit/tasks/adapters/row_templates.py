"""Templates an adapter renders against a raw row, not a prompt: lm-evaluation-harness's
``doc_to_choice`` / ``doc_to_target`` written as Jinja (``{{ choices.text }}``,
``{{ ['A', 'B', 'C', 'D'][answer] }}``), sandboxed and bounded like every prompt template."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

import jinja2

from promptkit.errors import DatasetError, TemplateError
from promptkit.prompting.template import RenderLimit, environment, render_limited

# Exceptions a sandboxed expression over a row may raise (``choices.label.index(answerKey)``
# when the key is not there): the row's fault, reported with the row.
RENDER_FAILURES = (jinja2.TemplateError, ValueError, TypeError, KeyError, IndexError, AttributeError,
                   ZeroDivisionError, OverflowError)


def compile_row_template(source: str, name: str) -> jinja2.Template:
    """``source`` compiled in the sandbox (``name``: the adapter key, for the message)."""
    try:
        return environment().from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"adapter.{name}: invalid Jinja2 on line {exc.lineno} of the template: {exc.message}") from exc


def render_row(template: jinja2.Template, row: Mapping[str, Any], where: str, name: str) -> str:
    """``template`` rendered with the row's columns.

    Raises:
        TemplateError: the rendering ran over its bounds.
        DatasetError: the expression failed on this row, naming it and its columns.
    """
    try:
        return render_limited(template, {str(k): v for k, v in row.items()})
    except RenderLimit as exc:
        raise TemplateError(f"{where}: adapter.{name}: rendering stopped: {exc}") from None
    except RENDER_FAILURES as exc:
        raise DatasetError(f"{where}: adapter.{name}: {type(exc).__name__}: {exc} "
                           f"(the row has: {', '.join(sorted(map(str, row)))})") from None


def parse_list(text: str) -> list[Any] | None:
    """A rendered list literal (``"['a', 'b']"``, as ``{{ choices.text }}`` renders) as a list, or
    None when the text is not one. ``ast.literal_eval`` builds literals only, never calls code."""
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return list(value) if isinstance(value, (list, tuple)) else None
