"""The method contract (scikit-learn style) and the method registry.

A method is built as ``Method(config, model, runtime)``; ``fit(train_prompts)`` returns the
method itself and stores learned state in attributes ending with ``_``; ``predict(prompts)``
returns one :class:`Prediction` per prompt. Prompting methods learn nothing.

A method module defines its config class beside its method class and registers the pair once
with :func:`register_method`; everything else (the ``methods`` union of a run config, CLI
choices, which kinds learn) is derived from the registry (``promptkit.methods``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, TypeVar

from typing_extensions import Self

from promptkit.config import GenerationSettings, MethodBase
from promptkit.harness import Runtime
from promptkit.records import Prediction, Prompt
from promptkit.registry import Registry


class Method(ABC):
    """Base class of every method.

    Args:
        config: the method's config model (its ``kind`` is the registry name).
        model: the loaded model (a :class:`~promptkit.models.LanguageModel`).
        runtime: batch size, chat formatting, progress reporting.
        context: what trainable methods need from the run (see ``FitContext``); unused here.
    """

    kind: ClassVar[str]
    config_class: ClassVar[type[MethodBase]]
    # Capabilities. ``learns``: fits on the train split (once per training seed, with a
    # FitContext), so the train split must exist and not overlap the evaluated rows.
    # ``adapts``: changes the model (trained here or loaded): has an adaptation and a cost.
    # ``needs_pool``: draws demonstrations from the task's few-shot split.
    # ``trains_base_weights``: changes the base model's own weights (cannot train quantized ones).
    learns: ClassVar[bool] = False
    adapts: ClassVar[bool] = False
    needs_pool: ClassVar[bool] = False
    trains_base_weights: ClassVar[bool] = False

    @classmethod
    def check(cls, config: Any) -> None:
        """Refuse a config that cannot run, before the model loads (a missing adapter directory,
        say); raise a :class:`~promptkit.errors.PromptkitError`."""
        return None

    @classmethod
    def wanted_shots(cls, config: Any, task_default: int) -> int:
        """Demonstrations per prompt ``config`` asks for (0 unless the method draws a pool)."""
        return 0

    @classmethod
    def virtual_tokens(cls, config: Any) -> int:
        """Positions the method puts in front of the input (a soft prompt's virtual tokens)."""
        return 0

    def __init__(self, config: Any, model: Any, runtime: Runtime, context: Any = None):
        self.config = config
        self.model = model
        self.runtime = runtime

    @property
    def chat(self) -> bool:
        """Whether prompts go through the chat template (a saved adapter keeps the formatting
        it was trained with, whatever the run asks)."""
        return self.runtime.chat

    def shots(self, task_default: int) -> int:
        """Demonstrations per prompt this method wants (0 unless it is few-shot)."""
        return self.wanted_shots(self.config, task_default)

    def release(self) -> None:
        """Give the shared base model back unchanged (trainable methods unwrap their adapter)."""
        return None  # prompting methods never change the model

    @contextmanager
    def applied(self) -> Iterator[Any]:
        """The model as this method evaluates with it (an adapted method: its adaptation applied,
        in eval mode): what the forgetting probe scores."""
        yield self.model

    @abstractmethod
    def fit(self, train: Sequence[Prompt]) -> Self:
        """Learn from training prompts (each with its target); return ``self``."""

    @abstractmethod
    def predict(self, prompts: Sequence[Prompt], generation: GenerationSettings, normalization: str = "none") -> list[Prediction]:
        """Predict every prompt (generation or choice scoring)."""


METHODS: Registry[type[Method]] = Registry("method")

M = TypeVar("M", bound=type[Method])


def register_method(config: type[MethodBase]) -> Callable[[M], M]:
    """Class decorator: register a method class with its config class, under the config's ``kind``."""
    return METHODS.register_with_config(config)  # type: ignore[return-value]
