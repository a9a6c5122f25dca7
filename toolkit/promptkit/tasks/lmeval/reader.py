"""lm-evaluation-harness task files read safely: ``!function`` as a marker, ``include`` merged.

lm-eval reads its YAML with a loader whose ``!function`` tag imports a Python function. Here the
tag becomes a :class:`FunctionRef` (the dotted name and its line), which the converter reports;
nothing is imported. Every other tag that builds objects is refused as by ``yaml.safe_load``,
and the file limits, duplicate-key check and line numbers are those of promptkit's own loader.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from promptkit.config.documents import YamlDocument, read_yaml
from promptkit.errors import ConfigError, Problem

# An include chain this deep is a mistake (lm-eval's own templates nest two or three levels).
MAX_INCLUDE_DEPTH = 16
# Files read for one task, a file counted each time it is included: depth alone does not bound
# the work (16 files each including the next four times would be 4^16 reads). lm-eval's own task
# files read one to three.
MAX_INCLUDE_FILES = 64


@dataclass(frozen=True)
class FunctionRef:
    """A ``!function module.name`` tag: code lm-eval would import and run; promptkit never does."""

    ref: str
    line: int


class LmEvalLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` plus ``!function``, which builds a :class:`FunctionRef` marker."""


def _function(loader: yaml.SafeLoader, node: yaml.Node) -> FunctionRef:
    value = loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else "?"
    return FunctionRef(str(value), node.start_mark.line + 1)


LmEvalLoader.add_constructor("!function", _function)


@dataclass
class LmEvalDocument:
    """An lm-eval task file with its includes merged the way lm-eval (0.4.13) merges them:
    top-level keys, the file's own keys over its includes', a later include's over an earlier one's.

    ``owners`` maps each top-level key to the file that gave it, so a problem names the file and
    line where the key is written (perhaps an included template).
    """

    path: Path
    data: dict[str, Any]
    owners: dict[str, YamlDocument] = field(default_factory=dict)
    root: YamlDocument | None = None

    def problem(self, message: str, path: Sequence[str | int] = ()) -> Problem:
        doc = self.owners.get(str(path[0])) if path else None
        doc = doc or self.root
        if doc is None:
            return Problem(message, str(self.path), None, None)
        return doc.problem(message, path)


def read_lm_eval(path: str | Path) -> LmEvalDocument:
    """Read an lm-eval task file and the files it includes.

    Raises:
        ConfigError: unreadable or invalid YAML, a duplicate key, an include that is missing,
            not a string or part of a cycle; each problem with file and line.
    """
    problems: list[Problem] = []
    document = _read(Path(path), (), problems, [0])
    if problems:
        raise ConfigError(problems)
    return document


def _read(path: Path, chain: tuple[Path, ...], problems: list[Problem], reads: list[int]) -> LmEvalDocument:
    reads[0] += 1
    if reads[0] > MAX_INCLUDE_FILES:
        # stop at once: the rest of the tree would multiply, not add
        raise ConfigError([Problem(f"includes read more than {MAX_INCLUDE_FILES} files for one task (a file counts each "
                                   "time it is included); flatten the includes", str(chain[0] if chain else path))])
    doc = read_yaml(path, loader=LmEvalLoader)
    own = {k: v for k, v in doc.data.items() if k != "include"}
    merged: dict[str, Any] = {}
    owners: dict[str, YamlDocument] = {}
    for where, target in _includes(doc, problems):
        # Relative to the including file's folder, as in lm-eval 0.4.13.
        full = (path.parent / target) if not Path(target).is_absolute() else Path(target)
        if full.resolve() in chain or full.resolve() == path.resolve():
            problems.append(doc.problem(f"include {target!r} includes itself (through {' -> '.join(p.name for p in chain)}); "
                                        "remove the cycle", where))
            continue
        if len(chain) >= MAX_INCLUDE_DEPTH:
            problems.append(doc.problem(f"includes nest more than {MAX_INCLUDE_DEPTH} deep; flatten them", where))
            continue
        if not full.is_file():
            problems.append(doc.problem(f"included file not found: {target!r} (looked for {full}); include paths are "
                                        "relative to the including file's folder", where))
            continue
        try:
            sub = _read(full, (*chain, path.resolve()), problems, reads)
        except ConfigError as exc:
            if reads[0] > MAX_INCLUDE_FILES:
                raise
            problems.extend(exc.problems)
            continue
        for key, value in sub.data.items():  # in order: the last include listed wins
            merged[key] = value
            owners[key] = sub.owners[key]
    for key, value in own.items():
        merged[key] = value
        owners[key] = doc
    return LmEvalDocument(path=path, data=merged, owners=owners, root=doc)


def _includes(doc: YamlDocument, problems: list[Problem]) -> list[tuple[tuple[str | int, ...], str]]:
    """Each included path with its key path in the file (``include`` or ``include[i]``)."""
    raw = doc.data.get("include")
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    out: list[tuple[tuple[str | int, ...], str]] = []
    for i, item in enumerate(items):
        where: tuple[str | int, ...] = ("include", i) if isinstance(raw, list) else ("include",)
        if isinstance(item, str) and item.strip():
            out.append((where, item))
        else:
            shown = f"!function {item.ref}" if isinstance(item, FunctionRef) else repr(item)
            problems.append(doc.problem(f"include {shown} is not a file path; give a path (or a list of them)", where))
    return out
