"""Extractive-QA metrics: SQuAD exact match and token F1, max over the references.

Normalisation is the official SQuAD v1.1 script's: lowercase, drop ASCII punctuation, drop the
articles a/an/the, collapse whitespace. Chinese and Japanese have no spaces between words, so
there a whole answer would be a single "token" and F1 would collapse to exact match; those
answers are instead split into characters, keeping Latin words and numbers whole (the "mixed
segmentation" of the CMRC 2018 and MLQA scripts), and Unicode punctuation such as 。and 「」
is dropped as well. A row is treated that way when the target language is Chinese or Japanese,
or, with no language given, when its prediction or a reference contains Han or kana
characters; for text without them the two tokenizations coincide anyway.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence

from promptkit.metrics.base import METRICS, MeanMetric, MetricContext
from promptkit.metrics.language import contains_cjk, is_cjk_language, split_cjk

_ASCII_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES_RE = re.compile(r"\b(a|an|the)\b")


def _is_punctuation(char: str, unicode_punctuation: bool) -> bool:
    if char in _ASCII_PUNCTUATION:
        return True
    return unicode_punctuation and unicodedata.category(char).startswith("P")


def answer_tokens(text: str, cjk: bool = False) -> list[str]:
    """Normalise an answer the SQuAD way and split it into tokens.

    Args:
        text: a prediction or reference.
        cjk: also drop Unicode punctuation and make each Han or kana character a token.

    Returns:
        The tokens; ``" ".join(tokens)`` is SQuAD's ``normalize_answer(text)`` when ``cjk`` is
        false.
    """
    text = text.lower()
    text = "".join(ch for ch in text if not _is_punctuation(ch, cjk))
    text = _ARTICLES_RE.sub(" ", text)
    return split_cjk(text) if cjk else text.split()


def _uses_cjk_tokens(prediction: str, references: Sequence[str], ctx: MetricContext) -> bool:
    if ctx.language is not None:
        return is_cjk_language(ctx.language)
    # Decided per row over both sides, so a prediction and its references are always
    # tokenized the same way.
    return contains_cjk(prediction) or any(contains_cjk(ref) for ref in references)


def _token_f1(prediction: list[str], reference: list[str]) -> float:
    if not prediction or not reference:
        # SQuAD v2.0 convention (v1.1 returns 0): two empty answers agree, so F1 matches EM.
        return float(prediction == reference)
    common = Counter(prediction) & Counter(reference)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(prediction)
    recall = overlap / len(reference)
    return 2 * precision * recall / (precision + recall)


@METRICS.register("exact_match")
class ExactMatch(MeanMetric):
    """Share of predictions equal to some reference after SQuAD normalisation."""

    name = "exact_match"
    binary = True

    def sample_score(self, prediction: str, references: Sequence[str], ctx: MetricContext) -> float:
        cjk = _uses_cjk_tokens(prediction, references, ctx)
        pred = answer_tokens(prediction, cjk)
        return float(any(pred == answer_tokens(ref, cjk) for ref in references))


@METRICS.register("token_f1")
class TokenF1(MeanMetric):
    """SQuAD token-overlap F1, the best over the references, averaged over rows."""

    name = "token_f1"

    def sample_score(self, prediction: str, references: Sequence[str], ctx: MetricContext) -> float:
        cjk = _uses_cjk_tokens(prediction, references, ctx)
        pred = answer_tokens(prediction, cjk)
        return max(_token_f1(pred, answer_tokens(ref, cjk)) for ref in references)
