"""The multiple_choice adapter: each row's own choices and gold, scored like classification."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from promptkit.config import GenerationSettings, PromptConfig
from promptkit.errors import ConfigError, DatasetError, TemplateError
from promptkit.harness.predict import predict
from promptkit.models.backend import LogLikelihood
from promptkit.models.batching import Runtime
from promptkit.prompting import PromptTemplate
from promptkit.run.plan import choice_normalization
from promptkit.tasks import TaskConfig, load_task
from promptkit.tasks.adapters.multiple_choice import MultipleChoiceAdapter, MultipleChoiceAdapterConfig
from promptkit.tasks.adapters.row_templates import parse_list


def adapter(**config: Any) -> MultipleChoiceAdapter:
    config.setdefault("fields", {"inputs": {"question": "q"}, "label": "gold"})
    cfg = MultipleChoiceAdapterConfig.model_validate({"kind": "multiple_choice", **config})
    return MultipleChoiceAdapter(cfg, cfg.fields)


ROW = {"id": "r1", "q": "what color is the sea ?", "options": ["red", "blue"], "gold": 1,
       "choices": {"text": ["red", "blue", "black"], "label": ["A", "B", "C"]}, "key": "B"}


def test_choices_from_a_column_and_an_index_gold() -> None:
    ex = adapter(fields={"inputs": {"question": "q"}, "choices": "options", "label": "gold"}).example(ROW, "test-0", "here")
    assert (ex.choices, ex.label, ex.references) == (("red", "blue"), 1, ("blue",))
    assert ex.fields == {"question": "what color is the sea ?", "choices": ["red", "blue"], "label_text": "blue"}


def test_choices_and_gold_from_templates_over_the_row() -> None:
    a = adapter(fields={"inputs": {"question": "q"}}, choices_template="{{ choices.text }}",
                label_template="{{ choices.label.index(key) }}")
    ex = a.example(ROW, "test-0", "here")
    assert (ex.choices, ex.label) == (("red", "blue", "black"), 1)
    text_gold = adapter(fields={"inputs": {"question": "q"}}, choices_template="{{ [options[1], options[0]] }}",
                        label_template="{{ options[0] }}").example(ROW, "test-0", "here")
    assert (text_gold.choices, text_gold.label) == (("blue", "red"), 1)  # text: matched among the choices


def test_shared_choices_and_a_text_gold_column() -> None:
    ex = adapter(choices=["red", "blue"], fields={"inputs": {"question": "q"}, "label": "options.0"}).example(ROW, "t", "here")
    assert ex.label == 0 and ex.references == ("red",)
    assert adapter(choices=["red", "blue"]).labels == ("red", "blue")


def test_an_input_named_choices_wins_over_the_adapters() -> None:
    ex = adapter(choices=["A", "B"], fields={"inputs": {"choices": "options"}, "label": "gold"}).example(ROW, "t", "here")
    assert ex.fields["choices"] == ["red", "blue"] and ex.choices == ("A", "B")


@pytest.mark.parametrize(("config", "row", "message"), [
    ({"choices": ["a", "b"]}, {**ROW, "gold": 2}, "here: column 'gold': gold index 2 is out of range for 2 choices (0 to 1)"),
    ({"choices": ["a", "b"]}, {**ROW, "gold": "c"}, "here: column 'gold': gold 'c' is neither an index nor one of the choices ('a', 'b')"),
    ({"fields": {"inputs": {}, "choices": "q", "label": "gold"}}, ROW,
     "here: column 'q' holds str 'what color is the sea ?'; fields.choices needs a list of choices"),
    ({"fields": {"inputs": {}, "label": "gold"}, "choices_template": "{{ q }}"}, ROW,
     "here: adapter.choices_template rendered 'what color is the sea ?', which is not a list literal"),
    ({"fields": {"inputs": {}}, "choices": ["a", "b"], "label_template": "{{ choices.label.index('Z') }}"}, ROW,
     "here: adapter.label_template: ValueError: 'Z' is not in list (the row has: choices, gold, id, key, options, q)"),
    ({"fields": {"inputs": {}, "label": "gold"}, "choices_template": "{{ [q] }}"}, ROW,
     "here: choices_template gives 1 choice(s); a row needs at least two"),
    ({"fields": {"inputs": {}}, "choices": ["a", "b"], "label_template": "{{ [0, 1] }}"}, ROW,
     "here: label_template rendered a list ('[0, 1]'); a row has one gold choice"),
])
def test_bad_rows_name_the_row_and_the_field(config: dict[str, Any], row: dict[str, Any], message: str) -> None:
    with pytest.raises(DatasetError) as info:
        adapter(**config).example(row, "t", "here")
    assert message in str(info.value)


def test_templates_are_sandboxed() -> None:
    a = adapter(fields={"inputs": {}, "label": "gold"}, choices_template="{{ q.__class__.__mro__ }}")
    with pytest.raises(DatasetError, match="access to attribute '__class__' of 'str' object is unsafe"):
        a.example(ROW, "t", "here")
    with pytest.raises(TemplateError, match="adapter.choices_template: invalid Jinja2 on line 1"):
        adapter(fields={"inputs": {}, "label": "gold"}, choices_template="{{ x")


def test_parse_list_builds_literals_only() -> None:
    assert parse_list("['a', 'b']") == ["a", "b"] and parse_list("('a', 1)") == ["a", 1]
    assert parse_list("__import__('os').system('true')") is None and parse_list("[" * 100_000) is None


@pytest.mark.parametrize(("config", "message"), [
    ({"fields": {"inputs": {}, "label": "g"}}, "give a row's choices one way: fields.choices (a column), choices (a list) "
                                               "or choices_template; got none"),
    ({"fields": {"inputs": {}, "label": "g", "choices": "c"}, "choices": ["a", "b"]}, "got fields.choices, choices"),
    ({"fields": {"inputs": {}}, "choices": ["a", "b"]}, "give the gold choice one way: fields.label (a column) or "
                                                        "label_template; got neither"),
    ({"fields": {"inputs": {}, "label": "g"}, "choices": ["a", "b"], "label_template": "1"}, "got both"),
])
def test_config_takes_each_part_one_way(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        MultipleChoiceAdapterConfig.model_validate({"kind": "multiple_choice", **config})


class ScoringLM:
    fills_masks = False
    tokenizer = None

    def __init__(self, scores: dict[str, float]):
        self.scores = scores

    def encode(self, text: str, *, chat: bool) -> list[int]:
        return [0]

    def loglikelihood(self, contexts: Sequence[str], continuations: Sequence[str], runtime: Runtime) -> list[LogLikelihood]:
        return [LogLikelihood(self.scores[c], 1, False) for c in continuations]


def test_per_row_choices_are_scored_with_the_tasks_normalization() -> None:
    a = adapter(fields={"inputs": {"question": "q"}}, choices_template="{{ choices.text }}", label_template="{{ 2 }}")
    template = PromptTemplate(PromptConfig(name="t/mc", input="{{ question }}", target="{{ label_text }}"))
    prompt = template.render(a.example(ROW, "t", "here"))
    lm = ScoringLM({" red": -3.0, " blue": -4.0, " black": -4.5})  # per character: -0.75, -0.8, -0.75
    [none] = predict(lm, [prompt], GenerationSettings(), Runtime())
    [chars] = predict(lm, [prompt], GenerationSettings(), Runtime(), normalization="chars")
    assert (none.output, none.predicted_label, chars.output, chars.predicted_label) == ("red", 0, "black", 2)
    assert none.choice_logprobs == (-3.0, -4.0, -4.5) and none.label == 2


TASK_YAML = """name: mc
dataset: {kind: files, splits: {train: rows.jsonl, test: rows.jsonl}}
adapter:
  kind: multiple_choice
  fields: {inputs: {question: q}, choices: options, label: gold}
  normalization: chars
prompts: [{name: mc/plain, kind: multiple_choice, input: "Q: {{ question }}", target: "{{ label_text }}"}]
metrics: [accuracy]
"""


def test_a_promptkit_task_of_kind_multiple_choice(tmp_path: Path) -> None:
    import json

    (tmp_path / "rows.jsonl").write_text(json.dumps({k: v for k, v in ROW.items() if k != "choices"}) + "\n")
    (tmp_path / "mc.yaml").write_text(TASK_YAML)
    task = load_task(tmp_path / "mc.yaml")
    assert choice_normalization(task.config) == "chars"
    [ex] = task.examples("test")
    assert task.prompts[0].render(ex).text == "Q: what color is the sea ?" and ex.choices == ("red", "blue")
    (tmp_path / "mc.yaml").write_text(TASK_YAML.replace("kind: multiple_choice, input", "kind: classification, input"))
    with pytest.raises(ConfigError, match="prompt 'mc/plain' is for 'classification' tasks but this task's adapter is 'multiple_choice'"):
        load_task(tmp_path / "mc.yaml")
    assert isinstance(task.config, TaskConfig)
