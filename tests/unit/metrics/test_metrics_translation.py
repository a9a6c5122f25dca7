"""BLEU and chrF must equal sacrebleu's corpus scores exactly, from summed statistics."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import sacrebleu
import sacrebleu.tokenizers.tokenizer_ja_mecab as ja_mecab
from promptkit.metrics import MetricContext, MetricError, get_metric, score
from promptkit.metrics.translation import bleu_tokenizer
from promptkit.records import Prediction

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
    # Fixed, whatever is installed; MeCab only when the task asks for it.
    assert bleu_tokenizer("ja") == "char"
    assert bleu_tokenizer("ko") == "char"
    assert bleu_tokenizer("ja", "ja-mecab") == "ja-mecab"
    assert bleu_tokenizer("de", "intl") == "intl"


# Five Japanese sentences on which MeCab words and characters give very different BLEU.
JA_HYPOTHESES = [
    "私は東京に住んでいます。",
    "今日はとても暑いです。",
    "猫が窓の外を見ている。",
    "彼は毎朝コーヒーを飲む。",
    "この本はとても面白かった。",
]
JA_REFERENCES = [
    "私は東京に住んでいる。",
    "今日は非常に暑いです。",
    "猫が窓から外を見ている。",
    "彼は毎朝コーヒーを飲みます。",
    "この本は本当に面白かった。",
]


class FakeTagger:
    """Stands in for ``MeCab.Tagger`` with the IPA dictionary: a "word" is two characters, a
    segmentation that scores unlike ``char``, so that using it would show."""

    def __init__(self, args: str) -> None:
        pass

    def dictionary_info(self) -> SimpleNamespace:
        return SimpleNamespace(size=392126, next=None)  # what sacrebleu checks for IPA

    def version(self) -> str:
        return "0.996"

    def parse(self, line: str) -> str:
        chars = line.replace(" ", "")
        return " ".join(chars[i : i + 2] for i in range(0, len(chars), 2))


@pytest.fixture(params=["mecab missing", "mecab importable"])
def mecab(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[bool]:
    """Run a test once as if ``sacrebleu[ja]`` were not installed and once as if it were."""
    importable = request.param == "mecab importable"
    monkeypatch.setattr(ja_mecab, "MeCab", SimpleNamespace(Tagger=FakeTagger) if importable else None)
    monkeypatch.setattr(ja_mecab, "ipadic", SimpleNamespace(MECAB_ARGS=""), raising=False)
    yield importable


def ja_predictions() -> list[Prediction]:
    return [Prediction(f"ex-{i}", "", h, (r,)) for i, (h, r) in enumerate(zip(JA_HYPOTHESES, JA_REFERENCES, strict=True))]


def sacrebleu_ja(tokenize: str) -> float:
    return float(sacrebleu.BLEU(tokenize=tokenize).corpus_score(JA_HYPOTHESES, [JA_REFERENCES]).score)


def test_japanese_bleu_does_not_depend_on_mecab(mecab: bool) -> None:
    if mecab:  # the simulated MeCab is really in effect, and would change the score
        assert sacrebleu_ja("ja-mecab") != sacrebleu_ja("char")
    result = score(["bleu"], ja_predictions(), MetricContext(language="jpn_Jpan"), n_boot=0)["bleu"]
    assert result.value == sacrebleu_ja("char")
    assert result.details["tokenize"] == "char" and result.details["tokenize_source"] == "language default"


@pytest.mark.parametrize(
    ("language", "tokenize"), [("ja", "char"), ("zh", "zh"), ("ko", "char"), ("de", "13a"), ("en", "13a")]
)
def test_recorded_bleu_tokenizer_is_the_one_sacrebleu_used(language: str, tokenize: str) -> None:
    result = score(["bleu"], ja_predictions(), MetricContext(language=language), n_boot=0)["bleu"]
    assert result.details["tokenize"] == tokenize
    # The recorded facts reproduce the value with sacrebleu itself.
    d = result.details
    bleu = sacrebleu.BLEU(
        tokenize=d["tokenize"], smooth_method=d["smooth"], lowercase=d["lowercase"] == "true",
        max_ngram_order=int(d["max_ngram_order"]),
    )
    assert result.value == bleu.corpus_score(JA_HYPOTHESES, [JA_REFERENCES]).score
    assert d["language"] == language and d["language_source"] == "task"


def test_japanese_mecab_only_when_asked(mecab: bool) -> None:
    ctx = MetricContext(language="ja", bleu_tokenize="ja-mecab")
    if not mecab:
        with pytest.raises(MetricError, match=r"'ja-mecab' cannot be loaded.*pip install sacrebleu\[ja\]"):
            score(["bleu"], ja_predictions(), ctx, n_boot=0)
        return
    result = score(["bleu"], ja_predictions(), ctx, n_boot=0)["bleu"]
    assert result.value == sacrebleu_ja("ja-mecab")
    assert result.details["tokenize"] == "ja-mecab" and result.details["tokenize_source"] == "task"


def test_unknown_bleu_tokenizer_lists_sacrebleus() -> None:
    with pytest.raises(MetricError, match=r"unknown BLEU tokenizer 'ja_mecab'; sacrebleu accepts: .*ja-mecab"):
        score(["bleu"], ja_predictions(), MetricContext(language="ja", bleu_tokenize="ja_mecab"), n_boot=0)


def test_chrf_records_its_settings(corpus: tuple[list[str], list[list[str]]], streams: Streams) -> None:
    hyps, refs = corpus
    preds = [Prediction(f"ex-{i}", "", h, tuple(r)) for i, (h, r) in enumerate(zip(hyps, refs, strict=True))]
    result = score(["chrf"], preds, MetricContext(), n_boot=0)["chrf"]
    d = result.details
    assert d == {"char_order": "6", "word_order": "0", "beta": "2", "whitespace": "false", "lowercase": "false"}
    chrf = sacrebleu.CHRF(
        char_order=int(d["char_order"]), word_order=int(d["word_order"]), beta=int(d["beta"]),
        whitespace=d["whitespace"] == "true", lowercase=d["lowercase"] == "true",
    )
    assert result.value == chrf.corpus_score(hyps, streams(refs)).score


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
