"""lm-evaluation-harness task files read safely: ``!function`` as a marker, ``include`` merged.

lm-eval reads its YAML with a loader whose ``!function`` tag imports a Python function. Here the
tag becomes a :class:`FunctionRef` (the dotted name and its line), which the converter reports;
nothing is imported. Every other tag that builds objects is refused as by ``yaml.safe_load``,
and the file limits, duplicate-key check and line numbers are those of promptkit's own loader.

An ``include`` may name any readable file (``/etc/passwd``, a ``key: value`` secrets file), and
errors end up in CI logs: an included file's text is never quoted. An included file that is not
a mapping of lm-eval keys is refused in one line naming it and a line number; problems with the
values of one that is are located by file, line and key (see :meth:`LmEvalDocument.problem`).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
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
# Every top-level key of an lm-eval task file (lm_eval.api.task.TaskConfig, 0.4.x, and
# ``include``): an included file holding any other key is not an lm-eval task file.
LM_EVAL_KEYS = frozenset({
    "task", "task_alias", "tag", "group", "custom_dataset", "dataset_path", "dataset_name", "dataset_kwargs",
    "training_split", "validation_split", "test_split", "fewshot_split", "process_docs", "doc_to_text",
    "doc_to_target", "doc_to_choice", "doc_to_image", "doc_to_audio", "unsafe_code", "process_results", "use_prompt",
    "description", "target_delimiter", "fewshot_delimiter", "fewshot_config", "num_fewshot", "metric_list",
    "output_type", "generation_kwargs", "repeats", "filter_list", "should_decontaminate",
    "doc_to_decontamination_query", "gen_prefix", "metadata", "class", "include",
})
# Said of every problem in an included file instead of the text a message would quote.
NOT_QUOTED = "an included file's text is never quoted"


@dataclass(frozen=True)
class FunctionRef:
    """A ``!function module.name`` tag: code lm-eval would import and run, which promptkit runs
    only with ``--trust-task-code`` (:mod:`promptkit.tasks.lmeval.code`). ``file``: the YAML file
    that wrote the tag; its folder is where lm-eval looks for ``module.py``."""

    ref: str
    line: int
    file: Path | None = None


def plain_data(value: Any) -> bool:
    """Text, numbers, null, and lists and mappings of them: what a task's settings may hand on to
    a library as they are (no ``!function`` marker, no object)."""
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and plain_data(v) for k, v in value.items())
    if isinstance(value, list):
        return all(plain_data(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool))


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

    def problem(self, message: str, path: Sequence[str | int] = (), quotes: bool = True) -> Problem:
        """A problem at ``path``, in the file that wrote its top-level key. ``quotes``: the message
        may quote the value; a key from an included file then gets a message that does not."""
        doc = self.owners.get(str(path[0])) if path else None
        doc = doc or self.root
        if doc is None:
            return Problem(message, str(self.path), None, None)
        if quotes and self.included(str(path[0]) if path else ""):
            message = f"not accepted ({NOT_QUOTED}); set {path[0]} in {self.path.name} to see what is wrong with it"
        return doc.problem(message, path)

    def duplicates(self) -> list[str]:
        """Keys written twice in the file or its includes, each a note: the last value is used,
        as lm-eval (PyYAML) uses it."""
        docs = {id(d): d for d in [self.root, *self.owners.values()] if d is not None}
        return [f"{p.file}:{p.line}: {p.key}: written twice; the last value is used, as lm-eval uses it"
                for d in docs.values() for p in d.duplicates]

    def included(self, key: str) -> bool:
        """Whether top-level ``key`` comes from an included file rather than the file itself."""
        owner = self.owners.get(key)
        return owner is not None and owner is not self.root


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
    doc = _read_included(path, chain) if chain else read_yaml(path, loader=LmEvalLoader, duplicates_ok=True)
    for key in doc.data:
        if not isinstance(key, str):  # YAML reads `1:`, `true:`, `null:` as a number, a bool, None
            raise ConfigError([Problem(f"the key {key!r} ({type(key).__name__}) is not a name; lm-eval keys are names "
                                       "such as 'task' or 'doc_to_text'", doc.file, _line_of_scalar_key(doc, key))])
    own = {k: _located(v, path) for k, v in doc.data.items() if k != "include"}
    merged: dict[str, Any] = {}
    owners: dict[str, YamlDocument] = {}
    for where, target in _includes(doc, problems, bool(chain)):
        # Relative to the including file's folder, as in lm-eval 0.4.13.
        full = (path.parent / target) if not Path(target).is_absolute() else Path(target)
        shown = repr(target) if not chain else "here"  # the text of an included file is not quoted
        if full.resolve() in chain or full.resolve() == path.resolve():
            problems.append(doc.problem(f"include {shown} includes itself (through {' -> '.join(p.name for p in chain)}); "
                                        "remove the cycle", where))
            continue
        if len(chain) >= MAX_INCLUDE_DEPTH:
            problems.append(doc.problem(f"includes nest more than {MAX_INCLUDE_DEPTH} deep; flatten them", where))
            continue
        if not full.is_file():
            looked = f"{target!r} (looked for {full})" if not chain else f"the file included here ({NOT_QUOTED})"
            problems.append(doc.problem(f"included file not found: {looked}; include paths are relative to the "
                                        "including file's folder", where))
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


def _located(value: Any, path: Path) -> Any:
    """``value`` with each of its :class:`FunctionRef` markers naming ``path``, the file that wrote it."""
    if isinstance(value, FunctionRef):
        return FunctionRef(value.ref, value.line, path)
    if isinstance(value, dict):
        return {k: _located(v, path) for k, v in value.items()}
    if isinstance(value, list):
        return [_located(v, path) for v in value]
    return value


def _line_of_scalar_key(doc: YamlDocument, key: Any) -> int | None:
    """The line of a top-level key YAML read as a number, a bool or null (the line map holds
    keys as written: ``1``, ``true``, ``~``)."""
    for path, line in doc.lines.items():
        written = path[0] if len(path) == 1 else None
        if isinstance(written, str):
            try:
                value = yaml.safe_load(written)
            except yaml.YAMLError:
                continue
            if value == key and type(value) is type(key):
                return line
    return None


def _read_included(path: Path, chain: tuple[Path, ...]) -> YamlDocument:
    """An included file, read like the named one but refused, without quoting it, unless it is a
    mapping of lm-eval keys (:data:`LM_EVAL_KEYS`).

    Raises:
        ConfigError: one problem naming the file, a line and what kind of file it is not.
    """
    by = chain[-1].name
    try:
        doc = read_yaml(path, loader=LmEvalLoader, duplicates_ok=True)
    except ConfigError as exc:
        # YAML's own messages quote the text (an alias, a tag, a duplicate key): file-level
        # problems (not found, too large, not a regular file) carry no text and stay as they are
        first = exc.problems[0]
        if first.line is None or first.message.startswith(("expands to", "an alias refers")):
            raise
        what = ("its top level is not a mapping of lm-eval keys" if first.message.startswith("expected a mapping")
                else "invalid YAML" if first.message.startswith("invalid YAML") else "a key written twice")
        raise ConfigError([Problem(f"not an lm-eval task file (included by {by}): {what}; {NOT_QUOTED}",
                                   first.file, first.line)]) from None
    for key in doc.data:
        if key not in LM_EVAL_KEYS:
            line = doc.line_of((key,))
            close = difflib.get_close_matches(str(key), sorted(LM_EVAL_KEYS), n=1)
            # the lm-eval key it resembles is promptkit's text, not the file's
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError([Problem(f"not an lm-eval task file (included by {by}): a key that is not an lm-eval "
                                       f"key{hint}; {NOT_QUOTED}", doc.file, line)])
    return doc


def _includes(doc: YamlDocument, problems: list[Problem], included: bool = False) -> list[tuple[tuple[str | int, ...], str]]:
    """Each included path with its key path in the file (``include`` or ``include[i]``);
    ``included``: ``doc`` is itself included, and its values are not quoted."""
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
            shown = f"here ({NOT_QUOTED})" if included else shown
            problems.append(doc.problem(f"include {shown} is not a file path; give a path (or a list of them)", where))
    return out
