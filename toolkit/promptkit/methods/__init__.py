"""Methods, registered by ``kind``: prompting (zero-/few-shot), soft prompts, LoRA, saved adapters."""

from promptkit.methods import adapter, lora, prompt_tuning, zero_shot
from promptkit.methods.base import METHODS, Method
from promptkit.methods.trainable import FitContext, TrainableMethod

__all__ = ["METHODS", "FitContext", "Method", "TrainableMethod", "adapter", "lora", "prompt_tuning", "zero_shot"]
