"""The metric contract: per-sample sufficient statistics, then a corpus value from them.

A metric is split in two so that bootstrap confidence intervals and paired significance tests
never re-tokenize or re-match text: :meth:`Metric.stats` does the expensive work once per row,
:meth:`Metric.aggregate` turns the statistics of any subset (or resample) of rows into the
corpus value. For a mean of per-sample scores the statistic is the score itself; for BLEU it is
the n-gram match counts and lengths, whose sums give corpus BLEU exactly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from promptkit.config.patterns import PatternError, compile_checked
from promptkit.errors import PromptkitError
from promptkit.metrics.language import detect_language, normalize_language
from promptkit.registry import Registry

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class MetricError(PromptkitError):
    """Predictions cannot be scored: nothing to score, a row without references, a metric that
    cannot be loaded or computed."""

    exit_code = 2


@dataclass(frozen=True)
class StringMatchOptions:
    """The options of ``string_match`` (lm-eval's ``exact_match`` options, HF evaluate's names)."""

    ignore_case: bool = False
    ignore_punctuation: bool = False
    ignore_numbers: bool = False
    regexes_to_ignore: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "regexes_to_ignore", tuple(self.regexes_to_ignore))
        for name in ("ignore_case", "ignore_punctuation", "ignore_numbers"):
            if not isinstance(getattr(self, name), bool):
                raise MetricError(f"string_match option {name} must be true or false, got {getattr(self, name)!r}")
        for pattern in self.regexes_to_ignore:
            if not isinstance(pattern, str):
                raise MetricError(f"string_match regexes_to_ignore holds {pattern!r}, not a pattern")
            try:
                compile_checked(pattern)
            except PatternError as exc:
                raise MetricError(f"string_match regexes_to_ignore: {exc}") from None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> StringMatchOptions:
        """The options as a task file or results.json writes them (absent keys: the defaults).

        Raises:
            MetricError: an unknown option or a value of the wrong kind.
        """
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise MetricError(f"unknown string_match option {unknown[0]!r}; accepted: {', '.join(sorted(known))}")
        patterns = data.get("regexes_to_ignore") or ()
        if not isinstance(patterns, (list, tuple)):
            raise MetricError(f"string_match regexes_to_ignore must be a list of patterns, got {patterns!r}")
        return cls(**{**data, "regexes_to_ignore": tuple(patterns)})

    def describe(self) -> dict[str, str]:
        return {"ignore_case": str(self.ignore_case).lower(), "ignore_punctuation": str(self.ignore_punctuation).lower(),
                "ignore_numbers": str(self.ignore_numbers).lower(),
                "regexes_to_ignore": " ".join(repr(p) for p in self.regexes_to_ignore) or "none"}


@dataclass(frozen=True)
class MetricContext:
    """What a metric may need to know about the task beyond the strings themselves.

    Attributes:
        language: target language. Any common spelling is accepted (``"de"``, ``"zh-CN"``,
            FLORES-200 ``"zho_Hans"``) and stored normalised to ISO 639-1 where known
            (``"zh"``), so ``MetricContext(language="jpn_Jpan").language == "ja"``.
            ``None`` (the task names none): each metric detects it once for the whole set from
            the script of the references (:meth:`resolved`) and records what it found.
        labels: the verbalizers of a classification task, used by ``macro_f1`` so that a
            class the model never predicts still counts.
        squad_version: which official SQuAD script ``exact_match`` and ``token_f1`` follow
            where the two disagree, on answers that normalise to nothing: ``"1.1"`` (token F1
            of two empty answers is 0) or ``"2.0"`` (it is 1; references that normalise to
            nothing are dropped, and a row left without any is the no-answer ``""``).
        bleu_tokenize: a sacrebleu tokenizer name (``"ja-mecab"``...) that overrides the one
            BLEU derives from the language (:func:`promptkit.metrics.translation.bleu_tokenizer`).
        string_match: the options of ``string_match`` (the task's ``metric_options.string_match``).
        task: the task's name: an lm-eval column aggregated by the task's own code finds it by
            it (:mod:`promptkit.metrics.lmeval`).
    """

    language: str | None = None
    labels: tuple[str, ...] = ()
    squad_version: Literal["1.1", "2.0"] = "1.1"
    bleu_tokenize: str | None = None
    string_match: StringMatchOptions = field(default_factory=StringMatchOptions)
    task: str = ""

    @classmethod
    def of_task(cls, info: Any, task: str = "") -> MetricContext:
        """The context a run recorded for a task (``promptkit.records.results.TaskInfo``), so that
        ``promptkit report`` scores and compares exactly as the run did.

        Raises:
            MetricError: recorded options that are not valid (an edited results.json).
        """
        return cls(language=info.language, labels=info.labels, squad_version=info.squad_version,
                   bleu_tokenize=info.bleu_tokenize,
                   string_match=StringMatchOptions.from_mapping(info.metric_options.get("string_match")), task=task)

    def __post_init__(self) -> None:
        # Frozen dataclass: normalise through object.__setattr__ so that every metric sees one
        # spelling and two contexts naming the same language compare equal.
        object.__setattr__(self, "language", normalize_language(self.language))
        object.__setattr__(self, "labels", tuple(self.labels))
        if self.squad_version not in ("1.1", "2.0"):
            raise MetricError(f"squad_version must be '1.1' or '2.0', got {self.squad_version!r}")

    def resolved(self, references: Sequence[Sequence[str]]) -> MetricContext:
        """This context with a language: the task's, else the one detected from ``references``.

        Detection looks at all references together (:func:`detect_language`), so every row of
        a set is tokenised the same way; rows of another script inside the set follow the
        majority, as they would with a declared language.
        """
        if self.language is not None:
            return self
        return replace(self, language=detect_language(r for refs in references for r in refs))

    def language_details(self, references: Sequence[Sequence[str]]) -> dict[str, str]:
        """``language`` and where it came from, for :meth:`Metric.describe`."""
        source = "task" if self.language is not None else "detected from the references' script"
        return {"language": str(self.resolved(references).language), "language_source": source}


class Metric(ABC):
    """One metric: per-sample statistics, a corpus value, and per-sample scores.

    All values are on a 0-100 scale (hub metrics keep their own scale).

    Attributes:
        name: the registry name (``"token_f1"``, ``"evaluate:bertscore"``).
    """

    name: str = ""
    # True when every per-sample score is right or wrong (statistics ``(n, 1)`` in {0, 1}): its
    # interval is Wilson's (with the design effect on grouped rows), and a difference's minimum
    # detectable size never falls below what an exact test on the rows could reject.
    binary: bool = False
    # The range a corpus value lies in (intervals are clipped to it); None: unbounded.
    bounds: tuple[float, float] | None = (0.0, 100.0)
    # False: a row's statistic is no score of the row (samples rows then give none).
    per_row: bool = True

    @abstractmethod
    def stats(
        self,
        predictions: Sequence[str],
        references: Sequence[Sequence[str]],
        ctx: MetricContext,
    ) -> FloatArray:
        """Compute the sufficient statistics of every row.

        Args:
            predictions: one output per row.
            references: the gold outputs of every row (one or more each; counts may differ).
            ctx: language and labels of the task.

        Returns:
            A float64 array of shape ``(n, k)``; row ``i`` belongs to ``predictions[i]``.

        Raises:
            MetricError: lengths differ or a row has no reference.
        """

    @abstractmethod
    def aggregate(self, stats: FloatArray) -> float:
        """Compute the corpus value from the statistics of some rows (possibly resampled)."""

    def describe(self, ctx: MetricContext, references: Sequence[Sequence[str]]) -> dict[str, str]:
        """The settings :meth:`stats` uses for these references in ``ctx``: tokenizer, smoothing,
        language... Recorded beside the value (``MetricScore.details``) because the same
        strings can score very differently under two tokenizers. Empty by default."""
        return {}

    @abstractmethod
    def sample_scores(self, stats: FloatArray) -> FloatArray:
        """Per-row scores for reports, shape ``(n,)``."""

    def aggregate_resamples(self, stats: FloatArray, indices: IntArray) -> FloatArray:
        """Corpus values of several resamples of the rows.

        Args:
            stats: the ``(n, k)`` statistics of all rows.
            indices: ``(b, m)`` row indices, one resample per row of ``indices``.

        Returns:
            The ``b`` corpus values. Subclasses override this with a vectorised version.
        """
        return np.array([self.aggregate(stats[rows]) for rows in indices], dtype=np.float64)

    def aggregate_counts(self, stats: FloatArray, counts: IntArray) -> FloatArray:
        """Corpus values of resamples given as row multiplicities.

        Args:
            stats: the ``(n, k)`` statistics of all rows.
            counts: ``(b, n)``; ``counts[j, i]`` is how often row ``i`` is in resample ``j``.
                Resamples of clusters (all rows of a drawn group) differ in size.

        Returns:
            The ``b`` corpus values.
        """
        rows = np.arange(len(stats))
        return np.array([self.aggregate(stats[np.repeat(rows, c)]) for c in counts], dtype=np.float64)


class AdditiveMetric(Metric):
    """A metric whose corpus value depends only on the column sums of its statistics.

    True of every built-in (means of per-sample scores, BLEU and chrF match counts, per-class
    true/false positive counts), which lets a resample be scored from a row-count vector times
    the statistics matrix instead of copying rows.
    """

    @abstractmethod
    def score_totals(self, totals: FloatArray, n: int) -> float:
        """Corpus value from the column sums ``totals`` (shape ``(k,)``) of ``n`` rows."""

    def score_totals_batch(self, totals: FloatArray, n: int | IntArray) -> FloatArray:
        """:meth:`score_totals` for a ``(b, k)`` batch of column sums, each over ``n`` rows (one
        count for all, or one per row of ``totals``: cluster resamples differ in size)."""
        ns = np.broadcast_to(np.asarray(n, dtype=np.int64), (len(totals),))
        return np.array([self.score_totals(row, int(k)) for row, k in zip(totals, ns, strict=True)], dtype=np.float64)

    def aggregate(self, stats: FloatArray) -> float:
        return self.score_totals(stats.sum(axis=0), len(stats))

    def aggregate_resamples(self, stats: FloatArray, indices: IntArray) -> FloatArray:
        b, m = indices.shape
        n = len(stats)
        # counts[j, i] = how often row i was drawn in resample j; counts @ stats sums each
        # resample without materialising a (b, m, k) copy of the statistics.
        offsets = indices + (np.arange(b, dtype=np.int64) * n)[:, None]
        counts = np.bincount(offsets.ravel(), minlength=b * n).reshape(b, n)
        return self.score_totals_batch(counts.astype(np.float64) @ stats, m)

    def aggregate_counts(self, stats: FloatArray, counts: IntArray) -> FloatArray:
        return self.score_totals_batch(counts.astype(np.float64) @ stats, counts.sum(axis=1))


class MeanMetric(AdditiveMetric):
    """A metric that averages a per-sample score in [0, 1]; statistics are ``(n, 1)``."""

    @abstractmethod
    def sample_score(self, prediction: str, references: Sequence[str], ctx: MetricContext) -> float:
        """Score of one row in [0, 1]."""

    def stats(
        self,
        predictions: Sequence[str],
        references: Sequence[Sequence[str]],
        ctx: MetricContext,
    ) -> FloatArray:
        check_rows(predictions, references)
        # One language for the whole set (the task's, else detected once from all references),
        # so that no row switches tokenization on its own.
        ctx = ctx.resolved(references)
        scores = [
            self.sample_score(p, r, ctx) for p, r in zip(predictions, references, strict=True)
        ]
        return np.asarray(scores, dtype=np.float64).reshape(len(scores), 1)

    def score_totals(self, totals: FloatArray, n: int) -> float:
        return float(100.0 * totals[0] / n) if n else float("nan")

    def score_totals_batch(self, totals: FloatArray, n: int | IntArray) -> FloatArray:
        ns = np.broadcast_to(np.asarray(n, dtype=np.float64), (len(totals),))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(ns > 0, 100.0 * totals[:, 0] / np.maximum(ns, 1.0), np.nan)

    def sample_scores(self, stats: FloatArray) -> FloatArray:
        return np.asarray(100.0 * stats[:, 0], dtype=np.float64)


def check_rows(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> None:
    """Reject inputs no metric can score, naming the offending row.

    Raises:
        MetricError: the two sequences differ in length, a row's references are a bare string
            (a common slip that would otherwise be scored character by character), or a row
            has no reference.
    """
    if len(predictions) != len(references):
        raise MetricError(
            f"got {len(predictions)} predictions but {len(references)} reference lists; "
            "every prediction needs its own list of references"
        )
    for row, refs in enumerate(references):
        if isinstance(refs, str):
            raise MetricError(
                f"row {row}: references must be a list of strings, got the string {refs!r}"
            )
        if len(refs) == 0:
            raise MetricError(f"row {row}: no reference to score the prediction against")


METRICS: Registry[type[Metric]] = Registry("metric")
