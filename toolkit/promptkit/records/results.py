"""``RunResult``: everything a run measured, saved as ``results.json`` (schema-versioned)."""

from __future__ import annotations

import json
import typing
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from promptkit.errors import PromptkitError
from promptkit.files import MB, read_text, write_atomic  # noqa: F401  (write_atomic: re-exported)
from promptkit.records import Cost, Forgetting, MetricScore, TrainingReport
from promptkit.records.comparisons import GroupScore, PairComparison, SeedSummary, Verdict
from promptkit.records.validation import RecordError, conform, strict

# 2: cells carry the training seed (several seeds per method); all-pairs comparisons and
# verdicts replace the per-cell comparison with the first method. Version 1 files are read by
# dropping that per-cell comparison (``promptkit report RUN`` recomputes the pairs).
# 3: a verdict is a declared decision (family, margin, one outcome per method) instead of a
# "tied" group; comparisons carry their family and interval. Verdicts and comparisons of older
# files are dropped on reading (``promptkit report RUN`` recomputes them from the samples).
SCHEMA_VERSION = 3
# A results.json holds summaries (per-example rows are in the samples files): tens of kilobytes a
# cell. The bound keeps a planted /dev/zero or a huge file from being read whole.
MAX_RESULTS_BYTES = 256 * MB
READABLE_VERSIONS = (1, 2, 3)


@dataclass(frozen=True)
class Candidate:
    """One tuning candidate: its settings and its score on the dev split (NaN: it failed)."""

    params: dict[str, Any]
    dev_score: float
    train_s: float
    error: str | None = None


@dataclass(frozen=True)
class TuningResult:
    """How a tuned method's settings were chosen (the same for all its seeds).

    Attributes:
        metric: the selection metric (the task's first).
        split: where candidates were scored (``dev`` = carved from the train split).
        n_dev: number of dev examples.
        seed: the training seed the candidates were trained with.
        chosen: the winning settings, then trained with every seed and evaluated on test.
    """

    metric: str
    split: str
    n_dev: int
    sampler: str
    seed: int
    candidates: tuple[Candidate, ...]
    chosen: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["candidates"] = [asdict(c) for c in self.candidates]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TuningResult:
        data = dict(data)
        data["candidates"] = tuple(Candidate(**c) for c in data["candidates"])
        return cls(**data)


@dataclass(frozen=True)
class TaskInfo:
    """What a run recorded about one task (results.json ``tasks``).

    Attributes:
        version / path / adapter: the task definition evaluated.
        eval_split / train_split / n / n_train / source: what was read, and from where.
        metrics / generation: what was computed (its score columns), with which settings.
        language / labels / squad_version / bleu_tokenize / metric_options: the metric context,
            so that ``promptkit report`` recomputes comparisons exactly as the run did.
        filters: the task's output filter pipelines (``promptkit.tasks.filters``), as written.
        overlaps: evaluated rows also seen in training or the few-shot pool, allowed by
            ``--allow-overlap`` (one line each).
        task_code: the lm-eval task code that ran to read the rows (``--trust-task-code``).
        lower_is_better: the ``lm-eval:`` columns lm-eval ranks lower-is-better.
        group_by / groups: the split's grouping column and the number of its groups evaluated
            (intervals and tests resample groups: a cluster bootstrap).
        fingerprint: digest of the rows read (evaluated, training, few-shot pool) and the
            prompt templates; ``--resume`` refuses to continue a run whose task data or
            templates changed since (empty in files of older promptkit versions: not checked).
    """

    FILE_EXTRA: typing.ClassVar[str] = "keep"  # keys of a newer file are left for its reader to drop

    version: str = ""
    path: str = ""
    adapter: str = ""
    eval_split: str = ""
    train_split: str | None = None
    n: int = 0
    n_train: int = 0
    source: str = ""
    metrics: tuple[str, ...] = ()
    generation: dict[str, Any] = field(default_factory=dict)
    language: str | None = None
    labels: tuple[str, ...] = ()
    squad_version: Literal["1.1", "2.0"] = "1.1"
    bleu_tokenize: str | None = None
    overlaps: tuple[str, ...] = ()
    fingerprint: str = ""
    selection: str = ""  # how the evaluated rows were chosen (all, or --limit's seeded sample)
    # The split's group_by column and how many of its groups the evaluated rows come from (0:
    # no groups, rows resampled one by one); intervals and paired tests resample whole groups.
    group_by: str = ""
    groups: int = 0
    prompts: dict[str, str] = field(default_factory=dict)  # template name -> its version
    # The task's own verdict settings (metric, margin, alpha; None: the run's, else the default).
    verdict: dict[str, Any] = field(default_factory=dict)
    # Options of the metrics scored (string_match's), and the output filter pipelines.
    metric_options: dict[str, Any] = field(default_factory=dict)
    filters: list[dict[str, Any]] = field(default_factory=list)
    # The lm-eval task code that ran to read the rows (--trust-task-code), one hook a line.
    task_code: tuple[str, ...] = ()
    # The lm-eval groups run with this task (promptkit.tasks.lmeval.groups.GroupDef.to_dict), and
    # how its choice scores were normalised (which of lm-eval's acc, acc_norm, acc_bytes it has).
    lm_eval_groups: tuple[dict[str, Any], ...] = ()
    normalization: str = ""
    # Its lm-eval: columns on which lower is better (lm-eval's ter, perplexity, a task's own).
    lower_is_better: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("metrics", "labels", "overlaps", "task_code", "lm_eval_groups", "lower_is_better"):
            data[key] = list(data[key])
        for key in ("metric_options", "filters", "task_code", "lm_eval_groups", "normalization", "lower_is_better"):  # written when set: other tasks' records read as before
            if not data[key]:
                del data[key]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskInfo:
        """Fields a file lacks (written by an older promptkit) take their defaults."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("metrics", "labels", "overlaps", "task_code", "lm_eval_groups", "lower_is_better"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)


@dataclass(frozen=True)
class PolicyReport:
    """What the context-length policy did to one list of a cell's prompts (evaluated, training
    or dev), as results.json records it (``promptkit.prompting.context.ContextReport.summary``).

    Attributes:
        budget: tokens a prompt could have (None: the model sets no limit).
        truncated / skipped / shots_dropped: how many prompts were cut, left out, or run with
            fewer demonstrations; ``*_ids`` the first of them.
        longest_prompt_tokens: the longest prompt before the policy.
    """

    FILE_EXTRA: typing.ClassVar[str] = "keep"

    policy: str = ""
    budget: int | None = None
    truncated: int = 0
    skipped: int = 0
    longest_prompt_tokens: int = 0
    truncated_ids: tuple[str, ...] = ()
    skipped_ids: tuple[str, ...] = ()
    shots_dropped: int = 0
    demonstrations_dropped: int = 0
    shots_dropped_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PolicyReport:
        """Keys a file lacks (written before they existed) take their defaults."""
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known}
        return cls(**values)


@dataclass
class CellContext:
    """What a cell's prompts went through: the context-length policy on its evaluated prompts,
    on its training and dev prompts (trained cells), and the backend's notes (``--backend vllm``:
    what ran on the Hugging Face path instead, and why; a forgetting probe that failed, and why).

    In results.json it keeps the layout it always had: the evaluated prompts' report at the top,
    the training prompts' under ``training`` (the dev prompts' under ``training.dev``) and the
    notes under ``backend``.
    """

    FILE_EXTRA: typing.ClassVar[str] = "keep"

    evaluation: PolicyReport | None = None
    training: PolicyReport | None = None
    dev: PolicyReport | None = None
    backend: tuple[str, ...] = ()

    @staticmethod
    def file_layout() -> dict[str, Any]:
        """The types of its keys in results.json (see the class docstring)."""
        return {**typing.get_type_hints(PolicyReport), "training": _TrainingPolicy | None, "backend": tuple[str, ...]}

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.training is not None:
            data["training"] = {**self.training.to_dict(), **({"dev": self.dev.to_dict()} if self.dev is not None else {})}
        if self.evaluation is not None:
            data.update(self.evaluation.to_dict())
        if self.backend:
            data["backend"] = list(self.backend)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CellContext:
        training = dict(data.get("training") or {})
        dev = training.pop("dev", None)
        top = {k: v for k, v in data.items() if k not in ("training", "backend")}
        return cls(evaluation=PolicyReport.from_dict(top) if top else None,
                   training=PolicyReport.from_dict(training) if training else None,
                   dev=PolicyReport.from_dict(dev) if dev else None, backend=tuple(data.get("backend") or ()))


@dataclass(frozen=True)
class _TrainingPolicy(PolicyReport):
    """results.json's ``context.training``: the training prompts' report, the dev prompts' inside."""

    dev: PolicyReport | None = None


@dataclass
class CellResult:
    """One task x prompt template x method evaluation."""

    FILE_OLD_KEYS: typing.ClassVar[tuple[str, ...]] = ("comparison",)  # schema 1

    task: str
    prompt: str
    method: str
    method_config: dict[str, Any]
    task_version: str
    prompt_version: str
    n: int = 0
    shots: int = 0
    metrics: dict[str, MetricScore] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    throughput: dict[str, float] = field(default_factory=dict)
    samples: str = ""  # path of the samples file, relative to the run directory
    error: str | None = None
    # Adapted methods: parameters, saved size, training time/throughput, peak memory.
    cost: Cost | None = None
    # Adapted methods: the training report (losses, learning curve, steps, resumed_from).
    training: TrainingReport | None = None
    adapter: str = ""  # saved adapter directory, relative to the run directory
    chat_template: bool | None = None  # trainable methods: formatting used in training and eval
    # Trainable methods: the training seed (adapter init, batch order, dropout); None otherwise.
    seed: int | None = None
    # Tuned methods: the candidates tried on the dev split and the settings chosen.
    tuning: TuningResult | None = None
    # What the context-length policy did to its prompts, and the backend's notes.
    context: CellContext | None = None
    # Adapted methods: general-text loss, adapted minus base (promptkit.analysis.forgetting).
    forgetting: Forgetting | None = None

    @property
    def key(self) -> tuple[str, str, str, int | None]:
        return (self.task, self.prompt, self.method, self.seed)

    @property
    def train_s(self) -> float:
        """Training wall time (0 for a method that does not train)."""
        return self.cost.train_s if self.cost else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["metrics"] = {k: v.to_dict() for k, v in self.metrics.items()}
        data["tuning"] = self.tuning.to_dict() if self.tuning else None
        data["cost"] = self.cost.to_dict() if self.cost else None
        data["training"] = self.training.to_dict() if self.training else None
        data["context"] = self.context.to_dict() if self.context is not None else None
        data["forgetting"] = self.forgetting.to_dict() if self.forgetting is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CellResult:
        data = dict(data)
        data.pop("comparison", None)  # schema 1
        data["tuning"] = TuningResult.from_dict(data["tuning"]) if data.get("tuning") else None
        data["metrics"] = {k: MetricScore.from_dict(k, v) for k, v in data.get("metrics", {}).items()}
        # files written before these were typed hold {} for methods without them
        data["cost"] = Cost.from_dict(data["cost"]) if data.get("cost") else None
        data["training"] = TrainingReport.from_dict(data["training"]) if data.get("training") else None
        data["context"] = CellContext.from_dict(data["context"]) if data.get("context") else None
        data["forgetting"] = Forgetting.from_dict(data["forgetting"]) if data.get("forgetting") else None
        return cls(**data)


@dataclass
class RunResult:
    """A whole run. ``save`` rewrites ``results.json`` atomically, so it can be called after
    every cell and an interrupted run keeps what it had finished."""

    run_id: str
    created: str
    config: dict[str, Any]
    model: dict[str, Any] = field(default_factory=dict)
    chat_template: bool = False
    environment: dict[str, Any] = field(default_factory=dict)
    tasks: dict[str, TaskInfo] = field(default_factory=dict)
    cells: list[CellResult] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # Every pair of methods per task/prompt and metric, and the verdict drawn from them
    # (promptkit.analysis.compare).
    comparisons: list[PairComparison] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    seed_summaries: list[SeedSummary] = field(default_factory=list)
    # lm-eval groups' aggregates per method (promptkit.analysis.groups); empty without groups.
    group_scores: list[GroupScore] = field(default_factory=list)
    # Every command line that wrote this run: the one that started it, then each --resume.
    commands: list[str] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "run_id": self.run_id,
            "created": self.created,
            "config": self.config,
            "model": self.model,
            "chat_template": self.chat_template,
            "environment": self.environment,
            "tasks": {name: info.to_dict() for name, info in self.tasks.items()},
            "timings": self.timings,
            "cells": [c.to_dict() for c in self.cells],
            "comparisons": [p.to_dict() for p in self.comparisons],
            "verdicts": [v.to_dict() for v in self.verdicts],
            "seed_summaries": [s.to_dict() for s in self.seed_summaries],
            **({"group_scores": [g.to_dict() for g in self.group_scores]} if self.group_scores else {}),
            "commands": list(self.commands),
        }

    def save(self, run_dir: str | Path) -> Path:
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        path = run_dir / "results.json"
        # strict JSON: a value that is not a number (a p-value never tested, a failed candidate's
        # score) is written null; the record says why beside it (``test``, ``error``, ``note``)
        write_atomic(path, json.dumps(strict(self.to_dict()), indent=2, ensure_ascii=False, allow_nan=False) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> RunResult:
        """Load ``results.json`` (or the run directory holding it).

        Raises:
            PromptkitError: missing file, invalid JSON, or an unknown schema version.
        """
        path = Path(path)
        if path.is_dir():
            path = path / "results.json"
        try:
            data = json.loads(read_text(path, "a run's results.json", MAX_RESULTS_BYTES))
        except FileNotFoundError:
            raise PromptkitError(f"{path}: not found; give a run directory or its results.json") from None
        except json.JSONDecodeError as exc:
            raise PromptkitError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
        except UnicodeDecodeError as exc:
            raise PromptkitError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); not a results.json") from None
        if not isinstance(data, dict):
            raise RecordError(f"{path}: a results.json holds an object, not {type(data).__name__}; not a run's results.json")
        version = data.get("schema_version")
        if version not in READABLE_VERSIONS:
            accepted = ", ".join(map(str, READABLE_VERSIONS))
            raise PromptkitError(f"{path}: schema_version {version!r} is not supported; accepted: {accepted}")
        if version < 3:  # older comparisons and verdicts are dropped (report recomputes them)
            data = {k: v for k, v in data.items() if k not in ("comparisons", "verdicts")}
        try:
            data = conform(RunResult, data, "", extra="ignore")
            _check_cells(data)
            _check_model(data)
        except RecordError as exc:
            raise RecordError(f"{path}: {exc}; the file was edited or damaged (promptkit writes it whole)") from None
        return cls(
            run_id=data["run_id"],
            created=data["created"],
            config=data["config"],
            model=data.get("model", {}),
            chat_template=data.get("chat_template", False),
            environment=data.get("environment", {}),
            tasks={name: TaskInfo.from_dict(info) for name, info in data.get("tasks", {}).items()},
            cells=[CellResult.from_dict(c) for c in data.get("cells", [])],
            timings=data.get("timings", {}),
            comparisons=[PairComparison.from_dict(p) for p in data.get("comparisons", [])],
            verdicts=[Verdict.from_dict(v) for v in data.get("verdicts", [])],
            seed_summaries=[SeedSummary.from_dict(s) for s in data.get("seed_summaries", [])],
            group_scores=[GroupScore.from_dict(g) for g in data.get("group_scores", [])],
            commands=list(data.get("commands", [])),
        )


def _check_model(data: Mapping[str, Any]) -> None:
    """The model's figures the reports compute with (``model`` is free-form otherwise)."""
    value = (data.get("model") or {}).get("parameters", 0)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < float("inf"):
        raise RecordError(f"model.parameters: {value!r} is not a number of parameters")


def _check_cells(data: Mapping[str, Any]) -> None:
    """What types alone do not say: counts are not negative, every cell's task is one the run
    recorded, and no two cells share a key."""
    seen: dict[tuple[Any, ...], int] = {}
    tasks = data.get("tasks") or {}
    for i, cell in enumerate(data.get("cells", [])):
        if tasks and cell["task"] not in tasks:
            raise RecordError(f"cells[{i}].task: {cell['task']!r} is not one of the run's tasks ({', '.join(map(repr, tasks))})")
        for name in ("n", "shots"):
            if cell.get(name, 0) < 0:
                raise RecordError(f"cells[{i}].{name}: {cell[name]} is negative")
        key = (cell["task"], cell["prompt"], cell["method"], cell.get("seed"))
        if key in seen:
            raise RecordError(f"cells[{i}]: task {key[0]!r}, prompt {key[1]!r}, method {key[2]!r}, seed {key[3]!r} "
                              f"is also cells[{seen[key]}]; a run holds one cell per key")
        seen[key] = i
