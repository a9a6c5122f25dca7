"""The task config: where a task's data is, how its rows become examples (its adapter), how they
are prompted and scored. The ``adapter`` union is the adapter registry's
(``promptkit.tasks.adapters.AdapterConfig``)."""

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
from promptkit.errors import suggest
from promptkit.tasks.adapters import ADAPTERS, AdapterConfig


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
        if self.verdict.metric is not None and self.verdict.metric not in self.metrics:
            raise ValueError(f"verdict.metric {self.verdict.metric!r} is not one of the task's metrics {self.metrics}")
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
