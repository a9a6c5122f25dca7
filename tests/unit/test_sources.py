"""Dataset sources: file readers, dotted field paths, group_by/part splits, the hub source."""

from __future__ import annotations

import gzip
import json
import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from promptkit.config import FilesSource, HubSource, SplitFiles
from promptkit.errors import DatasetError, PromptkitError
from promptkit.tasks.sources import (
    detect_format,
    extract,
    get_path,
    in_part,
    read_file,
    read_hub_split,
    read_rows,
    read_split_files,
    sequence_of_str,
)

try:  # comes with `datasets`; imported here so that no single test pays for the import
    import pyarrow.dataset  # noqa: F401  (read_table imports it, and pandas)
    import pyarrow.parquet  # noqa: F401
except ImportError:  # pragma: no cover - the parquet cases then fail with a clear DatasetError
    pass

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FORMATS = FIXTURES / "toy_data" / "formats"
ROWS = [
    {"id": "r1", "title": "alpha", "text": "first row"},
    {"id": "r2", "title": "beta", "text": "second row"},
    {"id": "r3", "title": "gamma", "text": "third, with a comma"},
]


# ----------------------------------------------------------------------------- readers
@pytest.mark.parametrize("name", ["rows.jsonl", "rows.jsonl.gz", "rows.json", "rows_wrapped.json", "rows.csv", "rows.parquet"])
def test_every_format_reads_the_same_rows(name: str) -> None:
    assert read_file(FORMATS / name, "auto") == ROWS


def test_jsonl_skips_blank_lines() -> None:
    assert (FORMATS / "rows.jsonl").read_text().count("\n\n") == 1  # the fixture has one
    assert len(read_file(FORMATS / "rows.jsonl", "auto")) == 3


def test_nested_rows_survive_jsonl_and_parquet() -> None:
    (jsonl_row, _) = read_file(FORMATS / "nested.jsonl", "auto")
    (parquet_row,) = read_file(FORMATS / "nested.parquet", "auto")
    assert parquet_row == jsonl_row
    assert get_path(parquet_row, "spans.text") == ["x", "y"]


def test_gzipped_json_list(tmp_path: Path) -> None:
    path = tmp_path / "rows.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        json.dump(ROWS, fh)
    assert read_file(path, "auto") == ROWS


def test_declared_format_overrides_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "rows.txt"
    path.write_text((FORMATS / "rows.jsonl").read_text())
    assert read_file(path, "jsonl") == ROWS
    with pytest.raises(DatasetError, match=r"cannot tell the file format from the extension 'txt'"):
        read_file(path, "auto")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a.jsonl", "jsonl"), ("a.ndjson", "jsonl"), ("a.jsonl.gz", "jsonl"), ("a.JSON", "json"), ("a.json.gz", "json"),
     ("a.csv", "csv"), ("a.parquet", "parquet"), ("dev.v1.1.jsonl", "jsonl")],
)
def test_detect_format(name: str, expected: str) -> None:
    assert detect_format(Path(name), "auto") == expected


def test_detect_format_lists_what_is_accepted() -> None:
    with pytest.raises(DatasetError) as info:
        detect_format(Path("data/train.tsv"), "auto")
    msg = str(info.value)
    assert "data/train.tsv" in msg and "'tsv'" in msg
    assert all(ext in msg for ext in (".json", ".jsonl", ".csv", ".parquet"))


def test_invalid_json_line_gives_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": 1}\n{"id": 2}\n{"id": 3,,}\n{"id": 4}\n')
    with pytest.raises(DatasetError, match=rf"^{re.escape(str(path))}:3: invalid JSON line"):
        read_file(path, "auto")


def test_jsonl_line_that_is_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": 1}\n[1, 2]\n')
    with pytest.raises(DatasetError, match=rf"{re.escape(str(path))}:2: expected a JSON object per line, got list"):
        read_file(path, "auto")


def test_invalid_json_file_gives_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('[\n  {"id": 1},\n  {"id": 2\n]\n')
    with pytest.raises(DatasetError, match=rf"^{re.escape(str(path))}:4: invalid JSON"):
        read_file(path, "auto")


@pytest.mark.parametrize("content", ['{"rows": []}', '[1, 2]', '"text"', '{"data": {"a": 1}}'])
def test_json_must_be_a_list_of_objects(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DatasetError, match=r"expected a JSON list of objects"):
        read_file(path, "auto")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"data file not found: .*nope\.jsonl"):
        read_file(tmp_path / "nope.jsonl", "auto")


def test_dataset_errors_are_promptkit_errors() -> None:
    assert issubclass(DatasetError, PromptkitError)
    assert DatasetError.exit_code != 0


# ----------------------------------------------------------------------------- field paths
NESTED: dict[str, Any] = {
    "id": "n1",
    "answers": {"text": ["Ada", "Ada Lovelace"], "answer_start": [0, 0]},
    "spans": [{"text": "x", "start": 0}, {"text": "y", "start": 4}],
    "meta": {"tags": ["a", "b"], "source": {"name": "wiki"}},
    "extra": None,
    "title": "T",
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("id", "n1"),
        ("answers.text", ["Ada", "Ada Lovelace"]),
        ("spans.text", ["x", "y"]),  # a key over a list of objects maps it
        ("spans.start", [0, 4]),
        ("meta.source.name", "wiki"),
        ("meta.tags.1", "b"),  # a digit indexes a list of scalars
        ("extra", None),
    ],
)
def test_get_path(path: str, expected: Any) -> None:
    assert get_path(NESTED, path) == expected


@pytest.mark.parametrize("path", ["nope", "answers.txt", "meta.source.name.x", "meta.tags.5", "id.x"])
def test_get_path_missing(path: str) -> None:
    with pytest.raises((KeyError, IndexError)):
        get_path(NESTED, path)


def test_extract_concatenates_a_list_of_paths() -> None:
    assert extract(NESTED, ["title", "answers.text", "extra", "spans.text"], where="w") == ["T", "Ada", "Ada Lovelace", "x", "y"]


def test_extract_missing_column_lists_the_row_columns() -> None:
    with pytest.raises(DatasetError) as info:
        extract(NESTED, ["title", "answer.text"], where="task 'toy': split 'test' row 4")
    assert str(info.value) == (
        "task 'toy': split 'test' row 4: column 'answer.text' not found; "
        "the row has: answers, extra, id, meta, spans, title"
    )


def test_sequence_of_str() -> None:
    assert sequence_of_str(None, "w", "f") == ()
    assert sequence_of_str("a", "w", "f") == ("a",)
    assert sequence_of_str(["a", None, 3], "w", "f") == ("a", "3")
    assert sequence_of_str(7, "w", "f") == ("7",)


# ----------------------------------------------------------------------------- group_by / part
def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def grouped(tmp_path: Path) -> Path:
    # 60 groups ("articles") of 1 to 3 rows each.
    rows = [{"id": f"{g}-{i}", "title": f"article {g}"} for g in range(60) for i in range(g % 3 + 1)]
    write_jsonl(tmp_path / "all.jsonl", rows)
    return tmp_path


def parts_source(parts: dict[str, tuple[float, float]]) -> FilesSource:
    return FilesSource(splits={name: SplitFiles(path="all.jsonl", group_by="title", part=p) for name, p in parts.items()})


def test_parts_are_disjoint_by_group_and_cover_everything(grouped: Path) -> None:
    source = parts_source({"train": (0.0, 0.3), "dev": (0.3, 0.5), "test": (0.5, 1.0)})
    everything = read_file(grouped / "all.jsonl", "auto")
    splits = {name: read_split_files(source, name, grouped, "w") for name in ("train", "dev", "test")}
    ids = {name: [r["id"] for r in rows] for name, rows in splits.items()}
    titles = {name: {r["title"] for r in rows} for name, rows in splits.items()}
    assert sorted(i for v in ids.values() for i in v) == sorted(r["id"] for r in everything)
    assert not (titles["train"] & titles["dev"] or titles["train"] & titles["test"] or titles["dev"] & titles["test"])
    assert all(ids.values())  # 60 groups: every part gets some
    # File order is kept within a split.
    assert ids["test"] == [r["id"] for r in everything if r["id"] in set(ids["test"])]


def test_parts_are_deterministic(grouped: Path) -> None:
    source = parts_source({"train": (0.0, 0.5), "test": (0.5, 1.0)})
    first = read_split_files(source, "train", grouped, "w")
    assert read_split_files(source, "train", grouped, "w") == first
    assert [in_part(f"article {g}", (0.0, 0.5)) for g in range(60)] == [in_part(f"article {g}", (0.0, 0.5)) for g in range(60)]


def test_in_part_is_a_partition() -> None:
    values = [f"v{i}" for i in range(200)]
    for v in values:
        assert in_part(v, (0.0, 0.25)) + in_part(v, (0.25, 0.7)) + in_part(v, (0.7, 1.0)) == 1
        assert in_part(v, (0.0, 1.0))


def test_group_by_column_missing_names_split_and_row(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "all.jsonl", [{"id": "a", "title": "x"}, {"id": "b"}])
    source = FilesSource(splits={"test": SplitFiles(path="all.jsonl", group_by="title", part=(0.0, 1.0))})
    with pytest.raises(DatasetError, match=r"w: split 'test' row 1: column 'title' not found; the row has: id"):
        read_split_files(source, "test", tmp_path, "w")


def test_split_with_several_files_concatenates_them(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "a.jsonl", ROWS[:1])
    write_jsonl(tmp_path / "b.jsonl", ROWS[1:])
    source = FilesSource(splits={"test": SplitFiles(path=["a.jsonl", "b.jsonl"])})
    assert read_split_files(source, "test", tmp_path, "w") == ROWS


def test_unknown_split(tmp_path: Path) -> None:
    source = FilesSource(splits={"test": "a.jsonl"})
    with pytest.raises(DatasetError, match=r"w: no split 'dev'; defined: \['test'\]"):
        read_split_files(source, "dev", tmp_path, "w")


# ----------------------------------------------------------------------------- read_rows
def test_task_relative_and_data_dir_relative(tmp_path: Path) -> None:
    (tmp_path / "task").mkdir()
    (tmp_path / "data").mkdir()
    write_jsonl(tmp_path / "task" / "t.jsonl", ROWS[:1])
    write_jsonl(tmp_path / "data" / "t.jsonl", ROWS[1:])
    by_task = FilesSource(splits={"test": "t.jsonl"})
    by_data = FilesSource(relative_to="data_dir", splits={"test": "t.jsonl"})
    kwargs: dict[str, Any] = {"task_dir": tmp_path / "task", "data_dir": tmp_path / "data", "where": "w"}
    assert read_rows(by_task, "test", **kwargs) == ROWS[:1]
    assert read_rows(by_data, "test", **kwargs) == ROWS[1:]


def test_data_dir_relative_source_without_data_dir(tmp_path: Path) -> None:
    source = FilesSource(relative_to="data_dir", splits={"test": "squad/dev.jsonl"})
    with pytest.raises(DatasetError) as info:
        read_rows(source, "test", task_dir=tmp_path, data_dir=None, where="task 'squad' (tasks/squad.yaml)")
    msg = str(info.value)
    assert msg.startswith("task 'squad' (tasks/squad.yaml): ")
    assert "--data-dir" in msg and "PROMPTKIT_DATA_DIR" in msg


# ----------------------------------------------------------------------------- hub
@pytest.fixture
def fake_datasets(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A stand-in ``datasets`` module, so no test imports the real one or touches the network."""
    module = types.ModuleType("datasets")
    monkeypatch.setitem(sys.modules, "datasets", module)
    return module


HUB = HubSource(path="org/squad", name="plain", revision="abc123", splits={"train": "train[:10]", "test": "validation"})


def test_hub_failure_points_to_data_dir(fake_datasets: types.ModuleType) -> None:
    def load_dataset(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("Couldn't reach 'org/squad' on the Hub (LocalEntryNotFoundError)")

    fake_datasets.load_dataset = load_dataset  # type: ignore[attr-defined]
    with pytest.raises(DatasetError) as info:
        read_rows(HUB, "test", task_dir=Path("."), data_dir=None, where="task 'squad' (tasks/squad.yaml)")
    msg = str(info.value)
    assert "task 'squad' (tasks/squad.yaml)" in msg
    assert "'org/squad'" in msg and "'plain'" in msg and "'validation'" in msg
    assert "ConnectionError: Couldn't reach" in msg
    assert "--data-dir" in msg
    assert isinstance(info.value.__cause__, ConnectionError)


def test_hub_split_expression_and_revision_are_passed(fake_datasets: types.ModuleType) -> None:
    calls: list[tuple[Any, ...]] = []

    def load_dataset(path: str, name: str | None = None, *, split: str, revision: str | None = None) -> Any:
        calls.append((path, name, split, revision))
        return [{"q": "a"}, {"q": "b"}]

    fake_datasets.load_dataset = load_dataset  # type: ignore[attr-defined]
    assert read_hub_split(HUB, "train", "w") == [{"q": "a"}, {"q": "b"}]
    assert calls == [("org/squad", "plain", "train[:10]", "abc123")]


def test_hub_unknown_split(fake_datasets: types.ModuleType) -> None:
    with pytest.raises(DatasetError, match=r"no split 'dev'; defined: \['test', 'train'\]"):
        read_hub_split(HUB, "dev", "w")


def test_an_lm_eval_tasks_hub_files_and_builder_settings_are_passed_to_load_dataset(
        fake_datasets: types.ModuleType, tmp_path: Path) -> None:
    """lm-eval's MMLU-SR reads CSV files of its hub dataset, without a header row (header: null)."""
    from promptkit.tasks import load_task

    calls: list[dict[str, Any]] = []

    def load_dataset(path: str, name: str | None = None, **kwargs: Any) -> Any:
        calls.append({"path": path, "name": name, **kwargs})
        return [{"question": "2 + 2 ?", "choice1": "3", "choice2": "4", "answer": "B"}]

    fake_datasets.load_dataset = load_dataset  # type: ignore[attr-defined]
    task = tmp_path / "mmlusr_like.yaml"
    task.write_text(
        "task: mmlusr_like\ndataset_path: org/mmlu-sr\ndataset_kwargs:\n  data_files:\n    test: qa/test.csv\n"
        "  column_names: [question, choice1, choice2, answer]\n  header: null\noutput_type: multiple_choice\n"
        "test_split: test\ndoc_to_text: '{{question}}'\ndoc_to_target: \"{{['A', 'B'].index(answer)}}\"\n"
        "doc_to_choice: ['{{choice1}}', '{{choice2}}']\n", encoding="utf-8")
    [example] = load_task(f"lm-eval:{task}").examples("test")
    assert example.label == 1
    assert calls == [{"path": "org/mmlu-sr", "name": None, "split": "test", "revision": None, "data_files": {"test": "qa/test.csv"},
                      "column_names": ["question", "choice1", "choice2", "answer"], "header": None}]


def test_an_unknown_hub_option_is_refused_naming_those_accepted() -> None:
    with pytest.raises(ValueError, match="unknown option 'download_config'; accepted: data_files"):
        HubSource(path="org/x", splits={"test": "test"}, options={"download_config": {}})


def test_remote_data_files_alone_are_read_by_load_dataset_as_lm_eval_reads_them(
        fake_datasets: types.ModuleType, tmp_path: Path) -> None:
    """lm-eval's arithmetic and prost tasks give only hf:// files to the json builder."""
    from promptkit.tasks import load_task

    calls: list[dict[str, Any]] = []

    def load_dataset(path: str, name: str | None = None, **kwargs: Any) -> Any:
        calls.append({"path": path, "name": name, **kwargs})
        return [{"context": "1 + 1 =", "completion": " 2"}]

    fake_datasets.load_dataset = load_dataset  # type: ignore[attr-defined]
    task = tmp_path / "arith.yaml"
    remote = "hf://datasets/EleutherAI/arithmetic/data/two_digit_addition.jsonl"
    task.write_text(f"task: arith\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    validation: {remote}\n"
                    "output_type: loglikelihood\nvalidation_split: validation\ndoc_to_text: '{{context}}'\n"
                    "doc_to_target: '{{completion}}'\ntarget_delimiter: ''\n", encoding="utf-8")
    [example] = load_task(f"lm-eval:{task}").examples("validation")
    assert example.choices == (" 2",)
    assert calls == [{"path": "json", "name": None, "split": "validation", "revision": None,
                      "data_files": {"validation": remote}}]
