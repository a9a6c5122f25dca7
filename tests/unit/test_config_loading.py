"""YAML -> config: safe loading, duplicate keys, file:line:key-path problems, pydantic models,
``--set`` overrides, the error hierarchy and the registry."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from promptkit.config import PromptConfig, SplitFiles, slug
from promptkit.config.documents import apply_overrides, format_path, iter_yaml_files, parse_yaml, read_yaml, validate
from promptkit.config.run import RunConfig
from promptkit.errors import ConfigError, Problem, PromptkitError, UnknownNameError, suggest
from promptkit.methods import FewShotConfig, method_kinds
from promptkit.registry import Registry
from promptkit.tasks import TaskConfig
from pydantic import ValidationError

VALID_TASK = """\
name: toy
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


def task_problems(text: str, file: str = "tasks/toy.yaml") -> list[Problem]:
    doc = parse_yaml(text, file)
    with pytest.raises(ConfigError) as info:
        validate(TaskConfig, doc)
    return info.value.problems


def one(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


# ----------------------------------------------------------------------------- YAML syntax
def test_valid_task_parses_and_records_lines() -> None:
    doc = parse_yaml(VALID_TASK, "tasks/toy.yaml")
    assert doc.data["adapter"]["fields"] == {"question": "q", "answers": "a"}
    assert doc.line_of(("adapter", "fields", "answers")) == 9
    assert doc.line_of(("metrics", 0)) == 11
    # An unknown path falls back to its nearest known parent.
    assert doc.line_of(("adapter", "fields", "nope", 3)) == 7
    config = validate(TaskConfig, doc)
    assert config.name == "toy" and config.eval_split == "test"


def test_a_document_read_again_is_unchanged_by_edits_to_the_first_copy() -> None:
    """Parsed documents are kept for files read many times (a group's templates): each reader
    gets its own copy, so a caller that fills in or pops keys changes nothing for the next one."""
    text = "name: a\nitems: [1, {k: v}]\nname: b\n"
    for _ in range(2):  # the copy parsed, then a copy kept
        doc = parse_yaml(text, "t.yaml", duplicates_ok=True)
        doc.data["items"][1]["k"] = "changed"
        doc.data.pop("name")
        doc.lines.clear()
        doc.duplicates.clear()
    again = parse_yaml(text, "t.yaml", duplicates_ok=True)
    assert again.data == {"name": "b", "items": [1, {"k": "v"}]}
    assert again.line_of(("items",)) == 2 and len(again.duplicates) == 1
    with pytest.raises(ConfigError):  # the same text read strictly still names the duplicate
        parse_yaml(text, "t.yaml")


def test_duplicate_key_names_both_lines() -> None:
    problem = one(_config_error("name: a\nversion: 1\nname: b\n").problems)
    assert str(problem) == "tasks/x.yaml:3: name: duplicate key 'name' (first defined on line 1); each key may appear once"


def test_nested_duplicate_keys_are_all_reported() -> None:
    text = "adapter:\n  fields:\n    question: q\n    answers: a\n    question: other\nmetrics: [a]\nmetrics: [b]\n"
    problems = _config_error(text).problems
    assert [(p.line, p.key) for p in problems] == [(5, "adapter.fields.question"), (7, "metrics")]
    assert "first defined on line 3" in problems[0].message
    assert "first defined on line 6" in problems[1].message


def test_duplicate_keys_in_a_list_item() -> None:
    problem = one(_config_error("prompts:\n  - name: a\n    name: b\n    input: x\n").problems)
    assert (problem.line, problem.key) == (3, "prompts[0].name")


def _config_error(text: str, file: str = "tasks/x.yaml") -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_yaml(text, file)
    return info.value


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("name: t\ndataset:\n  kind: files\n   splits: [a\n", 4),
        ("name: t\nprompts: [a, b\nmetrics: [c]\n", 3),
        ("name: t\n  bad: indent\n", 2),
        ("name: 'unterminated\n", 2),
        ("a: 1\n\tb: 2\n", 2),
    ],
)
def test_malformed_yaml_gives_file_and_line(text: str, line: int) -> None:
    problem = one(_config_error(text).problems)
    assert problem.file == "tasks/x.yaml"
    assert problem.line == line
    assert str(problem).startswith(f"tasks/x.yaml:{line}: invalid YAML: ")


@pytest.mark.parametrize(("text", "kind"), [("- a\n- b\n", "list"), ("just text\n", "str"), ("42\n", "int")])
def test_top_level_must_be_a_mapping(text: str, kind: str) -> None:
    problem = one(_config_error(text).problems)
    assert str(problem) == f"tasks/x.yaml:1: expected a mapping of keys to values at the top level, got {kind}"


@pytest.mark.parametrize("text", ["", "\n# only a comment\n", "---\n"])
def test_empty_file(text: str) -> None:
    assert "file is empty" in str(_config_error(text))


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: file not found"):
        read_yaml(tmp_path / "nope.yaml")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(ConfigError, match=r"cannot read file"):
        read_yaml(binary)


def test_read_yaml_display_name(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text("a: [1\n")
    with pytest.raises(ConfigError, match=r"^shown/t\.yaml:2: invalid YAML"):
        read_yaml(tmp_path / "t.yaml", display="shown/t.yaml")


# ----------------------------------------------------------------------------- safe_load
@pytest.mark.parametrize(
    "text",
    [
        "name: !!python/object/apply:os.system ['echo pwned']\n",
        "name: !!python/object/apply:os.system\n  args: ['echo pwned']\n",
        "name: !!python/name:os.system\n",
        "name: !!python/object:collections.OrderedDict {}\n",
        "!!python/object/new:os.system [echo pwned]\n",
    ],
)
def test_python_tags_are_rejected_not_executed(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []

    def system(*args: Any) -> int:
        calls.append(args)
        return 0

    monkeypatch.setattr(os, "system", system)
    error = _config_error(text)
    assert calls == []
    problem = one(error.problems)
    assert "invalid YAML" in problem.message
    assert "could not determine a constructor" in problem.message
    assert problem.line == 1


# ----------------------------------------------------------------------------- schema problems
def test_unknown_top_level_key_did_you_mean() -> None:
    problem = one(task_problems(VALID_TASK + "genration: {max_new_tokens: 3}\n"))
    assert (problem.file, problem.line, problem.key) == ("tasks/toy.yaml", 12, "genration")
    assert str(problem).startswith("tasks/toy.yaml:12: genration: unknown key 'genration'; did you mean 'generation'?")
    assert "(accepted: adapter, context_policy, dataset, description, eval_split, fewshot, filters, generation, limit, metric_options, metrics, name," in str(problem)


def test_unknown_nested_key_gives_key_path_and_line() -> None:
    text = VALID_TASK.replace("    answers: a\n", "    answers: a\n    contxt: c\n")
    problem = one(task_problems(text))
    assert str(problem) == (
        "tasks/toy.yaml:10: adapter.fields.contxt: unknown key 'contxt'; did you mean 'context'? "
        "(accepted: answers, context, id, question)"
    )


def test_unknown_key_without_close_match_lists_accepted() -> None:
    problem = one(task_problems(VALID_TASK + "generation: {zzz: 1}\n"))
    assert problem.key == "generation.zzz"
    assert problem.message == "unknown key 'zzz'; accepted: 'max_new_tokens', 'stop', 'strip'"


def test_unknown_key_inside_a_split() -> None:
    text = VALID_TASK.replace("splits: {train: train.jsonl, test: test.jsonl}", "splits:\n    train: {path: a.jsonl, gruop_by: title}\n    test: b.jsonl")
    problems = task_problems(text)
    assert any(p.key == "dataset.splits.train.gruop_by" and "did you mean 'group_by'?" in p.message and p.line == 5 for p in problems), [str(p) for p in problems]


@pytest.mark.parametrize(
    ("extra", "key", "fragment"),
    [
        ("tags: 5\n", "tags", "input should be a valid list (got 5)"),
        ("generation: {max_new_tokens: many}\n", "generation.max_new_tokens", "valid integer"),
        ("generation: {max_new_tokens: 0}\n", "generation.max_new_tokens", "greater than or equal to 1 (got 0)"),
        ("generation: {stop: \"\\n\"}\n", "generation.stop", "input should be a valid list (got '\\n')"),
        ("limit: -3\n", "limit", "greater than or equal to 1 (got -3)"),
        ("fewshot: {shots: 65}\n", "fewshot.shots", "less than or equal to 64 (got 65)"),
        ("description: [a, b]\n", "description", "valid string"),
    ],
)
def test_wrong_types(extra: str, key: str, fragment: str) -> None:
    problem = one(task_problems(VALID_TASK + extra))
    assert problem.key == key
    assert problem.line == 12
    assert fragment in problem.message


def test_prompts_must_be_a_list() -> None:
    problem = one(task_problems(VALID_TASK.replace("prompts: [qa/closed_book]", "prompts: qa/closed_book")))
    assert (problem.key, problem.line) == ("prompts", 10)
    assert "valid list (got 'qa/closed_book')" in problem.message


def test_bad_adapter_kind_lists_accepted_kinds() -> None:
    problem = one(task_problems(VALID_TASK.replace("kind: qa", "kind: qaa")))
    assert problem.key == "adapter"
    assert problem.message == "invalid kind 'qaa'; accepted: 'qa', 'translation', 'generation', 'classification', 'multiple_choice'"


def test_bad_dataset_kind_lists_accepted_kinds() -> None:
    problem = one(task_problems(VALID_TASK.replace("kind: files", "kind: file")))
    assert (problem.key, problem.line) == ("dataset", 2)
    assert problem.message == "invalid kind 'file'; accepted: 'files', 'hub'"


def test_missing_kind_lists_accepted_kinds() -> None:
    problem = one(task_problems(VALID_TASK.replace("  kind: files\n", "")))
    assert problem.key == "dataset"
    assert problem.message == "missing 'kind'; accepted: 'files', 'hub'"


def test_missing_required_keys() -> None:
    text = "name: toy\ndataset:\n  kind: hub\n  splits: {test: validation, train: train}\n"
    problems = task_problems(text)
    assert {p.key for p in problems} == {"dataset.path", "adapter", "prompts", "metrics"}
    assert all(p.message == "required key is missing" for p in problems)
    assert next(p for p in problems if p.key == "dataset.path").line == 2


def test_literal_values_are_listed() -> None:
    text = VALID_TASK.replace("  kind: files\n", "  kind: files\n  relative_to: data\n")
    problem = one(task_problems(text))
    assert problem.key == "dataset.relative_to"
    assert problem.message == "invalid value 'data'; accepted: 'task' or 'data_dir'"


def test_every_problem_in_a_file_is_reported_at_once() -> None:
    text = """\
name: bad name!
dataset:
  kind: files
  splits: {train: a.jsonl, test: b.jsonl}
  formt: csv
adapter:
  kind: translation
  source_lang: en
  fields: {source: s, references: r}
prompts: [translation/basic]
metrics: [bleu]
generation: {max_new_tokens: lots}
limit: 0
"""
    problems = task_problems(text)
    assert len(problems) == 5, [str(p) for p in problems]
    assert sorted((p.line, p.key) for p in problems) == [
        (1, "name"),
        (5, "dataset.formt"),
        (6, "adapter.target_lang"),  # missing: reported on the line of its parent
        (12, "generation.max_new_tokens"),
        (13, "limit"),
    ]
    assert "did you mean 'format'?" in next(p.message for p in problems if p.key == "dataset.formt")
    error = ConfigError(problems)
    assert str(error).count("\n") == 4  # one line per problem


def test_model_level_rules() -> None:
    fewshot = one(task_problems(VALID_TASK + "fewshot: {split: test}\n"))
    assert "fewshot.split 'test' is the evaluated split" in fewshot.message
    assert fewshot.file == "tasks/toy.yaml"
    missing = one(task_problems(VALID_TASK + "eval_split: dev\n"))
    assert missing.message == (
        "dataset.splits has no 'dev'; it defines ['test', 'train'] (eval_split='dev', train_split='train')"
    )
    twice = one(task_problems(VALID_TASK.replace("metrics: [exact_match]", "metrics: [exact_match, bleu, exact_match]")))
    assert (twice.key, twice.message) == ("metrics", "metrics listed twice: ['exact_match']")


def test_eval_only_task_without_train_split() -> None:
    text = VALID_TASK.replace("{train: train.jsonl, test: test.jsonl}", "{test: test.jsonl}") + "train_split: null\nfewshot: {split: train}\n"
    config = validate(TaskConfig, parse_yaml(text, "t.yaml"))
    assert config.train_split is None


# ----------------------------------------------------------------------------- config models
def test_split_part_rules() -> None:
    assert SplitFiles(path="a.jsonl", group_by="title", part=(0.0, 0.5)).part == (0.0, 0.5)
    with pytest.raises(ValidationError, match="0 <= start < end <= 1"):
        SplitFiles(path="a.jsonl", group_by="title", part=(0.5, 0.5))
    with pytest.raises(ValidationError, match="0 <= start < end <= 1"):
        SplitFiles(path="a.jsonl", group_by="title", part=(0.2, 1.5))
    with pytest.raises(ValidationError, match="part needs group_by"):
        SplitFiles(path="a.jsonl", part=(0.0, 0.5))


def test_models_are_frozen_and_strict() -> None:
    prompt = PromptConfig(name="qa/x", input="{{ question }}", target="{{ answer }}")
    with pytest.raises(ValidationError):
        prompt.name = "other"
    with pytest.raises(ValidationError, match="extra"):
        PromptConfig.model_validate({"name": "qa/x", "input": "", "target": "", "delimiter": "\n"})
    with pytest.raises(ValidationError):
        PromptConfig(name="bad name", input="", target="")
    # a prompt's adapter kind is checked against the adapter registry where prompts meet tasks:
    # inline in a task, and in a prompt file
    inline = {"name": "t", "dataset": {"kind": "files", "splits": {"test": "t.jsonl", "train": "r.jsonl"}},
              "adapter": {"kind": "qa", "fields": {"question": "q", "answers": "a"}}, "metrics": ["exact_match"],
              "prompts": [{"name": "x", "kind": "sumarization", "input": "", "target": ""}]}
    with pytest.raises(ValidationError, match="unknown adapter kind 'sumarization'; accepted: 'classification'"):
        TaskConfig.model_validate(inline)


def test_a_prompt_file_for_an_unknown_adapter_kind_is_refused_with_its_line(tmp_path: Path) -> None:
    from promptkit.tasks import load_prompt_file

    path = tmp_path / "p.yaml"
    path.write_text("name: x\ninput: '{{ text }}'\nkind: clasification\ntarget: '{{ label }}'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"p.yaml:3: kind: unknown adapter kind 'clasification'; did you mean 'classification'\?"):
        load_prompt_file(path)


def test_run_config_methods() -> None:
    config = RunConfig.model_validate({"methods": ["zero-shot", {"kind": "few-shot", "shots": 5}]})
    assert [m.kind for m in config.methods] == ["zero-shot", "few-shot"]
    assert config.methods[1] == FewShotConfig(shots=5)
    with pytest.raises(ValidationError, match="methods listed twice"):
        RunConfig.model_validate({"methods": ["zero-shot", "zero-shot"]})
    assert method_kinds() == [
        "zero-shot", "few-shot", "prompt-tuning", "prefix-tuning", "p-tuning", "lora", "dora", "ia3", "full", "adapter",
    ]


def test_slug() -> None:
    assert slug("qa/extractive") == "qa-extractive"
    assert slug("a b/c.d_e") == "a-b-c.d_e"
    assert slug("///") == "x"


# ----------------------------------------------------------------------------- helpers
def test_format_path() -> None:
    assert format_path(()) == ""
    assert format_path(("metrics", 1)) == "metrics[1]"
    assert format_path(("adapter", "fields", "question")) == "adapter.fields.question"
    assert format_path(("prompts", 0, "input")) == "prompts[0].input"


def test_iter_yaml_files_recurses_and_sorts(tmp_path: Path) -> None:
    for rel in ("b.yaml", "a.yml", "sub/deeper/c.yaml", "sub/readme.md", "sub/x.yaml.bak"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("a: 1\n")
    explicit = tmp_path / "sub" / "readme.md"
    found = list(iter_yaml_files([tmp_path, explicit]))
    assert found == [tmp_path / "a.yml", tmp_path / "b.yaml", tmp_path / "sub/deeper/c.yaml", explicit]


@pytest.mark.parametrize(
    ("assignment", "expected"),
    [
        ("flag=false", False),
        ("flag=0", 0),
        ("flag=", ""),
        ('flag=""', ""),
        ("flag=null", None),
        ("flag=3.5", 3.5),
        ("flag=[a, b]", ["a", "b"]),
        ("flag=text with spaces", "text with spaces"),
        ("flag=a=b", "a=b"),
    ],
)
def test_apply_overrides_values_are_yaml_scalars(assignment: str, expected: Any) -> None:
    assert apply_overrides({"flag": True}, [assignment]) == {"flag": expected}


def test_apply_overrides_nests_and_does_not_mutate() -> None:
    data = {"model": {"name": "a"}, "seed": 1}
    out = apply_overrides(data, ["model.dtype=float32", "new.deep.key=1", "seed=2"])
    assert out == {"model": {"name": "a", "dtype": "float32"}, "new": {"deep": {"key": 1}}, "seed": 2}
    assert data == {"model": {"name": "a"}, "seed": 1}


def test_apply_overrides_reports_every_bad_assignment() -> None:
    with pytest.raises(ConfigError) as info:
        apply_overrides({}, ["batch_size", "=3", "x=[1", "ok=1"])
    messages = [p.message for p in info.value.problems]
    assert len(messages) == 3
    assert messages[0] == "--set 'batch_size': expected key=value (e.g. batch_size=4)"
    assert messages[1] == "--set '=3': expected key=value (e.g. batch_size=4)"
    assert messages[2].startswith("--set 'x=[1': value is not valid YAML")


# ----------------------------------------------------------------------------- errors and registry
def test_problem_formatting() -> None:
    assert str(Problem("bad", "f.yaml", 3, "a.b")) == "f.yaml:3: a.b: bad"
    assert str(Problem("bad", "f.yaml")) == "f.yaml: bad"
    assert str(Problem("bad", key="k")) == "k: bad"
    assert str(Problem("bad")) == "bad"
    assert ConfigError("plain message").problems == [Problem("plain message")]


def test_error_hierarchy_and_exit_codes() -> None:
    error = UnknownNameError("metric", "token_fl", ["token_f1", "exact_match"], where="tasks/x.yaml:7: metrics[1]")
    assert isinstance(error, PromptkitError) and isinstance(error, KeyError)
    assert str(error) == "tasks/x.yaml:7: metrics[1]: unknown metric 'token_fl'; did you mean 'token_f1'?"
    assert error.allowed == ["exact_match", "token_f1"]
    assert ConfigError.exit_code == 2 and PromptkitError.exit_code == 1


def test_suggest() -> None:
    assert suggest("squd", ["squad", "sst2"]) == "did you mean 'squad'?"
    assert suggest("zzz", ["b", "a"]) == "accepted: 'a', 'b'"
    assert suggest("zzz", []) == "none are registered"
    many = [f"name{i:02d}" for i in range(25)]
    assert suggest("zzz", many).endswith("(and 5 more)")


def test_registry() -> None:
    registry: Registry[int] = Registry("widget")
    registry.register("one")(1)
    registry.register("two")(2)
    registry.register("one")(1)  # re-registering the same object is harmless (module reloads)
    assert registry.get("two") == 2
    assert registry.names() == ["one", "two"] and list(registry) == ["one", "two"]
    assert "one" in registry and "three" not in registry
    with pytest.raises(ValueError, match="widget 'one' is already registered"):
        registry.register("one")(3)
    with pytest.raises(UnknownNameError, match=r"^here: unknown widget 'tow'; did you mean 'two'\?$"):
        registry.get("tow", where="here")
