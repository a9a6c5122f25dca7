"""Full fine-tuning: every weight of a private copy of the model trains.

The reference point every parameter-efficient method is judged against: what the whole model
can learn from the same data and budget, at the price of a full copy in memory and on disk.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from promptkit.config import TunableBase
from promptkit.methods.base import register_method
from promptkit.methods.trainable import TrainableMethod
from promptkit.models.backend import Adaptation
from promptkit.models.quantization import logical_numel
from promptkit.records import Prompt


class FullConfig(TunableBase):
    """Full fine-tuning of a private copy of the model (the shared base is never changed).

    Costs, all of them real: the copy doubles the model's memory, AdamW adds two fp32 moments
    per weight, and the checkpoints (``training.checkpoint_every``) and the best-dev-state copy
    kept for early stopping hold full weights and optimizer state, not an adapter; the saved
    result is a complete model directory (``--model`` loads it). ``freeze_embeddings`` keeps
    the input (and tied output) embeddings fixed, a common guard on small data.
    """

    kind: Literal["full"] = "full"
    default_space: ClassVar[dict[str, list[Any]]] = {"lr": [1e-5, 3e-5, 1e-4], "freeze_embeddings": [False, True]}
    freeze_embeddings: bool = False
    # Full fine-tuning moves every weight: learning rates 10-100x below LoRA's.
    lr: float = Field(default=3e-5, gt=0)
    weight_decay: float = Field(default=0.0, ge=0)


class CopyAdaptation(Adaptation):
    """A private, trainable copy of the base model: nothing to switch on or off in the base."""

    def remove(self) -> None:
        self.module = None  # frees the copy once the method is released


@register_method(FullConfig)
class FullFineTuneMethod(TrainableMethod):
    """Trains all weights of a deep copy of the model."""

    trains_base_weights = True

    def adapt(self, train: Sequence[Prompt]) -> Adaptation:
        module = copy.deepcopy(self.model.model)
        for p in module.parameters():
            p.requires_grad_(True)
        if self.config.freeze_embeddings:
            for emb in (module.get_input_embeddings(), module.get_output_embeddings()):
                if emb is not None:
                    emb.weight.requires_grad_(False)
        module.train()
        return CopyAdaptation(module)

    def parameter_counts(self, adaptation: Adaptation) -> tuple[int, int]:
        trainable = sum(p.numel() for p in adaptation.module.parameters() if p.requires_grad)
        return int(trainable), int(sum(logical_numel(p) for p in self.model.model.parameters()))

    def save(self, path: Path) -> Path:
        """A complete model directory (weights, config, tokenizer): ``--model PATH`` evaluates it."""
        path.mkdir(parents=True, exist_ok=True)
        self.adaptation_.module.save_pretrained(str(path))
        self.model.tokenizer.save_pretrained(str(path))
        self.write_meta(path)
        return path
