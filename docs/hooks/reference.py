"""MkDocs hook: the reference pages are generated from the code, so they cannot go stale.

A page holding ``<!-- reference: NAME -->`` gets that marker replaced at build time:

- ``cli``: every ``promptkit`` command and option, walked from the click group;
- ``task``, ``prompt``, ``run``, ``methods``: every key of those YAML files, walked from the
  pydantic models (type, default, and the comment written above the field in the source);
- ``results``: every field of results.json, walked from the dataclasses of
  ``promptkit.records.results`` and ``promptkit.records``.

``tests/unit/test_docs.py`` imports this module to check the pages against the models.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import types
import typing
from typing import Any

MARKER = re.compile(r"<!-- reference: (\w+) -->")


# ----------------------------------------------------------------------------- comments in the source
def field_comments(cls: type) -> dict[str, str]:
    """``field -> text`` from the comment lines right above each field (or after it on its line)
    in the class body, and from ``name: text`` lines of its docstring's Attributes section."""
    out: dict[str, str] = {}
    doc = inspect.cleandoc(cls.__dict__.get("__doc__") or "")
    if "Attributes:" in doc:
        current = None
        for line in doc.split("Attributes:", 1)[1].splitlines():
            m = re.match(r"\s{4}([\w /]+?):\s+(.*)", line)
            if m:
                names = [n.strip() for n in m.group(1).split("/")]
                for n in names:
                    out[n] = m.group(2).strip()
                current = names
            elif current and line.startswith(" " * 8):
                for n in current:
                    out[n] += " " + line.strip()
            elif not line.strip():
                current = None
    try:
        lines = inspect.getsource(cls).splitlines()
    except (OSError, TypeError):
        return out
    pending: list[str] = []
    for line in lines[1:]:
        stripped = line.strip()
        if stripped.startswith("#"):
            pending.append(stripped.lstrip("# ").strip())
            continue
        m = re.match(r"\s{4}(\w+)\s*:\s*[^=]", line)
        if m and not stripped.startswith(("def ", "@")):
            trailing = line.split("  # ", 1)[1].strip() if "  # " in line else ""
            text = " ".join([*pending, trailing]).strip()
            if text:
                out[m.group(1)] = text
        pending = []
    return out


def type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin in (list, tuple, dict, set):
        return f"{origin.__name__}[{', '.join(type_name(a) for a in args if a is not Ellipsis)}]"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation).replace("typing.", ""))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# ----------------------------------------------------------------------------- pydantic models
def model_fields(model: Any) -> list[tuple[str, str, str, str]]:
    """``(key, type, default, description)`` of every field of a pydantic model."""
    from pydantic_core import PydanticUndefined

    comments = field_comments(model)
    rows = []
    for name, f in model.model_fields.items():
        if f.default is not PydanticUndefined:
            default = repr(f.default)
        elif f.default_factory is not None:
            default = repr(f.default_factory())
        else:
            default = "required"
        rows.append((f.alias or name, type_name(f.annotation), default, f.description or comments.get(name, "")))
    return rows


def _nested(model: Any) -> list[type]:
    from pydantic import BaseModel

    found: list[type] = []

    def walk(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found.append(annotation)
        for a in typing.get_args(annotation):
            walk(a)

    for f in model.model_fields.values():
        walk(f.annotation)
    return found


def models_markdown(roots: list[type]) -> str:
    seen: list[type] = []
    queue = list(roots)
    while queue:
        m = queue.pop(0)
        if m in seen:
            continue
        seen.append(m)
        queue += _nested(m)
    parts = []
    for m in seen:
        doc = inspect.cleandoc(m.__dict__.get("__doc__") or "").split("\n\n")[0].replace("\n", " ")
        rows = "\n".join(f"| `{k}` | {_cell(t)} | `{_cell(d)}` | {_cell(c)} |" for k, t, d, c in model_fields(m))
        parts.append(f"### {m.__name__}\n\n{doc}\n\n| key | type | default | meaning |\n|---|---|---|---|\n{rows}\n")
    return "\n".join(parts)


def reference_roots(name: str) -> list[type]:
    from promptkit.config import PromptConfig
    from promptkit.config.run import RunConfig
    from promptkit.methods import METHODS
    from promptkit.tasks import TaskConfig

    if name == "task":
        return [TaskConfig]
    if name == "prompt":
        return [PromptConfig]
    if name == "run":
        return [RunConfig]
    if name == "methods":
        return list(dict.fromkeys(METHODS.get(kind).config_class for kind in METHODS.in_order()))
    raise KeyError(name)


# ----------------------------------------------------------------------------- results.json
RESULT_CLASSES = ("RunResult", "TaskInfo", "CellResult", "PairComparison", "Verdict", "MethodOutcome", "SeedSummary")
RECORD_CLASSES = ("MetricScore", "Cost", "Forgetting", "TrainingReport", "TuningResult")


def result_classes() -> list[type]:
    from promptkit import records
    from promptkit.records import comparisons, results

    found = [getattr(results, n, None) or getattr(comparisons, n) for n in RESULT_CLASSES]
    found += [getattr(records, n, None) or getattr(results, n) for n in RECORD_CLASSES]
    return found


def results_markdown() -> str:
    from promptkit.records.results import SCHEMA_VERSION

    parts = [f"Schema version **{SCHEMA_VERSION}** (`schema_version`; files of versions 1 and 2 are still read; their verdicts and comparisons are recomputed by `promptkit report`).\n"]
    for cls in result_classes():
        comments = field_comments(cls)
        doc = (inspect.getdoc(cls) or "").split("\n\n")[0].replace("\n", " ")
        rows = "\n".join(f"| `{f.name}` | {_cell(type_name(f.type) if not isinstance(f.type, str) else f.type)} | "
                         f"{_cell(comments.get(f.name, ''))} |" for f in dataclasses.fields(cls))
        parts.append(f"### {cls.__name__}\n\n{doc}\n\n| field | type | meaning |\n|---|---|---|\n{rows}\n")
    return "\n".join(parts)


# ----------------------------------------------------------------------------- the CLI
def cli_markdown() -> str:
    import click
    from promptkit.cli import cli

    parts = []

    def walk(cmd: click.Command, path: list[str]) -> None:
        ctx = click.Context(cmd, info_name=" ".join(path))
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                if sub is not None:
                    walk(sub, [*path, name])
            if len(path) > 1:
                return
        usage = " ".join(cmd.collect_usage_pieces(ctx))
        rows = []
        for p in cmd.params:
            if isinstance(p, click.Option):
                opts = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts])
                kind = p.type.name if not isinstance(p.type, click.Choice) else " | ".join(map(str, p.type.choices))
                shown = p.default not in (None, (), False) and not callable(p.default) and "Sentinel" not in repr(p.default)
                default = f"`{p.default}`" if shown else ""
                rows.append(f"| {opts} | {_cell(kind)}{' (repeatable)' if p.multiple else ''} | {default} | {_cell(p.help or '')} |")
            else:
                rows.append(f"| `{p.name.upper()}` | argument{' (several)' if p.nargs == -1 else ''} | | |")
        table = "| option | value | default | meaning |\n|---|---|---|---|\n" + "\n".join(rows) if rows else ""
        parts.append(f"### `{' '.join(path)}`\n\n```text\n{' '.join(path)} {usage}\n```\n\n"
                     f"{inspect.cleandoc(cmd.help or '')}\n\n{table}\n")

    walk(cli, ["promptkit"])
    return "\n".join(parts)


def generate(name: str) -> str:
    if name == "cli":
        return cli_markdown()
    if name == "results":
        return results_markdown()
    return models_markdown(reference_roots(name))


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return MARKER.sub(lambda m: generate(m.group(1)), markdown)
