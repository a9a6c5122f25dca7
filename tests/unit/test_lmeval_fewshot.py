"""lm-evaluation-harness's demonstrations: the rows its sampler draws (``default``, seeded 1234 as
``simple_evaluate`` seeds it, and ``first_n``), the pool (``fewshot_config.samples`` inline, a
split) and their own format (``fewshot_config.doc_to_text`` / ``doc_to_target`` / delimiters).

The expected strings and draws below were produced by lm-eval 0.4.13 itself (``ConfigurableTask
.fewshot_context`` after ``set_fewshot_seed(1234)``, through benchmarks/lm_eval_prompt_parity.py,
which compares every request of these files and of MMLU and ARC-Challenge on real data).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import GSM8K_FILTER_LIST, error_lines, invoke, read_jsonl
from promptkit.errors import ConfigError
from promptkit.prompting.chat import format_prompt
from promptkit.prompting.fewshot import LmEvalSampler, make_sampler
from promptkit.tasks import load_task
from promptkit.tasks.lmeval import convert_file

ROOT = Path(__file__).resolve().parents[2]
LMEVAL = ROOT / "tests" / "fixtures" / "lmeval"

# lm-eval 0.4.13: the two demonstrations of each validation row of sst2_choice.yaml (2 shots).
LM_EVAL_DRAWS = [["a boring book", "a great film"], ["a great film", "a happy and good film"],
                 ["i hate the food", "a great film"], ["i love the song", "a terrible film"],
                 ["a great film", "i hate the food"], ["i hate the food", "a happy and good film"]]

# a generation task on data/test.jsonl (inline_task writes it); each test adds its own keys
LOCAL_GENERATION = """dataset_path: json
dataset_kwargs:
  data_files:
    test: data/test.jsonl
test_split: test
output_type: generate_until
doc_to_text: "Question: {{q}}\\nAnswer:"
"""
INLINE = "task: toy_inline_cot\n" + LOCAL_GENERATION + """doc_to_target: a
num_fewshot: 2
fewshot_config:
  sampler: first_n
  samples:
    - {q: "What is 1 + 1?", a: "2", w: "two"}
    - {q: "What is 6 / 2?", a: "3", w: "three"}
    - {q: "What is 2 * 5?", a: "10", w: "ten"}
  doc_to_text: "Q: {{q}}\\nA:"
  doc_to_target: w
  target_delimiter: " => "
  fewshot_delimiter: "\\n---\\n"
generation_kwargs:
  until: ["\\n\\n"]
metric_list:
  - metric: exact_match
"""
ROWS = ('{"q": "What is 2 + 2?", "a": "4", "w": "four"}\n{"q": "What is 3 + 5?", "a": "8", "w": "eight"}\n'
        '{"q": "What is 9 - 4?", "a": "5", "w": "five"}\n')


def inline_task(tmp: Path, text: str = INLINE) -> Path:
    (tmp / "data").mkdir(exist_ok=True)
    (tmp / "data" / "test.jsonl").write_text(ROWS, encoding="utf-8")
    (tmp / "inline_cot.yaml").write_text(text, encoding="utf-8")
    return tmp / "inline_cot.yaml"


def test_the_default_sampler_draws_lm_evals_rows() -> None:
    task = load_task(f"lm-eval:{LMEVAL / 'sst2_choice.yaml'}")
    sampler = make_sampler(task.config.fewshot, task.fewshot_pool(), 2, seed=0)
    drawn = [[shot.fields["sentence"] for shot in sampler.sample(ex)] for ex in task.examples("validation")]
    assert drawn == LM_EVAL_DRAWS


def test_a_row_gets_the_same_draw_whatever_limit_keeps() -> None:
    """Row r gets the r-th draw of the stream: evaluating rows 4 and 5 alone (a --limit sample)
    gives them the demonstrations they get in the whole split."""
    task = load_task(f"lm-eval:{LMEVAL / 'sst2_choice.yaml'}")
    rows = task.examples("validation")
    sampler = LmEvalSampler(task.fewshot_pool(), 2, seed=1234, exclude_evaluated=True)
    assert [[s.fields["sentence"] for s in sampler.sample(ex)] for ex in (rows[5], rows[4])] == [LM_EVAL_DRAWS[5], LM_EVAL_DRAWS[4]]


def test_inline_samples_first_n_and_their_own_format_are_lm_evals(tmp_path: Path) -> None:
    task = load_task(f"lm-eval:{inline_task(tmp_path)}")
    fewshot = task.config.fewshot
    assert (fewshot.sampler, fewshot.shots, len(fewshot.rows or [])) == ("first-n", 2, 3)
    sampler = make_sampler(fewshot, task.fewshot_pool(), 2, seed=0)
    row = task.examples("test")[1]
    text = format_prompt(task.prompts[0].render(row, sampler.sample(row)), None, chat=False)
    assert text == "Q: What is 1 + 1?\nA: => two\n---\nQ: What is 6 / 2?\nA: => three\n---\nQuestion: What is 3 + 5?\nAnswer:"


@pytest.mark.parametrize(("fewshot_config", "message"), [
    ("{sampler: balanced}", "fewshot_config.sampler: unknown sampler 'balanced'; accepted: 'default', 'first_n'"),
    ("{sampler: first_n, split: test, process_docs: !function utils.p}", "fewshot_config.process_docs: !function utils.p: task code, run only with --trust-task-code"),
    ("{sampler: first_n, fewshot_indices: [0, 2]}", "fewshot_config.fewshot_indices: not supported"),
    ("{samples: !function utils.samples}", "fewshot_config.samples: !function utils.samples: promptkit never imports code"),
    ("{samples: [1, 2]}", "fewshot_config.samples: expected a list of rows"),
    ("{split: test}", "fewshot_config.split: demonstrations from 'test', the evaluated split"),
    ("{colour: red}", "fewshot_config.colour: unsupported fewshot_config key 'colour'"),
])
def test_what_fewshot_config_refuses(fewshot_config: str, message: str, tmp_path: Path) -> None:
    text = INLINE.split("fewshot_config:")[0] + f"fewshot_config: {fewshot_config}\ngeneration_kwargs:\n  until: [x]\n"
    with pytest.raises(ConfigError) as caught:
        convert_file(inline_task(tmp_path, text))
    assert any(message in str(p) for p in caught.value.problems), caught.value.problems


def test_a_multiple_choice_demonstration_target_is_refused(tmp_path: Path) -> None:
    shutil.copytree(LMEVAL, tmp_path / "lm")
    path = tmp_path / "lm" / "sst2_choice.yaml"
    path.write_text(path.read_text() + "fewshot_config: {doc_to_target: sentence}\n")
    with pytest.raises(ConfigError, match="not supported for multiple_choice"):
        convert_file(path)


def test_few_shot_runs_with_the_inline_demonstrations(tmp_path: Path, tiny_llama_dir: Path) -> None:
    task = inline_task(tmp_path)
    result = invoke(["eval", "--task", f"lm-eval:{task}", "--model", str(tiny_llama_dir), "--method", "few-shot",
                     "--chat-template", "off", "--out", str(tmp_path / "out"), "--run-id", "r", "--device", "cpu"])
    assert result.exit_code == 0 and not error_lines(result), result.output
    rows = read_jsonl(tmp_path / "out" / "r" / "samples" / "toy_inline_cot" / "few-shot.jsonl")
    assert [r["prompt"].startswith("Q: What is 1 + 1?\nA: => two\n---\nQ: What is 6 / 2?\nA: => three\n---\n") for r in rows] == [True] * 3


def test_a_boolean_gold_is_an_index_as_in_lm_eval(tmp_path: Path) -> None:
    """A JSON copy of BoolQ holds ``"label": true``; lm-eval indexes the choices with it (1)."""
    shutil.copytree(LMEVAL, tmp_path / "lm")
    data = tmp_path / "lm" / "data" / "sst2_validation.jsonl"
    data.write_text('{"idx": 0, "sentence": "a good song", "label": true}\n{"idx": 1, "sentence": "a bad film", "label": false}\n')
    task = load_task(f"lm-eval:{tmp_path / 'lm' / 'sst2_choice.yaml'}")
    assert [(ex.label, ex.choices[ex.label]) for ex in task.examples("validation")] == [(1, "positive"), (0, "negative")]


GEN_PREFIX_GOLDEN = {  # lm-eval 0.4.13's contexts (2 shots, first row) for the fixtures with a gen_prefix
    "qa_generate.yaml": ("Answer the question with a short phrase from the context.\n\nContext: Tom bought three apples .\n"
                         "Question: How many apples did Tom buy ? Answer: three\n\nContext: The red bike belongs to Leo .\n"
                         "Question: Who owns the red bike ? Answer: Leo\n\nContext: The green boat belongs to Anna .\n"
                         "Question: Who owns the green boat ? Answer:"),
    "sst2_choice.yaml": ("a boring book\nQuestion: Is this sentence positive or negative?\nThe answer is negative\n\na great film\n"
                         "Question: Is this sentence positive or negative?\nThe answer is positive\n\na good song\n"
                         "Question: Is this sentence positive or negative?\nThe answer is"),
}
GEN_PREFIX_EDITS = {
    "qa_generate.yaml": ('doc_to_text: "Context: {{context}}\\nQuestion: {{question}}\\nAnswer:"',
                         'doc_to_text: "Context: {{context}}\\nQuestion: {{question}}"\ngen_prefix: "Answer:"'),
    "sst2_choice.yaml": ('doc_to_text: "{{sentence}}\\nQuestion: Is this sentence positive or negative?\\nAnswer:"',
                         'doc_to_text: "{{sentence}}\\nQuestion: Is this sentence positive or negative?\\n"\ngen_prefix: "The answer is"'),
}


@pytest.mark.parametrize("name", sorted(GEN_PREFIX_GOLDEN))
def test_gen_prefix_is_written_as_lm_eval_writes_it(name: str, tmp_path: Path) -> None:
    """After the query (a space only when neither side has whitespace at the join), and in each
    demonstration before its answer; a choice is still scored as target_delimiter + choice."""
    shutil.copytree(LMEVAL, tmp_path / "lm")
    path = tmp_path / "lm" / name
    old, new = GEN_PREFIX_EDITS[name]
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    task = load_task(f"lm-eval:{path}")
    sampler = make_sampler(task.config.fewshot, task.fewshot_pool(), 2, seed=0)
    row = task.examples(task.config.eval_split)[0]
    prompt = task.prompts[0].render(row, sampler.sample(row))
    assert format_prompt(prompt, None, chat=False) == GEN_PREFIX_GOLDEN[name]


def test_trust_remote_code_is_read_past_and_no_script_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Local data files have no loading script: the key means nothing there (a note says so). On a
    hub dataset promptkit reads the data files and never asks datasets to run a script, which
    datasets >= 4 never does for lm-eval either: read past with a note."""
    datasets = pytest.importorskip("datasets")
    shutil.copytree(LMEVAL, tmp_path / "lm")
    path = tmp_path / "lm" / "sst2_choice.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("dataset_kwargs:\n", "dataset_kwargs:\n  trust_remote_code: true\n"), encoding="utf-8")
    conversion = convert_file(path)
    assert any("trust_remote_code" in note and "never runs one" in note for note in conversion.notes)
    hub = text.replace("dataset_path: json", "dataset_path: org/data").split("dataset_kwargs:")[0]
    path.write_text(hub + "dataset_kwargs:\n  trust_remote_code: true\noutput_type: multiple_choice\n"
                    + text.split("output_type: multiple_choice\n")[1], encoding="utf-8")
    conversion = convert_file(path)
    assert any(note.startswith("not used: dataset_kwargs.trust_remote_code (promptkit never runs a dataset's loading "
                               "script") for note in conversion.notes)
    calls: list[dict[str, object]] = []

    def load_dataset(*args: object, **kwargs: object) -> object:
        calls.append(kwargs)
        return datasets.Dataset.from_list([{"sentence": "fine", "label": 1}])

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    assert len(load_task(f"lm-eval:{path}").examples("validation")) == 1
    assert calls and all("trust_remote_code" not in kwargs for kwargs in calls)


def test_weight_by_size_on_a_task_metric_is_read_past(tmp_path: Path) -> None:
    """It weighs a group's subtasks; lm-eval ignores it on a task's own metric (afrobench's files)."""
    shutil.copytree(LMEVAL, tmp_path / "lm")
    path = tmp_path / "lm" / "sst2_choice.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("  - metric: acc\n", "  - metric: acc\n    weight_by_size: true\n"))
    assert convert_file(path).task["metrics"] == ["accuracy"]


def test_remote_data_files_are_refused_not_read_as_paths(tmp_path: Path) -> None:
    """``hf://datasets/...`` was taken for a path beside the task file (prost, wnli_es)."""
    shutil.copytree(LMEVAL, tmp_path / "lm")
    path = tmp_path / "lm" / "sst2_choice.yaml"
    text = path.read_text(encoding="utf-8").replace("data/sst2_validation.jsonl", "hf://datasets/org/sst2/validation.jsonl")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="'hf://datasets/org/sst2/validation.jsonl' is a remote file"):
        convert_file(path)


def test_a_key_written_twice_keeps_its_last_value_with_a_note(tmp_path: Path) -> None:
    """lm-eval's own files have some (kmmlu's _cot_kmmlu_yaml): PyYAML keeps the last value, and
    so does the converter, saying so; promptkit's own task files still refuse them."""
    shutil.copytree(LMEVAL, tmp_path / "lm")
    path = tmp_path / "lm" / "sst2_choice.yaml"
    path.write_text(path.read_text(encoding="utf-8") + 'doc_to_choice: ["bad", "good"]\n', encoding="utf-8")
    conversion = convert_file(path)
    assert conversion.task["adapter"]["choices"] == ["bad", "good"]
    assert any("doc_to_choice: written twice; the last value is used" in note for note in conversion.notes)


@pytest.mark.parametrize(("template", "references"), [
    ("\"{{ context.split(' ')[-2] }}\"", ("Anna",)),                   # a value the template computes
    ("\"{{ answers + [question.split(' ')[0]] }}\"", ("Anna", "Who")),  # a list literal: several references
])
def test_a_generation_target_computed_by_a_template(template: str, references: tuple[str, ...], tmp_path: Path) -> None:
    """lm-eval renders doc_to_target per row (``{{ ['A', 'B', 'C', 'D'][answer] }}``; 1,709 of its
    files compute their target), and reads a rendered list literal as several targets."""
    shutil.copytree(LMEVAL, tmp_path / "lm")
    path = tmp_path / "lm" / "qa_generate.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('doc_to_target: "{{answers[0]}}"', f"doc_to_target: {template}"))
    task = load_task(f"lm-eval:{path}")
    assert task.examples("test")[0].references == references


GSM8K_LIKE = "task: toy_gsm\n" + LOCAL_GENERATION + """doc_to_target: "{{a}}"
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
    ignore_case: true
    ignore_punctuation: false
    regexes_to_ignore: [",", "\\\\$", "(?s).*#### ", "\\\\.$"]
generation_kwargs:
  until: ["Question:"]
""" + GSM8K_FILTER_LIST


def test_gsm8k_filters_and_exact_match_options_convert(tmp_path: Path) -> None:
    """lm-eval's built-in filters are declarative: GSM8K's two pipelines become promptkit's
    filters (each metric scored on each, string_match[strict-match] first), and exact_match with
    its options is string_match with them (lm-eval's definition)."""
    c = convert_file(inline_task(tmp_path, GSM8K_LIKE)).task
    assert c["metrics"] == ["string_match"]
    assert c["metric_options"] == {"string_match": {"ignore_case": True, "ignore_punctuation": False,
                                                    "regexes_to_ignore": [",", "\\$", "(?s).*#### ", "\\.$"]}}
    assert [f["name"] for f in c["filters"]] == ["strict-match", "flexible-extract"]
    assert c["filters"][1]["steps"][0] == {"function": "regex", "group_select": -1, "regex_pattern": "(-?[$0-9.,]{2,})|(-?[0-9]+)"}
    task = load_task(f"lm-eval:{tmp_path / 'inline_cot.yaml'}")
    assert task.config.columns() == ["string_match[strict-match]", "string_match[flexible-extract]"]


def test_a_custom_filter_is_refused_naming_the_flag_free_alternatives(tmp_path: Path) -> None:
    text = GSM8K_LIKE.replace('      - function: "take_first"\n  - name: "flexible-extract"',
                              '      - function: !function utils.extract\n  - name: "flexible-extract"')
    with pytest.raises(ConfigError) as caught:
        convert_file(inline_task(tmp_path, text))
    assert any("filter_list[0].filter[1].function: !function utils.extract: task code, run only with --trust-task-code"
               in str(p) for p in caught.value.problems), caught.value.problems


def test_sampling_settings_of_a_greedy_decoding_are_read_past(tmp_path: Path) -> None:
    """``top_p`` beside ``do_sample: false`` (267 of lm-eval's files) shapes nothing: noted, not refused."""
    text = INLINE.replace('generation_kwargs:\n  until: ["\\n\\n"]', 'generation_kwargs:\n  until: ["\\n\\n"]\n  do_sample: false\n  top_p: 0.9\n  num_beams: 1')
    conversion = convert_file(inline_task(tmp_path, text))
    assert any("not used: generation_kwargs top_p" in note for note in conversion.notes)


def test_a_bad_exact_match_option_is_refused_where_it_is_written(tmp_path: Path) -> None:
    text = GSM8K_LIKE.replace('regexes_to_ignore: [",", "\\\\$", "(?s).*#### ", "\\\\.$"]', 'regexes_to_ignore: ["(unclosed"]')
    assert "(unclosed" in text
    with pytest.raises(ConfigError) as caught:
        convert_file(inline_task(tmp_path, text))
    assert any(p.key == "metric_list[0].regexes_to_ignore" and p.line == 16 for p in caught.value.problems), caught.value.problems
