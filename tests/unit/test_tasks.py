"""Task loading beyond the schema (metric and prompt names, template fields, prompt kinds, field
overrides), ``validate_files`` and the task/prompt catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest
from promptkit.errors import ConfigError, Problem, PromptkitError, UnknownNameError
from promptkit.tasks import load_task, validate_files
from promptkit.tasks.catalog import builtin_dir, default_data_dir, is_builtin, prompt_files, resolve_task, task_files

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"

TASK = """\
name: toy
version: 2
dataset:
  kind: files
  splits: {train: train.jsonl, test: test.jsonl}
adapter:
  kind: qa
  fields:
    question: q
    answers: a
prompts: [qa/closed_book]
metrics: [exact_match]
"""


def write(tmp_path: Path, text: str, name: str = "toy.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(ConfigError) as info:
        load_task(path)
    return info.value.problems


def test_valid_task_loads(tmp_path: Path) -> None:
    task = load_task(write(tmp_path, TASK))
    assert task.name == "toy" and task.config.version == 2
    assert [t.name for t in task.prompts] == ["qa/closed_book"]
    assert task.path == tmp_path / "toy.yaml"


# ----------------------------------------------------------------------------- names
def test_unknown_metric_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path, TASK.replace("metrics: [exact_match]", "metrics: [exact_match, token_fl]"))
    (problem,) = problems_of(path)
    assert str(problem) == f"{path}:12: metrics[1]: unknown metric 'token_fl'; did you mean 'token_f1'?"


def test_hub_metrics_are_not_checked_offline(tmp_path: Path) -> None:
    path = write(tmp_path, TASK.replace("metrics: [exact_match]", "metrics: [exact_match, 'evaluate:bertscore']"))
    assert load_task(path).config.metrics == ["exact_match", "evaluate:bertscore"]
    (problem,) = problems_of(write(tmp_path, TASK.replace("metrics: [exact_match]", "metrics: ['evaluate:']")))
    assert problem.key == "metrics[0]" and "unknown metric 'evaluate:'" in problem.message


def test_unknown_prompt_name_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path, TASK.replace("prompts: [qa/closed_book]", "prompts: [qa/closed_book, qa/extractiv]"))
    (problem,) = problems_of(path)
    assert str(problem) == f"{path}:11: prompts[1]: unknown prompt 'qa/extractiv'; did you mean 'qa/extractive'?"


def test_name_problems_are_reported_with_schema_problems(tmp_path: Path) -> None:
    # One run lists everything: a schema error does not hide unknown names.
    text = TASK.replace("metrics: [exact_match]", "metrics: [token_fl]").replace("[qa/closed_book]", "[qa/closd_book]")
    problems = problems_of(write(tmp_path, text + "limit: 0\n"))
    assert sorted(p.key or "" for p in problems) == ["limit", "metrics[0]", "prompts[0]"]


def test_prompt_listed_twice(tmp_path: Path) -> None:
    (problem,) = problems_of(write(tmp_path, TASK.replace("[qa/closed_book]", "[qa/closed_book, qa/closed_book]")))
    assert (problem.key, problem.message) == ("prompts", "prompt 'qa/closed_book' listed twice")


# ----------------------------------------------------------------------------- prompts
def test_template_with_missing_field_names_field_and_available(tmp_path: Path) -> None:
    text = TASK.replace(
        "prompts: [qa/closed_book]",
        "prompts:\n  - name: inline/bad\n    input: 'Q: {{ questoin }}'\n    target: '{{ answer }}'",
    )
    path = write(tmp_path, text)
    (problem,) = problems_of(path)
    assert problem.line == 12 and problem.key == "prompts[0]"
    assert problem.message == (
        "prompt 'inline/bad': input: unknown field 'questoin'; did you mean 'question'? "
        "(available: answer, answers, question)"
    )


def test_closed_book_task_rejects_a_context_prompt(tmp_path: Path) -> None:
    (problem,) = problems_of(write(tmp_path, TASK.replace("[qa/closed_book]", "[qa/extractive]")))
    assert "prompt 'qa/extractive': input: unknown field 'context'" in problem.message
    assert "(available: answer, answers, question)" in problem.message


def test_prompt_kind_must_match_adapter_kind(tmp_path: Path) -> None:
    problems = problems_of(write(tmp_path, TASK.replace("[qa/closed_book]", "[translation/basic]")))
    assert str(problems[0]) == (
        f"{tmp_path / 'toy.yaml'}:11: prompts[0]: prompt 'translation/basic' is for 'translation' tasks "
        "but this task's adapter is 'qa'"
    )
    # ...and the fields it uses are reported too.
    assert any("unknown field 'source'" in p.message for p in problems[1:])


def test_inline_prompt_with_invalid_jinja(tmp_path: Path) -> None:
    text = TASK.replace("prompts: [qa/closed_book]", "prompts:\n  - {name: inline/x, input: '{{ question ', target: '{{ answer }}'}")
    (problem,) = problems_of(write(tmp_path, text))
    assert (problem.line, problem.key) == (12, "prompts[0]")
    # The file is named once, by the problem, not again inside the message.
    assert problem.message.startswith("prompt 'inline/x': input: invalid Jinja2 on line 1 of the template: ")


def test_inline_prompt_schema_error(tmp_path: Path) -> None:
    text = TASK.replace("prompts: [qa/closed_book]", "prompts:\n  - {name: inline/x, input: 'x', targett: 'y'}")
    problems = problems_of(write(tmp_path, text))
    assert {p.key for p in problems} >= {"prompts[0].targett", "prompts[0].target"}
    assert any("did you mean 'target'?" in p.message for p in problems)


def test_prompt_file_next_to_the_task(tmp_path: Path) -> None:
    write(tmp_path, "name: mine/q\nkind: qa\ninput: 'Q: {{ question }}'\ntarget: '{{ answer }}'\n", "prompts/q.yaml")
    task = load_task(write(tmp_path, TASK.replace("[qa/closed_book]", "[prompts/q.yaml]")))
    assert [t.name for t in task.prompts] == ["mine/q"]


def test_bad_prompt_file_problems_point_into_that_file(tmp_path: Path) -> None:
    prompt = write(tmp_path, "name: mine/q\ninput: 'Q'\ntarget: 'A'\ntarget: 'B'\n", "q.yaml")
    (problem,) = problems_of(write(tmp_path, TASK.replace("[qa/closed_book]", "[q.yaml]")))
    assert (problem.file, problem.line, problem.key) == (str(prompt), 4, "target")
    missing = problems_of(write(tmp_path, TASK.replace("[qa/closed_book]", "[nope.yaml]")))
    assert "file not found" in str(missing[0])


# ----------------------------------------------------------------------------- field overrides
def test_source_and_split_field_problems_point_at_their_layer(tmp_path: Path) -> None:
    text = TASK.replace(
        "  splits: {train: train.jsonl, test: test.jsonl}\n",
        "  fields: {questoin: x}\n  splits:\n    train: {path: train.jsonl, fields: {answerz: y}}\n    test: test.jsonl\n",
    )
    path = write(tmp_path, text)
    problems = problems_of(path)
    assert sorted(str(p) for p in problems) == [
        f"{path}:5: dataset.fields.questoin: unknown key 'questoin'; did you mean 'question'? "
        "(accepted: answers, context, id, question)",
        f"{path}:7: dataset.splits.train.fields.answerz: unknown key 'answerz'; did you mean 'answers'? "
        "(accepted: answers, context, id, question)",
    ]


def test_offline_field_overrides_are_validated(tmp_path: Path) -> None:
    text = TASK + "offline:\n  kind: files\n  relative_to: data_dir\n  fields: {answer: x}\n  splits: {train: a.jsonl, test: b.jsonl}\n"
    path = write(tmp_path, text)
    (problem,) = problems_of(path)
    assert (problem.line, problem.key) == (16, "offline.fields.answer")
    assert "did you mean 'answers'?" in problem.message


def test_valid_overrides_load(tmp_path: Path) -> None:
    text = TASK + "offline:\n  kind: files\n  relative_to: data_dir\n  fields: {id: key, context: passage}\n  splits: {train: a.jsonl, test: b.jsonl}\n"
    task = load_task(write(tmp_path, text))
    assert task.config.offline is not None and task.config.offline.fields == {"id": "key", "context": "passage"}


# ----------------------------------------------------------------------------- validate_files
def test_validate_files_tells_prompts_from_tasks(tmp_path: Path) -> None:
    good_task = write(tmp_path, TASK, "tasks/toy.yaml")
    for split in ("train", "test"):  # a task is valid with its data files there (a missing one is named)
        write(tmp_path, '{"q": "Who?", "a": ["Ann"]}\n', f"tasks/{split}.jsonl")
    bad_task = write(tmp_path, TASK.replace("[exact_match]", "[token_fl]"), "tasks/bad.yaml")
    good_prompt = write(tmp_path, "name: a/b\ninput: '{{ x }}'\ntarget: '{{ y }}'\n", "prompts/a/b.yaml")
    bad_prompt = write(tmp_path, "name: a/c\ninput: '{{ x '\ntarget: y\n", "prompts/a/c.yaml")
    # Outside prompts/, a file with `input` and no `dataset` is still a prompt.
    loose_prompt = write(tmp_path, "name: loose\ninput: x\ntarget: y\nextra: 1\n", "loose.yaml")
    results = validate_files([good_task, bad_task, good_prompt, bad_prompt, loose_prompt])
    assert results[good_task] == [] and results[good_prompt] == []
    assert [p.key for p in results[bad_task]] == ["metrics[0]"]
    (problem,) = results[bad_prompt]
    assert str(problem).startswith(f"{bad_prompt}: prompt 'a/c': input: invalid Jinja2 on line 1 of the template")
    assert str(problem).count(str(bad_prompt)) == 1
    assert [p.key for p in results[loose_prompt]] == ["extra"]


def test_validate_files_reports_unreadable_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    results = validate_files([missing])
    assert [str(p) for p in results[missing]] == [f"{missing}: file not found"]


# ----------------------------------------------------------------------------- catalogue
def test_builtin_dirs_are_the_repository_catalogues() -> None:
    assert builtin_dir("tasks").resolve() == (REPO / "tasks").resolve()
    assert builtin_dir("prompts").resolve() == (REPO / "prompts").resolve()
    with pytest.raises(PromptkitError, match="built-in nope/ directory not found"):
        builtin_dir("nope")


def test_task_files_and_shadowing(tmp_path: Path) -> None:
    builtin = task_files()
    assert {"squad", "sst2", "demo_qa"} <= set(builtin)
    assert is_builtin(builtin["squad"])
    mine = write(tmp_path, TASK.replace("name: toy", "name: squad"), "squad.yaml")
    extra = write(tmp_path, TASK, "nested/toy.yaml")
    files = task_files([tmp_path])
    assert files["squad"] == mine and files["toy"] == extra
    assert not is_builtin(mine)
    with pytest.raises(PromptkitError, match="is not a directory"):
        task_files([tmp_path / "nope"])


def test_resolve_task() -> None:
    assert resolve_task("squad") == task_files()["squad"]
    toy = FIXTURES / "toy_tasks" / "toy_qa.yaml"
    assert resolve_task(str(toy)) == toy
    with pytest.raises(UnknownNameError) as info:
        resolve_task("squd")
    assert str(info.value) == "unknown task 'squd'; did you mean 'squad'?"
    with pytest.raises(PromptkitError, match="task file not found: nope/x.yaml"):
        resolve_task("nope/x.yaml")


def test_resolve_task_in_extra_dir(tmp_path: Path) -> None:
    path = write(tmp_path, TASK, "toy.yaml")
    assert resolve_task("toy", [tmp_path]) == path


def test_prompt_files_are_named_by_path() -> None:
    assert set(prompt_files()) == {
        "qa/extractive", "qa/extractive_plain", "qa/closed_book", "translation/basic",
        "generation/data_to_text", "generation/summarize", "classification/sentiment",
        "classification/sentiment_cloze",
    }


def test_default_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PROMPTKIT_DATA_DIR", raising=False)
    assert default_data_dir(None) is None
    assert default_data_dir(str(tmp_path)) == tmp_path
    monkeypatch.setenv("PROMPTKIT_DATA_DIR", str(tmp_path / "env"))
    assert default_data_dir(None) == tmp_path / "env"
    assert default_data_dir(str(tmp_path)) == tmp_path  # the flag wins
    assert default_data_dir("~/data") == Path("~/data").expanduser()
