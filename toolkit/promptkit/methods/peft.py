"""A PEFT model as an :class:`~promptkit.models.backend.Adaptation`: the one place methods meet PEFT's wrapper."""

from __future__ import annotations

from typing import Any, Literal

from promptkit.models.backend import Adaptation


class PeftSoftPrompt:
    """The virtual tokens of a PEFT prompt-learning model (prompt tuning, P-tuning, prefix tuning)."""

    def __init__(self, peft_model: Any):
        self.peft_model = peft_model
        config = peft_model.active_peft_config
        self.num_virtual_tokens = int(config.num_virtual_tokens)
        kind = str(getattr(config.peft_type, "value", config.peft_type))
        # prefix tuning's get_prompt returns a key/value cache; the others return embeddings
        self.placement: Literal["embeddings", "cache"] = "cache" if kind == "PREFIX_TUNING" else "embeddings"

    def virtual(self, batch_size: int) -> Any:
        return self.peft_model.get_prompt(batch_size=batch_size)


class PeftAdaptation(Adaptation):
    """A model wrapped by PEFT. Prompt learning leaves the base's modules alone; LoRA-style
    methods inject layers into them, which are switched off outside ``adapted`` blocks and
    taken out by :meth:`remove` (base weights are never changed)."""

    def __init__(self, peft_model: Any):
        self.prompt_learning = bool(peft_model.active_peft_config.is_prompt_learning)
        super().__init__(peft_model, PeftSoftPrompt(peft_model) if self.prompt_learning else None)

    def attach(self) -> None:
        if not self.prompt_learning:
            self.module.base_model.enable_adapter_layers()

    def detach(self) -> None:
        if not self.prompt_learning:
            self.module.base_model.disable_adapter_layers()

    def remove(self) -> None:
        if not self.prompt_learning:
            self.module.unload()

    def parameter_counts(self) -> tuple[int, int]:
        """``(adapter parameters, base parameters)`` by PEFT's own count."""
        trainable, total = self.module.get_nb_trainable_parameters()
        return int(trainable), int(total - trainable)
