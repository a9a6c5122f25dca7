"""Corpus BLEU and chrF, computed by sacrebleu from per-sentence sufficient statistics.

Both are corpus metrics: BLEU is not the mean of sentence BLEUs but a function of n-gram match
counts and lengths summed over the corpus, and chrF likewise sums character n-gram counts. The
per-row statistics are sacrebleu's own (``_extract_corpus_statistics``, which its significance
tests use too), so :meth:`aggregate` over all rows equals ``sacrebleu.corpus_bleu`` /
``corpus_chrf`` exactly, and a bootstrap resample is scored from summed counts without
re-tokenizing. Rows may have different numbers of references: sacrebleu takes references as
"streams" (the i-th reference of every row), and a missing reference is ``None`` in its stream.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import numpy as np

from promptkit.metrics.base import (
    METRICS,
    AdditiveMetric,
    FloatArray,
    MetricContext,
    check_rows,
)

if TYPE_CHECKING:
    from sacrebleu.metrics.chrf import CHRF

# BLEU's own defaults: 4-gram precision, "exp" smoothing at corpus level; sentence BLEU (the
# per-sample scores) uses effective order, as sacrebleu.sentence_bleu does.
_MAX_ORDER = 4
_BLEU_COLUMNS = 2 + 2 * _MAX_ORDER  # hyp_len, ref_len, matches per order, totals per order


@functools.cache
def _tokenizer_available(name: str) -> bool:
    from sacrebleu.metrics.bleu import _get_tokenizer

    try:
        _get_tokenizer(name)()
    except (ImportError, RuntimeError, AssertionError):
        # sacrebleu raises RuntimeError when MeCab or its dictionary is not installed, and
        # asserts on a wrong dictionary.
        return False
    return True


def bleu_tokenizer(language: str | None) -> str:
    """The sacrebleu tokenizer for a target language (normalised code).

    Chinese gets sacrebleu's ``zh`` tokenizer (characters); Japanese and Korean get the MeCab
    tokenizers when ``sacrebleu[ja]`` / ``sacrebleu[ko]`` are installed and fall back to
    characters otherwise, since ``13a`` would make whole clauses single "words". Every other
    language gets the WMT standard ``13a``.
    """
    if language in ("zh", "yue"):
        return "zh"
    if language == "ja":
        return "ja-mecab" if _tokenizer_available("ja-mecab") else "char"
    if language == "ko":
        return "ko-mecab" if _tokenizer_available("ko-mecab") else "char"
    return "13a"


def reference_streams(references: Sequence[Sequence[str]]) -> list[list[str | None]]:
    """Transpose per-row references into sacrebleu's reference streams.

    Args:
        references: the references of every row; rows may hold different numbers.

    Returns:
        ``max_refs`` streams of ``n`` entries each; rows with fewer references are padded with
        ``None``, which sacrebleu skips (an empty string would count as a real reference).
    """
    width = max((len(refs) for refs in references), default=0)
    return [[refs[i] if i < len(refs) else None for refs in references] for i in range(width)]


def _streams(references: Sequence[Sequence[str]]) -> Sequence[Sequence[str]]:
    # sacrebleu's annotation omits the None padding its reference cache documents and skips.
    return cast("Sequence[Sequence[str]]", reference_streams(references))


@METRICS.register("bleu")
class Bleu(AdditiveMetric):
    """sacrebleu corpus BLEU (13a tokenization unless the target language needs another)."""

    name = "bleu"

    def stats(
        self,
        predictions: Sequence[str],
        references: Sequence[Sequence[str]],
        ctx: MetricContext,
    ) -> FloatArray:
        from sacrebleu.metrics.bleu import BLEU

        check_rows(predictions, references)
        if not predictions:
            return np.zeros((0, _BLEU_COLUMNS))
        # force=True only silences sacrebleu's "looks tokenized" log warning; scores are equal.
        bleu = BLEU(tokenize=bleu_tokenizer(ctx.language), force=True)
        rows = bleu._extract_corpus_statistics(list(predictions), _streams(references))
        return np.asarray(rows, dtype=np.float64).reshape(len(predictions), _BLEU_COLUMNS)

    def score_totals(self, totals: FloatArray, n: int) -> float:
        return _bleu_from_stats(totals, effective_order=False)

    def sample_scores(self, stats: FloatArray) -> FloatArray:
        return np.array([_bleu_from_stats(row, effective_order=True) for row in stats])


def _bleu_from_stats(stats: FloatArray, effective_order: bool) -> float:
    from sacrebleu.metrics.bleu import BLEU

    values = stats.tolist()  # Python floats: compute_bleu is scalar code, run per resample
    score = BLEU.compute_bleu(
        correct=values[2 : 2 + _MAX_ORDER],
        total=values[2 + _MAX_ORDER :],
        sys_len=int(values[0]),
        ref_len=int(values[1]),
        smooth_method="exp",
        effective_order=effective_order,
        max_ngram_order=_MAX_ORDER,
    )
    return float(score.score)


@METRICS.register("chrf")
class Chrf(AdditiveMetric):
    """sacrebleu corpus chrF with its defaults (character 6-grams, beta 2, no word n-grams)."""

    name = "chrf"

    def __init__(self) -> None:
        self._chrf: CHRF | None = None

    @property
    def _scorer(self) -> CHRF:
        if self._chrf is None:
            from sacrebleu.metrics.chrf import CHRF

            self._chrf = CHRF()
        return self._chrf

    def stats(
        self,
        predictions: Sequence[str],
        references: Sequence[Sequence[str]],
        ctx: MetricContext,
    ) -> FloatArray:
        check_rows(predictions, references)
        columns = 3 * (self._scorer.char_order + self._scorer.word_order)
        if not predictions:
            return np.zeros((0, columns))
        # chrF is language-agnostic: it works on characters, whitespace removed.
        rows = self._scorer._extract_corpus_statistics(list(predictions), _streams(references))
        return np.asarray(rows, dtype=np.float64).reshape(len(predictions), columns)

    def score_totals(self, totals: FloatArray, n: int) -> float:
        return float(self._scorer._compute_f_score(totals.tolist()))

    def sample_scores(self, stats: FloatArray) -> FloatArray:
        # Each row's statistics are those of its best-matching reference, so this is
        # sacrebleu.sentence_chrf.
        return np.array([self.score_totals(row, 1) for row in stats])
