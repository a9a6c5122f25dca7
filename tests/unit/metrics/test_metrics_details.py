"""The settings a metric reports beside its value, and the language detected when a task names none."""

from __future__ import annotations

import pytest
from promptkit.metrics import MetricContext, score
from promptkit.metrics.language import detect_language
from promptkit.records import MetricScore, Prediction


def test_details_round_trip_and_are_written_only_when_present() -> None:
    with_details = MetricScore("bleu", 30.0, 25.0, 35.0, 4, (1.0,) * 4, details={"tokenize": "char"})
    data = with_details.to_dict(with_samples=True)
    assert data["details"] == {"tokenize": "char"}
    assert MetricScore.from_dict("bleu", data) == with_details
    # A metric without settings to report (and every result saved before there were any)
    # reads and writes exactly as before.
    plain = MetricScore("accuracy", 50.0, 40.0, 60.0, 4)
    assert "details" not in plain.to_dict()
    assert MetricScore.from_dict("accuracy", plain.to_dict()) == plain
    assert hash(with_details) == hash(MetricScore("bleu", 30.0, 25.0, 35.0, 4, (1.0,) * 4))


def test_every_corpus_metric_reports_its_settings() -> None:
    preds = [Prediction("a", "", "the cat sat", ("the cat sat down",)), Prediction("b", "", "hello", ("hello",))]
    names = ["bleu", "chrf", "rouge1", "rouge2", "rougeL", "exact_match", "token_f1"]
    scores = score(names, preds, MetricContext(language="en"), n_boot=0)
    for name in names:
        assert scores[name].details, name
        assert all(isinstance(v, str) for v in scores[name].details.values())
    # accuracy has no settings; what it records is how its interval was made
    assert score(["accuracy"], preds, MetricContext(), n_boot=0)["accuracy"].details == {"interval": "wilson"}


@pytest.mark.parametrize(
    ("texts", "language"),
    [
        (["我爱北京天安门", "今天天气很好"], "zh"),
        (["東京に行きます", "猫が好きです"], "ja"),
        (["東京"], "zh"),  # kanji alone cannot be told from Chinese; both split by character
        (["안녕하세요 세계"], "ko"),
        (["สวัสดีครับ"], "th"),
        (["Привет, мир"], "und"),
        (["नमस्ते दुनिया"], "und"),
        (["The cat sat.", "Über die Brücke"], "en"),
        (["GPT-4 是一个大型语言模型"], "zh"),  # the majority script decides
        (["", "123 !"], "en"),  # no letters
        ([], "en"),
    ],
)
def test_detect_language_by_script(texts: list[str], language: str) -> None:
    assert detect_language(texts) == language


def test_context_resolves_language_once_for_all_references() -> None:
    refs = [["the cat"], ["a dog"], ["北京"]]
    assert MetricContext().resolved(refs).language == "en"
    assert MetricContext(language="zh").resolved(refs).language == "zh"
    assert MetricContext().language_details(refs) == {
        "language": "en",
        "language_source": "detected from the references' script",
    }
    assert MetricContext(language="zho_Hans").language_details(refs) == {"language": "zh", "language_source": "task"}
