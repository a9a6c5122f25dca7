"""Zero-shot and few-shot prompting: nothing is learned, the prompt carries the task."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field
from typing_extensions import Self

from promptkit.config import GenerationSettings, MethodBase
from promptkit.harness import predict
from promptkit.methods.base import Method, register_method
from promptkit.records import Prediction, Prompt


class ZeroShotConfig(MethodBase):
    kind: Literal["zero-shot"] = "zero-shot"


class FewShotConfig(MethodBase):
    kind: Literal["few-shot"] = "few-shot"
    # None: the task's fewshot.shots.
    shots: int | None = Field(default=None, ge=1, le=64)


@register_method(ZeroShotConfig)
class ZeroShotMethod(Method):
    """The task's prompt template alone."""

    def fit(self, train: Sequence[Prompt]) -> Self:
        return self

    def predict(self, prompts: Sequence[Prompt], generation: GenerationSettings, normalization: str = "none") -> list[Prediction]:
        return predict(self.model, prompts, generation, self.runtime, normalization)


@register_method(FewShotConfig)
class FewShotMethod(ZeroShotMethod):
    """The template preceded by k demonstrations drawn (seeded) from the training split."""

    needs_pool = True

    @classmethod
    def wanted_shots(cls, config: Any, task_default: int) -> int:
        return config.shots if config.shots is not None else task_default
