"""The method contract (scikit-learn style) and the method registry.

A method is built as ``Method(config, model, runtime)``; ``fit(train_prompts)`` returns the
method itself and stores learned state in attributes ending with ``_``; ``predict(prompts)``
returns one :class:`Prediction` per prompt. Prompting methods learn nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from typing_extensions import Self

from promptkit.config import GenerationSettings
from promptkit.harness import Runtime
from promptkit.records import Prediction, Prompt
from promptkit.registry import Registry


class Method(ABC):
    """Base class of every method.

    Args:
        config: the method's config model (its ``kind`` is the registry name).
        model: the loaded model (:class:`~promptkit.models.LoadedModel`).
        runtime: batch size, chat formatting, progress reporting.
        context: what trainable methods need from the run (see ``FitContext``); unused here.
    """

    kind: ClassVar[str]
    # Wraps the model in a PEFT adapter (trained here or loaded): has cost, adapter, chat flag.
    trainable: ClassVar[bool] = False
    # Learns from the train split in ``fit``: trained once per training seed, with a FitContext.
    trains: ClassVar[bool] = False

    def __init__(self, config: Any, model: Any, runtime: Runtime, context: Any = None):
        self.config = config
        self.model = model
        self.runtime = runtime

    def shots(self, task_default: int) -> int:
        """Demonstrations per prompt this method wants (0 unless it is few-shot)."""
        return 0

    def release(self) -> None:
        """Give the shared base model back unchanged (trainable methods unwrap their adapter)."""
        return None  # prompting methods never change the model

    @abstractmethod
    def fit(self, train: Sequence[Prompt]) -> Self:
        """Learn from training prompts (each with its target); return ``self``."""

    @abstractmethod
    def predict(self, prompts: Sequence[Prompt], generation: GenerationSettings, normalization: str = "none") -> list[Prediction]:
        """Predict every prompt (generation or choice scoring)."""


METHODS: Registry[type[Method]] = Registry("method")
