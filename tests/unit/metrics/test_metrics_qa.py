"""SQuAD exact match and token F1, including Chinese/Japanese character tokenization.

The reference implementations are the official evaluation scripts, written out below (SQuAD
v1.1 ``evaluate-v1.1.py``, SQuAD v2.0 ``evaluate-v2.0.py``, MLQA ``mlqa_evaluation_v1.py`` for
Chinese), never promptkit's own functions.
"""

from __future__ import annotations

import re
import string
import sys
import unicodedata
from collections import Counter
from typing import Any

import pytest
from promptkit.metrics import MetricContext, get_metric, normalize_language, score
from promptkit.metrics.language import split_cjk
from promptkit.metrics.qa import answer_tokens
from promptkit.records import Prediction
from promptkit.tasks import TaskConfig, build_adapter
from promptkit.tasks.adapters import Adapter

EN = MetricContext(language="en")


# --- SQuAD v1.1, evaluate-v1.1.py --------------------------------------------------------------
def v11_normalize_answer(s: str) -> str:
    def remove_articles(text: str) -> str:
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text: str) -> str:
        return " ".join(text.split())

    def remove_punc(text: str) -> str:
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def v11_f1_score(prediction: str, ground_truth: str) -> float:
    prediction_tokens = v11_normalize_answer(prediction).split()
    ground_truth_tokens = v11_normalize_answer(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def v11_exact_match_score(prediction: str, ground_truth: str) -> bool:
    return v11_normalize_answer(prediction) == v11_normalize_answer(ground_truth)


def v11_row(prediction: str, ground_truths: list[str]) -> tuple[float, float]:
    # metric_max_over_ground_truths, for exact match and F1.
    return (
        max(float(v11_exact_match_score(prediction, gt)) for gt in ground_truths),
        max(v11_f1_score(prediction, gt) for gt in ground_truths),
    )


# --- SQuAD v2.0, evaluate-v2.0.py ---------------------------------------------------------------
def v20_normalize_answer(s: str) -> str:
    def remove_articles(text: str) -> str:
        regex = re.compile(r"\b(a|an|the)\b", re.UNICODE)
        return re.sub(regex, " ", text)

    def white_space_fix(text: str) -> str:
        return " ".join(text.split())

    def remove_punc(text: str) -> str:
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def v20_get_tokens(s: str) -> list[str]:
    if not s:
        return []
    return v20_normalize_answer(s).split()


def v20_compute_exact(a_gold: str, a_pred: str) -> int:
    return int(v20_normalize_answer(a_gold) == v20_normalize_answer(a_pred))


def v20_compute_f1(a_gold: str, a_pred: str) -> float:
    gold_toks = v20_get_tokens(a_gold)
    pred_toks = v20_get_tokens(a_pred)
    common = Counter(gold_toks) & Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0:
        # If either is no-answer, then F1 is 1 if they agree, 0 otherwise
        return int(gold_toks == pred_toks)
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(pred_toks)
    recall = 1.0 * num_same / len(gold_toks)
    return (2 * precision * recall) / (precision + recall)


def v20_row(prediction: str, answers: list[str]) -> tuple[float, float]:
    # get_raw_scores: gold answers that normalise to nothing are dropped; none left -> [""].
    gold_answers = [a for a in answers if v20_normalize_answer(a)]
    if not gold_answers:
        gold_answers = [""]
    return (
        float(max(v20_compute_exact(a, prediction) for a in gold_answers)),
        float(max(v20_compute_f1(a, prediction) for a in gold_answers)),
    )


# --- MLQA, mlqa_evaluation_v1.py, language "zh" ----------------------------------------------
MLQA_PUNCT = {chr(i) for i in range(sys.maxunicode) if unicodedata.category(chr(i)).startswith("P")}.union(
    string.punctuation
)


def mlqa_mixed_segmentation(text: str) -> list[str]:
    segs_out: list[str] = []
    temp_str = ""
    for char in text:
        if re.search(r"[\u4e00-\u9fa5]", char) or char in MLQA_PUNCT:
            if temp_str != "":
                segs_out.extend(temp_str.split())
                temp_str = ""
            segs_out.append(char)
        else:
            temp_str += char
    if temp_str != "":
        segs_out.extend(temp_str.split())
    return segs_out


def mlqa_normalize_answer_zh(s: str) -> str:
    # lower -> remove_punc -> remove_articles (none for zh) -> white_space_fix (mixed segmentation)
    text = "".join(ch for ch in s.lower() if ch not in MLQA_PUNCT)
    return " ".join(t for t in mlqa_mixed_segmentation(text) if t.strip() != "")


def mlqa_row_zh(prediction: str, ground_truths: list[str]) -> tuple[float, float]:
    def f1(pred: str, gt: str) -> float:
        p, g = mlqa_normalize_answer_zh(pred).split(), mlqa_normalize_answer_zh(gt).split()
        num_same = sum((Counter(p) & Counter(g)).values())
        if num_same == 0:
            return 0
        precision, recall = num_same / len(p), num_same / len(g)
        return 2 * precision * recall / (precision + recall)

    em = max(float(mlqa_normalize_answer_zh(prediction) == mlqa_normalize_answer_zh(gt)) for gt in ground_truths)
    return em, max(f1(prediction, gt) for gt in ground_truths)


# --- promptkit through a task's QA adapter, as the runner scores a task -----------------------
def qa_adapter(**adapter: Any) -> Adapter:
    cfg = TaskConfig.model_validate(
        {
            "name": "t",
            "dataset": {"kind": "files", "splits": {"train": "train.jsonl", "test": "test.jsonl"}},
            "adapter": {"kind": "qa", "fields": {"question": "q", "answers": "a"}, **adapter},
            "prompts": ["qa/closed_book"],
            "metrics": ["exact_match", "token_f1"],
        }
    )
    return build_adapter(cfg, cfg.dataset)


def qa_adapter_context(**adapter: Any) -> MetricContext:
    return qa_adapter(**adapter).metric_context()


Rows = list[tuple[str, list[str]]]


def scored_rows(rows: Rows, ctx: MetricContext) -> list[float]:
    """promptkit's exact match and F1 of every row (0-1), flattened: em0, f1_0, em1, ..."""
    preds = [Prediction(f"ex-{i}", "", out, tuple(refs)) for i, (out, refs) in enumerate(rows)]
    scores = score(["exact_match", "token_f1"], preds, ctx, n_boot=0)
    em, f1 = scores["exact_match"].per_sample, scores["token_f1"].per_sample
    return [x / 100 for pair in zip(em, f1, strict=True) for x in pair]


def official(row_fn: Any, rows: Rows) -> list[float]:
    """An official script's exact match and F1 of every row, flattened like scored_rows."""
    return [float(x) for pred, refs in rows for x in row_fn(pred, refs)]


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


# Answers that normalise to nothing, where the two official scripts disagree.
EMPTY_EDGE_CASES: list[tuple[str, list[str]]] = [
    ("The", ["the"]),  # both empty: v1.1 F1 0 (EM 1), v2.0 F1 1
    ("", [""]),
    ("", ["Paris"]),
    ("!", ["a"]),
    ("Paris", ["the"]),  # v2.0: the only reference is dropped, scored against no-answer
    ("", ["the", "Paris"]),  # v1.1 EM 1 via "the"; v2.0 drops "the": EM 0
    ("Paris", ["an", "paris!"]),
    ("the cat", ["a cat", "an"]),
    ("red red", ["red"]),
]


@pytest.mark.parametrize(("version", "script"), [("1.1", v11_row), ("2.0", v20_row)])
def test_squad_version_follows_the_official_script(version: str, script: Any) -> None:
    expected = official(script, EMPTY_EDGE_CASES)
    ctx = qa_adapter_context(language="en", squad_version=version)
    assert ctx.squad_version == version
    assert scored_rows(EMPTY_EDGE_CASES, ctx) == pytest.approx(expected)
    # The versions really disagree on these rows, so the setting is what decides.
    assert expected != official(v20_row if script is v11_row else v11_row, EMPTY_EDGE_CASES)


def test_default_squad_version_is_1_1() -> None:
    # The shipped SQuAD tasks are v1.1; so is a task (or a bare context) that names none.
    rows = [("The", ["the"]), ("", ["the", "Paris"])]
    assert scored_rows(rows, MetricContext()) == official(v11_row, rows)
    assert MetricContext().squad_version == qa_adapter_context().squad_version == "1.1"
    scores = score(["token_f1"], [Prediction("x", "", "The", ("the",))], MetricContext(), n_boot=0)
    assert scores["token_f1"].details["squad_version"] == "1.1"


def test_unknown_squad_version_is_rejected() -> None:
    from promptkit.metrics import MetricError
    from pydantic import ValidationError

    with pytest.raises(MetricError, match=r"squad_version must be '1.1' or '2.0', got '2'"):
        MetricContext(squad_version="2")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="squad_version"):
        qa_adapter_context(squad_version="2")


# A mixed set: Chinese answers, Latin answers with Chinese punctuation, English answers.
MIXED_ROWS: list[tuple[str, list[str]]] = [
    ("北京大学", ["北京"]),
    ("Paris。", ["Paris"]),
    ("「三体」", ["三体", "《三体》"]),
    ("New York", ["new york city"]),
    ("长城", ["万里长城"]),
]


def test_qa_language_zh_tokenizes_every_row_the_same_way() -> None:
    ctx = qa_adapter_context(language="zh")
    assert ctx.language == "zh"
    expected = official(mlqa_row_zh, MIXED_ROWS)
    assert scored_rows(MIXED_ROWS, ctx) == pytest.approx(expected)
    # "Paris。" has no Han character of its own, yet is a Chinese-task row: 。 is punctuation.
    assert expected[2:4] == [1.0, 1.0]


def test_qa_language_en_tokenizes_every_row_the_same_way() -> None:
    ctx = qa_adapter_context(language="en")
    expected = official(v11_row, MIXED_ROWS)
    assert scored_rows(MIXED_ROWS, ctx) == pytest.approx(expected)
    # The Han rows get SQuAD's whitespace tokens too, not characters: one token each.
    assert expected[0:2] == [0.0, 0.0]


def test_qa_language_reaches_the_runner_as_target_language() -> None:
    # The runner builds MetricContext(language=adapter.target_language, ...) and records
    # target_language in results' task info (compare.py rebuilds the context from it).
    adapter = qa_adapter(language="zho_Hans")
    assert adapter.target_language == "zho_Hans"
    assert MetricContext(language=adapter.target_language).language == adapter.metric_context().language == "zh"


def test_qa_without_language_detects_it_once_for_the_set() -> None:
    # An English set with one Chinese answer: detected English for all rows (the official v1.1
    # script's tokens), not characters for the one row that happens to contain Han.
    # MetricContext() is what the runner builds for a QA task that declares no language.
    rows = [("the Eiffel Tower", ["Eiffel Tower"]), ("Paris", ["paris"]), ("北京大学", ["北京"]), ("blue", ["red"])]
    assert scored_rows(rows, MetricContext()) == pytest.approx(official(v11_row, rows))
    assert scored_rows(rows, qa_adapter_context()) == pytest.approx(official(v11_row, rows))
    preds = [Prediction(f"ex-{i}", "", out, tuple(refs)) for i, (out, refs) in enumerate(rows)]
    details = score(["token_f1"], preds, MetricContext(), n_boot=0)["token_f1"].details
    assert details["language"] == "en" and details["language_source"] == "detected from the references' script"
    # A Chinese set is detected as Chinese, for every row.
    zh_rows = [r for r in MIXED_ROWS if r[0] != "New York"]
    assert scored_rows(zh_rows, qa_adapter_context()) == pytest.approx(official(mlqa_row_zh, zh_rows))


def test_chinese_is_scored_per_character() -> None:
    zh = MetricContext(language="zho_Hans")
    # 4 prediction characters, 2 reference characters, 2 shared: P 1/2, R 1 -> F1 2/3.
    assert f1("北京大学", ["北京"], zh) == pytest.approx(100 * 2 / 3)
    # Chinese punctuation is removed, and spacing does not matter.
    assert em("北京。", ["北 京"], zh) == 100.0
    # With no language, it is detected from the (Chinese) references.
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
