"""lm-evaluation-harness's task catalogue through promptkit's converter: what converts, what blocks the rest.

Every YAML file of an installed lm-eval's ``tasks/`` folder whose own text names a task (a
top-level ``task:`` that is not null; ``_default_template_yaml`` and other extensionless YAML
files are looked at too) goes through :func:`promptkit.tasks.lmeval.convert` in this process.
Group files (``group:`` with a ``task:`` list) are counted on their own: they name tasks, they
are not one. For each refused file every problem is put in a bucket named after its key and cause
(``fewshot_config``, ``!function in doc_to_text``, ``unknown metric``...): the first problem
gives the "first refusal" table, all of them the "blocks" and "sole blocker" columns (a file whose
problems all fall in one bucket converts once that one thing is supported: what to build next).
Multimodal tasks, tasks that are a Python ``class:`` and tasks whose code calls an external API
(a judge model, a scoring service) are reported apart and left out of the "text tasks" figure.
Each file is converted twice: as promptkit reads it by default, and as ``--trust-task-code`` reads
it (``convert(doc, trust_code=True)``: the task's ``process_docs`` and row hooks accepted), with
the refusals of the second pass bucketed the same way.

Nothing runs: promptkit reads ``!function`` as a marker, no task code is imported (trusting it
only records which hooks a run would import), ``lm_eval`` is
never imported here (``--lm-eval-python`` only asks that interpreter where the package lies), and
the hub is off (HF_HUB_OFFLINE / HF_DATASETS_OFFLINE, and every socket connection is counted).

    .venv/bin/python benchmarks/lm_eval_census.py --lm-eval-python ../lmeval-venv/bin/python \\
        --json /tmp/census.json [--promptkit-commit HEAD]

``--promptkit-commit REV`` converts with promptkit as committed at REV (``git archive`` into a
temporary folder), not the working tree. About a minute for lm-eval 0.4.13's 14,000 files.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import functools
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
MAX_FILE_BYTES = 1 << 20  # lm-eval's task files are a few kilobytes
# Top-level folders of lm-eval's tasks/ whose tasks read images or audio, also for the files of
# theirs that do not say so themselves (group files, templates): 0.4.13's chartqa, common_voice,
# mmmu and pisa are all of them.
MULTIMODAL_FOLDERS = frozenset({"chartqa", "common_voice", "mmmu", "pisa"})
# What, in the source of a task's ``!function`` module, marks a call to a service outside the
# machine (a judge model or a scoring API); read as text, never imported.
API_MARKERS = re.compile(r"^\s*(from|import)\s+(openai|anthropic|google\.genai|litellm)\b|API_KEY|googleapis\.com",
                         re.MULTILINE)
# Buckets after which the converter stops before reading templates and metrics: a file refused for
# one of these may have other problems that are not listed.
EARLY_STOP = ("output_type", "dataset_path", "include:", "YAML:", "crash", "timeout")
POPULAR = (
    "arc_easy", "arc_challenge", "mmlu", "mmlu_abstract_algebra", "mmlu_pro", "mmlu_pro_math", "hellaswag", "gsm8k",
    "winogrande", "truthfulqa_mc1", "piqa", "boolq", "openbookqa", "sciq", "sst2", "commonsense_qa", "triviaqa",
    "nq_open", "bbh", "bbh_zeroshot_boolean_expressions", "belebele_eng_Latn", "lambada_openai", "drop", "race",
    "logiqa", "xcopa_it", "mgsm_direct_en", "ifeval", "squadv2", "wmt16-de-en",
)


class _OwnLoader(yaml.SafeLoader):
    """Reads a file's own keys to find its ``task``: every tag (``!function``) reads as null."""


_OwnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


# ----------------------------------------------------------------------------- finding the files
@dataclass(frozen=True)
class Found:
    """A file that names a task: ``group`` when its ``task`` is a list (an lm-eval group file)."""

    path: Path
    group: bool


def own_keys(path: Path) -> dict[str, Any] | None:
    """The file's own top-level mapping (includes not followed), None when it is not YAML."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_OwnLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def find_task_files(root: Path) -> list[Found]:
    """Every ``*.yaml`` / ``*.yml`` and extensionless file under ``root`` whose own text has a
    top-level ``task`` that is not null, in path order."""
    found = []
    for path in sorted(root.rglob("*")):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        if path.suffix not in (".yaml", ".yml") and "." in path.name:
            continue
        data = own_keys(path)
        if data is None:
            if path.suffix in (".yaml", ".yml") and _names_a_task(path):  # unreadable YAML: the converter says why
                found.append(Found(path, group=False))
            continue
        task = data.get("task")
        if task is not None:
            found.append(Found(path, group=isinstance(task, list)))
    return found


def _names_a_task(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")[:MAX_FILE_BYTES]
    except OSError:
        return False
    return re.search(r"""^["']?task["']?\s*:\s*(?!null\b|~)\S""", text, re.MULTILINE) is not None


# ----------------------------------------------------------------------------- one file
@dataclass
class Refusal:
    bucket: str
    message: str
    key: str | None = None
    file: str | None = None
    line: int | None = None


@dataclass
class Outcome:
    path: str  # relative to the tasks folder
    kind: str  # "task" or "group"
    name: str
    converted: bool = False
    scope: str | None = None  # why the task is not a text task, None for a text task
    refusals: list[Refusal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dataset: str | None = None  # "hub" or "files" for a converted task
    tags: list[str] = field(default_factory=list)
    members: list[Any] = field(default_factory=list)  # a group's task list as written
    seconds: float = 0.0
    # A group file: whether it resolves into task files (None: the promptkit converting reads no
    # groups), and those files relative to the tasks folder.
    resolved: bool | None = None
    group_tasks: list[str] = field(default_factory=list)
    # Converted with --trust-task-code (None: the promptkit converting has no such option), the
    # problems left then, and the hooks such a run would import.
    trusted: bool | None = None
    trusted_refusals: list[Refusal] = field(default_factory=list)
    hooks: list[str] = field(default_factory=list)

    @property
    def buckets(self) -> list[str]:
        return list(dict.fromkeys(r.bucket for r in self.refusals))

    @property
    def first(self) -> str | None:
        return self.refusals[0].bucket if self.refusals else None

    @property
    def stopped_early(self) -> bool:
        return any(b.startswith(EARLY_STOP) for b in self.buckets)


class FileTimeout(Exception):
    """One file took longer than the per-file limit."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`FileTimeout` after ``seconds`` (SIGALRM: the main thread of a POSIX process;
    elsewhere no limit)."""
    if seconds <= 0 or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def alarm(signum: int, frame: Any) -> None:
        raise FileTimeout(f"took more than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@functools.cache
def _quoting_document() -> type:
    from promptkit.tasks.lmeval import LmEvalDocument

    class QuotingDocument(LmEvalDocument):
        """Problems in an included template say what is wrong (promptkit keeps an included file's
        text out of its messages; lm-eval's own catalogue is no secret, and the census buckets by
        cause)."""

        def included(self, key: str) -> bool:
            return False

    return QuotingDocument


def census_file(path: Path, root: Path, group: bool = False, timeout: float = 10.0) -> Outcome:
    """Convert one lm-eval file with promptkit and say what happened."""
    from promptkit.errors import ConfigError, PromptkitError
    from promptkit.tasks.lmeval import convert, read_lm_eval

    own = own_keys(path) or {}
    name = own.get("group") if group else own.get("task")
    out = Outcome(path=path.relative_to(root).as_posix(), kind="group" if group else "task", name=str(name))
    if group:
        out.members = list(own.get("task") or [])
        if _resolves_groups():
            return _census_group(path, root, out, timeout)
    start = time.perf_counter()
    data: Mapping[str, Any] = own
    owners: Mapping[str, Any] = {}
    try:
        with time_limit(timeout):
            doc = read_lm_eval(path)
            data, owners = doc.data, doc.owners
            conversion = convert(_quoting_document()(doc.path, doc.data, doc.owners, doc.root))
        out.converted = True
        out.trusted = True if _trusts() else None
        out.notes = list(conversion.notes)
        out.dataset = str(conversion.task["dataset"].get("kind"))
    except ConfigError as exc:
        out.refusals = [Refusal(bucket(p.key, p.message), p.message, p.key, _rel(p.file, root), p.line) for p in exc.problems]
        if _trusts():
            try:
                with time_limit(timeout):
                    trusted = convert(_quoting_document()(doc.path, doc.data, doc.owners, doc.root), trust_code=True)
                out.trusted = True
                out.hooks = trusted.code.describe() if trusted.code is not None else []
            except ConfigError as again:
                out.trusted = False
                out.trusted_refusals = [Refusal(bucket(p.key, p.message), p.message, p.key, _rel(p.file, root), p.line)
                                        for p in again.problems]
            except (PromptkitError, FileTimeout, Exception) as again:  # as the plain pass reports it
                out.trusted = False
                out.trusted_refusals = [Refusal(f"error: {type(again).__name__}", str(again))]
    except PromptkitError as exc:
        out.refusals = [Refusal(f"error: {type(exc).__name__}", str(exc))]
    except FileTimeout as exc:
        out.refusals = [Refusal("timeout", str(exc))]
    except Exception as exc:  # a converter crash is a promptkit bug: reported, not fatal
        out.refusals = [Refusal(f"crash: {type(exc).__name__}", f"{type(exc).__name__}: {exc}")]
    out.seconds = time.perf_counter() - start
    tags = data.get("tag")
    out.tags = [t for t in (tags if isinstance(tags, list) else [tags]) if isinstance(t, str)]
    if not group:
        out.scope = scope_of(path, root, data, owners)
    return out


_GROUP_INDEXES: dict[Path, Any] = {}  # folder -> its index, built once for every group in it


def _census_group(path: Path, root: Path, out: Outcome, timeout: float) -> Outcome:
    """Resolve a group file into its task files, as ``--task lm-eval:GROUP`` does."""
    from promptkit.errors import ConfigError
    from promptkit.tasks.lmeval.convert import task_name
    from promptkit.tasks.lmeval.groups import resolve_group

    start = time.perf_counter()
    try:
        with time_limit(timeout):
            resolved = resolve_group(path, task_name, _GROUP_INDEXES)
        out.resolved = True
        out.group_tasks = [p.relative_to(root).as_posix() for p in resolved.tasks]
    except ConfigError as exc:
        out.resolved = False
        out.refusals = [Refusal(bucket(p.key, p.message), p.message, p.key, _rel(p.file, root), p.line) for p in exc.problems]
    except FileTimeout as exc:
        out.resolved = False
        out.refusals = [Refusal("timeout", str(exc))]
    out.seconds = time.perf_counter() - start
    return out


@functools.cache
def _resolves_groups() -> bool:
    """Whether the promptkit converting runs group files (older commits do not)."""
    try:
        from promptkit.tasks.lmeval.groups import resolve_group
    except ImportError:
        return False
    import inspect

    return "indexes" in inspect.signature(resolve_group).parameters


@functools.cache
def _trusts() -> bool:
    """Whether the promptkit converting takes ``trust_code`` (older commits do not)."""
    import inspect

    from promptkit.tasks.lmeval import convert

    return "trust_code" in inspect.signature(convert).parameters


def _rel(file: str | None, root: Path) -> str | None:
    if file is None:
        return None
    with contextlib.suppress(ValueError):
        return Path(file).resolve().relative_to(root.resolve()).as_posix()
    return file


# ----------------------------------------------------------------------------- buckets and scope
def _root_key(key: str | None) -> str:
    return re.split(r"[.\[]", key or "", maxsplit=1)[0]


def _plain_key(key: str | None) -> str:
    return re.sub(r"\[\d+\]", "", key or "")


# (message pattern, bucket); ``{key}``: the key path without indices, ``{root}``: its top-level
# key, ``{1}``...: the pattern's groups. The first pattern that matches wins.
BUCKETS: tuple[tuple[str, str], ...] = (
    (r"^lm-eval code hooks are never run", "{root}"),
    (r"^not supported: ", "{root}"),
    (r"^unsupported lm-eval key '([^']+)'", "unsupported key {1}"),
    (r"^!function ", "!function in {key}"),
    (r"^output_type 'loglikelihood'", "output_type loglikelihood"),
    (r"^unknown output type '([^']+)'", "output_type {1}"),
    (r"^a list of tasks is an lm-eval group", "group file (task: list)"),
    (r"^unknown metric '", "unknown metric"),
    (r"^metric option '([^']+)'", "metric option {1}"),
    (r"^aggregation ", "metric aggregation not the mean"),
    (r"^promptkit never runs a dataset's loading script", "dataset_kwargs.trust_remote_code"),
    (r"^not supported for a hub dataset", "{key} (hub dataset)"),
    (r"^the '([^']+)' builder is not read", "dataset_path builder {1}"),
    (r"^not supported; promptkit decodes greedily", "{key}"),
    (r"^do_sample ", "generation_kwargs.do_sample"),
    (r"^temperature .* without do_sample", "generation_kwargs.temperature"),
    (r"^the template .* computes its target", "doc_to_target computed by a template (generate_until)"),
    (r"^invalid Jinja2", "{root}: invalid Jinja2"),
    (r"^template not accepted: .*?(no (?:filter|test) named '[^']+')", "{root}: Jinja {1}"),
    (r"^template not accepted", "{root}: template not accepted"),
    (r"^(int|list|dict|float|bool) .*: promptkit reads doc_to_text", "doc_to_text: {1} (not a column or template)"),
    (r"^(int|list|dict|float|bool) .*for generate_until", "doc_to_target: {1} (generate_until)"),
    (r"applies to output_type multiple_choice", "doc_to_choice with generate_until"),
    (r"^the template reads '[^']+', which is not a column", "{root}: reads a missing column"),
    (r"^uses a column named", "reserved column name"),
    (r"^num_fewshot > 0 needs a split", "num_fewshot without a few-shot split"),
    (r"^demonstrations drawn from the evaluated split", "few-shot from the evaluated split"),
    (r"^the task names no split", "no test_split or validation_split"),
    (r"^repeats ", "repeats != 1"),
    (r"^required", "{key} missing"),
    (r"^duplicate key", "YAML: duplicate key"),
    (r"^invalid YAML", "YAML: invalid"),
    (r"^not an lm-eval task file \(included", "include: not an lm-eval task file"),
    (r"^included file not found", "include: file not found"),
    (r"includes itself", "include: cycle"),
    (r"^includes (read|nest) more", "include: too many"),
    (r"^expected ", "{key}: wrong type or value"),
)


def bucket(key: str | None, message: str) -> str:
    """The bucket of one problem: a short name for its key and cause."""
    if re.match(r"^!function \S+: task code, run only with", message):  # named as before --trust-task-code existed
        return "process_docs" if _plain_key(key) == "process_docs" else f"!function in {_plain_key(key)}"
    for pattern, name in BUCKETS:
        match = re.search(pattern, message)
        if match:
            return name.format(None, *match.groups(), key=_plain_key(key), root=_root_key(key))
    words = " ".join(re.sub(r"'[^']*'", "'...'", message).split()[:5])
    return f"{_plain_key(key) or '(file)'}: {words}"


def scope_of(path: Path, root: Path, data: Mapping[str, Any], owners: Mapping[str, Any]) -> str | None:
    """Why a task is not a text task promptkit could read (None: it is one)."""
    media = [k for k in ("doc_to_image", "doc_to_audio") if k in data]
    cls = data.get("class")
    if media:
        return f"multimodal ({', '.join(media)})"
    top = path.relative_to(root).parts[0]
    if top in MULTIMODAL_FOLDERS or "multimodal" in str(getattr(cls, "ref", cls)).lower():
        return f"multimodal ({top})"
    for key, ref in _function_refs(data):
        owner = owners.get(key)
        folder = Path(owner.file).parent if owner is not None and getattr(owner, "file", None) else path.parent
        if _calls_an_api(folder / (ref.rsplit(".", 1)[0].replace(".", "/") + ".py")):
            return f"external API ({ref})"
    if cls is not None:
        return "Python class"
    return None


def _function_refs(data: Any, top: str = "") -> list[tuple[str, str]]:
    """(top-level key, dotted name) of every ``!function`` in the merged task data."""
    from promptkit.tasks.lmeval import FunctionRef

    if isinstance(data, FunctionRef):
        return [(top, data.ref)]
    if isinstance(data, Mapping):
        return [r for k, v in data.items() for r in _function_refs(v, top or str(k))]
    if isinstance(data, list):
        return [r for v in data for r in _function_refs(v, top)]
    return []


@functools.cache
def _calls_an_api(module: Path) -> bool:
    try:
        return API_MARKERS.search(module.read_text(encoding="utf-8", errors="replace")) is not None
    except OSError:
        return False


# ----------------------------------------------------------------------------- the catalogue
def run_census(root: Path, timeout: float = 10.0) -> list[Outcome]:
    """Every task-naming file under ``root``, converted."""
    return [census_file(f.path, root, f.group, timeout) for f in find_task_files(root)]


def summarize(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The figures of the report (all counts; the Markdown and the JSON both read this)."""
    tasks = [o for o in outcomes if o.kind == "task"]
    groups = [o for o in outcomes if o.kind == "group"]
    text = [o for o in tasks if o.scope is None]
    refused = [o for o in text if not o.converted]
    first = collections.Counter(o.first for o in refused)
    anywhere = collections.Counter(b for o in refused for b in o.buckets)
    sole = collections.Counter(o.buckets[0] for o in refused if len(o.buckets) == 1 and not o.stopped_early)
    unknown_metrics = collections.Counter(
        m.group(1) for o in refused for r in o.refusals if r.bucket == "unknown metric"
        for m in [re.match(r"unknown metric '([^']+)'", r.message)] if m)
    scopes = collections.Counter(re.sub(r" \(.*", "", o.scope) for o in tasks if o.scope)
    return {
        "files": len(outcomes),
        "converted": sum(o.converted for o in outcomes),
        "task_files": len(tasks),
        "task_files_converted": sum(o.converted for o in tasks),
        "group_files": len(groups),
        "group_files_converted": sum(o.converted for o in groups),
        **_group_summary(groups, tasks),
        "group_inline_tasks": sum(_sets_keys(m) for g in groups for m in g.members),
        "out_of_scope": dict(scopes.most_common()),
        "out_of_scope_converted": sum(o.converted for o in tasks if o.scope),
        "text_tasks": len(text),
        "text_tasks_converted": sum(o.converted for o in text),
        "converted_datasets": dict(collections.Counter(o.dataset for o in text if o.converted).most_common()),
        "refused_text_tasks": len(refused),
        "stopped_early": sum(o.stopped_early for o in refused),
        "buckets": [{"bucket": b, "first": first[b], "blocks": anywhere[b], "sole": sole[b]}
                    for b, _ in sorted(anywhere.items(), key=lambda kv: (-first[kv[0]], -kv[1], kv[0]))],
        "blocker_sets": [{"buckets": list(s), "files": n} for s, n in
                         collections.Counter(tuple(sorted(o.buckets)) for o in refused).most_common(15)],
        "unknown_metrics": dict(unknown_metrics.most_common()),
        "crashes": [o.path for o in outcomes if o.first and o.first.startswith(("crash", "timeout", "error:"))],
        "seconds": round(sum(o.seconds for o in outcomes), 1),
        **_trusted_summary(text),
    }


def _group_summary(groups: Sequence[Outcome], tasks: Sequence[Outcome]) -> dict[str, Any]:
    """Group files that resolve, and those whose every task converts (as they are; with the flag)."""
    if not groups or any(g.resolved is None for g in groups):
        return {}
    by_path = {o.path: o for o in tasks}
    resolved = [g for g in groups if g.resolved and g.group_tasks]
    members = [[by_path[p] for p in g.group_tasks if p in by_path] for g in resolved]
    return {
        "group_files_resolved": len(resolved),
        "group_files_running": sum(all(t.converted for t in m) for m in members),
        "group_files_running_trusted": sum(all(t.converted or t.trusted for t in m) for m in members),
    }


def _trusted_summary(text: Sequence[Outcome]) -> dict[str, Any]:
    """The figures of the --trust-task-code pass (empty when the converter has no such option)."""
    if not text or any(o.trusted is None for o in text):
        return {}
    refused = [o for o in text if not o.trusted]
    first = collections.Counter(o.trusted_refusals[0].bucket for o in refused if o.trusted_refusals)
    anywhere = collections.Counter(b for o in refused for b in dict.fromkeys(r.bucket for r in o.trusted_refusals))
    sole = collections.Counter(o.trusted_refusals[0].bucket for o in refused
                               if len({r.bucket for r in o.trusted_refusals}) == 1 and not o.stopped_early)
    hooks = collections.Counter(re.sub(r":.*", "", h) for o in text for h in o.hooks)
    return {
        "text_tasks_trusted": len(text) - len(refused),
        "trusted_hooks": dict(hooks.most_common()),
        "trusted_buckets": [{"bucket": b, "first": first[b], "blocks": anywhere[b], "sole": sole[b]}
                            for b, _ in sorted(anywhere.items(), key=lambda kv: (-first[kv[0]], -kv[1], kv[0]))],
    }


def _sets_keys(entry: Any) -> bool:
    """A group's ``task:`` entry that sets task keys (``{task: arc_challenge, num_fewshot: 25}``, or a
    whole task written inside the group file), not just a name and its alias."""
    return isinstance(entry, Mapping) and bool(set(entry) - {"task", "task_alias", "group_alias"})


def popular(outcomes: Sequence[Outcome], names: Sequence[str] = POPULAR) -> list[dict[str, Any]]:
    """Each named task (or group, its member tasks found through names, tags and nested groups):
    whether it converts, else its first refusal."""
    by_task: dict[str, list[Outcome]] = collections.defaultdict(list)
    by_tag: dict[str, list[Outcome]] = collections.defaultdict(list)
    by_group: dict[str, list[Outcome]] = collections.defaultdict(list)
    for o in outcomes:
        (by_group if o.kind == "group" else by_task)[o.name].append(o)
        for t in o.tags:
            by_tag[t].append(o)

    def members(group: Outcome, seen: set[str]) -> tuple[list[Outcome], int]:
        found: list[Outcome] = []
        inline = 0
        for entry in group.members:
            if isinstance(entry, Mapping):
                if isinstance(entry.get("group"), str):
                    inline_group = Outcome(path=group.path, kind="group", name=entry["group"], members=list(entry.get("task") or []))
                    more, n = members(inline_group, seen)
                    found += more
                    inline += n
                    continue
                inline += _sets_keys(entry)
            ref = entry.get("task") if isinstance(entry, Mapping) else entry
            if not isinstance(ref, str) or ref in seen:
                continue
            seen.add(ref)
            if ref in by_group:
                more, n = members(by_group[ref][0], seen)
                found += more
                inline += n
            else:
                found += by_task.get(ref, [])[:1] or [t for t in by_tag.get(ref, []) if t.kind == "task"]
        return found, inline

    rows = []
    for name in names:
        hits = by_task.get(name) or by_group.get(name)
        if not hits:
            rows.append({"name": name, "path": None, "outcome": "not found"})
            continue
        o = hits[0]
        row: dict[str, Any] = {"name": name, "path": o.path, "files": len(hits), "converted": o.converted,
                               "first": o.first, "buckets": o.buckets, "scope": o.scope}
        if o.kind == "group":
            tasks, inline = members(o, {name})
            done = sum(t.converted for t in tasks)
            trusted = sum(bool(t.trusted) for t in tasks)
            common = collections.Counter(t.first for t in tasks if not t.converted).most_common(1)
            row["outcome"] = f"group of {len(tasks)} tasks: {done} convert" + (
                f" ({trusted} with --trust-task-code)" if trusted > done else "") + (
                f"; most common first refusal: {common[0][0]} ({common[0][1]})" if common else "") + (
                f"; {inline} set task keys inline, not applied" if inline else "")
        else:
            row["outcome"] = "converts" + (f" ({o.dataset} dataset)" if o.dataset else "") if o.converted else (
                f"refused: {o.first}" + (f" (also: {', '.join(o.buckets[1:])})" if len(o.buckets) > 1 else ""))
            if not o.converted and o.trusted:
                row["outcome"] += "; converts with --trust-task-code"
            if o.scope:
                row["outcome"] += f" [out of scope: {o.scope}]"
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------- the report
def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def render_markdown(summary: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], about: Mapping[str, Any],
                    top: int = 30) -> str:
    s = summary
    lines = [
        f"# lm-eval task catalogue census: lm-eval {about.get('lm_eval_version')}, promptkit {about.get('promptkit')}",
        "",
        f"tasks folder: `{about.get('tasks_dir')}`; {s['seconds']} s of conversion; network connections tried: "
        f"{about.get('network_attempts', 'not counted')}",
        "",
        "| files naming a task | count | converted |",
        "|---|---|---|",
        f"| all (task files + group files) | {s['files']:,} | {s['converted']:,} ({_pct(s['converted'], s['files'])}) |",
        f"| task files | {s['task_files']:,} | {s['task_files_converted']:,} "
        f"({_pct(s['task_files_converted'], s['task_files'])}) |",
        f"| group files (`group:` + `task:` list; {s['group_inline_tasks']} of their entries set task keys inline) | "
        f"{s['group_files']:,} | " + (f"{s['group_files_resolved']:,} resolve into their task files; {s['group_files_running']:,} "
                                      f"run (every task converts), {s['group_files_running_trusted']:,} with --trust-task-code |"
                                      if "group_files_resolved" in s else f"{s['group_files_converted']:,} |"),
    ]
    for scope, n in s["out_of_scope"].items():
        lines.append(f"| task files out of scope: {scope} | {n:,} | - |")
    lines += [
        f"| **text tasks** (task files less out of scope) | {s['text_tasks']:,} | **{s['text_tasks_converted']:,} "
        f"({_pct(s['text_tasks_converted'], s['text_tasks'])})** |",
        *([f"| **text tasks with --trust-task-code** | {s['text_tasks']:,} | **{s['text_tasks_trusted']:,} "
           f"({_pct(s['text_tasks_trusted'], s['text_tasks'])})** |"] if "text_tasks_trusted" in s else []),
        "",
        f"Converted text tasks by dataset: {', '.join(f'{k} {v:,}' for k, v in s['converted_datasets'].items()) or '-'}. "
        f"Out-of-scope files that convert anyway: {s['out_of_scope_converted']}.",
        "",
        f"Why the {s['refused_text_tasks']:,} refused text tasks are refused (first: the file's first problem; "
        f"blocks: files with a problem in the bucket; sole: files whose every problem is in it; "
        f"{s['stopped_early']} files stopped at output_type, dataset_path or an include before their templates "
        "and metrics were read and count as sole for none):",
        "",
        "| bucket | first refusal | blocks | sole blocker |",
        "|---|---|---|---|",
    ]
    lines += [f"| {b['bucket']} | {b['first']:,} | {b['blocks']:,} | {b['sole']:,} |" for b in s["buckets"][:top]]
    if len(s["buckets"]) > top:
        rest = s["buckets"][top:]
        lines.append(f"| ({len(rest)} more buckets) | {sum(b['first'] for b in rest):,} | - | "
                     f"{sum(b['sole'] for b in rest):,} |")
    lines += ["", "Most common sets of blockers:", "", "| buckets | files |", "|---|---|"]
    lines += [f"| {' + '.join(b['buckets'])} | {b['files']:,} |" for b in s["blocker_sets"]]
    if "trusted_buckets" in s:
        hooks = ", ".join(f"{k} {v:,}" for k, v in s["trusted_hooks"].items())
        lines += ["", f"With --trust-task-code, the hooks the converted text tasks run (tasks per key): {hooks or '-'}. "
                  "What still refuses the other text tasks then:", "",
                  "| bucket | first refusal | blocks | sole blocker |", "|---|---|---|---|"]
        lines += [f"| {b['bucket']} | {b['first']:,} | {b['blocks']:,} | {b['sole']:,} |" for b in s["trusted_buckets"][:top]]
    if s["unknown_metrics"]:
        shown = ", ".join(f"{k} {v}" for k, v in list(s["unknown_metrics"].items())[:15])
        lines += ["", f"Unknown metric names (problems): {shown}"]
    if s["crashes"]:
        lines += ["", f"Converter crashes, timeouts or other errors ({len(s['crashes'])}): {', '.join(s['crashes'][:10])}"]
    lines += ["", "Popular tasks:", "", "| task | file | outcome |", "|---|---|---|"]
    lines += [f"| {r['name']} | {r['path'] or '-'}{' (+%d)' % (r['files'] - 1) if r.get('files', 1) > 1 else ''} | "
              f"{r['outcome']} |" for r in rows]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- command line
def locate_tasks(python: str) -> tuple[Path, str]:
    """lm-eval's tasks folder and version in the environment of ``python``, without importing
    lm_eval there either (``find_spec`` and the distribution's metadata)."""
    code = ("import importlib.util, importlib.metadata, json; s = importlib.util.find_spec('lm_eval'); "
            "print(json.dumps([s.origin if s else None, importlib.metadata.version('lm-eval') if s else None]))")
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout
    origin, version = json.loads(out)
    if origin is None:
        raise SystemExit(f"lm_eval is not installed for {python}")
    return Path(origin).parent / "tasks", version


def version_near(tasks_dir: Path) -> str | None:
    """lm-eval's version from the ``lm_eval-*.dist-info`` next to its package, if there is one."""
    metas = [m for up in tasks_dir.resolve().parents[:4] for m in sorted(up.glob("lm_eval-*.dist-info/METADATA"))]
    for meta in metas:
        for line in meta.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("Version:"):
                return line.split(":", 1)[1].strip()
    return None


def use_promptkit_at(rev: str, into: Path) -> str:
    """Put promptkit as committed at ``rev`` first on sys.path; returns the commit's short hash."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", rev], capture_output=True, text=True,
                            check=True).stdout.strip()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "toolkit"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    sys.path.insert(0, str(into / "toolkit"))
    return commit


def working_tree_promptkit() -> str:
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          check=False).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "toolkit"], capture_output=True,
                           text=True, check=False).stdout.strip()
    return f"{head} (working tree{', toolkit/ modified' if dirty else ''})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--lm-eval-python", help="python of an environment with lm-eval installed")
    where.add_argument("--tasks-dir", type=Path, help="lm-eval's tasks folder (or any folder of its task files)")
    parser.add_argument("--json", type=Path, help="write every file's outcome here")
    parser.add_argument("--promptkit-commit", help="convert with promptkit as committed at this revision")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per file (default 10)")
    parser.add_argument("--top", type=int, default=30, help="buckets shown in the table (default 30)")
    args = parser.parse_args(argv)
    # Before promptkit is imported: nothing here may reach the hub (it is unreachable anyway).
    os.environ.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    connections = [0]

    def audit(event: str, _args: tuple[Any, ...]) -> None:
        if event in ("socket.connect", "socket.getaddrinfo"):
            connections[0] += 1

    sys.addaudithook(audit)
    if args.lm_eval_python:
        tasks_dir, version = locate_tasks(args.lm_eval_python)
    else:
        tasks_dir, version = args.tasks_dir, version_near(args.tasks_dir)
    with tempfile.TemporaryDirectory(prefix="promptkit-at-") as tmp:
        promptkit = use_promptkit_at(args.promptkit_commit, Path(tmp)) if args.promptkit_commit else working_tree_promptkit()
        import promptkit as pk

        start = time.perf_counter()
        outcomes = run_census(tasks_dir, args.timeout)
        wall = time.perf_counter() - start
        about = {"lm_eval_version": version, "tasks_dir": str(tasks_dir), "promptkit": promptkit,
                 "promptkit_path": str(Path(pk.__file__).parent), "network_attempts": connections[0],
                 "wall_seconds": round(wall, 1)}
    summary = summarize(outcomes)
    rows = popular(outcomes)
    print(render_markdown(summary, rows, about, args.top))
    if args.json:
        files = [{**asdict(o), "first": o.first, "buckets": o.buckets, "stopped_early": o.stopped_early} for o in outcomes]
        args.json.write_text(json.dumps({"about": about, "summary": summary, "popular": rows, "files": files},
                                        indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
