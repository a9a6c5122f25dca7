"""LoRA: trainable low-rank updates of selected weight matrices; base weights stay untouched."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field

from promptkit.config import TunableBase
from promptkit.methods.base import register_method
from promptkit.methods.trainable import PeftMethod
from promptkit.records import Prompt

# Attention projections per naming family; LoRA on all four of q, k, v, o is the usual strong
# default (Hu et al. adapt q and v; later work finds all attention matrices better per parameter).
TARGETS_BY_LEAF = (
    (("q_proj", "k_proj", "v_proj", "o_proj"), ["q_proj", "k_proj", "v_proj", "o_proj"]),  # Llama, Mistral, Qwen, BART, Marian
    (("c_attn",), ["c_attn", "c_proj"]),  # GPT-2
    (("query_key_value",), ["query_key_value", "dense"]),  # GPT-NeoX, Falcon
    (("q", "k", "v", "o"), ["q", "k", "v", "o"]),  # T5
)


def default_targets(model: Any) -> list[str] | None:
    """Target module names for ``model``; None lets PEFT use its own per-architecture table."""
    leaves = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    for needed, targets in TARGETS_BY_LEAF:
        if set(needed) <= leaves:
            return [t for t in targets if t in leaves]
    return None


class LoraConfig(TunableBase):
    """PEFT LoRA (Hu et al. 2021). ``target_modules`` None: the attention projections of the
    architecture (q, k, v, o for Llama-style models; see ``methods.lora.default_targets``)."""

    kind: Literal["lora"] = "lora"
    default_space: ClassVar[dict[str, list[Any]]] = {"lr": [3e-4, 1e-3, 3e-3], "rank": [8, 16]}
    rank: int = Field(default=8, ge=1, le=1024)
    alpha: float = Field(default=16.0, gt=0)
    dropout: float = Field(default=0.05, ge=0, lt=1)
    target_modules: list[str] | None = None
    lr: float = Field(default=1e-3, gt=0)
    weight_decay: float = Field(default=0.0, ge=0)


@register_method(LoraConfig)
class LoraMethod(PeftMethod):
    """PEFT LoRA with rank, alpha, dropout and target modules from the config."""

    def peft_config(self, train: Sequence[Prompt]) -> Any:
        from peft import LoraConfig as PeftLoraConfig

        targets = self.config.target_modules or default_targets(self.model.model)
        return PeftLoraConfig(
            task_type=self._task_type(),
            r=self.config.rank,
            lora_alpha=self.config.alpha,
            lora_dropout=self.config.dropout,
            target_modules=targets,
        )
