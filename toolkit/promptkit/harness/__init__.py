"""Prompts -> predictions through any backend (``promptkit.models.LanguageModel``)."""

from promptkit.harness.predict import predict
from promptkit.models.batching import Runtime

__all__ = ["Runtime", "predict"]
