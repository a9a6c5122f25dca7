"""Output filters (``promptkit.tasks.filters``): each step function against what lm-evaluation-harness
0.4.13's filter of that name gives (the expectations are written by hand from lm-eval's code and
its GSM8K task file, not produced by promptkit), the task keys that declare them, and lm-eval
``filter_list`` conversion (``promptkit.tasks.lmeval.filters``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import GSM8K_FILTER_LIST
from promptkit.config.documents import parse_yaml, validate
from promptkit.config.patterns import PatternError, compile_checked
from promptkit.errors import ConfigError, DatasetError, Problem
from promptkit.metrics import MetricContext, StringMatchOptions, get_metric
from promptkit.records import Example, Prediction
from promptkit.records.columns import column_name, split_column
from promptkit.tasks import TaskConfig
from promptkit.tasks.filters import MAX_FILTER_CHARS, FilterPipeline, filter_outputs, filter_predictions
from promptkit.tasks.lmeval.filters import choices_columns, filters_from_lm_eval
from promptkit.tasks.lmeval.reader import read_lm_eval
from pydantic import TypeAdapter

PIPELINES = TypeAdapter(list[FilterPipeline])

# lm_eval/tasks/gsm8k/gsm8k.yaml's two pipelines, as promptkit writes them
GSM8K: list[dict[str, Any]] = [
    {"name": "strict-match", "steps": [{"function": "regex", "regex_pattern": r"#### (\-?[0-9\.\,]+)"},
                                       {"function": "take_first"}]},
    {"name": "flexible-extract", "steps": [{"function": "regex", "group_select": -1,
                                            "regex_pattern": r"(-?[$0-9.,]{2,})|(-?[0-9]+)"},
                                           {"function": "take_first"}]},
]
# gsm8k.yaml's metric_list options
GSM8K_MATCH = StringMatchOptions(ignore_case=True, ignore_punctuation=False,
                                 regexes_to_ignore=(",", r"\$", "(?s).*#### ", r"\.$"))


def pipelines(data: list[dict[str, Any]]) -> list[FilterPipeline]:
    return PIPELINES.validate_python(data)


def run(steps: list[dict[str, Any]], output: str, fields: dict[str, Any] | None = None,
        choices: tuple[str, ...] = ()) -> str:
    return filter_outputs(pipelines([{"name": "p", "steps": steps}]), output, fields or {}, choices, "row-1")["p"]


# ----------------------------------------------------------------------------- GSM8K
@pytest.mark.parametrize(("output", "strict", "flexible"), [
    ("The answer is 42.\n#### 42", "42", "42"),  # flexible: matches "42." then "42", the last wins
    ("so 3,000 dollars", "[invalid]", "3,000"),
    ("She makes 9 * 2 = $18 every day.\n#### 18", "18", "18"),
    ("It is -5 degrees", "[invalid]", "-5"),  # one digit: the second alternative, group 2
    ("#### $1,234.50", "[invalid]", "$1,234.50"),  # strict wants a digit right after '#### '
    ("#### -7\n#### 8", "-7", "8"),  # strict takes the first match, flexible the last
    ("no number here", "[invalid]", "[invalid]"),
    ("", "[invalid]", "[invalid]"),
])
def test_gsm8k_pipelines(output: str, strict: str, flexible: str) -> None:
    assert filter_outputs(pipelines(GSM8K), output, {}) == {"strict-match": strict, "flexible-extract": flexible}


@pytest.mark.parametrize(("output", "gold", "strict", "flexible"), [
    ("so 3,000 dollars", "Janet has 3,000 dollars.\n#### 3000", 0.0, 1.0),
    ("The answer is 42.\n#### 42", "6 * 7 = 42\n#### 42", 1.0, 1.0),
    ("She makes $18.", "#### 18", 0.0, 1.0),  # flexible "$18." -> '$' and the final '.' ignored
    ("#### 12\nThen 13", "#### 12", 1.0, 0.0),
])
def test_gsm8k_scores_as_lm_eval(output: str, gold: str, strict: float, flexible: float) -> None:
    """lm-eval's exact_match with gsm8k.yaml's options, on each pipeline's answer."""
    filtered = filter_outputs(pipelines(GSM8K), output, {})
    metric: Any = get_metric("string_match")
    ctx = MetricContext(string_match=GSM8K_MATCH)
    assert metric.sample_score(filtered["strict-match"], [gold], ctx) == strict
    assert metric.sample_score(filtered["flexible-extract"], [gold], ctx) == flexible


# ----------------------------------------------------------------------------- regex
def test_regex_without_groups_gives_the_whole_match_stripped() -> None:
    assert run([{"function": "regex", "regex_pattern": r"answer: .*"}], "the answer: B  ") == "answer: B"


def test_regex_group_select() -> None:
    def steps(k: int) -> list[dict[str, Any]]:
        return [{"function": "regex", "regex_pattern": r"(\d+)", "group_select": k}]

    assert [run(steps(k), "1 22 333") for k in (0, 1, 2, -1, -2, -3)] == ["1", "22", "333", "333", "22", "1"]
    # past the matches found: the fallback (lm-eval raises IndexError)
    assert run(steps(3), "1 22 333") == "[invalid]" and run(steps(-4), "1 22 333") == "[invalid]"


def test_regex_fallback_and_empty_groups() -> None:
    assert run([{"function": "regex", "regex_pattern": "x(y)", "fallback": " none "}], "abc") == " none "
    # several groups, none of which matched anything: lm-eval strips the fallback on this path
    assert run([{"function": "regex", "regex_pattern": "(a?)|(b?)", "fallback": " none "}], "c") == "none"
    # one group that matched the empty string: "" (not the fallback)
    assert run([{"function": "regex", "regex_pattern": "(a*)"}], "b") == ""
    # several groups: the first that matched
    assert run([{"function": "regex", "regex_pattern": "(x)|(y)"}], "-- y --") == "y"


def test_regex_reads_a_bounded_prefix() -> None:
    long = "a" * MAX_FILTER_CHARS + " #### 5"
    assert run([{"function": "regex"}], long) == "[invalid]"  # lm-eval's default pattern, past the bound
    assert run([{"function": "regex"}], "#### 5" + "a" * MAX_FILTER_CHARS) == "5"


# ----------------------------------------------------------------------------- the other steps
def test_transformations() -> None:
    assert run([{"function": "remove_whitespace"}], " \n B \t") == "B"
    assert run([{"function": "lowercase"}], "ÀB c") == "àb c"
    assert run([{"function": "uppercase"}], "straße") == "STRASSE"
    steps: list[dict[str, Any]] = [{"function": "lowercase"}, {"function": "regex", "regex_pattern": r"\b(yes|no)\b"},
                                   {"function": "take_first"}]
    assert run(steps, "Answer: YES, certainly") == "yes"


def test_map_and_its_default() -> None:
    # polemo2_in.yaml's pipeline: regex, take_first, map, take_first
    steps: list[dict[str, Any]] = [{"function": "regex", "regex_pattern": r"(\b[ABCD]\b)"}, {"function": "take_first"},
             {"function": "map", "mapping_dict": {"A": "0", "B": "1", "C": "2", "D": "3"}, "default_value": "-1"},
             {"function": "take_first"}]
    assert run(steps, "Odpowiedź: C") == "2"
    assert run(steps, "nie wiem") == "-1"  # "[invalid]" is in no key
    assert run([{"function": "map", "mapping_dict": {"x": "y"}}], "z") == ""  # no default_value: ""


def test_steps_over_several_responses_act_on_a_list_of_one() -> None:
    lists: list[list[dict[str, Any]]] = [[{"function": "majority_vote"}, {"function": "take_first"}],
                                         [{"function": "take_first_k", "k": 8}],
                                         [{"function": "take_first_k", "k": 1}, {"function": "majority_vote"}]]
    for steps in lists:
        assert run(steps, "#### 3") == "#### 3"


# ----------------------------------------------------------------------------- multi_choice_regex
MC: dict[str, Any] = {"function": "multi_choice_regex", "regex_pattern": r"(\([A-D]\))", "ignore_case": True, "ignore_punctuation": True}
CITIES = ("Paris", "London", "Berlin")


@pytest.mark.parametrize(("response", "expected"), [
    ("The answer is (B).", "(B)"),  # the pattern itself
    ("I think it is london!", "(B)"),  # a choice's text, case and punctuation ignored
    ("Answer: C", "(C)"),  # a bare letter after a colon
    ("Answer:A or B", "(A)"),
    ("no idea", "[invalid]"),
    ("(E) is my pick", "[invalid]"),  # not one of the pattern's letters, no choice text, no colon
])
def test_multi_choice_regex(response: str, expected: str) -> None:
    assert run([MC], response, {"choices": list(CITIES)}) == expected


def test_multi_choice_regex_options() -> None:
    choices = {"choices": ["U.S.A.", "Canada"]}
    assert run([MC], "it is the usa", choices) == "(A)"
    strict = {**MC, "ignore_case": False, "ignore_punctuation": False}
    assert run([strict], "it is the usa", choices) == "[invalid]"
    assert run([{**strict, "regexes_to_ignore": [r"\."]}], "it is the USA", choices) == "(A)"
    # group_select applies to the choice search too: the last choice named
    assert run([{**MC, "group_select": -1}], "Paris, no: Berlin", {"choices": list(CITIES)}) == "(C)"


def test_multi_choice_regex_reads_the_rows_choices() -> None:
    # a classification or multiple-choice row's own choices, when no field says otherwise
    assert run([MC], "berlin", {}, CITIES) == "(C)"
    assert run([{**MC, "choices_field": "options"}], "paris", {"options": ["Rome", "Paris"]}) == "(B)"
    with pytest.raises(DatasetError, match="example 'row-1': multi_choice_regex reads the row's choices from field "
                                           "'options', which is missing"):
        run([{**MC, "choices_field": "options"}], "paris", {})
    with pytest.raises(DatasetError, match="which is str, not a list"):
        run([MC], "paris", {"choices": "Paris"})


def test_filter_predictions_finds_each_rows_example() -> None:
    examples = [Example(id="a", fields={"choices": ["x", "y"]}, references=("(B)",)),
                Example(id="b", fields={"choices": ["y", "x"]}, references=("(A)",))]
    preds = [Prediction(example_id=i, prompt="", output="it is y", references=("?",)) for i in ("b", "a")]
    assert filter_predictions(pipelines([{"name": "mc", "steps": [MC]}]), preds, examples) == [{"mc": "(A)"}, {"mc": "(B)"}]
    assert filter_predictions([], preds, examples) is None


# ----------------------------------------------------------------------------- patterns
def test_patterns_are_checked_once_at_load() -> None:
    assert compile_checked(r"#### (\-?[0-9\.\,]+)") is compile_checked(r"#### (\-?[0-9\.\,]+)")
    for nested in ("(a+)+b", r"(\w+\s?)*$", "((ab)*c)*", "(?:x|(y+))+"):
        with pytest.raises(PatternError, match="exponential time"):
            compile_checked(nested)
    # bounded or possessive inner repeats, and repeats side by side, are fine
    for fine in (r"(-?[0-9]+([ .,][0-9.,]+)?)", "(a++)+", "(?>a+)+", "a+b*c+", "(ab){2,5}"):
        compile_checked(fine)
    with pytest.raises(PatternError, match="invalid regular expression '\\(\\(': missing \\)"):
        compile_checked("((")
    with pytest.raises(PatternError, match="at most 2,000"):
        compile_checked("a" * 2001)


# ----------------------------------------------------------------------------- task keys
TASK = """\
name: toy
dataset:
  kind: files
  splits: {train: train.jsonl, test: test.jsonl}
adapter:
  kind: generation
  fields:
    inputs: {question: q}
    references: a
prompts: [{name: toy/p, input: "{{ question }}", target: "{{ reference }}"}]
metrics: [string_match, token_f1]
"""
FILTERS = """\
filters:
  - name: strict-match
    steps:
      - {function: regex, regex_pattern: "#### (\\\\d+)"}
      - {function: take_first}
  - name: flexible-extract
    steps: [{function: regex, regex_pattern: "(\\\\d+)", group_select: -1}]
"""


def load(text: str) -> TaskConfig:
    return validate(TaskConfig, parse_yaml(text, "tasks/toy.yaml"))


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(text)
    return [str(p) for p in info.value.problems]


def test_columns_are_each_metric_on_each_pipeline() -> None:
    assert load(TASK).columns() == ["string_match", "token_f1"]
    config = load(TASK + FILTERS)
    assert config.columns() == ["string_match[strict-match]", "string_match[flexible-extract]",
                                "token_f1[strict-match]", "token_f1[flexible-extract]"]
    assert split_column("token_f1[flexible-extract]") == ("token_f1", "flexible-extract")
    assert split_column("evaluate:bertscore:f1[maj@8]") == ("evaluate:bertscore:f1", "maj@8")
    assert split_column("token_f1") == ("token_f1", None) and column_name("bleu", None) == "bleu"
    assert load(TASK + FILTERS + "verdict: {metric: 'token_f1[flexible-extract]'}\n").verdict.metric == "token_f1[flexible-extract]"


def test_filter_problems_name_file_line_and_key() -> None:
    bad = TASK + FILTERS.replace("function: take_first", "function: take_frist").replace('"(\\\\d+)"', '"(\\\\d+)+"')
    assert problems(bad) == [
        "tasks/toy.yaml:16: filters[0].steps[1]: unknown filter function 'take_frist'; did you mean 'take_first'? "
        "accepted: regex, take_first, take_first_k, majority_vote, remove_whitespace, lowercase, uppercase, map, "
        "multi_choice_regex, format_span",
        "tasks/toy.yaml:18: filters[1].steps[0].regex_pattern: '(\\\\d+)+' repeats a group that holds an unbounded repeat "
        "(as in (a+)+), which can take exponential time on text that almost matches; make the inner repeat possessive "
        "(a++) or atomic ((?>a+))",
    ]
    assert problems(TASK + FILTERS.replace('"#### (\\\\d+)"', '"#### ((\\\\d+)"')) == [
        "tasks/toy.yaml:15: filters[0].steps[0].regex_pattern: invalid regular expression '#### ((\\\\d+)': missing ), "
        "unterminated subpattern at position 5"]
    assert problems(TASK + FILTERS.replace("group_select: -1", "group_select: -1, k: 2")) == [
        "tasks/toy.yaml:18: filters[1].steps[0].k: unknown key 'k'"]
    assert problems(TASK + FILTERS.replace("flexible-extract", "strict-match")) == [
        "tasks/toy.yaml:1: filters: pipeline names used twice: ['strict-match']; each names its own score columns"]
    assert problems(TASK + FILTERS.replace("name: strict-match", "name: 'strict match'"))[0].startswith(
        "tasks/toy.yaml:13: filters[0].name: string should match pattern")


def test_verdict_metric_and_metric_options_must_be_the_tasks() -> None:
    assert problems(TASK + FILTERS + "verdict: {metric: token_f1}\n") == [
        "tasks/toy.yaml:1: verdict.metric 'token_f1' is not one of the task's columns (each metric on each filter) "
        "['string_match[strict-match]', 'string_match[flexible-extract]', 'token_f1[strict-match]', "
        "'token_f1[flexible-extract]']"]
    options = "metric_options:\n  string_match: {ignore_case: true, regexes_to_ignore: [',', '(x+)*']}\n"
    assert problems(TASK + options) == [
        "tasks/toy.yaml:13: metric_options.string_match.regexes_to_ignore: '(x+)*' repeats a group that holds an "
        "unbounded repeat (as in (a+)+), which can take exponential time on text that almost matches; make the inner "
        "repeat possessive (a++) or atomic ((?>a+))"]
    assert problems(TASK.replace("string_match, ", "") + options.replace(", '(x+)*'", "")) == [
        "tasks/toy.yaml:1: metric_options.string_match is set, but 'string_match' is not one of the task's metrics "
        "['token_f1']"]
    assert load(TASK + options.replace(", '(x+)*'", "")).metric_options.string_match.regexes_to_ignore == [","]


def test_multi_choice_regex_needs_a_field_the_adapter_gives() -> None:
    mc = "filters:\n  - name: letter\n    steps: [{function: multi_choice_regex}]\n"
    assert problems(TASK + mc) == [
        "tasks/toy.yaml:1: filters: multi_choice_regex reads the row's choices from field 'choices', which adapter "
        "'generation' does not give (it gives ['question', 'reference', 'references']); map the column under "
        "adapter.fields.inputs, or set choices_field"]
    assert load(TASK.replace("inputs: {question: q}", "inputs: {question: q, choices: options}") + mc).filters[0].name == "letter"


# ----------------------------------------------------------------------------- lm-eval's filter_list
def lm_eval_file(tmp_path: Path, text: str) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    path = tmp_path / "task.yaml"
    path.write_text(text, encoding="utf-8")
    doc = read_lm_eval(path)
    found: list[Problem] = []
    notes: list[str] = []

    def fail(message: str, *key: str | int, quotes: bool = True) -> None:
        found.append(doc.problem(message, key, quotes))

    converted = filters_from_lm_eval(doc.data["filter_list"], fail, notes.append)
    return converted, [str(p).replace(str(tmp_path), "DIR") for p in found], notes


GSM8K_LIST = "task: gsm8k\n" + GSM8K_FILTER_LIST


def test_gsm8k_filter_list_converts_step_for_step(tmp_path: Path) -> None:
    converted, found, notes = lm_eval_file(tmp_path, GSM8K_LIST)
    assert found == [] and notes == []
    assert converted == GSM8K
    assert pipelines(converted)  # promptkit reads what was written


def test_lm_eval_filters_refused_with_file_line_and_key(tmp_path: Path) -> None:
    text = """\
task: t
filter_list:
  - name: custom-extract
    filter:
      - function: !function utils.MultiChoiceRegexFilter
        group_select: 0
      - function: "take_first"
  - name: get-answer
    filter:
      - function: "custom"
        filter_fn: !function utils.clean
      - function: "decontaminate"
      - function: "regx"
      - function: "take_first"
        k: 2
  - name: "bad name"
    filter: [{function: take_first}]
"""
    _converted, found, _notes = lm_eval_file(tmp_path, text)
    accepted = ("regex, take_first, take_first_k, majority_vote, remove_whitespace, lowercase, uppercase, map, "
                "multi_choice_regex, format_span")
    assert found == [
        "DIR/task.yaml:5: filter_list[0].filter[0].function: a custom filter (!function utils.MultiChoiceRegexFilter): "
        f"promptkit never imports code from a task file; the built-in filters it converts are: {accepted}",
        "DIR/task.yaml:10: filter_list[1].filter[0].function: the lm-eval filter 'custom' is not converted: it runs a "
        f"Python function (filter_fn), and promptkit runs no code from task files; accepted: {accepted}",
        "DIR/task.yaml:12: filter_list[1].filter[1].function: the lm-eval filter 'decontaminate' is not converted: "
        "lm-eval's decontamination filter; promptkit's leakage check compares the evaluated rows with the train split "
        f"and few-shot pool instead; accepted: {accepted}",
        f"DIR/task.yaml:13: filter_list[1].filter[2].function: unknown lm-eval filter 'regx'; did you mean 'regex'? "
        f"accepted: {accepted}",
        "DIR/task.yaml:15: filter_list[1].filter[3].k: take_first takes no parameters",
        "DIR/task.yaml:16: filter_list[2].name: a pipeline name is up to 64 letters, digits, '_', '.', '@' or '-' "
        "(it names the score columns, metric[name]), got 'bad name'",
    ]


def test_lm_eval_map_and_multi_choice_regex(tmp_path: Path) -> None:
    text = """\
task: t
filter_list:
  - name: score-first
    filter:
      - {function: regex, regex_pattern: "(\\\\b[ABCD]\\\\b)"}
      - {function: take_first}
      - {function: map, mapping_dict: {A: 0, B: 1}, default_value: -1}
      - {function: map, mapping_dict: {"0": zero}}
  - name: flexible-extract
    filter:
      - {function: multi_choice_regex, group_select: -1, ignore_case: true, ignore_punctuation: true,
         regex_pattern: "(\\\\([A-D]\\\\))"}
      - {function: take_first}
"""
    converted, found, notes = lm_eval_file(tmp_path, text)
    assert found == []
    assert converted[0]["steps"][2:] == [{"function": "map", "mapping_dict": {"A": "0", "B": "1"}, "default_value": "-1"},
                                         {"function": "map", "mapping_dict": {"0": "zero"}}]
    assert notes == ['map without default_value: a response not in mapping_dict becomes "" (lm-eval\'s None is not text)']
    assert choices_columns(converted) == ["choices"]
    loaded = pipelines(converted)
    assert filter_outputs(loaded, "B", {"choices": ["a", "b"]})["score-first"] == ""  # "1" is not "0"
    assert filter_outputs(loaded, "A", {"choices": ["a", "b"]})["score-first"] == "zero"
    assert filter_outputs(loaded, "it is b.", {"choices": ["a", "b"]})["flexible-extract"] == "(B)"
    _c, found, _n = lm_eval_file(tmp_path, text.replace("{A: 0, B: 1}", "{1: 0}").replace('"(\\\\([A-D]\\\\))"', '"(a+)*"'))
    assert found == [
        "DIR/task.yaml:7: filter_list[0].filter[2].mapping_dict: the key 1 is not text: lm-eval compares it with the "
        "response, which is text, so it never matches; quote it",
        "DIR/task.yaml:12: filter_list[1].filter[0].regex_pattern: '(a+)*' repeats a group that holds an unbounded "
        "repeat (as in (a+)+), which can take exponential time on text that almost matches; make the inner repeat "
        "possessive (a++) or atomic ((?>a+))",
    ]


@pytest.mark.parametrize(("answer", "formatted"), [
    # label words become labels, entities split at commas, "none" dropped, lines joined
    ("Person: Amina, Juma\nLocation: Nairobi\nOrganization: none", "per: amina $ per: juma $ loc: nairobi"),
    ("PER: Kofi $$ LOC: Accra $$", "per: kofi $ loc: accra"),
    # only a label word before a colon is a label: "date" inside an entity stays text
    ("Time: the date of the persons' meeting", "date: the date of the persons' meeting"),
    ("no entities here", ""),
])
def test_format_span_writes_entities_as_lm_eval_does(answer: str, formatted: str) -> None:
    from promptkit.tasks.filters import FormatSpanStep

    assert FormatSpanStep(function="format_span").apply([answer], lambda field: []) == [formatted]
