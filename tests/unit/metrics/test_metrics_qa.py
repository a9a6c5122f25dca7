"""SQuAD exact match and token F1, including Chinese/Japanese character tokenization."""

from __future__ import annotations

import pytest
from promptkit.metrics import MetricContext, get_metric, normalize_language
from promptkit.metrics.language import split_cjk
from promptkit.metrics.qa import answer_tokens

EN = MetricContext(language="en")


def f1(prediction: str, references: list[str], ctx: MetricContext = EN) -> float:
    metric = get_metric("token_f1")
    return metric.aggregate(metric.stats([prediction], [references], ctx))


def em(prediction: str, references: list[str], ctx: MetricContext = EN) -> float:
    metric = get_metric("exact_match")
    return metric.aggregate(metric.stats([prediction], [references], ctx))


def test_squad_normalisation() -> None:
    # lowercase, punctuation dropped (not split: "don't" -> "dont"), articles dropped.
    assert answer_tokens("The  Eiffel Tower, in Paris!") == ["eiffel", "tower", "in", "paris"]
    assert answer_tokens("Don't stop") == ["dont", "stop"]
    assert answer_tokens("an apple a day") == ["apple", "day"]
    # Articles only as whole words.
    assert answer_tokens("theatre anthem") == ["theatre", "anthem"]


def test_exact_match_normalises_and_takes_best_reference() -> None:
    assert em("the Eiffel Tower", ["Eiffel tower."]) == 100.0
    assert em("Eiffel", ["Eiffel tower"]) == 0.0
    assert em("Paris", ["London", "paris"]) == 100.0


def test_token_f1_hand_computed() -> None:
    # pred tokens: cat sat on mat; ref tokens: cat on mat -> overlap 3, P 3/4, R 1.
    assert f1("the cat sat on the mat", ["a cat on a mat"]) == pytest.approx(100 * 6 / 7)
    # Repeated tokens are clipped: pred "red red red", ref "red" -> P 1/3, R 1 -> F1 1/2.
    assert f1("red red red", ["red"]) == pytest.approx(50.0)
    assert f1("blue", ["red"]) == 0.0
    # Max over references, not mean.
    assert f1("new york city", ["york", "new york city"]) == pytest.approx(100.0)


def test_token_f1_corpus_is_mean_of_rows() -> None:
    metric = get_metric("token_f1")
    stats = metric.stats(["the cat sat on the mat", "blue"], [["a cat on a mat"], ["blue"]], EN)
    assert stats.shape == (2, 1)
    assert metric.aggregate(stats) == pytest.approx(100 * (6 / 7 + 1) / 2)
    assert metric.sample_scores(stats) == pytest.approx([100 * 6 / 7, 100.0])


def test_empty_answers_agree() -> None:
    # Both normalise to nothing ("the" is an article): SQuAD v2.0 convention, F1 = EM = 100.
    assert f1("The", ["the"]) == 100.0
    assert em("The", ["the"]) == 100.0
    assert f1("", ["Paris"]) == 0.0


def test_chinese_is_scored_per_character() -> None:
    zh = MetricContext(language="zho_Hans")
    # 4 prediction characters, 2 reference characters, 2 shared: P 1/2, R 1 -> F1 2/3.
    assert f1("北京大学", ["北京"], zh) == pytest.approx(100 * 2 / 3)
    # Chinese punctuation is removed, and spacing does not matter.
    assert em("北京。", ["北 京"], zh) == 100.0
    # With no language, Han characters are detected in the row itself.
    assert f1("北京大学", ["北京"], MetricContext()) == pytest.approx(100 * 2 / 3)
    # Declared English keeps SQuAD's whitespace tokens: one token each, no overlap.
    assert f1("北京大学", ["北京"], EN) == 0.0


def test_japanese_mixed_segmentation_keeps_latin_words() -> None:
    ja = MetricContext(language="jpn_Jpan")
    assert split_cjk("gpt4モデルです") == ["gpt4", "モ", "デ", "ル", "で", "す"]
    # pred: gpt4 モ デ ル (4), ref: gpt4 モ デ ル で す (6): overlap 4 -> P 1, R 2/3 -> F1 0.8.
    assert f1("GPT-4モデル", ["GPT-4モデルです"], ja) == pytest.approx(80.0)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("zho_Hans", "zh"),
        ("zho_Hant", "zh"),
        ("jpn_Jpan", "ja"),
        ("kor_Hang", "ko"),
        ("deu_Latn", "de"),
        ("en-US", "en"),
        ("zh_CN", "zh"),
        ("DE", "de"),
        ("yue_Hant", "yue"),
        ("iw", "he"),
        ("", None),
        (None, None),
    ],
)
def test_language_codes_are_normalised(code: str | None, expected: str | None) -> None:
    assert normalize_language(code) == expected
    assert MetricContext(language=code).language == expected
