"""The plan of a run: its tasks read and checked, and the frozen list of cells, before any model.

Everything that can fail on bad input (task files, data files, templates, leakage, tuning
budgets) fails here, so a mistake costs seconds, not a model load. :func:`prepare` returns a
:class:`Plan`: the prepared tasks, every cell in the order it runs, the run's seeds and the
tuned methods' search spaces. Launchers (``promptkit.run.local``, ``promptkit.run.ray``) only
execute a plan.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptkit.analysis.forgetting import run_probe
from promptkit.config import TunableBase, dump
from promptkit.config.run import RunConfig
from promptkit.errors import ConfigError, LeakageError, PromptkitError
from promptkit.methods import METHODS, FewShotConfig, LoraConfig, PromptTuningConfig, ZeroShotConfig
from promptkit.prompting.template import PromptTemplate
from promptkit.records import Example, Prediction
from promptkit.records.results import TaskInfo
from promptkit.run.progress import fingerprint
from promptkit.run.search import check_budgets, check_grid_sizes
from promptkit.seeding import derive
from promptkit.tasks import Task, check_selection_metric, check_train_split, load_task, render_all
from promptkit.tasks.adapters import ADAPTERS
from promptkit.tasks.catalog import default_data_dir, display_path, resolve_task
from promptkit.tasks.leakage import INLINE_POOL, ComparedSplit, find_overlaps
from promptkit.tasks.lmeval.groups import expand_groups

# What `promptkit eval` runs with no arguments: real SQuAD v1.1 questions shipped with the
# repository (short contexts, train and test split by article). The fictional demo tasks are
# one `--task demo_qa` away; training on several tasks would not fit the 10-minute budget of a
# 2-core CPU.
DEFAULT_TASKS = ("squad_demo",)


def default_tasks() -> list[str]:
    """Built-in tasks run by ``promptkit eval`` with no arguments."""
    return list(DEFAULT_TASKS)


def default_methods() -> list[Any]:
    """Plain and in-context prompting, a soft prompt and LoRA: the comparison promptkit exists
    for (few-shot is the cheapest competitor of a soft prompt)."""
    return [ZeroShotConfig(), FewShotConfig(), PromptTuningConfig(), LoraConfig()]


@dataclass(frozen=True)
class RunSeeds:
    """Every random stream of a run, derived once from the run seed (``promptkit.seeding``).

    Attributes:
        run: the run seed (``--seed``).
        training: the seeds each trained method is trained with (``--seeds``; default the run seed).
        limit / split / fewshot / bootstrap / tuning: the streams of ``--limit``'s sample, the
            train/dev split, the demonstrations, the bootstrap resamples and the tuning sampler.
    """

    run: int
    training: tuple[int, ...]

    @classmethod
    def of(cls, config: RunConfig) -> RunSeeds:
        return cls(config.seed, tuple(config.training.seeds or [config.seed]))

    @property
    def limit(self) -> int:
        return derive(self.run, "limit")

    @property
    def split(self) -> int:
        return derive(self.run, "split")

    @property
    def fewshot(self) -> int:
        return derive(self.run, "fewshot")

    @property
    def bootstrap(self) -> int:
        return derive(self.run, "bootstrap")

    @property
    def tuning(self) -> int:
        return derive(self.run, "tuning")


@dataclass
class PreparedTask:
    """A task with its evaluation examples, few-shot pool and training examples loaded."""

    task: Task
    examples: list[Example]
    pool: list[Example]
    train: list[Example]
    source: str
    data_dir: Path | None
    # Leakage found and allowed (--allow-overlap), one line each; recorded in results.json.
    overlaps: list[str] = field(default_factory=list)
    # tuning.split: the split tuning candidates are scored on (empty: a slice of train).
    tune_dev: list[Example] = field(default_factory=list)
    # Computed once per task: what its metrics need (language, tokenizer, SQuAD version), and
    # how choice scores are length-normalised (classification).
    metric_context: Any = None
    normalization: str = "none"
    # Digest of every row read and of the prompt templates (TaskInfo.fingerprint).
    fingerprint: str = ""
    # How the evaluated rows were chosen (TaskInfo.selection).
    selection: str = ""
    # The evaluated split's group_by column ("" without one): examples carry their group.
    group_by: str = ""

    @property
    def name(self) -> str:
        return self.task.name

    def groups(self, predictions: Sequence[Prediction]) -> list[str] | None:
        """The group of each prediction's example (its article, say), or None when the split has
        no ``group_by``: resampling then goes by group (a cluster bootstrap)."""
        by_id = {ex.id: ex.group for ex in self.examples}
        groups = [by_id.get(pd.example_id) for pd in predictions]
        return None if any(g is None for g in groups) else [str(g) for g in groups]

    def info(self) -> TaskInfo:
        """What results.json records about this task."""
        tc = self.task.config
        metric_ctx = self.metric_context
        return TaskInfo(
            version=str(tc.version),
            path=display_path(self.task.path),
            adapter=tc.adapter.kind,
            eval_split=tc.eval_split,
            train_split=tc.train_split,
            n=len(self.examples),
            n_train=len(self.train),
            source=self.source,
            metrics=tuple(tc.columns()),  # with filters, each metric on each pipeline: metric[filter]
            generation=dump(tc.generation),
            language=metric_ctx.language,
            labels=tuple(metric_ctx.labels),
            squad_version=metric_ctx.squad_version,
            bleu_tokenize=metric_ctx.bleu_tokenize,
            overlaps=tuple(self.overlaps),  # allowed with --allow-overlap
            task_code=tuple(self.task.code.code.describe()) if self.task.code is not None else (),
            lm_eval_groups=tuple(g.to_dict() for g in self.task.lm_eval_groups), normalization=self.normalization if self.task.lm_eval_groups else "",
            fingerprint=self.fingerprint,
            selection=self.selection, group_by=self.group_by,
            lower_is_better=self.task.lm_eval_scoring.lower_is_better() if self.task.lm_eval_scoring is not None else (),
            groups=len({ex.group for ex in self.examples}) if self.group_by else 0,
            prompts={t.name: str(t.config.version) for t in self.task.prompts},
            verdict=dump(tc.verdict),
            metric_options={k: v for k, v in dump(tc.metric_options).items() if k in tc.metrics},
            filters=[dump(f) for f in tc.filters],
        )


@dataclass(frozen=True)
class CellSpec:
    """One planned cell: a prepared task, a prompt template, a method entry and a training seed
    (None for a method that does not learn)."""

    task: PreparedTask
    template: PromptTemplate
    method: Any  # the method entry (its config)
    method_cls: Any
    seed: int | None

    @property
    def key(self) -> tuple[str, str, str, int | None]:
        return (self.task.name, self.template.name, self.method.label, self.seed)


@dataclass(frozen=True)
class Plan:
    """A checked run: its tasks, its cells in the order they run, its seeds and search spaces.

    Attributes:
        refs: the task references as the user gave them, by task name (a Ray worker reads them again).
        spaces: each tuned method's label and search space.
        dev_size: examples held out of every train split (a tuned run holds out the tuning dev
            slice for every method, so tuned and untuned methods train on the same examples).
    """

    config: RunConfig
    tasks: tuple[PreparedTask, ...]
    cells: tuple[CellSpec, ...]
    seeds: RunSeeds
    refs: dict[str, str]
    spaces: dict[str, dict[str, list[Any]]]
    dev_size: int
    chat_mode: str = "auto"  # model.chat_template resolved for these tasks (chat_mode)
    probe: Any = None  # the forgetting probe's documents (promptkit.analysis.forgetting), read here

    def entries(self, todo: Sequence[CellSpec] | None = None) -> Iterator[list[CellSpec]]:
        """The cells grouped by task x prompt x method entry (the seeds of one entry together)."""
        group: list[CellSpec] = []
        for spec in self.cells if todo is None else todo:
            if group and spec.key[:3] != group[0].key[:3]:
                yield group
                group = []
            group.append(spec)
        if group:
            yield group

    def is_tuned(self, spec: CellSpec) -> bool:
        return spec.method.label in self.spaces


def run_methods(config: RunConfig) -> list[Any]:
    """The run's method entries (the default comparison when the config lists none)."""
    return list(config.methods) or default_methods()


def tuned_spaces(config: RunConfig) -> dict[str, dict[str, list[Any]]]:
    """Each tuned method's label and search space (``tune`` entries, or built-in with --tune)."""
    spaces = {}
    for m in run_methods(config):
        space = m.space(config.tuning.builtin) if isinstance(m, TunableBase) else {}
        if space:
            spaces[m.label] = space
    return spaces


def prepare(config: RunConfig) -> Plan:
    """Load every task and its data, check everything checkable, and plan the cells (no model).

    Raises:
        PromptkitError: the first thing that would make the run fail (leakage of every task together).
    """
    from promptkit.run.tracking import check_trackers

    check_trackers(config.report_to)  # a missing tracker package fails before the model loads
    methods = [(m, METHODS.get(m.kind)) for m in run_methods(config)]
    full = [m.label for m, cls in methods if cls.trains_base_weights]
    if config.model.quantization != "none" and full:
        raise ConfigError(f"model.quantization {config.model.quantization!r}: full fine-tuning ({', '.join(full)}) cannot "
                          "train quantized weights; use lora, dora, ia3 or a soft prompt, or model.quantization: none")
    for m, cls in methods:
        cls.check(m)
    spaces = tuned_spaces(config)
    check_grid_sizes(spaces, config.tuning)  # before any data is read: a grid's size is known now
    seeds = RunSeeds.of(config)
    refs, groups = expand_groups(config.tasks or default_tasks())  # an lm-eval group: its tasks
    prepared = []
    problems: list[str] = []  # leakage of every task, reported together
    for ref in refs:
        task = dataclasses.replace(load_task(resolve_task(ref, config.tasks_dir), config.trust_task_code), lm_eval_groups=groups.get(ref, ()))
        p = _prepare_task(config, task, methods, seeds, bool(spaces))
        problems += p.overlaps
        prepared.append(p)
    if problems and not config.allow_overlap:
        raise LeakageError(problems)
    untuned = [m.label for m, _ in methods if isinstance(m, TunableBase) and m.label not in spaces]
    check_budgets(spaces, config.tuning, untuned)
    check_selection_metric(config.verdict.metric, [p.task for p in prepared])
    cells = tuple(CellSpec(p, template, m, cls, seed)
                  for p in prepared for template in p.task.prompts for m, cls in methods
                  for seed in (seeds.training if cls.learns else [None]))
    # a tuned run holds out the tuning dev slice for every method
    dev_size = max(config.training.dev_size, config.tuning.dev_size) if spaces and config.tuning.split is None else config.training.dev_size
    return Plan(config, tuple(prepared), cells, seeds, {p.name: ref for p, ref in zip(prepared, refs, strict=True)},
                spaces, dev_size, chat_mode(config, [p.task for p in prepared]), run_probe(config.forgetting, [c for _, c in methods]))


def _prepare_task(config: RunConfig, task: Task, methods: Sequence[tuple[Any, Any]], seeds: RunSeeds,
                  tuned: bool) -> PreparedTask:
    """One task's rows read (evaluated, few-shot pool, training, tuning), rendered and checked."""
    tc = task.config
    data_dir = default_data_dir(config.data_dir)
    limit = config.limit or tc.limit
    # --limit: a seeded random sample, stratified by the split's groups (its articles, say)
    examples = task.examples(tc.eval_split, data_dir, limit, seed=seeds.limit)
    source, label = task.source(data_dir)
    group_by = _group_by(source, tc.eval_split)
    wants_pool = any(cls.needs_pool for _, cls in methods)
    pool: list[Example] = []
    if wants_pool and (tc.fewshot.rows is not None or tc.fewshot.split in source.splits):
        pool = task.fewshot_pool(data_dir)
        _check_shots(config, task, pool, methods)
    train: list[Example] = []
    check_train_split(task, [m.label for m, cls in methods if cls.learns], list(source.splits))  # before the model loads
    if any(cls.learns for _, cls in methods) and tc.train_split:
        # the pool is the train split (unless lm-eval task code processes the pool its own way)
        same = tc.train_split == tc.fewshot.split and tc.fewshot.rows is None and not (task.code and task.code.pool_processed)
        train = pool if same and pool else task.examples(tc.train_split, data_dir)
    compared = [ComparedSplit(tc.train_split, "training", train)] if train and tc.train_split else []
    compared += [ComparedSplit(INLINE_POOL if tc.fewshot.rows is not None else tc.fewshot.split, "few-shot pool", pool)] if pool else []
    tune_dev = _tuning_split(config, task, data_dir) if tuned else []
    compared += [ComparedSplit(config.tuning.split, "tuning selection", tune_dev)] if config.tuning.split and tune_dev else []
    overlaps = find_overlaps(task, data_dir, examples, compared)
    # Every evaluated example rendered with every template (and its demonstrations), so that a
    # template error stops the run before the model loads, not in a cell.
    shots = config.shots if config.shots is not None else tc.fewshot.shots
    render_all(task, examples, pool if wants_pool else [], shots, config.seed)
    return PreparedTask(task, examples, pool, train, f"{source.kind}" + (f" ({data_dir})" if label == "offline" else ""),
                        data_dir, overlaps, tune_dev,
                        metric_context=task.adapter(data_dir).metric_context(),
                        normalization=choice_normalization(tc),
                        fingerprint=task_fingerprint(task, examples, pool, train, tune_dev),
                        selection=_selection(config, task, group_by, limit, len(examples)), group_by=group_by)


def _group_by(source: Any, split: str) -> str:  # the split's group_by column ("": none, or not files)
    return str((source.split_files(split).group_by if hasattr(source, "split_files") and split in source.splits else None) or "")


def _selection(config: RunConfig, task: Task, group_by: str, limit: int | None, n: int) -> str:
    """How the evaluated rows were chosen, in words (the report's task line)."""
    split = task.config.eval_split
    if not limit or n < limit:
        return f"every row of split {split!r}"
    return f"a random sample of {n} rows of split {split!r} (seeded by --seed {config.seed}" + (f", stratified by {group_by!r})" if group_by else ")")


def chat_mode(config: RunConfig, tasks: Sequence[Task]) -> str:
    """``model.chat_template`` for this run: as set, else ``off`` when every task is an lm-eval
    task (lm-eval applies no chat template unless asked: its prompts are plain strings), else ``auto``.

    Raises:
        ConfigError: unset, in a run that mixes lm-eval tasks with promptkit's.
    """
    lm_eval, others = [t.name for t in tasks if t.from_lm_eval], [t.name for t in tasks if not t.from_lm_eval]
    if config.model.chat_template is not None or not (lm_eval and others):
        return config.model.chat_template or ("off" if lm_eval else "auto")
    raise ConfigError(f"model.chat_template: the run mixes lm-eval tasks ({', '.join(lm_eval)}: no chat template, as "
                      f"lm-eval) with promptkit tasks ({', '.join(others)}: the model's chat template); choose one for "
                      "all with --chat-template auto, on or off")


def _check_shots(config: RunConfig, task: Task, pool: Sequence[Example], methods: Sequence[tuple[Any, Any]]) -> None:
    """A method asking for more demonstrations than the pool holds is refused (it would use
    fewer than asked and record the number asked)."""
    tc = task.config
    default = config.shots if config.shots is not None else tc.fewshot.shots
    for m, cls in methods:
        k = cls.wanted_shots(m, default)
        if k and k > len(pool):
            raise ConfigError(f"task {task.name!r}: {m.label} asks for {k} demonstrations per example but its "
                              f"{tc.fewshot.split!r} split has {len(pool)} rows; use --shots {len(pool)} or fewer")


def _tuning_split(config: RunConfig, task: Task, data_dir: Path | None) -> list[Example]:
    """The examples of ``tuning.split`` when tuning selects on a split of its own."""
    split = config.tuning.split
    if split is None:
        return []
    tc = task.config
    if split == tc.eval_split:
        raise PromptkitError(
            f"tuning.split {split!r} is the evaluated split of task {task.name!r}: selecting settings on "
            f"test rows makes the test score optimistic; omit tuning.split (a dev slice of "
            f"{tc.train_split!r} is carved) or name another split"
        )
    if split == tc.train_split:
        raise PromptkitError(
            f"tuning.split {split!r} is the train split of task {task.name!r}: candidates would be scored on "
            "the rows they were trained on (the most overfit setting wins); omit tuning.split to carve a dev "
            "slice from it, or name a held-out split"
        )
    source, _ = task.source(data_dir)
    if split not in source.splits:
        raise PromptkitError(f"tuning.split {split!r}: task {task.name!r} has no such split; it defines {sorted(source.splits)}")
    return task.examples(split, data_dir)


def choice_normalization(tc: Any) -> str:
    """How a task's choice scores are length-normalised (``none`` unless a task scoring choices says)."""
    return str(tc.adapter.normalization) if ADAPTERS.get(tc.adapter.kind).scores_choices else "none"


def task_fingerprint(task: Task, *splits: Sequence[Example]) -> str:
    """Digest of a task's rows as read (evaluated, pool, training, tuning) and its templates."""
    return fingerprint({
        "version": str(task.config.version),
        # ``row`` (where a row sits in its split) is left out: it is not data; ``continuation`` when
        # None. Fingerprints of runs made before either existed must stay what they were
        "splits": [fingerprint({"rows": [{k: v for k, v in dataclasses.asdict(ex).items()
                                          if k != "row" and not (k == "continuation" and v is None)} for ex in rows]})
                   for rows in splits],
        "prompts": [dump(t.config) for t in task.prompts],
    })


def training_split(examples: Sequence[Example], split_seed: int, dev_size: int,
                   limit: int | None) -> tuple[list[Example], list[Example]]:
    """Seeded shuffle of the train split into (train, dev); dev never touches the test split.

    ``split_seed`` is the run's ``split`` stream (:attr:`RunSeeds.split`), not a training seed:
    every training seed of a method sees the same training and dev examples."""
    order = sorted(examples, key=lambda ex: hashlib.sha256(f"{split_seed}:{ex.id}".encode()).hexdigest())
    dev, train = order[:dev_size], order[dev_size:]
    return (train[:limit] if limit else train), dev
