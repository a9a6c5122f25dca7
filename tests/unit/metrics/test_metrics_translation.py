"""BLEU and chrF must equal sacrebleu's corpus scores exactly, from summed statistics."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sacrebleu
from promptkit.metrics import MetricContext, get_metric
from promptkit.metrics.translation import bleu_tokenizer

# sacrebleu's annotations omit the None padding it accepts.
Streams = Callable[[list[list[str]]], Any]


def test_bleu_single_reference_equals_sacrebleu(corpus: tuple[list[str], list[list[str]]]) -> None:
    hyps, refs = corpus
    single = [r[:1] for r in refs]
    metric = get_metric("bleu")
    stats = metric.stats(hyps, single, MetricContext(language="en"))
    assert stats.shape == (3, 10)
    assert metric.aggregate(stats) == sacrebleu.corpus_bleu(hyps, [[r[0] for r in refs]]).score


def test_bleu_unequal_reference_counts_equal_sacrebleu(
    corpus: tuple[list[str], list[list[str]]], streams: Streams
) -> None:
    hyps, refs = corpus
    metric = get_metric("bleu")
    stats = metric.stats(hyps, refs, MetricContext())
    expected = sacrebleu.corpus_bleu(hyps, streams(refs)).score
    assert metric.aggregate(stats) == expected
    # More references can only help: dropping them must change the score here.
    assert expected != sacrebleu.corpus_bleu(hyps, [[r[0] for r in refs]]).score


def test_bleu_sample_scores_are_sentence_bleu(corpus: tuple[list[str], list[list[str]]]) -> None:
    hyps, refs = corpus
    metric = get_metric("bleu")
    scores = metric.sample_scores(metric.stats(hyps, refs, MetricContext()))
    expected = [sacrebleu.sentence_bleu(h, r).score for h, r in zip(hyps, refs, strict=True)]
    assert scores == pytest.approx(expected, abs=1e-12)


def test_bleu_of_a_resample_is_corpus_bleu_of_those_rows(
    corpus: tuple[list[str], list[list[str]]], streams: Streams
) -> None:
    hyps, refs = corpus
    metric = get_metric("bleu")
    stats = metric.stats(hyps, refs, MetricContext())
    rows = [0, 0, 2, 1, 2]
    expected = sacrebleu.corpus_bleu([hyps[i] for i in rows], streams([refs[i] for i in rows]))
    assert metric.aggregate(stats[rows]) == expected.score


def test_chinese_bleu_uses_zh_tokenizer(
    zh_corpus: tuple[list[str], list[list[str]]], streams: Streams
) -> None:
    hyps, refs = zh_corpus
    metric = get_metric("bleu")
    value = metric.aggregate(metric.stats(hyps, refs, MetricContext(language="zho_Hans")))
    assert value == sacrebleu.corpus_bleu(hyps, streams(refs), tokenize="zh").score
    assert value > 0
    # 13a would see each unspaced sentence as one word: a different (here zero) score.
    assert sacrebleu.corpus_bleu(hyps, streams(refs), tokenize="13a").score != value


def test_bleu_tokenizer_by_language() -> None:
    assert bleu_tokenizer(None) == "13a"
    assert bleu_tokenizer("de") == "13a"
    assert bleu_tokenizer("zh") == "zh"
    mecab = importlib.util.find_spec("MeCab") is not None
    assert bleu_tokenizer("ja") == ("ja-mecab" if mecab else "char")
    if importlib.util.find_spec("mecab_ko") is None:
        assert bleu_tokenizer("ko") == "char"


def test_chrf_equals_sacrebleu(corpus: tuple[list[str], list[list[str]]], streams: Streams) -> None:
    hyps, refs = corpus
    metric = get_metric("chrf")
    stats = metric.stats(hyps, refs, MetricContext())
    assert metric.aggregate(stats) == sacrebleu.corpus_chrf(hyps, streams(refs)).score
    expected = [sacrebleu.sentence_chrf(h, r).score for h, r in zip(hyps, refs, strict=True)]
    assert metric.sample_scores(stats) == pytest.approx(expected, abs=1e-12)


def test_chrf_chinese_equals_sacrebleu(
    zh_corpus: tuple[list[str], list[list[str]]], streams: Streams
) -> None:
    hyps, refs = zh_corpus
    metric = get_metric("chrf")
    stats = metric.stats(hyps, refs, MetricContext(language="zh"))
    assert metric.aggregate(stats) == sacrebleu.corpus_chrf(hyps, streams(refs)).score


def test_vectorised_resamples_match_row_copies(corpus: tuple[list[str], list[list[str]]]) -> None:
    hyps, refs = corpus
    for name in ("bleu", "chrf"):
        metric = get_metric(name)
        stats = metric.stats(hyps * 4, refs * 4, MetricContext())
        idx = np.random.default_rng(1).integers(0, len(stats), size=(7, len(stats)))
        slow = [metric.aggregate(stats[rows]) for rows in idx]
        assert metric.aggregate_resamples(stats, idx) == pytest.approx(slow, abs=1e-9)
