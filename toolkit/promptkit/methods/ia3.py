"""IA3: learned vectors that rescale keys, values and feed-forward activations (Liu et al. 2022).

Fewer parameters than any other method here (one vector per targeted layer); like LoRA, the
rescaling layers sit in the shared base only inside ``adapted`` blocks and leave on release.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field

from promptkit.config import TunableBase
from promptkit.errors import PromptkitError
from promptkit.methods.base import register_method
from promptkit.methods.trainable import PeftMethod
from promptkit.records import Prompt


class IA3Config(TunableBase):
    """PEFT IA3. Targets come from PEFT's table for the architecture (Llama: ``k_proj``,
    ``v_proj`` and the feed-forward ``down_proj``); ``feedforward: false`` keeps the attention
    targets only. Needs larger learning rates than LoRA (a scale starts at 1)."""

    kind: Literal["ia3"] = "ia3"
    default_space: ClassVar[dict[str, list[Any]]] = {"lr": [3e-3, 1e-2, 3e-2], "feedforward": [True, False]}
    feedforward: bool = True
    lr: float = Field(default=1e-2, gt=0)
    weight_decay: float = Field(default=0.0, ge=0)


def ia3_targets(model: Any) -> tuple[list[str], list[str]]:
    """``(target modules, feed-forward modules)`` from PEFT's per-architecture table."""
    from peft.utils import (
        TRANSFORMERS_MODELS_TO_IA3_FEEDFORWARD_MODULES_MAPPING,
        TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING,
    )

    model_type = getattr(model.config, "model_type", "")
    if model_type not in TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING:
        known = ", ".join(sorted(TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING))
        raise PromptkitError(f"ia3: PEFT has no IA3 targets for model type {model_type!r}; known: {known}")
    targets = list(TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING[model_type])
    feedforward = list(TRANSFORMERS_MODELS_TO_IA3_FEEDFORWARD_MODULES_MAPPING.get(model_type, []))
    return targets, feedforward


@register_method(IA3Config)
class IA3Method(PeftMethod):
    """PEFT IA3 on the architecture's attention (and feed-forward) modules."""

    def peft_config(self, train: Sequence[Prompt]) -> Any:
        from peft import IA3Config as PeftIA3Config

        targets, feedforward = ia3_targets(self.model.model)
        if not self.config.feedforward:
            targets = [t for t in targets if t not in feedforward]
            feedforward = []
        return PeftIA3Config(task_type=self._task_type(), target_modules=targets, feedforward_modules=feedforward)
