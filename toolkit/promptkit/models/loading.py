"""Resolve a model reference and load model + tokenizer onto a device."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from promptkit.config import ModelConfig
from promptkit.errors import ModelError
from promptkit.models.backends import backend_named
from promptkit.models.causal import HFCausalLM
from promptkit.models.devices import resolve_device, resolve_dtype
from promptkit.models.embedded import (
    DEFAULT_MODEL,
    EMBEDDED_MODELS,
    canonical_alias,
    convert_gguf,
    locate_embedded,
)
from promptkit.models.hf import HFLanguageModel
from promptkit.models.masked import HFMaskedLM
from promptkit.models.placement import attention_kernel, device_map
from promptkit.models.quantization import check_quantization, prepare_quantized, quantization_config
from promptkit.models.seq2seq import HFSeq2SeqLM


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or name.endswith(".gguf") or Path(name).exists()


def resolve_reference(name: str | None) -> tuple[str, str, str]:
    """``(display name, loadable path or hub id, origin)`` for a model reference."""
    name = name or DEFAULT_MODEL
    alias = canonical_alias(name)
    if alias is not None:
        return alias, str(convert_gguf(locate_embedded(alias))), EMBEDDED_MODELS[alias].hub_id
    if _looks_like_path(name):
        path = Path(name).expanduser()
        if not path.exists():
            raise ModelError(
                f"--model {name!r}: no such file or directory; accepted: a hub id (org/name), a "
                f"local model directory, a .gguf file, or an embedded alias ({', '.join(EMBEDDED_MODELS)})"
            )
        if path.is_file():
            if path.suffix != ".gguf":
                raise ModelError(f"--model {name!r} is a file but not a .gguf; give the model directory instead")
            return name, str(convert_gguf(path)), str(path)
        if not (path / "config.json").is_file():
            raise ModelError(f"--model {name!r}: directory has no config.json; is it a transformers model directory?")
        return name, str(path), ""
    return name, name, ""


def backend_class(hf_config: Any) -> type[HFLanguageModel]:
    """The backend for a transformers config: encoder-decoder, masked LM (an encoder whose
    checkpoint is a ``...ForMaskedLM``), else decoder-only."""
    if getattr(hf_config, "is_encoder_decoder", False):
        return HFSeq2SeqLM
    architectures = getattr(hf_config, "architectures", None) or []
    if any(a.endswith("ForMaskedLM") for a in architectures):
        return HFMaskedLM
    return HFCausalLM


def _tokenizer_setup(tokenizer: Any) -> None:
    # Batched generation needs a pad token; reusing EOS is the standard choice and is masked.
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is not None:
            tokenizer.pad_token = tokenizer.eos_token
        elif tokenizer.unk_token is not None:
            tokenizer.pad_token = tokenizer.unk_token
        else:
            tokenizer.add_special_tokens({"pad_token": "<pad>"})


def load_model(config: ModelConfig | None = None) -> HFLanguageModel:
    """Load the model described by ``config`` (default: the embedded SmolLM2-135M-Instruct).

    Raises:
        ModelError: the reference cannot be resolved or loaded; the message lists what is accepted.
    """
    config = config or ModelConfig()
    from promptkit.distributed import current

    # Several processes: one per machine converts an embedded GGUF into the cache, the others reuse it.
    with current().main_first(local=True):
        name, source, origin = resolve_reference(config.name)
    device = resolve_device(config.device)
    dtype = resolve_dtype(config.dtype, device)
    check_quantization(config.quantization, device)
    serving = backend_named(config.backend)
    serving.check(config)
    from transformers import (
        AutoConfig,
        AutoModelForCausalLM,
        AutoModelForMaskedLM,
        AutoModelForSeq2SeqLM,
        AutoTokenizer,
    )

    kwargs: dict[str, Any] = {"trust_remote_code": config.trust_remote_code}
    kernel = attention_kernel(config.attention, device, dtype)
    placement = device_map(config.device_map, device, current().distributed)
    if config.revision:
        kwargs["revision"] = config.revision
    try:
        hf_config = AutoConfig.from_pretrained(source, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        backend = backend_class(hf_config)
        auto = {HFSeq2SeqLM: AutoModelForSeq2SeqLM, HFMaskedLM: AutoModelForMaskedLM}.get(backend, AutoModelForCausalLM)
        quantized = quantization_config(config.quantization, dtype)
        load = {**kwargs, **({"attn_implementation": kernel} if kernel else {})}
        if quantized is not None:  # bitsandbytes places the weights itself; they cannot be moved after
            load.update(quantization_config=quantized, device_map=placement or {"": device})
        elif placement is not None:
            load["device_map"] = placement
        model = auto.from_pretrained(source, dtype=dtype, **load)
        if quantized is not None:
            model = prepare_quantized(model)
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(
            f"--model {name!r}: cannot load it ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}). "
            f"Accepted: a hub id (needs network or a warm HF cache), a local model directory, a .gguf "
            f"file, or an embedded alias ({', '.join(EMBEDDED_MODELS)})"
        ) from exc
    _tokenizer_setup(tokenizer)
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    if config.quantization == "none" and placement is None:
        model.to(device)
    model.eval()
    return serving.build(backend, model, tokenizer, config, name=name, source=source, device=device, dtype=dtype, origin=origin)
