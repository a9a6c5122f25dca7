"""Zero-shot and few-shot prompting: nothing is learned, the prompt carries the task."""

from __future__ import annotations

from collections.abc import Sequence

from typing_extensions import Self

from promptkit.config import GenerationSettings
from promptkit.harness import predict
from promptkit.methods.base import METHODS, Method
from promptkit.records import Prediction, Prompt


@METHODS.register("zero-shot")
class ZeroShotMethod(Method):
    """The task's prompt template alone."""

    kind = "zero-shot"

    def fit(self, train: Sequence[Prompt]) -> Self:
        return self

    def predict(self, prompts: Sequence[Prompt], generation: GenerationSettings, normalization: str = "none") -> list[Prediction]:
        return predict(self.model, prompts, generation, self.runtime, normalization)


@METHODS.register("few-shot")
class FewShotMethod(ZeroShotMethod):
    """The template preceded by k demonstrations drawn (seeded) from the training split."""

    kind = "few-shot"

    def shots(self, task_default: int) -> int:
        return self.config.shots if self.config.shots is not None else task_default
