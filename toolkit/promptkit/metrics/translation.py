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

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import numpy as np

from promptkit.metrics.base import (
    METRICS,
    AdditiveMetric,
    FloatArray,
    MetricContext,
    MetricError,
    check_rows,
)

if TYPE_CHECKING:
    from sacrebleu.metrics.bleu import BLEU
    from sacrebleu.metrics.chrf import CHRF

# BLEU's own defaults: 4-gram precision, "exp" smoothing at corpus level; sentence BLEU (the
# per-sample scores) uses effective order, as sacrebleu.sentence_bleu does.
_MAX_ORDER = 4
_BLEU_COLUMNS = 2 + 2 * _MAX_ORDER  # hyp_len, ref_len, matches per order, totals per order


def bleu_tokenizer(language: str | None, requested: str | None = None) -> str:
    """The sacrebleu tokenizer BLEU uses for a target language (normalised code).

    A fixed choice per language that never depends on what happens to be installed: Chinese
    gets sacrebleu's ``zh`` (Han characters split, the rest as ``13a``), Japanese and Korean
    get ``char``, every other language the WMT standard ``13a`` (which would make a whole
    unspaced clause one "word"). The MeCab tokenizers ``ja-mecab`` / ``ko-mecab`` (sacrebleu's
    command-line defaults for those languages) are used only when a task asks for them,
    because picking them whenever ``sacrebleu[ja]`` is installed moved the same five Japanese
    sentences from 64.2 to 43.6 BLEU.

    Args:
        language: the target language, or ``None`` (``13a``).
        requested: the tokenizer the task names (``bleu_tokenize``); wins when given.
    """
    if requested is not None:
        return requested
    if language in ("zh", "yue"):
        return "zh"
    if language in ("ja", "ko"):
        return "char"
    return "13a"


def _bleu_scorer(tokenize: str) -> BLEU:
    from sacrebleu.metrics.bleu import BLEU

    if tokenize not in BLEU.TOKENIZERS:
        raise MetricError(
            f"unknown BLEU tokenizer {tokenize!r}; sacrebleu accepts: {', '.join(BLEU.TOKENIZERS)}"
        )
    try:
        # force=True only silences sacrebleu's "looks tokenized" log warning; scores are equal.
        return BLEU(tokenize=tokenize, force=True)
    except (ImportError, RuntimeError, AssertionError, OSError) as exc:
        # sacrebleu raises RuntimeError when MeCab or its dictionary is not installed, asserts
        # on a wrong dictionary, and fails with OSError when a SentencePiece model is missing.
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise MetricError(
            f"BLEU tokenizer {tokenize!r} cannot be loaded ({reason}); 'ja-mecab' needs "
            "`pip install sacrebleu[ja]` and 'ko-mecab' `pip install sacrebleu[ko]`, or leave "
            "bleu_tokenize unset for the language's default ('char' for Japanese and Korean)"
        ) from exc


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
    """sacrebleu corpus BLEU (13a tokenization unless the target language needs another, see
    :func:`bleu_tokenizer`; a task without a language has it detected from the references)."""

    name = "bleu"

    def stats(
        self,
        predictions: Sequence[str],
        references: Sequence[Sequence[str]],
        ctx: MetricContext,
    ) -> FloatArray:
        check_rows(predictions, references)
        if not predictions:
            return np.zeros((0, _BLEU_COLUMNS))
        bleu = _bleu_scorer(self._tokenize(ctx, references))
        rows = bleu._extract_corpus_statistics(list(predictions), _streams(references))
        return np.asarray(rows, dtype=np.float64).reshape(len(predictions), _BLEU_COLUMNS)

    @staticmethod
    def _tokenize(ctx: MetricContext, references: Sequence[Sequence[str]]) -> str:
        return bleu_tokenizer(ctx.resolved(references).language, ctx.bleu_tokenize)

    def describe(self, ctx: MetricContext, references: Sequence[Sequence[str]]) -> dict[str, str]:
        # The facts of sacrebleu's signature that the value depends on (BLEU(tokenize=...,
        # smooth_method="exp", lowercase=False) reproduces it), plus where the tokenizer and
        # the language came from.
        return {
            "tokenize": self._tokenize(ctx, references),
            "tokenize_source": "task" if ctx.bleu_tokenize is not None else "language default",
            "smooth": "exp",
            "lowercase": "false",
            "max_ngram_order": str(_MAX_ORDER),
            **ctx.language_details(references),
        }

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
    # exp(mean of log precisions) of a perfect match can come out as 100.00000000000004
    return min(100.0, max(0.0, float(score.score)))


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

    def describe(self, ctx: MetricContext, references: Sequence[Sequence[str]]) -> dict[str, str]:
        chrf = self._scorer
        return {
            "char_order": str(chrf.char_order),
            "word_order": str(chrf.word_order),
            "beta": str(chrf.beta),
            "whitespace": str(chrf.whitespace).lower(),
            "lowercase": str(chrf.lowercase).lower(),
        }

    def score_totals(self, totals: FloatArray, n: int) -> float:
        return float(self._scorer._compute_f_score(totals.tolist()))

    def sample_scores(self, stats: FloatArray) -> FloatArray:
        # Each row's statistics are those of its best-matching reference, so this is
        # sacrebleu.sentence_chrf.
        return np.array([self.score_totals(row, 1) for row in stats])
