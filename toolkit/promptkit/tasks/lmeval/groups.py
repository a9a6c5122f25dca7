"""lm-evaluation-harness group files: a ``group`` that names its tasks (``task: [...]``) and the
aggregate it reports over them (``aggregate_metric_list``), resolved into the task files a run
evaluates and the group definitions its report aggregates (:mod:`promptkit.analysis.groups`).

lm-eval finds a member by name among every file it indexed: a task's ``task``, a group's
``group``, or a ``tag`` that several tasks share (MMLU's ``mmlu_stem_tasks``). promptkit looks in
the group file's own folder and the folders below it, where lm-eval's catalogue keeps each group's
tasks (``mmlu/default/``, ``bbh/cot_fewshot/``); a member found nowhere there is refused with the
folder searched. A task's file is read as lm-eval reads it (includes merged, ``!function`` a
marker: nothing runs).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptkit.config.documents import read_yaml
from promptkit.errors import ConfigError, Problem
from promptkit.tasks.lmeval.reader import LmEvalLoader

# lm-eval 0.4.13's group keys (lm_eval.api.group.GroupConfig).
GROUP_KEYS = ("group", "group_alias", "task", "aggregate_metric_list", "metadata")
AGGREGATE_KEYS = ("metric", "weight_by_size", "aggregation", "filter_list")
# Files looked at under a group's folder, and how deep groups may nest.
MAX_INDEXED_FILES = 20_000
MAX_DEPTH = 8


@dataclass(frozen=True)
class Aggregate:
    """One ``aggregate_metric_list`` entry: lm-eval's metric name, weighted by the members' sizes
    or not (lm-eval 0.4.13's default: by size), on which filter's results (None: every filter
    the members were scored on, as lm-eval discovers them)."""

    metric: str
    weight_by_size: bool = True
    filter: str | None = None


@dataclass(frozen=True)
class GroupDef:
    """A group as results.json records it: its members in order (``("task", name)`` or
    ``("group", name)``, task names as promptkit names them) and its aggregates."""

    name: str
    alias: str | None
    members: tuple[tuple[str, str], ...]
    aggregates: tuple[Aggregate, ...]
    file: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "alias": self.alias, "members": [list(m) for m in self.members],
                "aggregates": [vars(a) for a in self.aggregates], "file": self.file}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GroupDef:
        """A group as results.json holds it.

        Raises:
            RecordError: a field of the wrong kind (an edited file).
        """
        from promptkit.records.validation import RecordError

        try:
            aggregates = tuple(Aggregate(str(a["metric"]), a.get("weight_by_size", True), a.get("filter"))
                               for a in data.get("aggregates", []))
            members = tuple((str(k), str(n)) for k, n in data.get("members", []))
            name, alias = data["name"], data.get("alias")
            if any(k not in ("task", "group") for k, _ in members) or any(
                    not isinstance(a.weight_by_size, bool) or not isinstance(a.filter, (str, type(None))) for a in aggregates):
                raise ValueError("a member or an aggregate of the wrong kind")
            if not isinstance(name, str) or not isinstance(alias, (str, type(None))):
                raise ValueError("name is text, alias text or null")
            return cls(name, alias, members, aggregates, str(data.get("file", "")))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RecordError(f"lm_eval_groups: {type(exc).__name__}: {exc}; not a group as promptkit writes it") from None


@dataclass
class ResolvedGroup:
    """A group file resolved: every task file it runs (once each, in order) and every group
    (the file's, then the nested ones), with the groups each task belongs to."""

    tasks: list[Path] = field(default_factory=list)
    groups: dict[str, GroupDef] = field(default_factory=dict)
    parents: dict[Path, list[str]] = field(default_factory=dict)  # task file -> the groups holding it


def is_group_file(path: Path) -> bool:
    """Whether an lm-eval file is a group: a ``group`` and a list under ``task``."""
    try:
        data = read_yaml(path, loader=LmEvalLoader, duplicates_ok=True).data
    except ConfigError:
        return False
    return "group" in data and isinstance(data.get("task"), list)


def resolve_group(path: Path, task_name: Any, indexes: dict[Path, Any] | None = None) -> ResolvedGroup:
    """Resolve the group file ``path``; ``task_name(lm_eval_name)`` gives a task's promptkit name.
    ``indexes``: folder indexes kept between calls (a census of many groups), by folder.

    Raises:
        ConfigError: an unknown member (with the folder searched), an unsupported key, a cycle,
            each with file and line.
    """
    index = indexes.get(path.parent) if indexes is not None else None
    if index is None:
        index = _Index(path.parent)
        if indexes is not None:
            indexes[path.parent] = index
    out = ResolvedGroup()
    problems: list[Problem] = []
    _resolve_file(path, index, out, problems, (), task_name)
    if problems:
        raise ConfigError(problems)
    return out


def _resolve_file(path: Path, index: _Index, out: ResolvedGroup, problems: list[Problem], chain: tuple[str, ...],
                  task_name: Any) -> str | None:
    doc = read_yaml(path, loader=LmEvalLoader, duplicates_ok=True)
    data = doc.data
    name = data.get("group")
    if not isinstance(name, str) or not name:
        problems.append(doc.problem("required: the group's name (a string)", ("group",)))
        return None
    if name in chain or len(chain) >= MAX_DEPTH:
        problems.append(doc.problem(f"group {name!r} " + ("contains itself" if name in chain else f"nests more than {MAX_DEPTH} deep")
                                    + f" (through {' -> '.join(chain)})", ("task",)))
        return None
    for key in data:
        if key not in GROUP_KEYS:
            problems.append(doc.problem(f"not read in a group file; promptkit reads: {', '.join(GROUP_KEYS)} (a task's "
                                        "keys belong in its own file)", (str(key),)))
    members: list[tuple[str, str]] = []
    for i, entry in enumerate(data.get("task") or []):
        ref = entry.get("task") if isinstance(entry, Mapping) else entry
        if isinstance(entry, Mapping) and (set(entry) - {"task", "task_alias", "group_alias"} or not isinstance(ref, str)):
            problems.append(doc.problem("a member that sets task keys inline (or a group written inline) is not "
                                        "applied by promptkit; name a task, group or tag, and put the keys in its own "
                                        "file", ("task", i)))
            continue
        if not isinstance(ref, str):
            problems.append(doc.problem(f"expected a task, group or tag name, got {ref!r}", ("task", i)))
            continue
        if ref in index.groups:
            inner = _resolve_file(index.groups[ref], index, out, problems, (*chain, name), task_name)
            if inner is not None:
                members.append(("group", inner))
            continue
        files = [index.tasks[ref]] if ref in index.tasks else index.tags.get(ref, [])
        if not files:
            problems.append(doc.problem(f"no task, group or tag {ref!r} in {index.root} or the folders below it", ("task", i)))
            continue
        for file, task in files:
            members.append(("task", task_name(task)))
            if file not in out.parents:
                out.tasks.append(file)
                out.parents[file] = []
            out.parents[file].append(name)
    aggregates = _aggregates(data.get("aggregate_metric_list"), doc, problems)
    alias = data.get("group_alias")
    from promptkit.tasks.catalog import display_path

    out.groups[name] = GroupDef(name, alias if isinstance(alias, str) else None, tuple(members), aggregates,
                                display_path(path))
    return name


def _aggregates(raw: Any, doc: Any, problems: list[Problem]) -> tuple[Aggregate, ...]:
    if raw is None:
        return ()  # lm-eval reports no aggregate for such a group: its tasks only
    entries = raw if isinstance(raw, list) else [raw]
    out = []
    for i, entry in enumerate(entries):
        where = ("aggregate_metric_list", i) if isinstance(raw, list) else ("aggregate_metric_list",)
        if not isinstance(entry, Mapping) or not isinstance(entry.get("metric"), str):
            problems.append(doc.problem("expected {metric: name, weight_by_size: true|false}", where))
            continue
        unknown = [k for k in entry if k not in AGGREGATE_KEYS]
        if unknown:
            problems.append(doc.problem(f"not read; accepted: {', '.join(AGGREGATE_KEYS)}", (*where, str(unknown[0]))))
        if entry.get("aggregation", "mean") != "mean":
            problems.append(doc.problem("lm-eval aggregates a group by the mean of its members (weighted by size or "
                                        "not); accepted: mean", (*where, "aggregation")))
        weight = entry.get("weight_by_size", True)
        filters = entry.get("filter_list")
        filters = [filters] if isinstance(filters, str) else filters
        if not isinstance(weight, bool) or not (filters is None or isinstance(filters, list)
                                                 and all(isinstance(f, str) for f in filters)):
            problems.append(doc.problem("weight_by_size is true or false, filter_list a filter name or a list of them",
                                        where))
            continue
        out += [Aggregate(entry["metric"], weight, f) for f in (filters if filters is not None else [None])]
    return tuple(out)


class _Index:
    """Task, group and tag names of the lm-eval files under ``root`` (own keys, includes merged
    for tasks, as lm-eval's index reads them)."""

    def __init__(self, root: Path):
        from promptkit.tasks.lmeval.reader import read_lm_eval

        self.root = root
        self.tasks: dict[str, tuple[Path, str]] = {}
        self.groups: dict[str, Path] = {}
        self.tags: dict[str, list[tuple[Path, str]]] = {}
        found = (p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
        files = sorted(itertools.islice(found, MAX_INDEXED_FILES))
        for file in files:
            try:
                own = read_yaml(file, loader=LmEvalLoader, duplicates_ok=True).data
            except ConfigError:
                continue  # not a file of this catalogue's; a member that needed it is reported as unknown
            if "group" in own and isinstance(own.get("task"), list):
                if isinstance(own["group"], str):
                    self.groups.setdefault(own["group"], file)
                continue
            if "task" not in own and "include" not in own:
                continue
            try:
                data = read_lm_eval(file).data
            except ConfigError:
                continue
            task = data.get("task")
            if not isinstance(task, str):
                continue
            self.tasks.setdefault(task, (file, task))
            tags = data.get("tag")
            for tag in tags if isinstance(tags, list) else [tags] if isinstance(tags, str) else []:
                if isinstance(tag, str):
                    self.tags.setdefault(tag, []).append((file, task))


def expand_groups(refs: Sequence[str]) -> tuple[list[str], dict[str, tuple[GroupDef, ...]]]:
    """Task references with each lm-eval group file (``lm-eval:PATH``) replaced by its tasks'
    files, in order, each task once; and for each such task reference, the definitions of every
    group of its file (the report aggregates them).

    Raises:
        ConfigError: a group that does not resolve (see :func:`resolve_group`).
    """
    from promptkit.tasks.catalog import LM_EVAL_PREFIX
    from promptkit.tasks.lmeval.convert import task_name

    out: list[str] = []
    groups: dict[str, tuple[GroupDef, ...]] = {}
    for ref in refs:
        path = Path(ref[len(LM_EVAL_PREFIX):]) if ref.startswith(LM_EVAL_PREFIX) else None
        if path is None or not path.is_file() or not is_group_file(path):
            out.append(ref)
            continue
        resolved = resolve_group(path, task_name)
        for file in resolved.tasks:
            member = f"{LM_EVAL_PREFIX}{file}"
            out.append(member)
            groups[member] = (*groups.get(member, ()), *resolved.groups.values())
    return list(dict.fromkeys(out)), groups


def member_names(groups: Sequence[GroupDef]) -> list[str]:
    """Every task name the groups hold, in order, once each."""
    return list(dict.fromkeys(n for g in groups for kind, n in g.members if kind == "task"))
