"""Memory while training: activation checkpointing of the shared base model, and the peak
resident memory of a CPU run."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from promptkit.errors import TrainingError
from promptkit.models.backend import LanguageModel


@contextlib.contextmanager
def gradient_checkpointing(lm: LanguageModel, on: bool) -> Iterator[None]:
    """Activation checkpointing of the transformers model inside ``lm.module`` for the block.

    Non-reentrant checkpointing needs no gradient on the inputs, so it works when only a soft
    prompt or an adapter trains. The base model is shared by the run's other cells: switched
    off again on the way out. A key/value prefix is refused: transformers drops the cache of a
    checkpointed layer, which would train without the prefix.
    """
    if not on:
        yield
        return
    module = lm.module
    model = module.get_base_model() if hasattr(module, "get_base_model") else module
    if not getattr(model, "supports_gradient_checkpointing", False):
        raise TrainingError(f"{type(model).__name__} does not support gradient checkpointing; "
                            "set training.gradient_checkpointing: false")
    adaptation = getattr(lm, "adaptation", None)
    soft = adaptation.soft_prompt if adaptation is not None else None
    if soft is not None and soft.placement == "cache":
        raise TrainingError("training.gradient_checkpointing cannot train a key/value prefix (prefix-tuning): "
                            "checkpointed layers drop the cache; set it to false or use prompt-tuning / p-tuning")
    # transformers 5 renamed the switch (the old name warns and goes in v6)
    kwargs = {"use_reentrant": False}
    if hasattr(model, "activation_checkpointing_enable"):
        model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
    try:
        yield
    finally:
        off = getattr(model, "activation_checkpointing_disable", None) or model.gradient_checkpointing_disable
        off()


class RssPeak:
    """Peak resident memory of this process while training (CPU runs)."""

    def __init__(self) -> None:
        import psutil

        self._proc = psutil.Process()
        self.peak = self._proc.memory_info().rss

    def sample(self) -> None:
        self.peak = max(self.peak, self._proc.memory_info().rss)
