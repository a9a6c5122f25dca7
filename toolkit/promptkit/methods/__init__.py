"""Methods, registered by ``kind``: zero-shot and few-shot prompting (trainable ones to come)."""

from promptkit.methods import zero_shot
from promptkit.methods.base import METHODS, Method

__all__ = ["METHODS", "Method", "zero_shot"]
