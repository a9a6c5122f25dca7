"""Soft prompt methods: prompt tuning, prefix tuning and P-tuning (PEFT prompt learning)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field

from promptkit.config import TunableBase
from promptkit.errors import PromptkitError
from promptkit.methods.base import register_method
from promptkit.methods.trainable import PeftMethod
from promptkit.records import Prompt

GENERIC_INIT = "Read the input and answer with the expected output only."


class PromptTuningConfig(TunableBase):
    """PEFT prompt tuning (Lester et al. 2021): trainable embeddings prepended to the input.

    ``init``: ``instruction`` starts the soft prompt from the tokens of ``init_text`` (default:
    the task prompt's instruction, else a generic task description), ``vocab`` from embeddings
    of random vocabulary tokens, ``random`` from a random normal (usually worst).
    """

    kind: Literal["prompt-tuning"] = "prompt-tuning"
    default_space: ClassVar[dict[str, list[Any]]] = {"lr": [3e-3, 3e-2, 3e-1], "init": ["instruction", "vocab"]}
    num_virtual_tokens: int = Field(default=20, ge=1, le=512)
    init: Literal["instruction", "vocab", "random"] = "instruction"
    init_text: str | None = None
    # Soft prompts need learning rates 10-100x those of LoRA (Lester et al. use 0.3 with Adafactor).
    lr: float = Field(default=3e-2, gt=0)
    weight_decay: float = Field(default=0.0, ge=0)


class PrefixTuningConfig(TunableBase):
    """PEFT prefix tuning (Li & Liang 2021): trainable key/value prefixes in every layer."""

    kind: Literal["prefix-tuning"] = "prefix-tuning"
    default_space: ClassVar[dict[str, list[Any]]] = {"lr": [3e-3, 1e-2, 3e-2], "projection": [False, True]}
    num_virtual_tokens: int = Field(default=20, ge=1, le=512)
    # Reparameterise the prefix through an MLP during training (more stable, more parameters).
    projection: bool = False
    encoder_hidden_size: int = Field(default=256, ge=1)
    lr: float = Field(default=1e-2, gt=0)
    weight_decay: float = Field(default=0.0, ge=0)


class PTuningConfig(TunableBase):
    """PEFT P-tuning (Liu et al. 2021): virtual token embeddings produced by a prompt encoder."""

    kind: Literal["p-tuning"] = "p-tuning"
    default_space: ClassVar[dict[str, list[Any]]] = {"lr": [3e-3, 1e-2, 3e-2], "encoder": ["mlp", "lstm"]}
    num_virtual_tokens: int = Field(default=20, ge=1, le=512)
    encoder: Literal["mlp", "lstm"] = "mlp"
    encoder_hidden_size: int = Field(default=128, ge=1)
    lr: float = Field(default=1e-2, gt=0)
    weight_decay: float = Field(default=0.0, ge=0)


@register_method(PromptTuningConfig)
class PromptTuningMethod(PeftMethod):
    """Trainable input embeddings prepended to every prompt; the model is frozen."""

    @classmethod
    def virtual_tokens(cls, config: Any) -> int:
        return int(config.num_virtual_tokens)


    def init_text(self, train: Sequence[Prompt]) -> str:
        """Text the soft prompt starts from: ``init_text``, else the template's instruction."""
        if self.config.init_text:
            return str(self.config.init_text)
        for p in train:
            if p.instruction:
                return p.instruction
        return GENERIC_INIT

    def peft_config(self, train: Sequence[Prompt]) -> Any:
        from peft import PromptTuningConfig as PeftPromptTuningConfig
        from peft import PromptTuningInit

        init = {
            "instruction": PromptTuningInit.TEXT,
            "vocab": PromptTuningInit.SAMPLE_VOCAB,
            "random": PromptTuningInit.RANDOM,
        }[self.config.init]
        kwargs: dict[str, Any] = {}
        if init is PromptTuningInit.TEXT:
            kwargs = {"prompt_tuning_init_text": self.init_text(train), "tokenizer_name_or_path": self.model.source}
        return PeftPromptTuningConfig(
            task_type=self._task_type(),
            num_virtual_tokens=self.config.num_virtual_tokens,
            prompt_tuning_init=init,
            **kwargs,
        )


@register_method(PrefixTuningConfig)
class PrefixTuningMethod(PeftMethod):
    """Trainable key/value prefixes in every attention layer."""

    @classmethod
    def virtual_tokens(cls, config: Any) -> int:
        return int(config.num_virtual_tokens)


    def peft_config(self, train: Sequence[Prompt]) -> Any:
        from peft import PrefixTuningConfig as PeftPrefixTuningConfig

        if not self.model.supports_cache_prefix:
            # Encoder-decoder models: PEFT hands the prefix to generate() as `past_key_values`,
            # which recent transformers ignore next to their own `cache`, so predictions would
            # silently lack it; encoders (masked LMs) take no key/value cache at all.
            raise PromptkitError(
                f"prefix-tuning needs a decoder-only model (its key/value prefix would be dropped by "
                f"{type(self.model.model).__name__}); use prompt-tuning, p-tuning or lora"
            )

        return PeftPrefixTuningConfig(
            task_type=self._task_type(),
            num_virtual_tokens=self.config.num_virtual_tokens,
            prefix_projection=self.config.projection,
            encoder_hidden_size=self.config.encoder_hidden_size,
        )


@register_method(PTuningConfig)
class PTuningMethod(PeftMethod):
    """Virtual token embeddings generated by a small trainable prompt encoder (MLP or LSTM)."""

    @classmethod
    def virtual_tokens(cls, config: Any) -> int:
        return int(config.num_virtual_tokens)


    def peft_config(self, train: Sequence[Prompt]) -> Any:
        from peft import PromptEncoderConfig, PromptEncoderReparameterizationType

        return PromptEncoderConfig(
            task_type=self._task_type(),
            num_virtual_tokens=self.config.num_virtual_tokens,
            encoder_reparameterization_type=PromptEncoderReparameterizationType(self.config.encoder.upper()),
            encoder_hidden_size=self.config.encoder_hidden_size,
        )
