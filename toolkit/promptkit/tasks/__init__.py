"""Task files -> :class:`Task`: the task config (:class:`TaskConfig`), adapter, compiled prompts and data access."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from promptkit.config import (
    FilesSource,
    HubSource,
    PromptConfig,
    SplitFiles,
)
from promptkit.config.documents import (
    YamlDocument,
    format_path,
    read_yaml,
    validate,
    validation_problems,
)
from promptkit.errors import (
    ConfigError,
    DatasetError,
    Problem,
    PromptkitError,
    TemplateError,
    UnknownNameError,
)
from promptkit.files import FileRefused, check_regular
from promptkit.prompting.template import PromptTemplate
from promptkit.records import Example
from promptkit.tasks.adapters import ADAPTERS, Adapter
from promptkit.tasks.catalog import LM_EVAL_PREFIX, LmEvalTaskFile, is_builtin, prompt_files
from promptkit.tasks.config import TaskConfig
from promptkit.tasks.sources import extract, read_rows

if TYPE_CHECKING:
    from promptkit.tasks.lmeval.code import LoadedCode
    from promptkit.tasks.lmeval.groups import GroupDef
    from promptkit.tasks.lmeval.results import LmEvalScoring


def load_prompt_file(path: Path, display: str | None = None) -> PromptTemplate:
    doc = read_yaml(path, display)
    return PromptTemplate(prompt_config(doc), origin=doc.file)


def prompt_config(doc: YamlDocument) -> PromptConfig:
    """A prompt file validated, its ``kind`` (when given) a registered adapter's."""
    config = validate(PromptConfig, doc)
    if config.kind is not None and config.kind not in ADAPTERS:
        raise ConfigError([doc.problem(UnknownNameError("adapter kind", config.kind, ADAPTERS.in_order()).message, ("kind",))])
    return config


@dataclass
class Task:
    """A loaded task. Build with :func:`load_task`."""

    config: TaskConfig
    path: Path
    prompts: list[PromptTemplate]
    _adapters: dict[str, Adapter] = field(default_factory=dict, repr=False)
    # Converted from an lm-evaluation-harness task file (``lm-eval:PATH``).
    from_lm_eval: bool = False
    # That file's task code, imported because the user trusted it (--trust-task-code): it
    # processes the rows read and computes the columns the converted templates read.
    code: LoadedCode | None = None
    # The lm-eval groups run with it (--task lm-eval:GROUP.yaml), whose aggregates the report gives.
    lm_eval_groups: tuple[GroupDef, ...] = ()
    # How its lm-eval: score columns get each row's value (promptkit.tasks.lmeval.results).
    lm_eval_scoring: LmEvalScoring | None = None

    @property
    def name(self) -> str:
        return self.config.name

    def source(self, data_dir: Path | None) -> tuple[FilesSource | HubSource, str]:
        """The source used: ``offline`` when a data dir is given and the task has one."""
        if data_dir is not None and self.config.offline is not None:
            return self.config.offline, "offline"
        return self.config.dataset, "dataset"

    def adapter(self, data_dir: Path | None = None, split: str | None = None) -> Adapter:
        """The adapter for the source in use (and ``split``'s own field overrides)."""
        source, label = self.source(data_dir)
        split = split or self.config.eval_split
        key = f"{label}:{split}"
        if key not in self._adapters:
            self._adapters[key] = build_adapter(self.config, source, split)
        return self._adapters[key]

    def examples(self, split: str, data_dir: Path | None = None, limit: int | None = None,
                 seed: int | None = None, pool: bool = False) -> list[Example]:
        """Examples of ``split`` via the adapter: all of them, or ``limit`` of them: a seeded
        random sample (``seed``; stratified by the split's ``group_by`` when it has one) in file
        order, or the first ``limit`` rows when ``seed`` is None. The rows are those the task's
        code gives when it has some (``pool``: read as the few-shot pool, as lm-eval reads it).

        Raises:
            DatasetError: missing files/split/column, with the split and row.
        """
        source, label = self.source(data_dir)
        where = f"task {self.name!r} ({self.path})"
        rows = read_rows(source, split, task_dir=self.path.parent, data_dir=data_dir, where=where,
                         packaged=is_builtin(self.path))
        if self.code is not None:
            rows = self.code.rows(rows, split, where, pool)
        if not rows:
            raise DatasetError(f"{where}: split {split!r} is empty")
        adapter = self.adapter(data_dir, split)
        keep = list(range(len(rows)))
        groups = self.groups(split, data_dir, rows, where)
        if limit and limit < len(rows):
            keep = sample_indices(len(rows), limit, seed, groups) if seed is not None else keep[:limit]
        docs = self.from_lm_eval  # lm-eval's process_results and code filters read the row
        examples = [replace(adapter.example(rows[i], f"{split}-{i}", f"{where}: split {split!r} row {i}"), row=i,
                            group=None if groups is None else groups[i], doc=_doc(rows[i]) if docs else None) for i in keep]
        seen: set[str] = set()
        for i, ex in zip(keep, examples, strict=True):
            if ex.id in seen:
                raise DatasetError(f"{where}: split {split!r} row {i}: duplicate id {ex.id!r}; ids must be unique")
            seen.add(ex.id)
        return examples

    def fewshot_pool(self, data_dir: Path | None = None) -> list[Example]:
        """The demonstrations' pool: the rows written inline in the task (``fewshot.rows``,
        lm-eval's ``fewshot_config.samples``), else the ``fewshot.split`` split.

        Raises:
            DatasetError: as :meth:`examples`, naming the inline row.
        """
        inline = self.config.fewshot.rows
        if inline is None:
            return self.examples(self.config.fewshot.split, data_dir, pool=True)
        where = f"task {self.name!r} ({self.path}): fewshot.rows"
        if self.code is not None:  # lm-eval formats its inline samples with the task's hooks too
            inline = self.code.computed(inline, where)
        adapter = self.adapter(data_dir, self.config.fewshot.split)
        return [replace(adapter.example(row, f"fewshot-{i}", f"{where}[{i}]"), row=i) for i, row in enumerate(inline)]

    def groups(self, split: str, data_dir: Path | None, rows: Sequence[Any], where: str) -> list[str] | None:
        """Each row's ``group_by`` value (e.g. the article of a SQuAD question), or None when
        the split has no groups."""
        source, _ = self.source(data_dir)
        if not isinstance(source, FilesSource) or split not in source.splits:
            return None
        group_by = source.split_files(split).group_by
        if not group_by:
            return None
        return [str(extract(row, group_by, where=f"{where}: split {split!r} row {i}")) for i, row in enumerate(rows)]


def check_selection_metric(wanted: str | None, tasks: Sequence[Task]) -> None:
    """A run-wide ``verdict.metric`` applies to the tasks that score it: one that none scores is a
    typo, and one lm-eval ranks lower-is-better cannot pick a best (promptkit's verdict ranks the
    higher value first).

    Raises:
        ConfigError: naming the columns accepted.
    """
    if wanted is None:
        return
    scored = sorted({m for t in tasks for m in t.config.metrics})
    lower = sorted({m for t in tasks if t.lm_eval_scoring is not None for m in t.lm_eval_scoring.lower_is_better()})
    if wanted not in scored:
        raise ConfigError(f"verdict.metric {wanted!r} is not scored by any task of the run; accepted: {', '.join(scored)}")
    if wanted in lower:
        higher = [m for m in scored if m not in lower]
        raise ConfigError(f"verdict.metric {wanted!r}: lower is better on it, and promptkit's verdict ranks the higher "
                          f"value first; choose one of {', '.join(higher)}")


def check_train_split(task: Task, learners: Sequence[str], splits: Sequence[str]) -> None:
    """Refuse methods that train (``learners``) on a task without a training split among its
    data's ``splits``, naming the key to set (an lm-eval task's ``training_split``).

    Raises:
        ConfigError: the task names no training split, or one its data lacks.
    """
    tc = task.config
    if not learners or (tc.train_split and tc.train_split in splits):
        return
    key = "training_split" if task.from_lm_eval else "train_split"
    what = f"names no training split ({key}: null)" if not tc.train_split else f"names {key} {tc.train_split!r}, which its data lacks"
    raise ConfigError([Problem(f"task {task.name!r}: {', '.join(learners)} train{'s' if len(learners) == 1 else ''} on the task's training split, but the task "
                               f"{what}; set {key} to a split of its data ({', '.join(map(repr, splits))}) whose rows are "
                               "not the evaluated ones, or run prompting methods only (zero-shot, few-shot)", str(task.path))])


def sample_indices(n: int, limit: int, seed: int, groups: Sequence[str] | None = None) -> list[int]:
    """``limit`` of ``n`` row indices drawn with ``seed``, in file order. With ``groups``, each
    group gets its proportional share (largest remainders first, ties to the earlier group), so
    a sample of a file sorted by article spans its articles instead of the first few."""
    rng = random.Random(seed)
    if groups is None:
        return sorted(rng.sample(range(n), limit))
    members: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    shares = {g: limit * len(ix) / n for g, ix in members.items()}
    counts = {g: int(share) for g, share in shares.items()}
    order = sorted(members, key=lambda g: -(shares[g] - counts[g]))  # stable: file order among ties
    for g in order[: limit - sum(counts.values())]:
        counts[g] += 1
    picked = [i for g, ix in members.items() for i in rng.sample(ix, counts[g])]
    return sorted(picked)


def merged_fields(config: TaskConfig, source: FilesSource | HubSource, split: str | None = None) -> Any:
    """The adapter's field mapping with the source's, then the split's, overrides applied."""
    base = config.adapter.fields
    split_fields: dict[str, Any] = {}
    if isinstance(source, FilesSource) and split in source.splits:
        split_fields = source.split_files(split).fields
    if not source.fields and not split_fields:
        return base
    data = {**base.model_dump(exclude_none=True), **source.fields, **split_fields}
    return type(base).model_validate(data)


def build_adapter(config: TaskConfig, source: FilesSource | HubSource, split: str | None = None) -> Adapter:
    cls = ADAPTERS.get(config.adapter.kind)
    return cls(config.adapter, merged_fields(config, source, split))


def _check_sources(config: TaskConfig, doc: YamlDocument) -> list[Problem]:
    problems: list[Problem] = []
    for label in ("dataset", "offline"):
        source = getattr(config, label)
        if source is None:
            continue
        for split in source.splits:
            split_spec = source.splits[split]
            has_split_fields = isinstance(split_spec, SplitFiles) and split_spec.fields
            if not source.fields and not has_split_fields:
                continue
            try:
                merged_fields(config, source, split)
            except ValidationError as exc:
                # The merged mapping has two layers (source fields, then split fields): report
                # each bad key under the layer that holds it, not under the split.
                layers: list[tuple[str, ...]] = [(label, "splits", split, "fields")] if has_split_fields else []
                layers += [(label, "fields")] if source.fields else []
                fields_model = type(config.adapter.fields)
                found = [
                    p
                    for at in layers
                    for p in validation_problems(exc, fields_model, doc, at)
                    if p.key != format_path(at)  # a key path inside this layer
                ] or validation_problems(exc, fields_model, doc, layers[0])
                for p in found:
                    if p not in problems:
                        problems.append(p)
    return problems


def _load_prompts(config: TaskConfig, doc: YamlDocument, path: Path, adapter: Adapter | None) -> tuple[list[PromptTemplate], list[Problem]]:
    problems: list[Problem] = []
    templates: list[PromptTemplate] = []
    catalog: dict[str, Path] | None = None
    for i, entry in enumerate(config.prompts):
        where = ("prompts", i)
        try:
            if isinstance(entry, str):
                if entry.endswith((".yaml", ".yml")):
                    template = load_prompt_file(path.parent / entry)
                else:
                    catalog = catalog if catalog is not None else prompt_files()
                    if entry not in catalog:
                        raise UnknownNameError("prompt", entry, catalog)
                    template = load_prompt_file(catalog[entry])
            else:
                template = PromptTemplate(entry, origin=f"{doc.file}")
        except UnknownNameError as exc:
            problems.append(doc.problem(exc.message, where))
            continue
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        except TemplateError as exc:
            # An inline prompt's message starts with this file's name, which the problem adds.
            problems.append(doc.problem(str(exc).removeprefix(f"{doc.file}: "), where))
            continue
        kind = template.config.kind
        if kind is not None and kind != config.adapter.kind:
            problems.append(
                doc.problem(
                    f"prompt {template.name!r} is for {kind!r} tasks but this task's adapter is {config.adapter.kind!r}",
                    where,
                )
            )
        if adapter is not None:
            for message in template.check_fields(adapter.variables()):
                problems.append(doc.problem(message, where))
        templates.append(template)
    names = [t.name for t in templates]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(doc.problem(f"prompt {name!r} listed twice", ("prompts",)))
    return templates, problems


def _check_metrics(metrics: Any, doc: YamlDocument, lm_eval: bool = False) -> list[Problem]:
    from promptkit.metrics import METRICS
    from promptkit.metrics.lmeval import PREFIX as LMEVAL_COLUMN

    problems = []
    for i, name in enumerate(metrics if isinstance(metrics, list) else []):
        if not isinstance(name, str) or (name.startswith("evaluate:") and len(name) > len("evaluate:")):
            continue
        if name.startswith(LMEVAL_COLUMN) and not lm_eval:
            problems.append(doc.problem(f"{name!r}: an lm-eval column is computed by the run of an lm-eval task "
                                        f"(--task {LM_EVAL_PREFIX}PATH), not named in a promptkit task", ("metrics", i)))
        elif name not in METRICS and not name.startswith(LMEVAL_COLUMN):
            problems.append(doc.problem(UnknownNameError("metric", name, METRICS.names()).message, ("metrics", i)))
    return problems


def _doc(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as lm-eval's task code sees it: without the columns promptkit adds for its hooks."""
    from promptkit.tasks.lmeval.code import COLUMNS

    return {k: v for k, v in row.items() if k not in COLUMNS.values()}


def _check_prompt_names(prompts: Any, doc: YamlDocument) -> list[Problem]:
    """Unknown prompt names, checked on the raw data (also when the schema check failed)."""
    problems = []
    catalog = prompt_files()
    for i, entry in enumerate(prompts if isinstance(prompts, list) else []):
        if isinstance(entry, str) and not entry.endswith((".yaml", ".yml")) and entry not in catalog:
            problems.append(doc.problem(UnknownNameError("prompt", entry, catalog).message, ("prompts", i)))
    return problems


def load_task(path: str | Path, trust_code: bool = False) -> Task:
    """Read, validate and compile a task file. Every problem is reported at once.

    An lm-evaluation-harness task file (an :class:`LmEvalTaskFile` from ``resolve_task``, or a
    string ``lm-eval:PATH``) is converted first (:mod:`promptkit.tasks.lmeval`); its data paths are
    relative to its own folder, as a promptkit task's are. ``trust_code`` (``--trust-task-code``):
    its task code is accepted and imported now (a promptkit task file holds none).

    Raises:
        ConfigError: listing each problem with file, line and key path.
    """
    if isinstance(path, str) and path.startswith(LM_EVAL_PREFIX):
        path = LmEvalTaskFile(path[len(LM_EVAL_PREFIX):])
    lm_eval = isinstance(path, LmEvalTaskFile)
    if lm_eval:
        from promptkit.tasks.lmeval import convert_file

        path = Path(str(path))  # the task's own path is a plain one from here on
        conversion = convert_file(path, trust_code)
        doc = YamlDocument(conversion.task, {}, str(path))
    else:
        conversion = None
        path = Path(path)
        doc = read_yaml(path)
    try:
        config = validate(TaskConfig, doc)
    except ConfigError as exc:
        # Report name problems too, so one validate run lists everything wrong with the file.
        extra = _check_metrics(doc.data.get("metrics"), doc, lm_eval) + _check_prompt_names(doc.data.get("prompts"), doc)
        hint = []
        if "adapter" not in doc.data and {"doc_to_text", "output_type", "dataset_path"} & set(doc.data):
            hint = [Problem(f"this looks like an lm-evaluation-harness task; load it with --task {LM_EVAL_PREFIX}{path} "
                            f"(or convert it: promptkit tasks convert {path})", doc.file)]
        raise ConfigError([*hint, *exc.problems, *(p for p in extra if p not in exc.problems)]) from exc
    problems = _check_sources(config, doc)
    adapter: Adapter | None = None
    if not problems:
        try:
            adapter = build_adapter(config, config.dataset)
        except PromptkitError as exc:
            problems.append(doc.problem(str(exc), ("adapter",)))
    templates, prompt_problems = _load_prompts(config, doc, path, adapter)
    problems += prompt_problems
    problems += _check_metrics(config.metrics, doc, lm_eval)
    problems += [doc.problem(f"filter {f.name!r} has a task-code step, which only an lm-eval task's own code fills "
                             f"(--task {LM_EVAL_PREFIX}PATH --trust-task-code)", ("filters", i))
                 for i, f in enumerate(config.filters) if f.runs_code() and not lm_eval]
    if problems:
        raise ConfigError(problems)
    code = conversion.code.load() if conversion is not None and conversion.code is not None else None
    scoring = conversion.scoring if conversion is not None else None
    if scoring is not None:
        from promptkit.metrics.lmeval import register_aggregations

        register_aggregations(config.name, scoring.aggregations(code.functions if code is not None else {}))
    return Task(config=config, path=path, prompts=templates, from_lm_eval=lm_eval, code=code, lm_eval_scoring=scoring)


# How often (prompts) render_all reports progress: a 10^6-row task renders for minutes.
RENDER_PROGRESS_EVERY = 2000


def render_all(task: Task, examples: Sequence[Example], pool: Sequence[Example] = (), shots: int = 0, seed: int = 0,
               progress: Callable[[str, int, int], None] | None = None) -> int:
    """Render every example with every prompt template of the task (and ``shots``
    demonstrations from ``pool``), so a template error shows before any model runs; returns the
    number of prompts rendered. ``progress(label, done, total)`` is told as it goes.

    Raises:
        TemplateError: the first template and example that fail.
    """
    from promptkit.prompting.fewshot import make_sampler
    from promptkit.seeding import derive

    sampler = make_sampler(task.config.fewshot, list(pool), shots if pool else 0, derive(seed, "fewshot"))
    total, done, label = len(task.prompts) * len(examples), 0, f"render {task.name}"
    for template in task.prompts:
        for ex in examples:
            template.render(ex, sampler.sample(ex))
            done += 1
            if progress is not None and done % RENDER_PROGRESS_EVERY == 0:
                progress(label, done, total)
    if progress is not None:
        progress(label, total, total)
    return total


def readable_here(task: Task, data_dir: Path | None, split: str) -> bool:
    """Whether the rows of ``split`` can be read here, without the network: its files (the
    task's own, or the offline copy under ``data_dir``) exist."""
    source, _ = task.source(data_dir)
    if not isinstance(source, FilesSource) or split not in source.splits:
        return False
    base = data_dir if source.relative_to == "data_dir" else task.path.parent
    if base is None:
        return False
    spec = source.split_files(split)
    return all((base / p).is_file() for p in (spec.path if isinstance(spec.path, list) else [spec.path]))


def data_file_problems(task: Task, data_dir: Path | None) -> list[Problem]:
    """Every data file of a task's local source that is missing or not a regular file (a
    directory, a FIFO, a device), one problem each; files meant to come from a ``--data-dir``
    that was not given are not looked for."""
    source, _ = task.source(data_dir)
    if not isinstance(source, FilesSource):
        return []
    base = data_dir if source.relative_to == "data_dir" else task.path.parent
    if base is None:
        return []
    problems = []
    for split in source.splits:
        spec = source.split_files(split)
        for rel in spec.path if isinstance(spec.path, list) else [spec.path]:
            path = base / rel
            try:
                check_regular(path, "data file", sys.maxsize)  # the one test of a regular file (promptkit.files)
            except FileNotFoundError:
                problems.append(Problem(f"split {split!r}: data file not found: {path}", str(task.path)))
            except FileRefused as exc:
                problems.append(Problem(f"split {split!r}: {exc}", str(task.path)))
    return problems


def validate_files(paths: Sequence[Path], data_dir: Path | None = None, rendered: dict[Path, int] | None = None,
                   progress: Callable[[str, int, int], None] | None = None,
                   trust_code: bool = False) -> dict[Path, list[Problem]]:
    """Validate task and prompt files; returns the problems of each file (empty when valid).

    A file is a prompt when it lives under a ``prompts`` directory or has ``input``/``target``
    at the top level and no ``dataset``; otherwise it is a task (``lm-eval:PATH``: an
    lm-evaluation-harness task, converted). A task whose rows can be read
    here (local files, or its offline copy under ``data_dir``) also has every evaluated row
    rendered with every template, with its few-shot demonstrations; ``rendered`` receives the
    number of prompts rendered per file, and ``progress(label, done, total)`` is told how the
    rendering goes. ``trust_code``: an lm-eval task's code runs (``--trust-task-code``).
    """
    results: dict[Path, list[Problem]] = {}
    for p in paths:
        try:
            lm_eval = str(p).startswith(LM_EVAL_PREFIX)  # an lm-evaluation-harness task file
            doc = read_yaml(p) if not lm_eval else None
            if doc is not None and "dataset" not in doc.data and ("input" in doc.data or "prompts" in p.parts):
                PromptTemplate(prompt_config(doc), origin=doc.file)
            else:
                task = load_task(str(p) if lm_eval else p, trust_code)
                tc = task.config
                missing = data_file_problems(task, data_dir)
                if missing:
                    results[p] = missing
                    continue
                if readable_here(task, data_dir, tc.eval_split):  # else: the data is not here yet
                    pool = task.fewshot_pool(data_dir) if tc.fewshot.rows or readable_here(task, data_dir, tc.fewshot.split) else []
                    n = render_all(task, task.examples(tc.eval_split, data_dir), pool, tc.fewshot.shots, progress=progress)
                    if rendered is not None:
                        rendered[p] = n
            results[p] = []
        except ConfigError as exc:
            results[p] = exc.problems
        except PromptkitError as exc:
            message = str(exc).removeprefix(f"{p}: ")  # TemplateError already names the file
            results[p] = [Problem(message, str(p))]
    return results
