"""Serving backends (``model.backend``): how a loaded transformers model is served for
evaluation. One registry, :data:`BACKENDS`, maps each name to its class as a ``"module:Class"``
path imported on first use (as lm-evaluation-harness's model registry does); the run config
checks names against it and ``--backend`` offers its names.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from promptkit.errors import UnknownNameError

if TYPE_CHECKING:
    from promptkit.config import ModelConfig
    from promptkit.models.hf import HFLanguageModel


class Backend:
    """How a loaded transformers model is served for evaluation (``model.backend``).

    A backend is one class with two hooks, registered by name in :data:`BACKENDS` as a
    ``"module:Class"`` path (imported only when a run asks for it, as lm-evaluation-harness's
    model registry does) or with :func:`register_backend`.
    """

    def check(self, config: ModelConfig) -> None:
        """Refuse, before the weights load, what this backend cannot do (a missing package)."""
        return None

    def build(self, architecture: type[HFLanguageModel], model: Any, tokenizer: Any, config: ModelConfig,
              **fields: Any) -> HFLanguageModel:
        """The :class:`~promptkit.models.backend.LanguageModel` over the loaded ``model``;
        ``architecture`` is the transformers backend for its kind (causal, seq2seq, masked)."""
        return architecture(model=model, tokenizer=tokenizer, **fields)


# model.backend's values: name -> "module:Class" (a Backend subclass), imported on first use.
BACKENDS: dict[str, Any] = {"hf": "promptkit.models.backends:Backend", "vllm": "promptkit.models.vllm:VLLMBackend"}


def register_backend(name: str, backend: str | type[Backend]) -> None:
    """Make ``name`` a ``model.backend`` value served by ``backend`` (a class or ``"module:Class"``)."""
    BACKENDS[name] = backend


def backend_named(name: str) -> Backend:
    """The backend registered as ``name``.

    Raises:
        UnknownNameError: no backend of that name (with "did you mean").
    """
    if name not in BACKENDS:
        raise UnknownNameError("backend", name, BACKENDS, "model.backend")
    target = BACKENDS[name]
    if isinstance(target, str):
        module, _, attr = target.partition(":")
        target = getattr(importlib.import_module(module), attr)
    return target()
