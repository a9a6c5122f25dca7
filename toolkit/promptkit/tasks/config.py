"""The task config: where a task's data is, how its rows become examples (its adapter), how they
are prompted and scored. The ``adapter`` union is the adapter registry's
(``promptkit.tasks.adapters.AdapterConfig``); ``filters`` are ``promptkit.tasks.filters``'s."""

from __future__ import annotations

from typing import Any, Union

from pydantic import Field, field_validator, model_validator

from promptkit.config import (
    FILE_NAME_RE,
    ContextPolicy,
    FewShotSettings,
    FilesSource,
    GenerationSettings,
    PromptConfig,
    Source,
    Strict,
    VerdictSettings,
)
from promptkit.config.patterns import compile_checked
from promptkit.errors import suggest
from promptkit.records.columns import column_name
from promptkit.tasks.adapters import ADAPTERS, AdapterConfig
from promptkit.tasks.filters import MAX_PIPELINES, FilterPipeline


class StringMatchSettings(Strict):
    """The options of the metric ``string_match``: lm-evaluation-harness's ``exact_match`` options
    (``promptkit.metrics.matching``), applied to outputs and references alike."""

    ignore_case: bool = False
    ignore_punctuation: bool = False
    ignore_numbers: bool = False
    # deleted in order (re.sub(pattern, "", text)) before the other options apply
    regexes_to_ignore: list[str] = Field(default_factory=list, max_length=64)

    @field_validator("regexes_to_ignore")
    @classmethod
    def _compiled(cls, value: list[str]) -> list[str]:
        for pattern in value:
            compile_checked(pattern)  # PatternError is a ValueError: pydantic reports its message at the key
        return value


class MetricOptions(Strict):
    """Settings of the metrics that take some, by metric name."""

    string_match: StringMatchSettings = Field(default_factory=StringMatchSettings)


class TaskConfig(Strict):
    """A task: where the data is, how rows become examples, how they are prompted and scored."""

    # a directory name under samples/: one segment
    name: str = Field(pattern=FILE_NAME_RE, max_length=100)
    version: int | str = 1
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    dataset: Source
    # Alternative source used when a data directory is given (offline copies).
    offline: FilesSource | None = None
    adapter: AdapterConfig
    eval_split: str = "test"
    train_split: str | None = "train"
    prompts: list[Union[str, PromptConfig]] = Field(min_length=1)
    metrics: list[str] = Field(min_length=1)
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    fewshot: FewShotSettings = Field(default_factory=FewShotSettings)
    # Default --limit for this task (None: the whole eval split).
    limit: int | None = Field(default=None, ge=1)
    # Prompts longer than the model reads: truncate-left (the longest field loses its oldest
    # tokens), skip or error (promptkit.prompting.context). None: the run's setting, else truncate-left.
    context_policy: ContextPolicy | None = None
    # How the verdict is decided: selection metric, equivalence margin, alpha.
    verdict: VerdictSettings = Field(default_factory=VerdictSettings)
    # Output filter pipelines (promptkit.tasks.filters): every metric is scored on every
    # pipeline's result, as the column metric[pipeline]. None: the outputs are scored as they are.
    filters: list[FilterPipeline] = Field(default_factory=list, max_length=MAX_PIPELINES)
    # Options of the metrics that take some (string_match: lm-eval's exact_match options).
    metric_options: MetricOptions = Field(default_factory=MetricOptions)

    def columns(self) -> list[str]:
        """The score columns, in the order results list them: the metrics, or with ``filters``
        each metric on each pipeline (``exact_match[strict-match]``). The first decides what a
        selection (tuning, dev curves, the verdict unless ``verdict.metric`` says) is made on."""
        if not self.filters:
            return list(self.metrics)
        return [column_name(m, f.name) for m in self.metrics for f in self.filters]

    @model_validator(mode="after")
    def _check_splits(self) -> TaskConfig:
        for label, source in (("dataset", self.dataset), ("offline", self.offline)):
            if source is None:
                continue
            needed = {self.eval_split}
            if self.train_split:
                needed.add(self.train_split)
            missing = sorted(needed - set(source.splits))
            if missing:
                raise ValueError(
                    f"{label}.splits has no {', '.join(map(repr, missing))}; "
                    f"it defines {sorted(source.splits)} (eval_split={self.eval_split!r}, "
                    f"train_split={self.train_split!r})"
                )
        if self.fewshot.split == self.eval_split:
            raise ValueError(
                f"fewshot.split {self.fewshot.split!r} is the evaluated split; demonstrations "
                "must come from another split (e.g. 'train')"
            )
        if self.verdict.metric is not None and self.verdict.metric not in self.columns():
            what = "metrics" if not self.filters else "columns (each metric on each filter)"
            raise ValueError(f"verdict.metric {self.verdict.metric!r} is not one of the task's {what} {self.columns()}")
        return self

    @model_validator(mode="after")
    def _check_filters(self) -> TaskConfig:
        names = [f.name for f in self.filters]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"filters: pipeline names used twice: {dupes}; each names its own score columns")
        for option in self.metric_options.model_fields_set:
            if option not in self.metrics:
                raise ValueError(f"metric_options.{option} is set, but {option!r} is not one of the task's metrics {self.metrics}")
        wanted = sorted({name for f in self.filters for name in f.choices_fields()})
        if wanted:
            fields = getattr(self.adapter, "fields", None)
            variables = ADAPTERS.get(self.adapter.kind)(self.adapter, fields).variables() if fields is not None else set()
            for name in wanted:
                if name not in variables:
                    raise ValueError(f"filters: multi_choice_regex reads the row's choices from field {name!r}, which "
                                     f"adapter {self.adapter.kind!r} does not give (it gives {sorted(variables)}); map the "
                                     "column under adapter.fields.inputs, or set choices_field")
        return self

    @field_validator("prompts")
    @classmethod
    def _prompt_kinds(cls, value: list[Any]) -> list[Any]:
        for prompt in value:
            kind = getattr(prompt, "kind", None)
            if kind is not None and kind not in ADAPTERS:
                raise ValueError(f"prompt {prompt.name!r}: unknown adapter kind {kind!r}; {suggest(kind, ADAPTERS.in_order())}")
        return value

    @field_validator("metrics")
    @classmethod
    def _unique_metrics(cls, value: list[str]) -> list[str]:
        dupes = sorted({m for m in value if value.count(m) > 1})
        if dupes:
            raise ValueError(f"metrics listed twice: {dupes}")
        return value
