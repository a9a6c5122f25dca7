"""ROUGE equals rouge_score's own scorer for English and is meaningful for Chinese."""

from __future__ import annotations

import pytest
from promptkit.metrics import MetricContext, get_metric, score
from promptkit.metrics.rouge import UnicodeTokenizer
from promptkit.records import Prediction
from promptkit.tasks import TaskConfig, build_adapter
from rouge_score.rouge_scorer import RougeScorer


class CharTokenizer:
    """A character-level tokenizer for rouge-score, written for the test: every non-space
    character is a token (the rows below have no punctuation)."""

    def tokenize(self, text: str) -> list[str]:
        return [ch for ch in text.lower() if not ch.isspace()]


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


# An identical Chinese summary, a close one, and one with two references.
ZH_SUMMARIES = [
    ("我爱北京天安门", ["我爱北京天安门"]),
    ("今天天气很好", ["今天天气非常好"]),
    ("他喜欢读书", ["他喜欢看书", "她喜欢读书写字"]),
]


def test_chinese_summary_with_a_default_generation_task() -> None:
    # A generation task that names no target_lang, scored the way the runner does it.
    cfg = TaskConfig.model_validate(
        {
            "name": "zh_summ",
            "dataset": {"kind": "files", "splits": {"train": "train.jsonl", "test": "test.jsonl"}},
            "adapter": {"kind": "generation", "fields": {"inputs": {"document": "doc"}, "references": "summary"}},
            "prompts": ["generation/summarize"],
            "metrics": ["rouge1", "rouge2", "rougeL"],
        }
    )
    adapter = build_adapter(cfg, cfg.dataset)
    preds = [Prediction(f"ex-{i}", "", out, tuple(refs)) for i, (out, refs) in enumerate(ZH_SUMMARIES)]
    # First the context the runner builds from target_language, then the adapter's own.
    for make_ctx in (
        lambda: MetricContext(language=adapter.target_language, labels=adapter.labels),
        lambda: adapter.metric_context(),
    ):
        scores = score(cfg.metrics, preds, make_ctx(), n_boot=0)
        for name in cfg.metrics:
            scorer = RougeScorer([name], use_stemmer=False, tokenizer=CharTokenizer())
            expected = [100 * scorer.score_multi(refs, out)[name].fmeasure for out, refs in ZH_SUMMARIES]
            assert scores[name].per_sample[0] == pytest.approx(100.0)  # identical text
            assert scores[name].per_sample == pytest.approx(expected)
            assert scores[name].details["language"] == "zh"
            assert scores[name].details["language_source"] == "detected from the references' script"
            assert scores[name].details["stemmer"] == "none"


def test_rouge_records_the_english_scorer() -> None:
    preds = [Prediction("a", "", "running dogs", ("run dog",))]
    details = score(["rougeL"], preds, MetricContext(), n_boot=0)["rougeL"].details
    assert details["stemmer"] == "porter" and details["language"] == "en"
    assert details["tokenizer"].startswith("rouge_score default")


def test_rouge_language_is_one_decision_for_the_set() -> None:
    # A mostly English set with one Chinese row: every row is scored as English (stemmed),
    # exactly as rouge-score's own English scorer does, instead of one row switching scorer.
    hyps = ["the cats were running", "dogs barked", "北京"]
    refs = [["a cat runs"], ["the dog barks loudly"], ["北京"]]
    metric = get_metric("rouge1")
    scorer = RougeScorer(["rouge1"], use_stemmer=True)
    expected = [100 * scorer.score_multi(r, h)["rouge1"].fmeasure for h, r in zip(hyps, refs, strict=True)]
    assert metric.sample_scores(metric.stats(hyps, refs, MetricContext())) == pytest.approx(expected)
