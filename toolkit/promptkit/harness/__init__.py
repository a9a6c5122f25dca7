"""Batched inference: greedy generation and log-likelihood scoring, plus prompt -> prediction."""

from promptkit.harness.batching import Runtime
from promptkit.harness.predict import predict

__all__ = ["Runtime", "predict"]
