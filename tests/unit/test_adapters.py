"""Task adapters: dataset rows -> Example, field overrides per source and per split."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from promptkit.errors import DatasetError
from promptkit.records import Example
from promptkit.tasks import Task, TaskConfig, build_adapter, load_task, merged_fields
from promptkit.tasks.adapters import ADAPTERS
from promptkit.tasks.adapters.translation import language_name

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TOY_TASKS = FIXTURES / "toy_tasks"


def config(adapter: dict[str, Any], **extra: Any) -> TaskConfig:
    data: dict[str, Any] = {
        "name": "t",
        "dataset": {"kind": "files", "splits": {"train": "train.jsonl", "test": "test.jsonl"}},
        "adapter": adapter,
        "prompts": ["qa/closed_book"],
        "metrics": ["exact_match"],
        **extra,
    }
    return TaskConfig.model_validate(data)


def example(adapter: dict[str, Any], row: dict[str, Any], row_id: str = "test-0") -> Example:
    cfg = config(adapter)
    return build_adapter(cfg, cfg.dataset).example(row, row_id, f"split 'test' row {row_id}")


def test_registered_adapters() -> None:
    assert ADAPTERS.names() == ["classification", "generation", "multiple_choice", "qa", "translation"]
    for name in ADAPTERS:
        assert ADAPTERS.get(name).kind == name


# ----------------------------------------------------------------------------- qa
QA = {"kind": "qa", "fields": {"context": "passage", "question": "q", "answers": "answers.text"}}


def test_qa_with_context() -> None:
    ex = example(QA, {"id": "s1", "passage": "Ada wrote it.", "q": "Who?", "answers": {"text": ["Ada", "Ada L."]}})
    assert ex == Example(
        id="s1",
        fields={"question": "Who?", "answers": ["Ada", "Ada L."], "answer": "Ada", "context": "Ada wrote it."},
        references=("Ada", "Ada L."),
    )
    cfg = config(QA)
    assert build_adapter(cfg, cfg.dataset).variables() == {"question", "answers", "answer", "context"}


def test_qa_closed_book_has_no_context() -> None:
    closed = {"kind": "qa", "fields": {"question": "q", "answers": "a"}}
    ex = example(closed, {"q": "Capital of France?", "a": "Paris", "passage": "ignored"}, row_id="test-3")
    assert ex.fields == {"question": "Capital of France?", "answers": ["Paris"], "answer": "Paris"}
    assert ex.id == "test-3"  # no id column, no id field: the row id
    assert ex.references == ("Paris",)
    cfg = config(closed)
    assert "context" not in build_adapter(cfg, cfg.dataset).variables()


def test_qa_context_from_several_columns_is_joined() -> None:
    multi = {"kind": "qa", "fields": {"context": ["title", "passage"], "question": "q", "answers": "a", "id": "key"}}
    ex = example(multi, {"key": 17, "title": "Ada.", "passage": "She wrote it.", "q": "Who?", "a": ["Ada"]})
    assert ex.fields["context"] == "Ada. She wrote it."
    assert ex.id == "17"


def test_qa_empty_answers_is_an_error() -> None:
    with pytest.raises(DatasetError, match=r"split 'test' row test-0: field 'answers' \('answers.text'\) is empty"):
        example(QA, {"passage": "p", "q": "q", "answers": {"text": []}})


def test_qa_missing_column_names_the_row_columns() -> None:
    with pytest.raises(DatasetError, match=r"row test-0: column 'q' not found; the row has: answers, passage, question"):
        example(QA, {"passage": "p", "question": "q", "answers": {"text": ["a"]}})


def test_qa_language_and_squad_version_reach_the_metrics() -> None:
    cfg = config(QA)
    adapter = build_adapter(cfg, cfg.dataset)
    assert adapter.target_language is None  # detected by the metrics from the references
    assert adapter.metric_context().squad_version == "1.1"
    cfg = config({**QA, "language": "ja", "squad_version": "2.0"})
    adapter = build_adapter(cfg, cfg.dataset)
    assert adapter.target_language == "ja"
    ctx = adapter.metric_context()
    assert (ctx.language, ctx.squad_version) == ("ja", "2.0")


def test_qa_unknown_squad_version_is_a_config_error() -> None:
    with pytest.raises(ValueError, match=r"squad_version"):
        config({**QA, "squad_version": "2"})


# ----------------------------------------------------------------------------- translation
MT = {"kind": "translation", "source_lang": "en", "target_lang": "de", "fields": {"source": "en", "references": ["de", "de_alt"]}}


def test_translation_fields_and_language_names() -> None:
    ex = example(MT, {"id": "m1", "en": "Hello.", "de": "Hallo.", "de_alt": "Guten Tag."})
    assert ex.references == ("Hallo.", "Guten Tag.")
    assert ex.fields == {
        "source": "Hello.",
        "reference": "Hallo.",
        "references": ["Hallo.", "Guten Tag."],
        "source_lang": "en",
        "target_lang": "de",
        "source_language": "English",
        "target_language": "German",
    }
    cfg = config(MT)
    adapter = build_adapter(cfg, cfg.dataset)
    assert adapter.target_language == "de"
    assert set(ex.fields) == adapter.variables()
    assert adapter.metric_context().bleu_tokenize is None


def test_bleu_tokenize_reaches_the_metrics() -> None:
    for adapter_cfg in ({**MT, "target_lang": "ja", "bleu_tokenize": "ja-mecab"}, {**GEN, "bleu_tokenize": "ja-mecab"}):
        cfg = config(adapter_cfg)
        assert build_adapter(cfg, cfg.dataset).metric_context().bleu_tokenize == "ja-mecab"
    with pytest.raises(ValueError, match=r"bleu_tokenize"):
        config({**MT, "bleu_tokenize": "mecab"})


def test_bleu_tokenize_choices_are_sacrebleus() -> None:
    from typing import get_args

    from promptkit.config import BleuTokenize
    from sacrebleu.metrics.bleu import BLEU

    assert set(get_args(BleuTokenize)) == set(BLEU.TOKENIZERS)


def test_translation_drops_missing_and_blank_references() -> None:
    assert example(MT, {"en": "Hi.", "de": "Hallo.", "de_alt": None}).references == ("Hallo.",)
    assert example(MT, {"en": "Hi.", "de": "Hallo.", "de_alt": "  "}).references == ("Hallo.",)
    one = {**MT, "fields": {"source": "en", "references": "refs"}}
    assert example(one, {"en": "Hi.", "refs": ["Hallo.", "Servus."]}).references == ("Hallo.", "Servus.")


def test_translation_without_any_reference_is_an_error() -> None:
    with pytest.raises(DatasetError, match=r"field 'references' \(\['de', 'de_alt'\]\) is empty"):
        example(MT, {"en": "Hi.", "de": "", "de_alt": None})


@pytest.mark.parametrize(
    ("code", "name"),
    [("de", "German"), ("zh", "Chinese"), ("zho_Hans", "Chinese"), ("eng_Latn", "English"), ("pt-BR", "Portuguese"),
     ("FR", "French"), ("xx", "xx"), ("tlh_Latn", "tlh_Latn")],
)
def test_language_name(code: str, name: str) -> None:
    assert language_name(code) == name


# ----------------------------------------------------------------------------- generation
GEN = {"kind": "generation", "fields": {"inputs": {"mr": "meaning", "topic": "meta.topic"}, "references": "refs"}}


def test_generation_inputs_mapping() -> None:
    ex = example(GEN, {"id": 5, "meaning": "name[X]", "meta": {"topic": "food"}, "refs": ["X is nice.", "", "X."]})
    assert ex.id == "5"
    assert ex.fields == {"mr": "name[X]", "topic": "food", "reference": "X is nice.", "references": ["X is nice.", "X."]}
    assert ex.references == ("X is nice.", "X.")
    cfg = config(GEN)
    adapter = build_adapter(cfg, cfg.dataset)
    assert adapter.variables() == {"mr", "topic", "reference", "references"}
    # No default language: the metrics detect it from the references' script.
    assert adapter.target_language is None
    assert adapter.metric_context().language is None and adapter.metric_context().bleu_tokenize is None


def test_generation_single_reference_string() -> None:
    summ = {"kind": "generation", "target_lang": "fr", "fields": {"inputs": {"document": "doc"}, "references": "summary"}}
    ex = example(summ, {"doc": "Long text.", "summary": "Short."})
    assert ex.references == ("Short.",) and ex.fields["reference"] == "Short."
    cfg = config(summ)
    assert build_adapter(cfg, cfg.dataset).target_language == "fr"


def test_generation_empty_references_is_an_error() -> None:
    with pytest.raises(DatasetError, match=r"field 'references' \('refs'\) is empty"):
        example(GEN, {"meaning": "m", "meta": {"topic": "t"}, "refs": []})


# ----------------------------------------------------------------------------- classification
CLS_INT = {
    "kind": "classification",
    "labels": [{"value": 0, "verbalizer": "negative"}, {"value": 1, "verbalizer": "positive"}],
    "fields": {"inputs": {"sentence": "text"}, "label": "label"},
}
CLS_STR = {
    "kind": "classification",
    "labels": [{"value": "neg", "verbalizer": "bad"}, {"value": "neu", "verbalizer": "so-so"}, {"value": "pos", "verbalizer": "good"}],
    "fields": {"inputs": {"review": "body", "title": "head"}, "label": "meta.label"},
}


def test_classification_int_labels() -> None:
    ex = example(CLS_INT, {"text": "Great film.", "label": 1})
    assert ex.label == 1
    assert ex.choices == ("negative", "positive")
    assert ex.references == ("positive",)
    assert ex.fields == {"sentence": "Great film.", "choices": ["negative", "positive"], "label_text": "positive"}
    cfg = config(CLS_INT)
    adapter = build_adapter(cfg, cfg.dataset)
    assert adapter.labels == ("negative", "positive")
    assert adapter.variables() == {"sentence", "choices", "label_text"}


def test_classification_labels_match_on_their_string_form() -> None:
    # CSV files give "0"/"1" for integer labels.
    assert example(CLS_INT, {"text": "x", "label": "0"}).label == 0


def test_classification_str_labels() -> None:
    ex = example(CLS_STR, {"body": "Fine.", "head": "Meh", "meta": {"label": "neu"}})
    assert (ex.label, ex.references, ex.choices) == (1, ("so-so",), ("bad", "so-so", "good"))
    assert ex.fields["review"] == "Fine." and ex.fields["title"] == "Meh"


@pytest.mark.parametrize(("adapter", "value", "accepted"), [(CLS_INT, 2, "'0', '1'"), (CLS_STR, "positive", "'neg', 'neu', 'pos'"), (CLS_INT, None, "'0', '1'")])
def test_classification_unknown_label_lists_accepted_values(adapter: dict[str, Any], value: Any, accepted: str) -> None:
    row = {"text": "x", "label": value, "body": "x", "head": "y", "meta": {"label": value}}
    with pytest.raises(DatasetError) as info:
        example(adapter, row)
    msg = str(info.value)
    assert f"label {value!r}" in msg
    assert "is not one of the task's labels" in msg
    assert msg.endswith(f"accepted: {accepted}")
    assert "row test-0" in msg


def test_classification_needs_two_labels() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        config({**CLS_INT, "labels": [{"value": 0, "verbalizer": "negative"}]})


# ----------------------------------------------------------------------------- field overrides
BASE_QA = {"kind": "qa", "fields": {"context": "context", "question": "question", "answers": "answers.text", "id": "id"}}


def test_merged_fields_source_then_split_overrides() -> None:
    cfg = config(
        BASE_QA,
        offline={
            "kind": "files",
            "relative_to": "data_dir",
            "fields": {"answers": "answers", "question": "q"},
            "splits": {"train": {"path": "dev.jsonl", "fields": {"question": "query", "context": ["title", "body"]}}, "test": "test.jsonl"},
        },
    )
    assert merged_fields(cfg, cfg.dataset, "test") is cfg.adapter.fields  # no overrides: unchanged
    assert cfg.offline is not None
    test_fields = merged_fields(cfg, cfg.offline, "test")
    assert (test_fields.question, test_fields.answers, test_fields.context, test_fields.id) == ("q", "answers", "context", "id")
    train_fields = merged_fields(cfg, cfg.offline, "train")
    assert (train_fields.question, train_fields.answers, train_fields.context) == ("query", "answers", ["title", "body"])
    # The base config is untouched (frozen models, no shared state).
    assert cfg.adapter.fields.question == "question"


def test_task_uses_offline_fields_only_with_a_data_dir(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    rows = {"id": "x1", "context": "C", "question": "Q", "answers": {"text": ["A"]}}
    offline_rows = {"id": "o1", "context": "C2", "question": "Q2", "answers": ["A2"]}
    for split in ("train", "test"):
        (tmp_path / f"{split}.jsonl").write_text(json.dumps(rows) + "\n")
        (tmp_path / "data" / f"{split}.jsonl").write_text(json.dumps(offline_rows) + "\n")
    cfg = config(BASE_QA, offline={"kind": "files", "relative_to": "data_dir", "fields": {"answers": "answers"},
                                   "splits": {"train": "train.jsonl", "test": "test.jsonl"}})
    task = Task(config=cfg, path=tmp_path / "t.yaml", prompts=[])
    assert task.examples("test")[0].references == ("A",)
    offline = task.examples("test", data_dir=tmp_path / "data")
    assert [(e.id, e.references) for e in offline] == [("o1", ("A2",))]
    assert task.source(tmp_path / "data")[1] == "offline"
    assert task.source(None)[1] == "dataset"
    assert task.adapter(tmp_path / "data", "test") is task.adapter(tmp_path / "data", "test")  # cached


def test_split_fields_apply_to_that_split_only(tmp_path: Path) -> None:
    (tmp_path / "train.jsonl").write_text(json.dumps({"query": "Q?", "a": "A"}) + "\n")
    (tmp_path / "test.jsonl").write_text(json.dumps({"question": "Q2?", "a": "B"}) + "\n")
    cfg = config(
        {"kind": "qa", "fields": {"question": "question", "answers": "a"}},
        dataset={"kind": "files", "splits": {"train": {"path": "train.jsonl", "fields": {"question": "query"}}, "test": "test.jsonl"}},
    )
    task = Task(config=cfg, path=tmp_path / "t.yaml", prompts=[])
    assert task.examples("train")[0].fields["question"] == "Q?"
    assert task.examples("test")[0].fields["question"] == "Q2?"


# ----------------------------------------------------------------------------- ids
def test_duplicate_ids_in_a_split_are_rejected(tmp_path: Path) -> None:
    rows = [{"id": "a", "q": "1", "a": "x"}, {"id": "b", "q": "2", "a": "y"}, {"id": "a", "q": "3", "a": "z"}]
    (tmp_path / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "train.jsonl").write_text(json.dumps(rows[0]) + "\n")
    cfg = config({"kind": "qa", "fields": {"question": "q", "answers": "a"}})
    task = Task(config=cfg, path=tmp_path / "t.yaml", prompts=[])
    with pytest.raises(DatasetError) as info:
        task.examples("test")
    msg = str(info.value)
    assert "split 'test' row 2: duplicate id 'a'; ids must be unique" in msg
    assert "task 't'" in msg
    assert [e.id for e in task.examples("test", limit=2)] == ["a", "b"]  # the limit comes first


def test_row_ids_default_to_split_and_row(tmp_path: Path) -> None:
    (tmp_path / "test.jsonl").write_text("".join(json.dumps({"q": str(i), "a": "x"}) + "\n" for i in range(3)))
    (tmp_path / "train.jsonl").write_text(json.dumps({"q": "0", "a": "x"}) + "\n")
    cfg = config({"kind": "qa", "fields": {"question": "q", "answers": "a"}})
    task = Task(config=cfg, path=tmp_path / "t.yaml", prompts=[])
    assert [e.id for e in task.examples("test")] == ["test-0", "test-1", "test-2"]


def test_empty_split_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "test.jsonl").write_text("\n")
    cfg = config({"kind": "qa", "fields": {"question": "q", "answers": "a"}})
    task = Task(config=cfg, path=tmp_path / "t.yaml", prompts=[])
    with pytest.raises(DatasetError, match=r"split 'test' is empty"):
        task.examples("test")


def test_missing_column_error_names_task_split_row_and_columns(tmp_path: Path) -> None:
    rows = [{"q": "1", "a": "x"}, {"question": "2", "a": "y"}]
    (tmp_path / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = config({"kind": "qa", "fields": {"question": "q", "answers": "a"}})
    task = Task(config=cfg, path=tmp_path / "t.yaml", prompts=[])
    with pytest.raises(DatasetError) as info:
        task.examples("test")
    assert str(info.value) == (
        f"task 't' ({tmp_path / 't.yaml'}): split 'test' row 1: column 'q' not found; the row has: a, question"
    )


# ----------------------------------------------------------------------------- toy tasks
@pytest.mark.parametrize(
    ("name", "count", "first_id", "references"),
    [
        ("toy_qa", 3, "qa-test-1", ("pier 3", "3")),
        ("toy_translation", 2, "mt-test-1", ("Der Laden öffnet um neun.", "Das Geschäft öffnet um neun Uhr.")),
        ("toy_data_to_text", 2, "d2t-test-1", ("The Harbour Inn serves seafood near the ferry port.", "Near the ferry port, the Harbour Inn offers seafood.")),
        ("toy_summarize", 2, "sum-test-1", ("The mountain pass has reopened after heavy snow.",)),
        ("toy_sentiment", 2, "sst-test-1", ("positive",)),
    ],
)
def test_toy_tasks_load(name: str, count: int, first_id: str, references: tuple[str, ...]) -> None:
    task = load_task(TOY_TASKS / f"{name}.yaml")
    examples = task.examples("test")
    assert len(examples) == count
    assert examples[0].id == first_id
    assert examples[0].references == references
    assert len(task.examples("test", limit=1)) == 1
