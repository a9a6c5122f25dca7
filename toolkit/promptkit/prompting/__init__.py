"""Prompt templates (sandboxed Jinja2), few-shot sampling and chat formatting."""

from promptkit.prompting.fewshot import FewShotSampler
from promptkit.prompting.template import PromptTemplate

__all__ = ["FewShotSampler", "PromptTemplate"]
