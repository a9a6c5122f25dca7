"""The run config (:class:`RunConfig`) and how it is built from layers: defaults, then a run
YAML, then CLI flags, then ``--set``.

An explicit ``false``, ``0`` or ``""`` is a real value at every layer; only options the user did
not give (``None``) fall through to the layer below.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from promptkit.config import (
    FILE_NAME_RE,
    MAX_BOOTSTRAP_SAMPLES,
    ContextPolicy,
    ForgettingSettings,
    ModelConfig,
    Strict,
    TrainingConfig,
    TuningConfig,
    VerdictSettings,
    entry_label,
)
from promptkit.config.documents import (
    YamlDocument,
    apply_overrides,
    read_yaml,
    validate,
)
from promptkit.errors import ConfigError, Problem, suggest
from promptkit.methods import METHODS, MethodConfig, method_kinds
from promptkit.records.validation import RecordError, conform_value


class RayConfig(Strict):
    """``--launcher ray``: where the cluster is and what each cell asks of it."""

    # None: RAY_ADDRESS, else a local Ray instance on this machine
    address: str | None = None
    num_cpus: float = Field(default=1.0, ge=0.0)
    num_gpus: float = Field(default=0.0, ge=0.0)


class RunConfig(Strict):
    """Everything a run needs; what the CLI builds and what results.json records."""

    tasks: list[str] = Field(default_factory=list)
    methods: list[MethodConfig] = Field(default_factory=list)
    model: ModelConfig = Field(default_factory=ModelConfig)
    limit: int | None = Field(default=None, ge=1)
    # Evaluation batch (generation, choice scoring); predictions do not depend on it. 16 runs
    # 1.6x faster than 8 on a 2-core CPU (benchmarks/generation_throughput.py).
    batch_size: int = Field(default=16, ge=1)
    # Examples predicted between two saves of a cell's progress (promptkit.run.progress): a killed
    # run loses at most this many predictions. None: 8 batches. A resumed run must use the
    # value of the run it continues, since a chunk's batches are formed within it.
    save_every: int | None = Field(default=None, ge=1)
    # Prompts longer than the model reads (promptkit.prompting.context): overrides every task's own
    # context_policy; None: each task's, else truncate-left.
    context_policy: ContextPolicy | None = None
    seed: int = 0
    data_dir: str | None = None
    tasks_dir: list[str] = Field(default_factory=list)
    out_dir: str = "reports"
    # the run's directory under out_dir: one path segment ('' or None: a new timestamped id)
    run_id: str | None = None
    # Resamples of every bootstrap interval and test; 0: none (corpus metrics then get no
    # interval). At most MAX_BOOTSTRAP_SAMPLES (promptkit.config says why).
    bootstrap_samples: int = Field(default=1000, ge=0, le=MAX_BOOTSTRAP_SAMPLES)
    # Verdict settings for every task (None fields: each task's own, else the defaults).
    verdict: VerdictSettings = Field(default_factory=VerdictSettings)
    # The forgetting probe of adapted methods (loss on general text, adapted minus base).
    forgetting: ForgettingSettings = Field(default_factory=ForgettingSettings)
    # Few-shot shot count for every task (None: each task's fewshot.shots).
    shots: int | None = Field(default=None, ge=0, le=64)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    tuning: TuningConfig = Field(default_factory=TuningConfig)
    # Run although evaluated rows also occur in the train split or few-shot pool
    # (promptkit.tasks.leakage); the overlaps found are recorded per task in results.json.
    allow_overlap: bool = False
    # Run the task code of lm-eval tasks (process_docs, !function doc_to_text...; see
    # promptkit.tasks.lmeval.code): --trust-task-code. Without it such a task is refused.
    trust_task_code: bool = False
    # Experiment trackers each cell is logged to (promptkit.run.tracking): --report-to.
    report_to: list[str] = Field(default_factory=list)
    # Where the cells run: this process, or Ray tasks on a cluster (promptkit.run.ray).
    launcher: Literal["local", "ray"] = "local"
    ray: RayConfig = Field(default_factory=RayConfig)

    @field_validator("run_id")
    @classmethod
    def _one_folder(cls, value: str | None) -> str | None:
        if value and (not re.fullmatch(FILE_NAME_RE, value) or len(value) > 100):
            raise ValueError(f"{value[:120]!r} is not a run id: one folder name of letters, digits, '_', '-' and '.', "
                             "starting with a letter or digit, at most 100 characters")
        return value

    @field_validator("methods", mode="before")
    @classmethod
    def _method_names(cls, value: Any) -> Any:
        # `methods: [zero-shot, {kind: few-shot, shots: 5}]`: a bare name means its defaults.
        if isinstance(value, list):
            return [{"kind": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("methods")
    @classmethod
    def _unique_methods(cls, value: list[Any]) -> list[Any]:
        kinds = set(method_kinds())
        for m in value:
            if m.name is not None and m.name in kinds and m.name != m.kind:
                raise ValueError(f"method name {m.name!r} is another method's kind; choose a name such as '{m.kind}-{m.name}'")
        labels = [m.label for m in value]
        dupes = sorted({k for k in labels if labels.count(k) > 1})
        if dupes:
            example = next(m for m in value if m.label == dupes[0])
            raise ValueError(
                f"methods listed twice: {dupes}; give each entry a different name to compare two "
                f"configurations, e.g. {{kind: {example.kind}, name: {example.kind}-2, ...}}"
            )
        return value

    @field_validator("shots")
    @classmethod
    def _shots_for_few_shot(cls, value: int | None, info: ValidationInfo) -> int | None:
        # `--shots 0` (or `shots: 0`) would silently turn each entry that draws demonstrations and
        # takes the run's count into a second zero-shot column; one with its own `shots` keeps it.
        # The CLI always lists the methods (the default comparison included) before validating.
        if value == 0:
            for m in info.data.get("methods") or []:
                method = METHODS.get(m.kind)
                if method.needs_pool and method.wanted_shots(m, value) == 0:
                    raise ValueError(f"{m.label} needs at least 1 demonstration (got 0; accepted: 1 to 64); "
                                     "--method zero-shot is the zero-shot column")
        return value

    @field_validator("forgetting")
    @classmethod
    def _probe_for_max_forgetting(cls, value: ForgettingSettings, info: ValidationInfo) -> ForgettingSettings:
        verdict = info.data.get("verdict")
        if not value.enabled and verdict is not None and verdict.max_forgetting is not None:
            raise ValueError(f"is off (--no-forgetting) while verdict.max_forgetting is {verdict.max_forgetting:g}: "
                             "the verdict would have nothing to hold the methods against; turn one of them off")
        return value

    @field_validator("report_to")
    @classmethod
    def _known_trackers(cls, value: list[str]) -> list[str]:
        from promptkit.run.tracking import tracker_names

        names = tracker_names()
        for name in value:
            if name not in names:
                raise ValueError(f"unknown tracker {name!r}; {suggest(name, names)}")
        return value




@dataclass(frozen=True)
class RunSettings:
    """The settings of a recorded run that reports and statistics read, typed: from a run's
    results.json ``config`` (a :class:`RunConfig` dumped) or a merged run's (``merged_from``
    and the first run's seed and resampling). A key the file lacks takes :class:`RunConfig`'s
    default, so no reader restates one.
    """

    seed: int
    bootstrap_samples: int
    batch_size: int | None
    limit: int | None
    training_seeds: tuple[int, ...]
    methods: tuple[str, ...]  # entry labels, in the order the run lists them
    verdict: dict[str, Any]
    merged_from: tuple[dict[str, Any], ...] = ()

    @classmethod
    def of(cls, config: Mapping[str, Any], where: str = "config") -> RunSettings:
        """Raises:
            RecordError: a setting of the wrong type (a hand-edited results.json), naming it."""
        defaults = RunConfig.model_fields

        def get(key: str, hint: Any, default: Any = None) -> Any:
            return conform_value(config.get(key, default), hint, f"{where}.{key}")

        if not isinstance(config, Mapping):
            raise RecordError(f"{where}: expected an object, got {type(config).__name__}")
        seed = get("seed", int, defaults["seed"].default)
        merged = tuple(get("merged_from", list[dict[str, Any]] | None) or ())
        training = get("training", dict[str, Any] | None) or {}
        seeds = conform_value(training.get("seeds"), list[int] | None, f"{where}.training.seeds")
        methods = get("methods", list[str | dict[str, Any]] | None) or []
        try:
            labels = tuple(entry_label(m) for m in methods)
        except (KeyError, TypeError, AttributeError):
            raise RecordError(f"{where}.methods: every entry needs a 'kind' (or is a method name)") from None
        return cls(
            seed=seed,
            bootstrap_samples=get("bootstrap_samples", int, defaults["bootstrap_samples"].default),
            batch_size=None if merged else get("batch_size", int | None, defaults["batch_size"].default),
            limit=get("limit", int | None),
            training_seeds=tuple(seeds or [seed]),
            methods=labels,
            verdict=dict(get("verdict", dict[str, Any] | None) or {}),
            merged_from=merged,
        )


def _apply_method_sets(data: dict[str, Any], sets: Sequence[str]) -> tuple[dict[str, Any], list[str], dict[str, str]]:
    """Route ``--set few-shot.shots=5`` to the run's method entry of that kind.

    Returns the data, the other ``--set`` items, and the key paths the routed items wrote
    (``methods[2].rank`` -> ``lora.rank``) so problems can be reported as the user wrote them.
    """
    kinds = set(method_kinds())
    rest: list[str] = []
    routed: dict[str, str] = {}
    methods = [dict(m) if isinstance(m, Mapping) else {"kind": m} for m in data.get("methods", [])]
    names = {m["name"] for m in methods if isinstance(m.get("name"), str)}
    problems = []
    for item in sets:
        head = item.partition("=")[0].split(".")[0].strip()
        if head not in kinds and head not in names:
            rest.append(item)
            continue
        # `lora.rank=16`: the entry labelled `lora` if there is one, else every LoRA entry;
        # `lora-r64.rank=64`: the entry named `lora-r64`
        targets = [m for m in methods if entry_label(m) == head] or [m for m in methods if m.get("kind") == head]
        if not targets:
            listed = ", ".join(entry_label(m) for m in methods) or "none"
            problems.append(Problem(f"--set {item!r}: method {head!r} is not in this run (methods: {listed}); add --method {head}"))
            continue
        sub = item[len(head) + 1 :]
        for m in targets:
            m.update(apply_overrides({}, [sub]))
            key = sub.partition("=")[0].strip()
            routed[f"methods[{methods.index(m)}].{key}"] = f"{head}.{key}"
    if problems:
        raise ConfigError(problems)
    if methods:
        data = {**data, "methods": methods}
    return data, rest, routed


def _as_written(problem: Problem, routed: Mapping[str, str]) -> Problem:
    """A problem in a value given with ``--set lora.rank=...`` named the way it was given."""
    for path, written in routed.items():
        if problem.key is not None and (problem.key == path or problem.key.startswith((path + ".", path + "["))):
            return Problem(problem.message, "--set", None, written + problem.key[len(path) :])
    for path, written in routed.items():
        # a problem of the whole entry (a check across its settings, e.g. its `tune` space)
        entry, head = path.split(".", 1)[0], written.split(".", 1)[0]
        if problem.key == entry:
            return Problem(problem.message, "--set", None, head)
    return problem


def build_run_config(
    config_file: str | Path | None = None,
    options: Mapping[str, Any] | None = None,
    sets: Sequence[str] = (),
    default_methods: Sequence[str] = (),
    base: Mapping[str, Any] | None = None,
) -> RunConfig:
    """Layer the sources and validate.

    Args:
        config_file: optional run YAML.
        options: CLI values; ``None`` means "not given". Dotted keys (``model.name``) nest.
        sets: ``key=value`` overrides, applied last.
        default_methods: methods to use when neither the YAML nor the CLI names any (lets
            ``--set`` address them).
        base: settings the others are layered on (a resumed run's own), instead of none.

    Raises:
        ConfigError: with the file, line and key of every problem.
    """
    doc: YamlDocument
    if config_file is not None:
        doc = read_yaml(config_file)
    else:
        # No file: problems are located by key path only (no misleading line number).
        doc = YamlDocument({}, {}, "<command line>")
    data: dict[str, Any] = {**copy.deepcopy(dict(base or {})), **doc.data}
    for key, value in (options or {}).items():
        if value is None or value == ():
            continue
        target = data
        parts = key.split(".")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = list(value) if isinstance(value, tuple) else value
    if not data.get("methods") and default_methods:
        data["methods"] = list(default_methods)
    data, rest, routed = _apply_method_sets(data, sets)
    data = apply_overrides(data, rest)
    doc = YamlDocument(data, doc.lines, doc.file)
    try:
        return validate(RunConfig, doc)
    except ConfigError as exc:
        if not routed:
            raise
        raise ConfigError([_as_written(p, routed) for p in exc.problems]) from exc


def resume_run_config(run_dir: str | Path) -> RunConfig:
    """The config of an existing run, pointed at that run's directory.

    Raises:
        PromptkitError: no results.json there (not a run directory).
    """
    from promptkit.records.results import RunResult

    run_dir = Path(run_dir)
    result = RunResult.load(run_dir)
    data = dict(result.config)
    data["out_dir"] = str(run_dir.parent)
    data["run_id"] = run_dir.name
    doc = YamlDocument(data, {}, str(run_dir / "results.json"))
    return validate(RunConfig, doc)


# Settings a resumed run may change: where its inputs are found. The data read there is
# checked against the run's own (TaskInfo.fingerprint), so a move cannot change finished work.
RESUME_MAY_CHANGE = ("data_dir", "tasks_dir", "report_to", "launcher", "ray")


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, Mapping):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flat(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): data}


def check_resume_settings(stored: RunConfig, asked: RunConfig, run_dir: str | Path) -> RunConfig:
    """The stored config, with the changes ``--resume`` allows taken from ``asked``.

    Raises:
        ConfigError: one line per setting that differs from the run's and could change what it
            computes (another limit, model, method or training budget), with both values.
    """
    from promptkit.config import dump

    old, new = _flat(dump(stored)), _flat(dump(asked))
    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    refused = [k for k in changed if k.split(".")[0] not in RESUME_MAY_CHANGE]
    if refused:
        def shown(value: Any) -> str:
            return "unset" if value is None else repr(value)

        raise ConfigError([Problem(f"{k}: the run has {shown(old.get(k))}, the command asks {shown(new.get(k))}; "
                                   f"--resume continues {run_dir} as it was set up; start a new run (another --run-id) "
                                   "for other settings", "--resume") for k in refused])
    return stored.model_copy(update={k: getattr(asked, k) for k in RESUME_MAY_CHANGE})
