"""Extractive-QA metrics: SQuAD exact match and token F1, max over the references.

Normalisation is the official SQuAD v1.1 script's: lowercase, drop ASCII punctuation, drop the
articles a/an/the, collapse whitespace. Chinese and Japanese have no spaces between words, so
there a whole answer would be a single "token" and F1 would collapse to exact match; those
answers are instead split into characters, keeping Latin words and numbers whole (the "mixed
segmentation" of the CMRC 2018 and MLQA scripts), and Unicode punctuation such as 。and 「」
is dropped as well. Every row of a set is treated that way when the task's language is Chinese
or Japanese (QA tasks declare it as ``adapter.language``), and none when it is another
language. With no language given, it is detected once for the whole set from the script of the
references (:func:`~promptkit.metrics.language.detect_language`), so rows are still never
tokenized differently from their neighbours.

The v1.1 and v2.0 scripts differ only on answers that normalise to nothing (``""``, ``"The"``,
``"!"``). v1.1 scores token F1 0 when no token is shared, so two empty answers get F1 0 (but
exact match 1). v2.0 first drops references that normalise to nothing (a row left without any
has the no-answer ``""`` as its only reference) and gives F1 ``int(pred == gold)`` when either
side is empty. ``MetricContext.squad_version`` (the QA adapter's ``squad_version``) picks one;
the default is ``"1.1"``, the version of the shipped SQuAD tasks and of SQuAD-style scoring of
tasks that are not SQuAD, such as Natural Questions open.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence

from promptkit.metrics.base import METRICS, MeanMetric, MetricContext
from promptkit.metrics.language import is_cjk_language, split_cjk

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


def _uses_cjk_tokens(references: Sequence[str], ctx: MetricContext) -> bool:
    # Normally ctx was resolved for the whole set in stats(); a direct sample_score() call
    # without a language detects it from this row's references.
    return is_cjk_language(ctx.resolved([references]).language)


def _gold_tokens(references: Sequence[str], cjk: bool, squad_version: str) -> list[list[str]]:
    golds = [answer_tokens(ref, cjk) for ref in references]
    if squad_version == "2.0":
        # v2.0's get_raw_scores: gold answers that normalise to nothing are dropped, and a
        # question left without any is scored against the no-answer "".
        golds = [gold for gold in golds if gold] or [[]]
    return golds


def _token_f1(prediction: list[str], reference: list[str], squad_version: str) -> float:
    if squad_version == "2.0" and (not prediction or not reference):
        # v2.0's compute_f1: "if either is no-answer, then F1 is 1 if they agree".
        return float(prediction == reference)
    common = Counter(prediction) & Counter(reference)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0  # v1.1's f1_score: also when both are empty
    precision = overlap / len(prediction)
    recall = overlap / len(reference)
    return 2 * precision * recall / (precision + recall)


class _SquadMetric(MeanMetric):
    def describe(self, ctx: MetricContext, references: Sequence[Sequence[str]]) -> dict[str, str]:
        cjk = is_cjk_language(ctx.resolved(references).language)
        return {
            "squad_version": ctx.squad_version,
            "tokens": "mixed (Han and kana one per character, Unicode punctuation dropped)"
            if cjk
            else "whitespace (SQuAD normalisation)",
            **ctx.language_details(references),
        }


@METRICS.register("exact_match")
class ExactMatch(_SquadMetric):
    """Share of predictions equal to some reference after SQuAD normalisation."""

    name = "exact_match"
    binary = True

    def sample_score(self, prediction: str, references: Sequence[str], ctx: MetricContext) -> float:
        cjk = _uses_cjk_tokens(references, ctx)
        pred = answer_tokens(prediction, cjk)
        return float(any(pred == gold for gold in _gold_tokens(references, cjk, ctx.squad_version)))


@METRICS.register("token_f1")
class TokenF1(_SquadMetric):
    """SQuAD token-overlap F1, the best over the references, averaged over rows."""

    name = "token_f1"

    def sample_score(self, prediction: str, references: Sequence[str], ctx: MetricContext) -> float:
        cjk = _uses_cjk_tokens(references, ctx)
        pred = answer_tokens(prediction, cjk)
        golds = _gold_tokens(references, cjk, ctx.squad_version)
        return max(_token_f1(pred, gold, ctx.squad_version) for gold in golds)
