"""YAML files -> validated config objects.

YAML is read with ``yaml.safe_load`` semantics (no tags that build Python objects). Duplicate
keys are errors, not "last one wins". Every problem is reported with file, line and key path,
all at once, in one :class:`ConfigError`.
"""

from __future__ import annotations

import copy
import typing
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from promptkit.errors import ConfigError, Problem, suggest
from promptkit.files import FileRefused, read_text

M = TypeVar("M", bound=BaseModel)
KeyPath = tuple[str | int, ...]


def format_path(path: Sequence[str | int]) -> str:
    """``("metrics", 1)`` -> ``metrics[1]``; ``("adapter", "fields")`` -> ``adapter.fields``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _line_map(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], problems: list[Problem], file: str) -> None:
    """Record the line of every key path and report duplicate keys."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(
                    Problem(
                        f"duplicate key {key!r} (first defined on line {seen[key]}); "
                        "each key may appear once",
                        file,
                        line,
                        format_path((*path, key)),
                    )
                )
                continue
            seen[key] = line
            lines[(*path, key)] = line
            _line_map(value_node, (*path, key), lines, problems, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, (*path, i), lines, problems, file)


def _as_written(key: Any) -> Any:
    """How a key YAML read as a bool or null is most often written (the line map holds text)."""
    if key is None or isinstance(key, bool):
        return {True: "true", False: "false", None: "null"}[key]
    return str(key) if isinstance(key, int | float) else key


class YamlDocument:
    """A parsed YAML mapping plus where each key path sits in the file."""

    def __init__(self, data: dict[str, Any], lines: dict[KeyPath, int], file: str):
        self.data = data
        self.lines = lines
        self.file = file
        self.duplicates: list[Problem] = []  # keys written twice, when the reader allowed it

    def line_of(self, path: Sequence[str | int]) -> int | None:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            written = (*path[:-1], _as_written(path[-1]))  # a key YAML read as a number, bool or null
            if written in self.lines:
                return self.lines[written]
            path = path[:-1]
        return self.lines.get((), None)

    def problem(self, message: str, path: Sequence[str | int] = ()) -> Problem:
        return Problem(message, self.file, self.line_of(path), format_path(path) or None)


def read_yaml(path: str | Path, display: str | None = None, loader: type[yaml.SafeLoader] = yaml.SafeLoader,
              duplicates_ok: bool = False) -> YamlDocument:
    """Read one YAML file that must hold a mapping (``loader``: a safe loader, perhaps with
    constructors of its own for tags such as lm-evaluation-harness's ``!function``).

    Raises:
        ConfigError: unreadable file, syntax error, duplicate keys, or not a mapping.
    """
    path = Path(path)
    file = display or str(path)
    try:
        # bounded before the read: a FIFO, a device or a 3 GB file is refused, not read
        text = read_text(path, "a task, prompt or run file", MAX_YAML_BYTES)
    except FileNotFoundError:
        raise ConfigError([Problem("file not found", file)]) from None
    except FileRefused as exc:
        raise ConfigError([Problem(str(exc).removeprefix(f"{path}: "), file)]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(f"cannot read file: {exc}", file)]) from exc
    return parse_yaml(text, file, loader, duplicates_ok)


# A task, prompt or run file is a few kilobytes; these bound what a hostile one can cost.
MAX_YAML_CHARS = 5_000_000
MAX_YAML_NODES = 200_000  # values after expanding aliases (a "billion laughs" file has 10^9)
MAX_YAML_BYTES = 4 * MAX_YAML_CHARS  # UTF-8: at most 4 bytes a character


def _expanded_size(node: yaml.Node, file: str) -> int:
    """Values in ``node`` with every alias expanded, computed without expanding (aliases share nodes)."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()

    def size(n: yaml.Node) -> int:
        key = id(n)
        if key in sizes:
            return sizes[key]
        if key in on_path:
            raise ConfigError([Problem("an alias refers to a value that contains it (recursive YAML); "
                                       "write the value out instead", file, n.start_mark.line + 1)])
        on_path.add(key)
        total = 1
        if isinstance(n, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in n.value)
        elif isinstance(n, yaml.SequenceNode):
            total += sum(size(v) for v in n.value)
        on_path.discard(key)
        sizes[key] = total
        return total

    total = size(node)
    if total > MAX_YAML_NODES:
        if isinstance(node, yaml.MappingNode):
            children = [v for _, v in node.value]
        else:
            children = list(node.value) if isinstance(node, yaml.SequenceNode) else []
        worst = max(children, key=size, default=node)  # the top-level value that expands most
        raise ConfigError([Problem(f"expands to {total:,} values through aliases (at most {MAX_YAML_NODES:,}); "
                                   "write repeated values out or use fewer nested aliases", file, worst.start_mark.line + 1)])
    return total


def parse_yaml(text: str, file: str, loader: type[yaml.SafeLoader] = yaml.SafeLoader,
               duplicates_ok: bool = False) -> YamlDocument:
    """``duplicates_ok``: a key written twice is not an error; its last value is kept, as PyYAML
    keeps it (lm-evaluation-harness's own files have some), and ``duplicates`` lists them."""
    if len(text) > MAX_YAML_CHARS:
        raise ConfigError([Problem(f"file is {len(text):,} characters; a task, prompt or run file may have at most "
                                   f"{MAX_YAML_CHARS:,} (put data in a data file the task points to)", file)])
    key = (text, file, loader, duplicates_ok)
    if key in _PARSED:  # a group's shared templates are read once per file that includes them
        data, lines, duplicates = _PARSED[key]
        doc = YamlDocument(copy.deepcopy(data), dict(lines), file)
        doc.duplicates = list(duplicates)
        return doc
    doc = _parse_yaml(text, file, loader, duplicates_ok)
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.pop(next(iter(_PARSED)))
    _PARSED[key] = (copy.deepcopy(doc.data), dict(doc.lines), list(doc.duplicates))
    return doc


# Parsed documents by (text, file, loader, duplicates_ok), oldest first: resolving lm-eval's
# afrobench group reads 1,828 files that include a few templates ~5,400 times (PyYAML is pure Python).
_PARSED: dict[tuple[str, str, type[yaml.SafeLoader], bool], tuple[dict[str, Any], dict[KeyPath, int], list[Problem]]] = {}
_PARSED_MAX = 512


def _parse_yaml(text: str, file: str, loader: type[yaml.SafeLoader], duplicates_ok: bool) -> YamlDocument:
    try:
        node = yaml.compose(text, Loader=loader)
        data = None
        if node is not None:
            _expanded_size(node, file)
            constructor = loader("")  # the data from the node already composed, not a second parse
            try:
                data = constructor.construct_document(node)
            finally:
                constructor.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        msg = f"invalid YAML: {exc.problem or exc}"
        if exc.context:
            msg += f" ({exc.context})"
        raise ConfigError([Problem(msg, file, line)]) from exc
    except yaml.YAMLError as exc:  # e.g. a reader error: a character YAML does not allow
        problem = getattr(exc, "reason", None) or str(exc).splitlines()[0]
        position = getattr(exc, "position", None)
        at = f" at character {position}" if isinstance(position, int) else ""
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        raise ConfigError([Problem(f"invalid YAML: {problem}{at}", file, line)]) from exc
    if node is None or data is None:
        raise ConfigError([Problem("file is empty; expected a mapping of keys to values", file)])
    if not isinstance(data, dict):
        raise ConfigError(
            [Problem(f"expected a mapping of keys to values at the top level, got {type(data).__name__}", file, 1)]
        )
    lines: dict[KeyPath, int] = {}
    problems: list[Problem] = []
    _line_map(node, (), lines, problems, file)  # its problems are keys written twice
    if problems and not duplicates_ok:
        raise ConfigError(problems)
    doc = YamlDocument(data, lines, file)
    doc.duplicates = problems
    return doc


# ----------------------------------------------------------------------------- pydantic errors
def _unwrap(annotation: Any) -> list[Any]:
    """All concrete types an annotation may hold (through Optional, Union, Annotated)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out.extend(_unwrap(arg))
        return out
    return [annotation]


def literal_values(annotation: Any) -> list[str]:
    """The values a ``Literal`` field accepts (through Optional and Annotated): CLI choices
    are read from the config, never restated."""
    return [str(v) for t in _unwrap(annotation) if typing.get_origin(t) is typing.Literal for v in typing.get_args(t)]


def _model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """Walk a pydantic ``loc`` down the model classes (used to list accepted keys)."""
    current: Any = model
    for part in loc:
        candidates = _unwrap(current)
        models = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if isinstance(part, str) and part.startswith("function-"):
            # A model with a validator is tagged 'function-after[_check(), SplitFiles]'.
            part = part.rstrip("]").rsplit(", ", 1)[-1]
        if isinstance(part, str) and models:
            tagged = [m for m in models if "kind" in m.model_fields and m.model_fields["kind"].default == part]
            if tagged:  # a discriminated-union tag in the loc
                current = tagged[0]
                continue
            owners = [m for m in models if part in m.model_fields]
            if owners:
                current = owners[0].model_fields[part].annotation
                continue
            if len(models) == 1 and models[0].__name__ == part:
                continue
            return None
        containers = [c for c in candidates if typing.get_origin(c) in (list, dict, tuple)]
        if containers:
            args = typing.get_args(containers[0])
            current = args[-1] if args else Any
            continue
        if isinstance(part, str):  # a union member name such as 'str' or 'PromptConfig'
            continue
        return None
    found = [c for c in _unwrap(current) if isinstance(c, type) and issubclass(c, BaseModel)]
    return found[0] if len(found) == 1 else None


def _union_kinds(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The ``kind`` tags of the tagged union found at ``loc`` (``dataset`` -> files, hub)."""
    i = len(loc)
    while i and not isinstance(loc[i - 1], str):  # list/dict items: walk back to the field
        i -= 1
    if not i:
        return []
    owner = _model_at(model, loc[: i - 1])
    name = loc[i - 1]
    if owner is None or name not in owner.model_fields:
        return []
    candidates = _unwrap(owner.model_fields[name].annotation)
    for _ in range(len(loc) - i):
        items = [typing.get_args(c) for c in candidates if typing.get_origin(c) in (list, dict)]
        candidates = [a for args in items if args for a in _unwrap(args[-1])]
    return [
        c.model_fields["kind"].default
        for c in candidates
        if isinstance(c, type) and issubclass(c, BaseModel) and "kind" in c.model_fields
    ]


def _data_path(data: Any, loc: Sequence[str | int], missing: bool) -> list[str | int]:
    """Drop pydantic's union tags from ``loc`` so that it matches the YAML key path.

    Parts that do not exist in the data are union tags ('str', 'FilesSource', 'qa'...), except
    the last part of a "missing key" error.
    """
    path: list[str | int] = []
    current = data
    for i, part in enumerate(loc):
        if isinstance(current, Mapping) and part in current:
            path.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and part < len(current):
            path.append(part)
            current = current[part]
        elif missing and i == len(loc) - 1:
            path.append(part)
        elif current is None or not isinstance(current, (Mapping, list)):
            if isinstance(part, int) or not _is_tag(part):
                path.append(part)
    return path


_TYPE_TAGS = {"str", "int", "float", "bool", "list", "dict"}


def _is_tag(part: str) -> bool:
    """Whether a loc part names a union member (a type or a ``kind``) rather than a key."""
    return part in _TYPE_TAGS or part[:1].isupper() or any(c in part for c in "[-")


def validation_problems(exc: ValidationError, model: type[BaseModel], doc: YamlDocument, prefix: KeyPath = ()) -> list[Problem]:
    """Turn a pydantic ``ValidationError`` into file/line/key-path problems."""
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        etype = err["type"]
        path = [*prefix, *_data_path(_get(doc.data, prefix), loc, etype == "missing")]
        bad = err.get("input")
        if etype == "extra_forbidden":
            bad_key = path[-1] if path else "?"
            owner = _model_at(model, [p for p in loc[:-1]])
            allowed = sorted(owner.model_fields) if owner else []
            hint = suggest(str(bad_key), allowed) if allowed else ""
            msg = f"unknown key {bad_key!r}" + (f"; {hint}" if hint else "")
            if allowed and "did you mean" in hint:
                msg += f" (accepted: {', '.join(allowed)})"
        elif etype == "missing":
            msg = "required key is missing"
        elif etype == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            msg = f"invalid value {bad!r}; accepted: {expected}"
        elif etype in ("union_tag_invalid", "union_tag_not_found"):
            ctx = err.get("ctx", {})
            tag = ctx.get("tag", bad)
            msg = f"invalid kind {tag!r}; accepted: {ctx.get('expected_tags', '')}"
            if etype == "union_tag_not_found":
                # pydantic gives no expected tags here: read them from the union's members.
                kinds = ", ".join(repr(k) for k in _union_kinds(model, loc))
                msg = "missing 'kind'" + (f"; accepted: {kinds}" if kinds else "")
        elif etype == "value_error":
            msg = str(err.get("ctx", {}).get("error", err["msg"]))
        else:
            shown = repr(bad) if not isinstance(bad, (dict, list)) else type(bad).__name__
            msg = f"{err['msg'][0].lower()}{err['msg'][1:]} (got {shown})"
        key = (format_path(path), msg)
        if key in seen:
            continue
        seen.add(key)
        same_place = [i for i, p in enumerate(problems) if p.key == (format_path(path) or None)]
        if same_place and etype not in ("extra_forbidden", "missing"):
            # Alternatives of a union failing at one place: one message listing them.
            prev = problems[same_place[-1]]
            problems[same_place[-1]] = Problem(f"{prev.message}; or {msg}", prev.file, prev.line, prev.key)
            continue
        problems.append(doc.problem(msg, path))
    return problems


def _get(data: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        data = data[part]
    return data


def validate(model: type[M], doc: YamlDocument, data: Any = None, prefix: KeyPath = ()) -> M:
    """Validate ``doc`` (or ``data`` found at ``prefix`` inside it) against ``model``."""
    payload = doc.data if data is None else data
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, model, doc, prefix)) from exc


def iter_yaml_files(paths: Sequence[str | Path]) -> Iterator[Path]:
    """Files given directly plus every ``*.yaml``/``*.yml`` under given directories."""
    for p in paths:
        p = Path(p)
        if p.is_dir():
            yield from sorted(q for q in p.rglob("*") if q.suffix in (".yaml", ".yml") and q.is_file())
        else:
            yield p


# ----------------------------------------------------------------------------- --set overrides
def apply_overrides(data: dict[str, Any], assignments: Sequence[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` assignments; values are YAML scalars (``false``, ``0``, ``""``).

    Raises:
        ConfigError: an assignment without ``=`` or whose value is not valid YAML.
    """
    out = copy.deepcopy(data)
    problems: list[Problem] = []
    for item in assignments:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            problems.append(Problem(f"--set {item!r}: expected key=value (e.g. batch_size=4)"))
            continue
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as exc:
            problems.append(Problem(f"--set {item!r}: value is not valid YAML ({exc})"))
            continue
        parts = key.strip().split(".")
        target: Any = out
        for part in parts[:-1]:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        target[parts[-1]] = value
    if problems:
        raise ConfigError(problems)
    return out

