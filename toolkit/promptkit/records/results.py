"""``RunResult``: everything a run measured, saved as ``results.json`` (schema-versioned)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from promptkit.errors import PromptkitError
from promptkit.records import Cost, MetricScore, TrainingReport

# 2: cells carry the training seed (several seeds per method); all-pairs comparisons and
# verdicts replace the per-cell comparison with the first method. Version 1 files are read by
# dropping that per-cell comparison (``promptkit report RUN`` recomputes the pairs).
# 3: a verdict is a declared decision (family, margin, one outcome per method) instead of a
# "tied" group; comparisons carry their family and interval. Verdicts and comparisons of older
# files are dropped on reading (``promptkit report RUN`` recomputes them from the samples).
SCHEMA_VERSION = 3
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
        metrics / generation: what was computed, with which settings.
        language / labels / squad_version / bleu_tokenize: the metric context, so that
            ``promptkit report`` recomputes comparisons exactly as the run did.
        overlaps: evaluated rows also seen in training or the few-shot pool, allowed by
            ``--allow-overlap`` (one line each).
        group_by / groups: the split's grouping column and the number of its groups evaluated
            (intervals and tests resample groups: a cluster bootstrap).
        fingerprint: digest of the rows read (evaluated, training, few-shot pool) and the
            prompt templates; ``--resume`` refuses to continue a run whose task data or
            templates changed since (empty in files of older promptkit versions: not checked).
    """

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

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("metrics", "labels", "overlaps"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskInfo:
        """Fields a file lacks (written by an older promptkit) take their defaults."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("metrics", "labels", "overlaps"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)


@dataclass
class CellResult:
    """One task x prompt template x method evaluation."""

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
    # The context-length policy and what it did (promptkit.prompting.context.ContextReport.to_dict);
    # trained cells also hold it for their training prompts under "training".
    context: dict[str, Any] | None = None

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
        return cls(**data)


@dataclass(frozen=True)
class PairComparison:
    """Method ``a`` against method ``b`` on one metric, on the same examples.

    Attributes:
        delta: ``metric(a) - metric(b)`` (means over seeds for multi-seed methods).
        p_value: two-sided p-value of the test named by ``test``.
        p_adjusted: ``p_value`` adjusted over its family: Bonferroni over the confirmatory
            comparisons with the best, Holm over every secondary pair and metric of the task.
        test: ``paired-t`` / ``cluster-t-cr2`` (means of per-row scores; ``+seeds`` with the
            training-seed variance added), ``paired-sign-flip[-exact]`` / ``cluster-sign-flip[-exact]``
            or ``...-two-level-bootstrap`` (corpus metrics); see promptkit.metrics.paired.
        resamples: number of resamples for a resampling test (its p cannot go below
            ``1 / (resamples + 1)``); None for an analytic or exactly enumerated test.
        mdd: the smallest true difference this test detects with 80% power at the family's
            adjusted level (Bonferroni's bound ``alpha / family size``), from the test's own
            standard error; for right/wrong outcomes never below what an exact test can reject.
        family: ``confirmatory`` (a comparison with the best on the selection metric, adjusted
            over that family) or ``secondary`` (every pair on every metric, Holm over them all:
            ``p_adjusted``).
        ci_low / ci_high: the 95% interval of ``delta`` (unadjusted; the verdict holds the
            adjusted ones).
    """

    task: str
    prompt: str
    metric: str
    a: str
    b: str
    delta: float
    p_value: float
    p_adjusted: float
    test: str
    n: int
    resamples: int | None
    mdd: float
    family: str = "secondary"
    ci_low: float = float("nan")
    ci_high: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PairComparison:
        return cls(**dict(data))


Outcome = Literal["best", "worse", "equivalent", "inconclusive", "excluded"]


@dataclass(frozen=True)
class MethodOutcome:
    """One method in a verdict: how it compares with the best method on the selection metric.

    Attributes:
        value: its (seed-averaged) value on the selection metric.
        outcome: ``best``; ``worse`` (the family-adjusted test rejects equality); ``equivalent``
            (the adjusted interval of best - method lies within the margin, whether or not it
            excludes 0); ``inconclusive`` (neither); ``excluded`` (too many rows skipped to compete).
        loss: ``best - method`` (0 for the best).
        ci_low / ci_high: the family-adjusted interval of ``loss`` (level ``1 - alpha / family_size``).
        p_value / p_adjusted: the test's p and its Bonferroni adjustment over the family.
        test / resamples: which test (``paired-t``, ``cluster-t-cr2``, ``...-sign-flip-exact``...) and
            its draws (None: analytic or exact).
        mdd: the smallest loss the test detects with 80% power at the adjusted level.
        groups_to_separate / rows_to_separate: test-set size at which the observed loss would be
            detected with 80% power (inconclusive methods; None: not reachable with rows alone).
        groups_for_equivalence / rows_for_equivalence: the same for showing equivalence within the
            margin at the observed loss.
        skipped / truncated: evaluated rows the context-length policy skipped or truncated.
        note: why a method was excluded, or why its p could not be settled.
        tested: False when no test could be run (``bootstrap_samples: 0`` for a corpus metric).
        why_not_separate / why_not_equivalent: why a size is None (inconclusive methods).
    """

    method: str
    value: float
    outcome: Outcome
    loss: float = 0.0
    ci_low: float = float("nan")
    ci_high: float = float("nan")
    p_value: float = float("nan")
    p_adjusted: float = float("nan")
    test: str = ""
    resamples: int | None = None
    mdd: float = float("nan")
    groups_to_separate: int | None = None
    rows_to_separate: int | None = None
    groups_for_equivalence: int | None = None
    rows_for_equivalence: int | None = None
    skipped: int = 0
    truncated: int = 0
    note: str = ""
    tested: bool = True
    why_not_separate: str = ""
    why_not_equivalent: str = ""


@dataclass(frozen=True)
class Verdict:
    """The declared decision for one task/prompt: the best method on the selection metric, every
    other method's outcome against it, and the recommendation.

    Attributes:
        metric: the selection metric (``verdict.metric``, else the task's first metric).
        alpha / margin: the family-wise level and the equivalence margin (points of ``metric``);
            ``margin_source`` says where the margin was set (``default``, ``task`` or ``run``).
        best: the best competing method ("" when every method was excluded; then ``recommended``
            is "" too).
        family: the confirmatory family in words; ``family_size`` its number of comparisons and
            ``adjustment`` how they are adjusted. Everything else in ``comparisons`` is secondary.
        outcomes: one per method, in run order.
        recommended: the cheapest of the best and the methods shown equivalent to it.
        reason: the one-line recommendation with its evidence.
    """

    task: str
    prompt: str
    metric: str
    alpha: float
    margin: float
    family: str
    family_size: int
    adjustment: str
    best: str
    best_value: float
    outcomes: tuple[MethodOutcome, ...]
    recommended: str
    reason: str
    margin_source: str = "default"

    @property
    def equivalent(self) -> tuple[str, ...]:
        return tuple(o.method for o in self.outcomes if o.outcome == "equivalent")

    def outcome(self, method: str) -> MethodOutcome | None:
        return next((o for o in self.outcomes if o.method == method), None)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcomes"] = [asdict(o) for o in self.outcomes]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        data = dict(data)
        data["outcomes"] = tuple(MethodOutcome(**o) for o in data["outcomes"])
        return cls(**data)


@dataclass(frozen=True)
class SeedSummary:
    """A method trained with several seeds, on one metric: the spread across seeds.

    Attributes:
        values: the metric of each seed, in ``seeds`` order.
        sd: sample standard deviation across seeds (ddof 1).
        ci_sample: 95% interval of the seed mean with the seeds held fixed (test-sample
            variance only: what a single-seed report shows).
        ci_seed_sample: 95% two-level bootstrap interval, resampling seeds and test examples
            (the uncertainty of "this method, trained again").
    """

    task: str
    prompt: str
    method: str
    metric: str
    seeds: tuple[int, ...]
    values: tuple[float, ...]
    mean: float
    sd: float
    ci_sample: tuple[float, float]
    ci_seed_sample: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("seeds", "values", "ci_sample", "ci_seed_sample"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SeedSummary:
        data = dict(data)
        for key in ("seeds", "values", "ci_sample", "ci_seed_sample"):
            data[key] = tuple(data[key])
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
            "commands": list(self.commands),
        }

    def save(self, run_dir: str | Path) -> Path:
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        path = run_dir / "results.json"
        write_atomic(path, json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")
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
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PromptkitError(f"{path}: not found; give a run directory or its results.json") from None
        except json.JSONDecodeError as exc:
            raise PromptkitError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
        version = data.get("schema_version")
        if version not in READABLE_VERSIONS:
            accepted = ", ".join(map(str, READABLE_VERSIONS))
            raise PromptkitError(f"{path}: schema_version {version!r} is not supported; accepted: {accepted}")
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
            comparisons=[PairComparison.from_dict(p) for p in data.get("comparisons", [])] if version >= 3 else [],
            verdicts=[Verdict.from_dict(v) for v in data.get("verdicts", [])] if version >= 3 else [],
            seed_summaries=[SeedSummary.from_dict(s) for s in data.get("seed_summaries", [])],
            commands=list(data.get("commands", [])),
        )


@dataclass
class SampleRow:
    """One evaluated example of one cell: a line of ``samples/<task>/<method>.jsonl`` (a file holds
    every prompt template and seed of one task x method entry).

    Attributes:
        scores: the per-example score of every metric that has one (corpus metrics have none).
        group: the example's group (``group_by``; written only when the split has one): the
            paired tests of ``promptkit report`` resample by it.
        choices / choice_logprobs / label / predicted_label: tasks that score choices only.
        extra: keys of a hand-edited or newer file, kept as they were.
    """

    example_id: str
    prompt_name: str
    method: str
    seed: int | None
    prompt: str = ""
    prediction: str = ""
    raw_output: str = ""
    references: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    prompt_tokens: int = 0
    output_tokens: int = 0
    group: str | None = None
    choices: list[str] | None = None
    choice_logprobs: list[float] | None = None
    label: int | None = None
    predicted_label: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, int | None]:
        """The cell it belongs to within its file: prompt template, method entry, seed."""
        return (self.prompt_name, self.method, self.seed)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        extra = data.pop("extra")
        if self.group is None:
            del data["group"]
        if self.choices is None:
            for key in ("choices", "choice_logprobs", "label", "predicted_label"):
                del data[key]
        return {**data, **extra}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SampleRow:
        known = {f.name for f in fields(cls)} - {"extra"}
        return cls(**{k: v for k, v in data.items() if k in known},
                   extra={k: v for k, v in data.items() if k not in known})


def sample_lines(rows: Iterable[SampleRow]) -> str:
    """A samples file's text (one JSON line per row)."""
    return "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in rows)


def read_samples(path: Path) -> list[SampleRow]:
    """Every row of a samples file (lines end at ``\\n`` only: text may hold U+2028)."""
    with path.open(encoding="utf-8", newline="\n") as fh:
        return [SampleRow.from_json(json.loads(line)) for line in fh]


def cell_rows(path: Path, cells: Iterable[CellResult]) -> list[SampleRow]:
    """The rows of the samples file ``path`` that belong to one of ``cells``, in file order."""
    keys = {(c.prompt, c.method, c.seed) for c in cells}
    return [r for r in read_samples(path) if r.key in keys] if path.is_file() else []


class SampleFiles:
    """The samples files of one run directory, each read once: ``rows(cell)`` is a cell's rows
    in the order they were scored."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self._files: dict[Path, list[SampleRow]] = {}

    def file(self, rel: str) -> list[SampleRow]:
        path = self.run_dir / rel
        if path not in self._files:
            self._files[path] = read_samples(path) if path.is_file() else []
        return self._files[path]

    def loaded(self) -> dict[Path, list[SampleRow]]:
        """The files read so far (their rows are the objects ``rows`` returned)."""
        return dict(self._files)

    def rows(self, cell: CellResult) -> list[SampleRow]:
        if not cell.samples:
            return []
        key = (cell.prompt, cell.method, cell.seed)
        return [r for r in self.file(cell.samples) if r.key == key]


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file, fsync and rename, so readers never see half a file; the file's
    mode follows the umask like any other file the user creates."""
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a report is as readable as any file the user writes
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())  # on disk before the rename makes it the file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
