"""ROUGE-1, ROUGE-2 and ROUGE-L F-measure with Google's ``rouge-score``, max over references.

For English (or an unspecified language) the scorer is exactly ``rouge_score.RougeScorer``
with Porter stemming, so numbers match published ones and Hugging Face ``evaluate``'s ``rouge``.
Its tokenizer, however, keeps only ``[a-z0-9]``: Chinese, Russian or Hindi text becomes empty
and scores 0, and German "über" becomes "ber". Any other target language therefore uses
:class:`UnicodeTokenizer` (Unicode words, Chinese and Japanese split into characters) and no
stemming, since the Porter stemmer only knows English suffixes. With no language given, the
language is detected once for the whole set from the script of the references
(:func:`~promptkit.metrics.language.detect_language`: Latin script counts as English), so a
Chinese summary is scored by character rather than as empty text, and every row the same way.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from promptkit.metrics.base import METRICS, MeanMetric, MetricContext
from promptkit.metrics.language import split_cjk


class UnicodeTokenizer:
    """A ``rouge_score`` tokenizer for any script: lowercase, punctuation and symbols removed,
    Han and kana characters one token each, other words split on whitespace."""

    def tokenize(self, text: str) -> list[str]:
        text = "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in text.lower())
        return split_cjk(text)


class _Rouge(MeanMetric):
    rouge_type = ""

    def __init__(self) -> None:
        self._scorers: dict[bool, Any] = {}

    def _scorer(self, english: bool) -> Any:
        if english not in self._scorers:
            # rouge-score imports nltk (half a second), so only when a ROUGE is computed; the
            # Porter stemmer needs no nltk data download.
            from rouge_score.rouge_scorer import RougeScorer

            tokenizer = None if english else UnicodeTokenizer()
            self._scorers[english] = RougeScorer(
                [self.rouge_type], use_stemmer=english, tokenizer=tokenizer
            )
        return self._scorers[english]

    def sample_score(self, prediction: str, references: Sequence[str], ctx: MetricContext) -> float:
        english = ctx.resolved([references]).language == "en"
        scores = self._scorer(english).score_multi(list(references), prediction)
        return float(scores[self.rouge_type].fmeasure)

    def describe(self, ctx: MetricContext, references: Sequence[Sequence[str]]) -> dict[str, str]:
        english = ctx.resolved(references).language == "en"
        return {
            "tokenizer": "rouge_score default ([a-z0-9]+ after lowercasing)"
            if english
            else "unicode (words; Han and kana one token per character; punctuation dropped)",
            "stemmer": "porter" if english else "none",
            **ctx.language_details(references),
        }


@METRICS.register("rouge1")
class Rouge1(_Rouge):
    """Unigram-overlap ROUGE F-measure."""

    name = rouge_type = "rouge1"


@METRICS.register("rouge2")
class Rouge2(_Rouge):
    """Bigram-overlap ROUGE F-measure."""

    name = rouge_type = "rouge2"


@METRICS.register("rougeL")
class RougeL(_Rouge):
    """Longest-common-subsequence ROUGE F-measure (sentence level, not ``rougeLsum``)."""

    name = rouge_type = "rougeL"
