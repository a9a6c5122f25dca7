"""Quantized base models (QLoRA): ``model.quantization: nf4 | int8`` through bitsandbytes.

The base weights load in 4-bit NF4 (double quantization, bf16 compute, the QLoRA recipe of
Dettmers et al., 2023) or 8-bit; adapters and soft prompts train in fp32 on top, as for any
frozen base. PEFT's k-bit preparation (layer norms in fp32, inputs that carry gradients) is done
once, when the model loads, since every cell of a run shares the base. bitsandbytes runs on CUDA
only: elsewhere a quantized model is refused before any weight is read, as is full fine-tuning
of a quantized model (its weights cannot take updates).
"""

from __future__ import annotations

import importlib.util
import math
from typing import Any

from promptkit.errors import ModelError

QUANTIZATIONS = ("none", "nf4", "int8")


def check_quantization(quantization: str, device: str) -> None:
    """A quantized model can load here.

    Raises:
        ModelError: not on CUDA, or bitsandbytes missing; the message says what to do.
    """
    if quantization == "none":
        return
    if not device.startswith("cuda"):
        raise ModelError(f"model.quantization {quantization!r} needs a CUDA GPU (bitsandbytes); this run's device is "
                         f"{device!r}; set model.quantization: none")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise ModelError(f"model.quantization {quantization!r} needs bitsandbytes: pip install 'promptkit[qlora]'")


def quantization_config(quantization: str, compute_dtype: Any) -> Any:
    """The transformers ``BitsAndBytesConfig`` of ``quantization`` (None for ``none``)."""
    if quantization == "none":
        return None
    from transformers import BitsAndBytesConfig

    if quantization == "nf4":
        return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                  bnb_4bit_compute_dtype=compute_dtype)
    return BitsAndBytesConfig(load_in_8bit=True)


def prepare_quantized(model: Any) -> Any:
    """PEFT's k-bit preparation, once per loaded model (no gradient checkpointing here: that is
    ``training.gradient_checkpointing``, switched per cell)."""
    from peft import prepare_model_for_kbit_training

    return prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)


def quantization_of(model: Any) -> str:
    """``nf4`` / ``fp4`` / ``int8`` for a model loaded through bitsandbytes, else ``none``."""
    cfg = getattr(getattr(model, "config", None), "quantization_config", None)
    if cfg is None:
        return "none"
    get = cfg.get if isinstance(cfg, dict) else lambda key, default=None: getattr(cfg, key, default)
    if get("load_in_4bit", False):
        return str(get("bnb_4bit_quant_type", "nf4"))
    return "int8" if get("load_in_8bit", False) else str(get("quant_method", "unknown"))


def logical_numel(param: Any) -> int:
    """Parameters a tensor stands for: a 4-bit tensor packs two values per byte, and its stored
    ``numel`` is half the weight's (bitsandbytes keeps the real shape in ``quant_state``)."""
    state = getattr(param, "quant_state", None)
    shape = getattr(state, "shape", None)
    if shape is not None:
        return int(math.prod(shape))
    return int(param.numel())
