"""LoRA and DoRA: trainable low-rank updates of selected weight matrices.

The base weights are never changed for good: LoRA layers are switched off outside ``adapted``
blocks and taken out on release. PiSSA and OLoRA start from the principal components of the
weights and so rewrite the base layers into residuals; their adaptation swaps original and
residual weights on entering and leaving ``adapted`` and restores the originals on release.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from promptkit.config import TunableBase
from promptkit.methods.base import register_method
from promptkit.methods.peft import PeftAdaptation
from promptkit.methods.trainable import PeftMethod
from promptkit.models.backend import Adaptation
from promptkit.records import Prompt

# Attention projections per naming family; LoRA on all four of q, k, v, o is the usual strong
# default (Hu et al. adapt q and v; later work finds all attention matrices better per parameter).
TARGETS_BY_LEAF = (
    (("q_proj", "k_proj", "v_proj", "o_proj"), ["q_proj", "k_proj", "v_proj", "o_proj"]),  # Llama, Mistral, Qwen, BART, Marian
    (("c_attn",), ["c_attn", "c_proj"]),  # GPT-2
    (("query_key_value",), ["query_key_value", "dense"]),  # GPT-NeoX, Falcon
    (("q", "k", "v", "o"), ["q", "k", "v", "o"]),  # T5
    (("query", "key", "value"), ["query", "key", "value"]),  # BERT, RoBERTa
)
# Initialisations that rewrite the base weights into residuals (PEFT ``init_lora_weights``).
RESIDUAL_INITS = ("pissa", "olora")


def default_targets(model: Any) -> list[str] | None:
    """Target module names for ``model``; None lets PEFT use its own per-architecture table."""
    leaves = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    for needed, targets in TARGETS_BY_LEAF:
        if set(needed) <= leaves:
            return [t for t in targets if t in leaves]
    return None


class LoraConfig(TunableBase):
    """PEFT LoRA (Hu et al. 2021). ``target_modules`` None: the attention projections of the
    architecture (q, k, v, o for Llama-style models; see ``methods.lora.default_targets``).

    ``rslora``: scale updates by alpha/sqrt(rank) instead of alpha/rank (Kalajdzievski 2023), so
    that larger ranks keep learning. ``init``: ``default`` (A random, B zero: the model starts
    unchanged), ``gaussian``, ``pissa`` (A, B from the top singular vectors of each weight, the
    base keeps the residual; Meng et al. 2024) or ``olora`` (from a QR decomposition; Büyükakyüz
    2024). PiSSA/OLoRA adapters are saved converted to plain LoRA of rank 2r, which loads onto
    the original base model; while a run holds them, it keeps a copy of the targeted weights.
    """

    kind: Literal["lora"] = "lora"
    default_space: ClassVar[dict[str, list[Any]]] = {"lr": [3e-4, 1e-3, 3e-3], "rank": [8, 16]}
    rank: int = Field(default=8, ge=1, le=1024)
    alpha: float = Field(default=16.0, gt=0)
    dropout: float = Field(default=0.05, ge=0, lt=1)
    target_modules: list[str] | None = None
    rslora: bool = False
    init: Literal["default", "gaussian", "pissa", "olora"] = "default"
    lr: float = Field(default=1e-3, gt=0)
    weight_decay: float = Field(default=0.0, ge=0)


class DoraConfig(LoraConfig):
    """DoRA (Liu et al. 2024): LoRA on the direction of each weight plus a trainable magnitude
    vector (PEFT ``use_dora``); the LoRA settings apply. Slower per step than LoRA."""

    kind: Literal["dora"] = "dora"  # type: ignore[assignment]


class ResidualAdaptation(PeftAdaptation):
    """LoRA whose initialisation rewrote the targeted base weights (PiSSA, OLoRA).

    ``original``/``residual``: the targeted Linear modules' weights before and after
    initialisation; the shared base holds the originals outside ``adapted`` blocks.
    ``initial_dir``: the adapter as initialised, which PEFT needs to convert the trained one to
    plain LoRA on save.
    """

    def __init__(self, peft_model: Any, modules: dict[str, Any], original: dict[str, Any]):
        super().__init__(peft_model)
        self.modules = modules
        self.original = original
        self.residual = {n: m.weight.detach().clone() for n, m in modules.items()}
        config = peft_model.peft_config["default"]
        init = config.init_lora_weights
        config.init_lora_weights = True  # saved as initialised: loading must not decompose again
        self.initial_dir = Path(tempfile.mkdtemp(prefix="promptkit-lora-init-"))
        peft_model.save_pretrained(str(self.initial_dir))
        config.init_lora_weights = init
        self._load(self.original)  # outside `adapted`, the base is the base

    def _load(self, weights: dict[str, Any]) -> None:
        import torch

        with torch.no_grad():
            for name, module in self.modules.items():
                module.weight.copy_(weights[name])

    def attach(self) -> None:
        self._load(self.residual)
        super().attach()

    def detach(self) -> None:
        super().detach()
        self._load(self.original)

    def remove(self) -> None:
        super().remove()
        self._load(self.original)
        shutil.rmtree(self.initial_dir, ignore_errors=True)


@register_method(LoraConfig)
class LoraMethod(PeftMethod):
    """PEFT LoRA with rank, alpha, dropout, target modules, scaling and initialisation from the config."""

    use_dora: ClassVar[bool] = False

    def targets(self) -> list[str] | None:
        return self.config.target_modules or default_targets(self.model.model)

    def peft_config(self, train: Sequence[Prompt]) -> Any:
        from peft import LoraConfig as PeftLoraConfig

        init: Any = True if self.config.init == "default" else self.config.init  # PEFT: True is its default init
        return PeftLoraConfig(
            task_type=self._task_type(),
            r=self.config.rank,
            lora_alpha=self.config.alpha,
            lora_dropout=self.config.dropout,
            target_modules=self.targets(),
            use_rslora=self.config.rslora,
            init_lora_weights=init,
            use_dora=self.use_dora,
        )

    def adapt(self, train: Sequence[Prompt]) -> Adaptation:
        if self.config.init not in RESIDUAL_INITS:
            return super().adapt(train)
        import torch
        from peft import get_peft_model

        peft_config = self.peft_config(train)
        wanted = set(peft_config.target_modules or ())
        modules = {
            n: m for n, m in self.model.model.named_modules()
            if isinstance(m, torch.nn.Linear) and n.rsplit(".", 1)[-1] in wanted
        }
        original = {n: m.weight.detach().clone() for n, m in modules.items()}
        return ResidualAdaptation(get_peft_model(self.model.model, peft_config), modules, original)

    def save(self, path: Path) -> Path:
        adaptation = self.adaptation_
        if not isinstance(adaptation, ResidualAdaptation):
            return super().save(path)
        # Converted to plain LoRA (rank 2r) on the original weights, so that PeftModel.from_pretrained
        # on an unmodified base model gives the trained model (PEFT's documented PiSSA/OLoRA path).
        path.mkdir(parents=True, exist_ok=True)
        with self.model.adapted(adaptation) as lm, warnings.catch_warnings():
            # The conversion loads the initial adapter beside the trained one, and PEFT warns that
            # PiSSA/OLoRA should not share a model with other adapters: this is its own recipe.
            warnings.filterwarnings("ignore", message=r"(PiSSA|OLoRA) changes the base weights", category=UserWarning)
            lm.module.save_pretrained(str(path), path_initial_model_for_weight_conversion=str(adaptation.initial_dir))
        self.write_meta(path)
        return path


@register_method(DoraConfig)
class DoraMethod(LoraMethod):
    """LoRA with weight decomposition (magnitude and direction)."""

    use_dora = True
