"""ROUGE equals rouge_score's own scorer for English and is meaningful for Chinese."""

from __future__ import annotations

import pytest
from promptkit.metrics import MetricContext, get_metric
from promptkit.metrics.rouge import UnicodeTokenizer
from rouge_score.rouge_scorer import RougeScorer


@pytest.mark.parametrize("name", ["rouge1", "rouge2", "rougeL"])
def test_english_rouge_equals_rouge_score(
    name: str, corpus: tuple[list[str], list[list[str]]]
) -> None:
    hyps, refs = corpus
    scorer = RougeScorer([name], use_stemmer=True)
    expected = [
        max(scorer.score(r, h)[name].fmeasure for r in rs) for h, rs in zip(hyps, refs, strict=True)
    ]
    metric = get_metric(name)
    stats = metric.stats(hyps, refs, MetricContext(language="en"))
    assert metric.sample_scores(stats) == pytest.approx([100 * e for e in expected])
    assert metric.aggregate(stats) == pytest.approx(100 * sum(expected) / len(expected))


def test_stemming_is_on() -> None:
    metric = get_metric("rouge1")
    stats = metric.stats(["running dogs"], [["run dog"]], MetricContext())
    assert metric.aggregate(stats) == pytest.approx(100.0)


def test_chinese_rouge_counts_characters() -> None:
    zh = MetricContext(language="zh")
    pred, refs = ["我爱北京"], [["我爱上海"]]
    # Characters: 2 of 4 shared -> 50; bigrams 我爱/爱北/北京 vs 我爱/爱上/上海 -> 1/3;
    # longest common subsequence 我爱 -> 50.
    expected = {"rouge1": 50.0, "rouge2": 100 / 3, "rougeL": 50.0}
    for name, value in expected.items():
        metric = get_metric(name)
        assert metric.aggregate(metric.stats(pred, refs, zh)) == pytest.approx(value)
        # Without a language, Han characters are detected rather than dropped.
        assert metric.aggregate(metric.stats(pred, refs, MetricContext())) == pytest.approx(value)


def test_unicode_tokenizer_keeps_non_latin_words() -> None:
    assert UnicodeTokenizer().tokenize("Über die Brücke, bitte!") == [
        "über",
        "die",
        "brücke",
        "bitte",
    ]
    assert UnicodeTokenizer().tokenize("Привет, мир") == ["привет", "мир"]
    metric = get_metric("rouge1")
    ru = MetricContext(language="rus_Cyrl")
    assert metric.aggregate(metric.stats(["привет мир"], [["привет"]], ru)) == pytest.approx(
        100 * 2 / 3
    )
