"""Model resolution and loading: hub ids, local directories, GGUF files, the embedded default."""

from promptkit.models.devices import resolve_device, resolve_dtype
from promptkit.models.embedded import DEFAULT_MODEL, EMBEDDED_MODELS
from promptkit.models.loading import LoadedModel, load_model

__all__ = ["DEFAULT_MODEL", "EMBEDDED_MODELS", "LoadedModel", "load_model", "resolve_device", "resolve_dtype"]
