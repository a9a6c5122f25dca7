"""Model backends behind one contract (``backend.LanguageModel``), and loading: hub ids, local
directories, GGUF files, the embedded default."""

from promptkit.models.backend import Adaptation, Generation, LanguageModel, LogLikelihood, SoftPrompt, TrainingExample
from promptkit.models.batching import Runtime
from promptkit.models.causal import HFCausalLM
from promptkit.models.devices import resolve_device, resolve_dtype
from promptkit.models.embedded import DEFAULT_MODEL, EMBEDDED_MODELS
from promptkit.models.hf import HFLanguageModel
from promptkit.models.loading import load_model
from promptkit.models.masked import HFMaskedLM
from promptkit.models.seq2seq import HFSeq2SeqLM

__all__ = [
    "DEFAULT_MODEL",
    "EMBEDDED_MODELS",
    "Adaptation",
    "Generation",
    "HFCausalLM",
    "HFLanguageModel",
    "HFMaskedLM",
    "HFSeq2SeqLM",
    "LanguageModel",
    "LogLikelihood",
    "Runtime",
    "SoftPrompt",
    "TrainingExample",
    "load_model",
    "resolve_device",
    "resolve_dtype",
]
