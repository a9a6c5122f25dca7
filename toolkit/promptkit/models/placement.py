"""Where a model's weights go and which attention kernels run them (the GPU path).

``model.attention: auto`` picks FlashAttention 2 on CUDA in bf16/fp16 when the ``flash-attn``
package is installed (it has no fp32 or CPU kernels), and PyTorch's scaled-dot-product attention
(SDPA, transformers' default, fused kernels on CUDA) otherwise. ``model.device_map: auto`` lets
accelerate spread a model too large for one GPU over all visible GPUs, layer by layer; the model
then stays where accelerate put it. One process only: under ``torchrun`` / ``accelerate launch``
each process holds its own copy on its own GPU instead.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from promptkit.errors import ModelError


def attention_kernel(choice: str, device: str, dtype: Any) -> str | None:
    """The ``attn_implementation`` to load with (None: transformers' default, SDPA).

    Raises:
        ModelError: FlashAttention 2 asked for where it cannot run.
    """
    import torch

    half = dtype in (torch.bfloat16, torch.float16)
    if choice == "auto":
        if device.startswith("cuda") and half and importlib.util.find_spec("flash_attn") is not None:
            return "flash_attention_2"
        return None
    if choice == "flash_attention_2":
        if not device.startswith("cuda") or not half:
            raise ModelError(f"model.attention flash_attention_2 runs on CUDA in bfloat16/float16; this run is "
                             f"{device!r} in {str(dtype).replace('torch.', '')}; use model.attention: sdpa")
        if importlib.util.find_spec("flash_attn") is None:
            raise ModelError("model.attention flash_attention_2 needs flash-attn: pip install flash-attn; or model.attention: sdpa")
    return choice


def device_map(choice: str, device: str, distributed: bool) -> str | None:
    """accelerate's device map to load with (None: the whole model on ``device``).

    Raises:
        ModelError: not on CUDA, or several processes.
    """
    if choice == "none":
        return None
    if not device.startswith("cuda"):
        raise ModelError(f"model.device_map auto spreads a model over GPUs; this run's device is {device!r}; "
                         "set model.device_map: none")
    if distributed:
        raise ModelError("model.device_map auto needs one process (it uses every GPU itself); run without "
                         "torchrun / accelerate launch, or set model.device_map: none")
    return "auto"
