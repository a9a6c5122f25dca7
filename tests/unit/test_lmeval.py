"""lm-evaluation-harness task files: the safe reader, the key-by-key conversion, the refusals, and
the exact prompts (golden strings written by hand from lm-eval's format rules).

lm-eval's rules, as the golden strings below spell them out: the context is ``description``
(rendered, no delimiter after it) + every demonstration as ``doc_to_text + target_delimiter +
target + fewshot_delimiter`` + ``doc_to_text(doc)``; a choice is scored as the continuation
``target_delimiter + choice``; a generation starts right after the context.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from promptkit.cli import cli
from promptkit.config import GenerationSettings
from promptkit.errors import ConfigError, PromptkitError
from promptkit.harness.predict import predict
from promptkit.models.backend import Generation, LogLikelihood
from promptkit.models.batching import Runtime
from promptkit.records import Example, Prompt
from promptkit.tasks import Task, load_task, validate_files
from promptkit.tasks.catalog import LmEvalTaskFile, resolve_task
from promptkit.tasks.lmeval import FunctionRef, convert_file, read_lm_eval

LMEVAL = Path(__file__).resolve().parents[1] / "fixtures" / "lmeval"
QA, SST2, ARC = LMEVAL / "qa_generate.yaml", LMEVAL / "sst2_choice.yaml", LMEVAL / "arc_style.yaml"
SST2_Q = "\nQuestion: Is this sentence positive or negative?\nAnswer:"


class RecordingLM:
    """A backend that records the requests the harness sends (the exact strings), scoring each
    continuation by a fixed table so that the choice made is known too."""

    fills_masks = False
    can_generate = True
    tokenizer = None

    def __init__(self, scores: dict[str, float] | None = None):
        self.scores = scores or {}
        self.requests: list[tuple[str, str]] = []
        self.generated: list[tuple[str, int, tuple[str, ...]]] = []

    def encode(self, text: str, *, chat: bool) -> list[int]:
        return list(range(len(text.split())))

    def loglikelihood(self, contexts: Sequence[str], continuations: Sequence[str], runtime: Runtime) -> list[LogLikelihood]:
        self.requests += list(zip(contexts, continuations, strict=True))
        return [LogLikelihood(self.scores.get(c, -10.0), max(len(c.split()), 1), False) for c in continuations]

    def generate(self, texts: Sequence[str], *, max_new_tokens: int, stop: Sequence[str], runtime: Runtime) -> list[Generation]:
        self.generated += [(t, max_new_tokens, tuple(stop)) for t in texts]
        return [Generation("x", "x", 1, 1) for _ in texts]


def task(path: Path) -> Task:
    return load_task(resolve_task(f"lm-eval:{path}"))


def rendered(t: Task, split: str, shots: int = 0, row: int = 0) -> Any:
    """Row ``row`` of ``split`` with the first ``shots`` rows of the few-shot split as its
    demonstrations (the draw itself is promptkit's; the format is what is tested)."""
    pool = t.examples(t.config.fewshot.split)[:shots]
    return t.prompts[0].render(t.examples(split)[row], pool)


def write(tmp: Path, text: str, name: str = "task.yaml") -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        convert_file(path)
    return [str(p) for p in info.value.problems]


MC_HEAD = """task: t
dataset_path: json
dataset_kwargs: {data_files: {train: data/sst2_train.jsonl, validation: data/sst2_validation.jsonl}}
output_type: multiple_choice
training_split: train
validation_split: validation
"""


def mc_task(tmp: Path, body: str) -> Path:
    (tmp / "data").mkdir(exist_ok=True)
    for name in ("sst2_train.jsonl", "sst2_validation.jsonl"):
        (tmp / "data" / name).write_bytes((LMEVAL / "data" / name).read_bytes())
    return write(tmp, MC_HEAD + body)


# ----------------------------------------------------------------------------- golden prompts
def test_sst2_choices_are_scored_after_the_exact_lm_eval_context() -> None:
    t = task(SST2)
    lm = RecordingLM({" positive": -1.0, " negative": -2.0})
    prompts = [rendered(t, "validation", shots=2)]
    [pred] = predict(lm, prompts, GenerationSettings(), Runtime())
    context = ("a great film" + SST2_Q + " positive" + "\n\n"
               "a terrible film" + SST2_Q + " negative" + "\n\n"
               "a good song" + SST2_Q)
    assert lm.requests == [(context, " negative"), (context, " positive")]
    assert pred.output == "positive" and pred.predicted_label == 1 and pred.label == 1


def test_sst2_zero_shot_context_is_doc_to_text_alone() -> None:
    t = task(SST2)
    lm = RecordingLM()
    predict(lm, [rendered(t, "validation", row=1)], GenerationSettings(), Runtime())
    assert lm.requests == [("a bad and boring film" + SST2_Q, " negative"), ("a bad and boring film" + SST2_Q, " positive")]


def test_qa_generation_starts_after_description_shots_and_query() -> None:
    t = task(QA)
    lm = RecordingLM()
    predict(lm, [rendered(t, "test", shots=2)], t.config.generation, Runtime())
    context = ("Answer the question with a short phrase from the context.\n\n"
               "Context: The red bike belongs to Leo .\nQuestion: Who owns the red bike ?\nAnswer: Leo\n\n"
               "Context: Anna works in Berlin .\nQuestion: Where does Anna work ?\nAnswer: Berlin\n\n"
               "Context: The green boat belongs to Anna .\nQuestion: Who owns the green boat ?\nAnswer:")
    assert lm.generated == [(context, 6, ("\n",))]


def test_arc_per_row_choices_and_a_description_without_delimiter() -> None:
    t = task(ARC)
    lm = RecordingLM({" blue": -0.5})
    [pred] = predict(lm, [rendered(t, "test", shots=1)], GenerationSettings(), Runtime())
    context = ("Pick the right answer.\n"
               "Question: what color is the sun ?\nAnswer: white\n\n"
               "Question: what color is the sea ?\nAnswer:")
    assert lm.requests == [(context, " red"), (context, " blue"), (context, " black")]
    assert pred.label == 1 and pred.output == "blue"
    row2 = rendered(t, "test", row=2)  # answerKey "2" among labels "1".."4": index 1
    assert row2.choices == ("in the sea", "from paris to berlin", "under the table", "to the sun") and row2.label == 1


def test_custom_delimiters_and_a_templated_description(tmp_path: Path) -> None:
    path = mc_task(tmp_path, 'doc_to_text: "Review: {{sentence}}"\ndoc_to_target: label\n'
                             'doc_to_choice: ["bad", "good"]\ndescription: "Task {{idx}}:\\n"\n'
                             'target_delimiter: " => "\nfewshot_delimiter: "\\n###\\n"\n')
    t = load_task(f"lm-eval:{path}")
    lm = RecordingLM()
    predict(lm, [rendered(t, "validation", shots=2, row=3)], GenerationSettings(), Runtime())
    context = ("Task 3:\n"  # the description is rendered with the evaluated row
               "Review: a great film => good\n###\n"
               "Review: a terrible film => bad\n###\n"
               "Review: a sad and terrible song")
    assert lm.requests == [(context, " => bad"), (context, " => good")]


def test_training_target_is_the_delimiter_and_the_gold_choice() -> None:
    from promptkit.prompting.chat import format_target

    prompt = rendered(task(ARC), "train", row=0)  # answerKey C -> "white"
    assert format_target(prompt, None, chat=False) == " white"
    prompt = rendered(task(QA), "train", row=2)  # answers[0]
    assert format_target(prompt, None, chat=False) == " on the table"


# ----------------------------------------------------------------------------- conversion
def test_sst2_converts_key_by_key() -> None:
    c = convert_file(SST2).task
    assert c["dataset"] == {"kind": "files", "format": "auto",
                            "splits": {"train": "data/sst2_train.jsonl", "validation": "data/sst2_validation.jsonl"}}
    assert c["adapter"] == {"kind": "multiple_choice", "fields": {"inputs": {"sentence": "sentence"}, "label": "label"},
                            "choices": ["negative", "positive"]}
    # lm-eval's sampler, seeded as simple_evaluate seeds it; it draws one more row and drops the
    # evaluated one because neither fewshot_split nor test_split is set (None == None in lm-eval)
    assert (c["eval_split"], c["train_split"], c["fewshot"]) == (
        "validation", "train", {"split": "train", "sampler": "lm-eval", "seed": 1234, "exclude_evaluated": True})
    assert c["metrics"] == ["accuracy"] and c["tags"] == ["lm-eval", "toy_glue"] and c["version"] == "1.0"


def test_qa_converts_key_by_key() -> None:
    conversion = convert_file(QA)
    c = conversion.task
    assert c["adapter"]["fields"] == {"inputs": {"context": "context", "question": "question"}, "references": "answers.0"}
    assert c["generation"] == {"max_new_tokens": 6, "stop": ["\n"], "strip": False}
    assert c["fewshot"] == {"split": "train", "shots": 2, "sampler": "lm-eval", "seed": 1234, "exclude_evaluated": False}
    # lm-eval's exact_match with its options (ignore_case, ignore_punctuation) is string_match
    assert c["metrics"] == ["string_match"]
    assert c["metric_options"] == {"string_match": {"ignore_case": True, "ignore_punctuation": True}}
    assert conversion.notes == ["not used: should_decontaminate, doc_to_decontamination_query (decontamination: "
                                "promptkit's leakage check compares the evaluated rows with the train split and few-shot "
                                "pool; task_alias: the task is named by `task`)"]


def test_include_merges_like_lm_eval_relative_to_the_including_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "description: from a\nnum_fewshot: 1\ntarget_delimiter: ':'\n", "a.yaml")
    write(tmp_path / "sub", "description: from b\nnum_fewshot: 2\nfewshot_delimiter: '|'\n", "b.yaml")
    path = write(tmp_path / "sub", "include: [a.yaml, b.yaml]\nnum_fewshot: 3\n", "t.yaml")
    monkeypatch.chdir(tmp_path)  # not the file's folder: include paths are the file's
    doc = read_lm_eval(path)
    # lm-eval 0.4.13's order: includes in turn (the later wins), then the file's own keys.
    assert doc.data == {"description": "from b", "num_fewshot": 3, "target_delimiter": ":", "fewshot_delimiter": "|"}
    assert doc.problem("x", ("description",)).file == str(tmp_path / "sub" / "b.yaml")
    assert doc.problem("x", ("target_delimiter",)).file == str(tmp_path / "sub" / "a.yaml")


def test_function_tags_are_markers_and_nothing_is_imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hook = tmp_path / "lmeval_hook_probe.py"
    hook.write_text(f"open({str(tmp_path / 'imported')!r}, 'w').close()\ndef process_docs(d): return d\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = mc_task(tmp_path, "process_docs: !function lmeval_hook_probe.process_docs\n"
                             "doc_to_text: !function lmeval_hook_probe.text\ndoc_to_target: label\n"
                             "doc_to_choice: [a, b]\n")
    assert read_lm_eval(path).data["process_docs"] == FunctionRef("lmeval_hook_probe.process_docs", 7, path)
    found = problems(path)
    # refused without --trust-task-code, naming the flag; with it, converting still imports nothing
    assert any(p.startswith(f"{path}:7: process_docs: !function lmeval_hook_probe.process_docs: task code, run only "
                            "with --trust-task-code") for p in found)
    assert any(p.startswith(f"{path}:8: doc_to_text: !function lmeval_hook_probe.text: task code, run only with "
                            "--trust-task-code") for p in found)
    assert convert_file(path, trust_code=True).code is not None
    assert "lmeval_hook_probe" not in sys.modules and not (tmp_path / "imported").exists()


def test_other_object_tags_are_refused_as_by_safe_load(tmp_path: Path) -> None:
    path = write(tmp_path, "task: t\nx: !!python/object/apply:os.system ['touch pwned']\n")
    with pytest.raises(ConfigError, match="could not determine a constructor"):
        read_lm_eval(path)
    assert not Path("pwned").exists()


def test_column_or_template_follows_lm_evals_rule(tmp_path: Path) -> None:
    path = mc_task(tmp_path, "doc_to_text: sentence\ndoc_to_target: '{{label}}'\ndoc_to_choice: ['no', 'yes']\n")
    c = convert_file(path).task
    assert c["prompts"][0]["input"] == "{{ sentence }}"  # a column of the data: the column
    assert c["adapter"]["label_template"] == "{{label}}" and "label" not in c["adapter"]["fields"]
    t = load_task(f"lm-eval:{path}")
    assert [ex.label for ex in t.examples("validation")] == [1, 0, 1, 0, 1, 0]
    # Not a column: a (constant) template, as lm-eval renders it.
    path = mc_task(tmp_path, "doc_to_text: Sentence\ndoc_to_target: label\ndoc_to_choice: ['no', 'yes']\n")
    assert convert_file(path).task["prompts"][0]["input"] == "Sentence"


def test_a_hub_dataset_keeps_its_names(tmp_path: Path) -> None:
    path = write(tmp_path, "task: glue_sst2\ndataset_path: glue\ndataset_name: sst2\noutput_type: multiple_choice\n"
                           "training_split: train\nvalidation_split: validation\ndoc_to_text: sentence\n"
                           "doc_to_target: label\ndoc_to_choice: [negative, positive]\n"
                           "metric_list: [{metric: acc_norm}, {metric: acc}]\n")
    conversion = convert_file(path)
    c = conversion.task
    assert c["dataset"] == {"kind": "hub", "path": "glue", "name": "sst2", "splits": {"validation": "validation", "train": "train"}}
    assert c["prompts"][0]["input"] == "{{ sentence }}"  # no columns at hand: a bare name is a column
    assert c["adapter"]["normalization"] == "chars" and c["metrics"] == ["accuracy"]
    assert conversion.notes == ["acc not computed: promptkit scores a task's choices one way, acc_norm (the first listed) here"]


def test_generation_defaults_are_lm_evals(tmp_path: Path) -> None:
    (tmp_path / "d.jsonl").write_text('{"q": "who ?", "a": "Tom"}\n')
    path = write(tmp_path, "task: g\ndataset_path: json\ndataset_kwargs: {data_files: d.jsonl}\ntest_split: train\n"
                           "doc_to_text: 'Q: {{q}}'\ndoc_to_target: a\nfewshot_delimiter: \"\\n\\n##\\n\"\n")
    c = convert_file(path).task
    assert c["generation"] == {"max_new_tokens": 256, "stop": ["\n\n##\n"], "strip": False}
    assert c["dataset"]["splits"] == {"train": "d.jsonl"} and c["eval_split"] == "train" and c["train_split"] is None
    assert c["fewshot"]["split"] != "train"


def test_every_problem_is_reported_at_once_with_file_and_line(tmp_path: Path) -> None:
    path = mc_task(tmp_path, "doc_to_text: '{{sentence}} {{missing}}'\ndoc_to_target: label\ndoc_to_choice: [a, b]\n"
                             "filter_list: []\nfewshot_config: {sampler: balanced}\nrepeat: 2\n"
                             "metric_list: [{metric: pct_stereotype}, {metric: acc, regexes_to_ignore: [x]}]\n")
    found = problems(path)
    assert f"{path}:7: doc_to_text: the template reads 'missing', which is not a column of the data (columns: idx, label, sentence)" in found
    assert f"{path}:10: filter_list: filters apply to generated text (output_type generate_until)" in found
    assert f"{path}:11: fewshot_config.sampler: unknown sampler 'balanced'; accepted: 'default', 'first_n'" in found
    assert any(p.startswith(f"{path}:12: repeat: unsupported lm-eval key 'repeat'; did you mean 'repeats'?") for p in found)
    assert (f"{path}:13: metric_list[0].metric: unknown metric 'pct_stereotype' for multiple_choice; accepted: acc, acc_bytes, "
            "acc_norm, brier_score, exact_match, f1, mcc (with --trust-task-code, also what the task's process_results "
            "computes)") in found
    # a multiple_choice task calls no metric function: lm-eval never applies acc's options
    assert not any("regexes_to_ignore" in p for p in found)


@pytest.mark.parametrize(("body", "message"), [
    ("output_type: generate_untill\n", "output_type: unknown output type 'generate_untill'; did you mean 'generate_until'?"),
    ("output_type: loglikelihood\ndoc_to_choice: [a, b]\n", "doc_to_choice: doc_to_choice applies to output_type multiple_choice"),
    ("output_type: loglikelihood_rolling\n", "output_type 'loglikelihood_rolling' (perplexity over whole documents) is not supported"),
    ("generation_kwargs: {do_sample: true, top_p: 0.9}\n", "generation_kwargs.do_sample: do_sample True: promptkit decodes greedily"),
    ("generation_kwargs: {num_beams: 4}\n", "generation_kwargs.num_beams: not supported; promptkit decodes greedily and accepts: until"),
    ("dataset_kwargs: {data_files: d.jsonl, field: data}\n", "dataset_kwargs.field: not supported with local files"),
    ("num_fewshot: 2\n", "num_fewshot: num_fewshot > 0 needs a split to draw demonstrations from"),
    ("repeats: 3\n", "repeats: repeats 3: promptkit decodes greedily, so a repeat gives the same answer; set 1"),
])
def test_refusals_name_the_key_and_what_is_accepted(tmp_path: Path, body: str, message: str) -> None:
    (tmp_path / "d.jsonl").write_text('{"q": "who ?", "a": "Tom"}\n')
    base = {"task": "g", "dataset_path": "json", "dataset_kwargs": "{data_files: d.jsonl}", "test_split": "train",
            "doc_to_text": "'Q: {{q}}'", "doc_to_target": "a"}
    for line in body.splitlines():
        base[line.split(":")[0]] = line.split(":", 1)[1].strip()
    path = write(tmp_path, "".join(f"{k}: {v}\n" for k, v in base.items()))
    assert any(message in p for p in problems(path)), problems(path)


def test_missing_include_names_the_line_and_the_folder(tmp_path: Path) -> None:
    path = write(tmp_path, "task: t\ninclude: _nowhere_yaml\n")
    assert problems(path) == [f"{path}:2: include: included file not found: '_nowhere_yaml' (looked for "
                              f"{tmp_path / '_nowhere_yaml'}); include paths are relative to the including file's folder"]


def test_an_include_cycle_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "include: b.yaml\n", "a.yaml")
    write(tmp_path, "include: a.yaml\n", "b.yaml")
    assert any("includes itself" in p for p in problems(tmp_path / "a.yaml"))


# ----------------------------------------------------------------------------- references and CLI
def test_resolve_task_marks_lm_eval_files_and_refuses_missing_ones() -> None:
    assert isinstance(resolve_task(f"lm-eval:{SST2}"), LmEvalTaskFile)
    assert type(load_task(resolve_task(f"lm-eval:{SST2}")).path) is not LmEvalTaskFile
    with pytest.raises(PromptkitError, match="lm-eval task file not found: 'nowhere.yaml'"):
        resolve_task("lm-eval:nowhere.yaml")


def test_an_lm_eval_file_loaded_as_promptkit_says_how_to_load_it() -> None:
    with pytest.raises(ConfigError) as info:
        load_task(SST2)
    assert str(info.value.problems[0]).endswith(f"load it with --task lm-eval:{SST2} (or convert it: promptkit tasks convert {SST2})")


@pytest.mark.parametrize("source", [QA, SST2, ARC], ids=lambda p: p.stem)
def test_convert_writes_a_task_that_loads_and_renders_the_same(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere" / f"{source.stem}.yaml"
    result = CliRunner().invoke(cli, ["tasks", "convert", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out} (task " in result.stdout
    assert validate_files([out]) == {out: []}
    direct, written = task(source), load_task(out)
    assert written.config == direct.config.model_copy(update={"dataset": written.config.dataset})
    split = direct.config.eval_split
    for row in range(3):
        assert rendered(written, split, shots=2, row=row) == rendered(direct, split, shots=2, row=row)


def test_convert_prints_to_stdout_and_refuses_code(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["tasks", "convert", f"lm-eval:{SST2}"])
    assert result.exit_code == 0 and result.stdout.startswith("# Converted from the lm-evaluation-harness task")
    assert "kind: multiple_choice" in result.stdout and 'input: "{{sentence}}\\nQuestion:' in result.stdout
    bad = mc_task(tmp_path, "doc_to_text: sentence\ndoc_to_target: label\ndoc_to_choice: !function u.choices\n")
    result = CliRunner().invoke(cli, ["tasks", "convert", str(bad)])
    assert result.exit_code == 2
    # a promptkit task file holds no code: the hook is named, and how to run the task instead
    assert result.stderr.strip() == (f"error: {bad}: this task runs task code (doc_to_choice: !function u.choices "
                                     f"(task.yaml:9)); a promptkit task file holds no code: run it as --task lm-eval:{bad} "
                                     "--trust-task-code, or rewrite the data so that no hook is needed")


def test_examples_keep_lm_evals_gold_rules(tmp_path: Path) -> None:
    # An int gold, a text gold, and a template rendering digits (an index) or text (a choice).
    examples = {ex.id: ex for ex in task(ARC).examples("test")}
    assert [examples[f"arc-test-{i}"].label for i in range(4)] == [1, 0, 1, 0]
    path = mc_task(tmp_path, "doc_to_text: sentence\ndoc_to_target: '{{ [\"negative\", \"positive\"][label] }}'\n"
                             "doc_to_choice: [negative, positive]\n")
    assert [ex.label for ex in load_task(f"lm-eval:{path}").examples("validation")] == [1, 0, 1, 0, 1, 0]
    assert isinstance(examples["arc-test-0"], Example)


def test_tasks_validate_renders_lm_eval_files_too(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["tasks", "validate", f"lm-eval:{ARC}", f"lm-eval:{SST2}"])
    assert result.exit_code == 0, result.output
    assert f"ok: lm-eval:{ARC} (4 prompts rendered)" in result.stdout and "2 valid, 0 invalid" in result.output
    bad = mc_task(tmp_path, "doc_to_text: sentence\ndoc_to_target: label\ndoc_to_choice: [a, b]\nprocess_results: x\n")
    assert validate_files([Path(f"lm-eval:{bad}")])[Path(f"lm-eval:{bad}")][0].line == 10


def test_parity_benchmark_runs_or_says_why_not() -> None:
    import subprocess

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "lm_eval_prompt_parity.py"
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("skipped: lm_eval is not importable here") or "no differences" in proc.stdout


def test_convert_never_overwrites_its_source_and_replaces_a_file_only_with_force(tmp_path: Path) -> None:
    """Issue 22 item 7: ``tasks convert X.yaml --out X.yaml`` overwrote the lm-eval source."""
    source = tmp_path / "sst2.yaml"
    source.write_bytes(SST2.read_bytes())
    for fixture in SST2.parent.iterdir():  # the data files it points to
        if fixture.is_dir():
            shutil.copytree(fixture, tmp_path / fixture.name, dirs_exist_ok=True)
    refused = CliRunner().invoke(cli, ["tasks", "convert", str(source), "--out", str(source), "--force"])
    assert refused.exit_code != 0 and "is the lm-eval task file being converted" in refused.output
    assert source.read_bytes() == SST2.read_bytes()
    out = tmp_path / "task.yaml"
    out.write_text("mine\n", encoding="utf-8")
    kept = CliRunner().invoke(cli, ["tasks", "convert", str(source), "--out", str(out)])
    assert kept.exit_code != 0 and "the file already exists; give another path, or --force" in kept.output
    assert out.read_text(encoding="utf-8") == "mine\n"
    forced = CliRunner().invoke(cli, ["tasks", "convert", str(source), "--out", str(out), "--force"])
    assert forced.exit_code == 0, forced.output


@pytest.mark.parametrize(("metric", "normalization", "chosen"), [
    ("acc", "none", "a"), ("acc_norm", "chars", "abc"), ("acc_bytes", "bytes", "éé")])
def test_each_accuracy_takes_the_best_choice_as_lm_eval_normalises_it(metric: str, normalization: str, chosen: str,
                                                                     tmp_path: Path) -> None:
    """lm-eval: acc = argmax ll, acc_norm = argmax ll / len(choice), acc_bytes = argmax ll /
    len(choice.encode('utf-8')). "éé" is 2 characters and 4 bytes, "abc" 3 and 3, "a" 1 and 1:
    -3.0 / -2.8 / -1.2 summed picks "a", per character (-1.5 / -0.93 / -1.2) "abc", per byte
    (-0.75 / -0.93 / -1.2) "éé"."""
    path = mc_task(tmp_path, f"doc_to_text: sentence\ndoc_to_target: label\ndoc_to_choice: ['éé', 'abc', 'a']\n"
                             f"metric_list: [{{metric: {metric}}}]\n")
    t = load_task(f"lm-eval:{path}")
    assert t.config.adapter.normalization == normalization and t.config.metrics == ["accuracy"]
    lm = RecordingLM({" éé": -3.0, " abc": -2.8, " a": -1.2})
    [pred] = predict(lm, [rendered(t, "validation")], GenerationSettings(), Runtime(), normalization)
    assert pred.output == chosen


def test_trained_methods_on_a_task_without_a_training_split_stop_before_the_model_loads(tmp_path: Path) -> None:
    shutil.copytree(LMEVAL, tmp_path / "lm")
    path = tmp_path / "lm" / "sst2_choice.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("training_split: train\n", ""), encoding="utf-8")
    result = CliRunner().invoke(cli, ["eval", "--task", f"lm-eval:{path}", "--method", "zero-shot", "--method", "lora",
                                      "--model", str(tmp_path / "no-model-here"), "--out", str(tmp_path / "runs")])
    assert result.exit_code == 2
    assert result.stderr.strip().endswith(
        "task 'toy_sst2': lora trains on the task's training split, but the task names no training split "
        "(training_split: null); set training_split to a split of its data ('train', 'validation') whose rows are not "
        "the evaluated ones, or run prompting methods only (zero-shot, few-shot)")
    assert not (tmp_path / "runs").exists()  # nothing was started


LAMBADA = LMEVAL / "lambada_style.yaml"


class GreedyLM(RecordingLM):
    """Scores every continuation -1.5; greedy decoding produces the ones listed."""

    def __init__(self, greedy: set[str]):
        super().__init__()
        self.greedy = greedy

    def loglikelihood(self, contexts: Sequence[str], continuations: Sequence[str], runtime: Runtime) -> list[LogLikelihood]:
        self.requests += list(zip(contexts, continuations, strict=True))
        return [LogLikelihood(-1.5, 1, c in self.greedy) for c in continuations]


def test_loglikelihood_scores_the_target_right_after_the_context_and_acc_is_greedy_match() -> None:
    """lm-eval's loglikelihood output (LAMBADA): request (context, doc_to_target) with no delimiter,
    acc = is_greedy; demonstrations join text and target with target_delimiter (" " + " mat")."""
    conversion = convert_file(LAMBADA)
    c = conversion.task
    # lm-eval's perplexity is lower-is-better: listed after acc, which ranks the methods
    assert c["adapter"]["normalization"] == "greedy" and c["metrics"] == ["accuracy", "lm-eval:perplexity@perplexity"]
    assert c["prompts"][0]["target_delimiter"] == "" and c["prompts"][0]["fewshot"]["target_delimiter"] == " "
    assert any(n.startswith("lower is better: lm-eval:perplexity@perplexity") for n in conversion.notes)
    t = task(LAMBADA)
    examples = t.examples("test")
    assert [ex.choices for ex in examples] == [(" fire",), (" river",), (" sea",)]
    lm = GreedyLM({" fire", " sea"})
    preds = predict(lm, [t.prompts[0].render(ex, []) for ex in examples], GenerationSettings(), Runtime(), "greedy")
    assert lm.requests == [("the dog slept by the", " fire"), ("we walked along the quiet", " river"),
                           ("they sang a song about the", " sea")]
    assert [p.output for p in preds] == [" fire", "", " sea"] and [p.predicted_label for p in preds] == [0, None, 0]
    from promptkit.metrics import score

    assert score(["accuracy"], preds)["accuracy"].per_sample == (100.0, 0.0, 100.0)
    shot = t.examples("train")[0]
    assert t.prompts[0].render(examples[0], [shot]).text == "the cat sat on the  mat\n\nthe dog slept by the"


def test_a_loglikelihood_task_listing_only_perplexity_scores_acc(tmp_path: Path) -> None:
    shutil.copytree(LMEVAL, tmp_path / "lm")
    path = tmp_path / "lm" / "lambada_style.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.split("metric_list:")[0] + "metric_list:\n  - metric: perplexity\n", encoding="utf-8")
    conversion = convert_file(path)
    assert conversion.task["metrics"] == ["accuracy", "lm-eval:perplexity@perplexity"]
    assert any(n.startswith("acc scored too") for n in conversion.notes)


def test_an_empty_choice_chosen_keeps_its_index() -> None:
    """Only a greedy miss (loglikelihood) chooses nothing; an empty choice that scores best is chosen."""
    prompt = Prompt(example_id="e", template="t", query="q", target="", references=("",), choices=("", "b"), label=0)
    [pred] = predict(RecordingLM({" ": -0.5, " b": -3.0}), [prompt], GenerationSettings(), Runtime())
    assert (pred.output, pred.predicted_label) == ("", 0)


def test_the_number_of_new_tokens_takes_lm_evals_aliases_in_its_order(tmp_path: Path) -> None:
    """noreval writes HF's max_new_tokens; lm-eval 0.4.13 takes max_gen_toks, then max_new_tokens,
    max_tokens, max_completion_tokens (normalize_gen_kwargs)."""
    shutil.copytree(LMEVAL, tmp_path / "lm")
    path = tmp_path / "lm" / "qa_generate.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  max_gen_toks: 6\n", "  max_new_tokens: 9\n  max_tokens: 3\n"), encoding="utf-8")
    assert convert_file(path).task["generation"]["max_new_tokens"] == 9
    path.write_text(text.replace("  max_gen_toks: 6\n", "  max_new_tokens: 9\n  max_gen_toks: 5\n"), encoding="utf-8")
    assert convert_file(path).task["generation"]["max_new_tokens"] == 5


def test_a_number_as_a_generation_target_is_that_text_for_every_row(tmp_path: Path) -> None:
    """IFEval writes doc_to_target: 0; lm-eval compares the answer with str(0)."""
    shutil.copytree(LMEVAL, tmp_path / "lm")
    path = tmp_path / "lm" / "qa_generate.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('doc_to_target: "{{answers[0]}}"', "doc_to_target: 0"),
                    encoding="utf-8")
    assert [ex.references for ex in load_task(f"lm-eval:{path}").examples("test")] == [("0",)] * 6


class SpacedLM(RecordingLM):
    """Generates " Anna.\\n\\nQuestion: ..." as a model writing around its answer does."""

    def generate(self, texts: Sequence[str], *, max_new_tokens: int, stop: Sequence[str], runtime: Runtime) -> list[Generation]:
        raw = " Anna.\nQuestion: and then?"
        return [Generation(raw.split("\n")[0].strip(), raw, 1, 4) for _ in texts]


def test_an_lm_eval_generation_is_scored_as_generated_and_a_promptkit_one_stripped(tmp_path: Path) -> None:
    """lm-eval cuts the response at its stop strings and strips nothing: its exact_match and its
    filters see " Anna." (promptkit's own tasks score "Anna.")."""
    t = task(LMEVAL / "qa_generate.yaml")
    [pred] = predict(SpacedLM(), [rendered(t, "test")], t.config.generation, Runtime())
    assert pred.output == " Anna."
    [pred] = predict(SpacedLM(), [rendered(t, "test")], GenerationSettings(), Runtime())
    assert pred.output == "Anna."
