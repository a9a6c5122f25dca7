"""GPU placement settings (``model.attention``, ``model.device_map``): what is chosen where, and
the one-line refusals on a machine that cannot run them. The kernels themselves run in tests/gpu."""

from __future__ import annotations

import importlib.util

import pytest
import torch
from promptkit.errors import ModelError
from promptkit.models.placement import attention_kernel, device_map


def test_auto_attention_is_flash_only_on_cuda_in_half_precision_with_flash_attn(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "flash_attn" else real(name, *a))
    assert attention_kernel("auto", "cuda:0", torch.bfloat16) == "flash_attention_2"
    assert attention_kernel("auto", "cuda:0", torch.float32) is None  # no fp32 kernels: SDPA
    assert attention_kernel("auto", "cpu", torch.bfloat16) is None
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "flash_attn" else real(name, *a))
    assert attention_kernel("auto", "cuda:0", torch.bfloat16) is None
    assert attention_kernel("sdpa", "cpu", torch.float32) == "sdpa" and attention_kernel("eager", "cpu", torch.float32) == "eager"


def test_flash_attention_where_it_cannot_run_is_refused() -> None:
    with pytest.raises(ModelError, match=r"^model.attention flash_attention_2 runs on CUDA in bfloat16/float16; this run is "
                                         r"'cpu' in float32; use model.attention: sdpa$"):
        attention_kernel("flash_attention_2", "cpu", torch.float32)


def test_a_device_map_needs_gpus_and_one_process() -> None:
    assert device_map("none", "cpu", False) is None
    assert device_map("auto", "cuda", False) == "auto"
    with pytest.raises(ModelError, match="spreads a model over GPUs; this run's device is 'cpu'"):
        device_map("auto", "cpu", False)
    with pytest.raises(ModelError, match="needs one process"):
        device_map("auto", "cuda", True)


def test_the_loaded_model_records_its_attention_kernel(tiny_llama_dir: object) -> None:
    from promptkit.config import ModelConfig
    from promptkit.models import load_model

    lm = load_model(ModelConfig(name=str(tiny_llama_dir), device="cpu", attention="eager"))
    assert lm.describe()["attention"] == "eager"
    assert load_model(ModelConfig(name=str(tiny_llama_dir), device="cpu")).describe()["attention"] == "sdpa"
