"""Device and dtype choice: bf16 on CUDA, fp32 on CPU (bf16 matmul on CPUs is very slow)."""

from __future__ import annotations

from typing import Any

from promptkit.errors import ModelError

DTYPES = ("auto", "float32", "bfloat16", "float16")


def resolve_device(spec: str | None = "auto") -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; explicit values are checked.

    Under ``accelerate launch`` with several processes, ``auto`` and ``cuda`` mean this
    process's own GPU (``cuda:<local rank>``).
    """
    import torch

    from promptkit.distributed import current

    spec = (spec or "auto").lower()
    if spec == "auto":
        spec = "cuda" if torch.cuda.is_available() else "cpu"
    if spec.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ModelError(f"--device {spec!r}: CUDA is not available on this machine; use 'cpu' or 'auto'")
        procs = current()
        if spec == "cuda" and procs.distributed:
            return f"cuda:{procs.local_rank}"
        return spec
    if spec == "mps":
        if not torch.backends.mps.is_available():
            raise ModelError("--device 'mps': MPS is not available; use 'cpu' or 'auto'")
        return spec
    if spec == "cpu":
        return spec
    raise ModelError(f"--device {spec!r} is not a device; accepted: auto, cpu, cuda, cuda:N, mps")


def resolve_dtype(spec: str | None, device: str) -> Any:
    """``auto`` -> bfloat16 on CUDA (float16 where bf16 is unsupported), float32 elsewhere."""
    import torch

    spec = (spec or "auto").lower()
    if spec == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    if spec not in DTYPES:
        raise ModelError(f"--dtype {spec!r}; accepted: {', '.join(DTYPES)}")
    return getattr(torch, spec)
