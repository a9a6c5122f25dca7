"""An lm-eval task's own code, run only with --trust-task-code: process_docs and the !function
hooks computing a row's prompt, choices and gold (promptkit.tasks.lmeval.code).

The expected prompts are written by hand from lm-eval 0.4.13's rules (process_docs on each split,
fewshot_config.process_docs on the demonstrations' split, each hook on the processed row);
``benchmarks/lm_eval_prompt_parity.py`` checks the fixture against lm-eval itself.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from promptkit.cli import cli
from promptkit.errors import ConfigError
from promptkit.prompting.fewshot import make_sampler
from promptkit.tasks import Task, load_task, render_all
from promptkit.tasks.lmeval import convert_file
from promptkit.tasks.lmeval.code import TaskCodeError

pytest.importorskip("datasets")  # process_docs takes a datasets.Dataset, as in lm-eval

LMEVAL = Path(__file__).resolve().parents[1] / "fixtures" / "lmeval"
CODED = LMEVAL / "coded" / "coded_arc.yaml"


def coded_copy(tmp_path: Path, edit: str = "", utils: str = "") -> Path:
    """The coded fixture copied (with its data), the YAML and coded_utils.py edited."""
    folder = tmp_path / "coded"
    shutil.copytree(CODED.parent, folder)
    shutil.copytree(LMEVAL / "data", tmp_path / "data")
    if edit:
        path = folder / "coded_arc.yaml"
        path.write_text(path.read_text(encoding="utf-8") + edit, encoding="utf-8")
    if utils:
        module = folder / "coded_utils.py"
        module.write_text(module.read_text(encoding="utf-8") + utils, encoding="utf-8")
    return folder / "coded_arc.yaml"


def trusted(path: Path = CODED) -> Task:
    return load_task(f"lm-eval:{path}", trust_code=True)


def test_without_the_flag_nothing_is_imported_and_the_flag_is_named(tmp_path: Path) -> None:
    path = coded_copy(tmp_path, utils=f"\nopen({str(tmp_path / 'imported')!r}, 'w').close()\n")
    with pytest.raises(ConfigError) as caught:
        load_task(f"lm-eval:{path}")
    keys = {p.key for p in caught.value.problems}
    assert keys == {"process_docs", "doc_to_text", "doc_to_target", "doc_to_choice", "fewshot_config.process_docs",
                    "fewshot_config.doc_to_text"}
    assert all("run only with --trust-task-code" in p.message for p in caught.value.problems)
    assert not (tmp_path / "imported").exists()
    # converting with trust records the hooks and still imports nothing (load_task imports them)
    conversion = convert_file(path, trust_code=True)
    assert conversion.code is not None and len(conversion.code.hooks()) == 6
    assert not (tmp_path / "imported").exists()
    trusted(path)
    assert (tmp_path / "imported").exists()


def test_rows_are_processed_and_hooks_computed_as_lm_eval_does() -> None:
    task = trusted()
    examples = task.examples("test")
    # process_docs drops the row with four choices (arc-test-2); the hooks see the processed rows
    assert [ex.id for ex in examples] == ["arc-test-0", "arc-test-1", "arc-test-3"]
    assert [list(ex.choices) for ex in examples] == [["RED", "BLUE", "BLACK"], ["FOUR", "TWO"], ["FOOD", "A SONG", "A BUS"]]
    assert [ex.label for ex in examples] == [1, 0, 0]
    prompts = [task.prompts[0].render(ex, []) for ex in examples]
    assert [p.query for p in prompts] == ["Q: What color is the sea ?\nA:", "Q: How many legs does a cat have ?\nA:",
                                          "Q: What is a lemon ?\nA:"]


def test_demonstrations_come_from_the_pool_processed_by_its_own_hook() -> None:
    task = trusted()
    pool = task.fewshot_pool()
    # fewshot_config.process_docs: the train split reversed, then processed (arc-train-1 has four choices)
    assert [ex.id for ex in pool] == ["arc-train-3", "arc-train-2", "arc-train-0"]
    sampler = make_sampler(task.config.fewshot, pool, 1, seed=0)
    row = task.examples("test")[0]
    prompt = task.prompts[0].render(row, sampler.sample(row))
    assert prompt.text == ("Example. Q: What does a cat do in the sun ?\nA: SLEEPS\n\n"
                                          "Q: What color is the sea ?\nA:")
    # the training rows are the task's process_docs, not the pool's (lm-eval's training_docs)
    assert [ex.id for ex in task.examples("train")] == ["arc-train-0", "arc-train-2", "arc-train-3"]


def test_a_hook_in_an_included_file_is_imported_from_that_files_folder(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "hooks.py").write_text("def text(doc):\n    return 'from shared: ' + doc['sentence']\n")
    (tmp_path / "shared" / "_template_yaml").write_text("doc_to_text: !function hooks.text\n")
    shutil.copytree(LMEVAL / "data", tmp_path / "data")
    path = tmp_path / "task.yaml"
    path.write_text("include: shared/_template_yaml\ntask: t\ndataset_path: json\ndataset_kwargs:\n  data_files:\n"
                    "    validation: data/sst2_validation.jsonl\nvalidation_split: validation\n"
                    "output_type: multiple_choice\ndoc_to_target: label\ndoc_to_choice: ['no', 'yes']\n")
    task = trusted(path)
    example = task.examples("validation")[0]
    assert task.prompts[0].render(example, []).query.startswith("from shared: ")


@pytest.mark.parametrize(("utils", "message"), [
    ("\ndef doc_to_text(doc):\n    return [doc['query']]\n",
     "task code doc_to_text: !function coded_utils.doc_to_text (coded_arc.yaml:15) returned list "
     "['Q: What color is the sea ?']: not text or an index (lm-eval's multiple-input form)"),
    ("\ndef doc_to_choice(doc):\n    return doc['query']\n", "returned str 'Q: What color is the sea ?': not a list of choices"),
    ("\ndef doc_to_target(doc):\n    return doc['missing']\n",
     "split 'test' row 0: task code doc_to_target: !function coded_utils.doc_to_target (coded_arc.yaml:16) raised "
     "KeyError: 'missing'"),
    ("\ndef process_docs(dataset):\n    return 3\n",
     "split 'test': task code process_docs: !function coded_utils.process_docs (coded_arc.yaml:14) returned int; "
     "lm-eval expects a datasets.Dataset (or a list of rows)"),
])
def test_what_a_hook_does_wrong_is_named_with_the_split_and_row(utils: str, message: str, tmp_path: Path) -> None:
    task = trusted(coded_copy(tmp_path, utils=utils))
    with pytest.raises(TaskCodeError) as caught:
        task.examples("test")
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(("utils", "message"), [
    ("\nimport promptkit_no_such_package\n", "coded_arc.yaml:14: process_docs: !function coded_utils.process_docs: "
     "importing {folder}/coded_utils.py failed: ModuleNotFoundError: No module named 'promptkit_no_such_package'; "
     "install the package 'promptkit_no_such_package' it imports"),
    ("\ndel doc_to_choice\n", "coded_arc.yaml:17: doc_to_choice: !function coded_utils.doc_to_choice: "
     "{folder}/coded_utils.py has no function 'doc_to_choice'"),
])
def test_a_hook_that_cannot_be_imported_is_refused_at_its_line(utils: str, message: str, tmp_path: Path) -> None:
    path = coded_copy(tmp_path, utils=utils)
    with pytest.raises(ConfigError) as caught:
        trusted(path)
    assert any(message.format(folder=path.parent.resolve()) in str(p) for p in caught.value.problems), caught.value.problems


def test_a_data_column_named_like_a_hooks_column_is_refused(tmp_path: Path) -> None:
    utils = "\n_old = process_docs\ndef process_docs(dataset):\n    return _old(dataset).map(lambda d: {'lm_eval_doc_to_text': 'x'})\n"
    task = trusted(coded_copy(tmp_path, utils=utils))
    with pytest.raises(TaskCodeError, match="the data has a column 'lm_eval_doc_to_text', which promptkit keeps "
                                            "doc_to_text's value in; rename that column"):
        task.examples("test")


def test_a_mapping_column_is_read_by_key_and_refused_whole(tmp_path: Path) -> None:
    """lm-eval templates read a mapping's keys ({{ choices.text[0] }}); rendering it whole would
    show Python code, which promptkit refuses, naming the row and the field."""
    from promptkit.errors import TemplateError

    shutil.copytree(LMEVAL / "data", tmp_path / "data")
    base = ("task: t\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: data/arc_test.jsonl\n"
            "test_split: test\noutput_type: multiple_choice\ndoc_to_target: '{{choices.label.index(answerKey)}}'\n"
            "doc_to_choice: '{{choices.text}}'\n")
    keys = tmp_path / "keys.yaml"
    keys.write_text(base + "doc_to_text: '{{question}} A. {{ choices.text[0] }} B. {{ choices.text[1] }}'\n")
    task = load_task(f"lm-eval:{keys}")
    assert task.prompts[0].render(task.examples("test")[0], []).query == "what color is the sea ? A. red B. blue"
    whole = tmp_path / "whole.yaml"
    whole.write_text(base + "doc_to_text: '{{question}} {{ choices }}'\n")
    task = load_task(f"lm-eval:{whole}")
    with pytest.raises(TemplateError, match=r"split 'test' row 0: field 'choices' \(column 'choices'\) is a mapping "
                                            r"\(keys: label, text\), which a prompt would show as Python code"):
        render_all(task, task.examples("test"))


def test_tasks_validate_takes_the_flag_and_convert_refuses_code() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["tasks", "validate", f"lm-eval:{CODED}"])
    assert result.exit_code == 2 and "--trust-task-code" in result.output
    result = runner.invoke(cli, ["tasks", "validate", "--trust-task-code", f"lm-eval:{CODED}"])
    assert result.exit_code == 0, result.output
    assert f"ok: lm-eval:{CODED} (3 prompts rendered)" in result.output
    result = runner.invoke(cli, ["tasks", "convert", str(CODED)])
    assert result.exit_code == 2 and "a promptkit task file holds no code" in result.stderr


def test_the_pools_own_process_docs_needs_a_declared_few_shot_split(tmp_path: Path) -> None:
    """lm-eval draws the demonstrations of a task without a few-shot split from its training docs,
    processed by the task's process_docs: fewshot_config.process_docs is then not used."""
    path = coded_copy(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace("  split: train", ""), encoding="utf-8")
    conversion = convert_file(path, trust_code=True)
    assert any(n.startswith("not used: fewshot_config.process_docs") for n in conversion.notes)
    assert [ex.id for ex in trusted(path).fewshot_pool()] == ["arc-train-0", "arc-train-2", "arc-train-3"]


WINO = LMEVAL / "coded" / "wino_style.yaml"


def test_lm_evals_multiple_input_form_scores_the_rest_after_each_choice() -> None:
    """Winogrande's form: doc_to_text is the gold option's index, each choice (the sentence up to
    the blank, filled) ends the context and the rest of the sentence is scored after it; a
    demonstration is the gold choice, the target delimiter and the rest (lm-eval 0.4.13)."""
    from promptkit.config import GenerationSettings
    from promptkit.harness.predict import predict
    from promptkit.models.batching import Runtime
    from test_lmeval import RecordingLM

    task = trusted(WINO)
    examples = task.examples("validation")
    first = examples[0]
    assert first.choices == ("The ice melted in the sun because the ice", "The ice melted in the sun because the sun")
    assert (first.label, first.continuation) == (1, "was hot.")
    shot = task.fewshot_pool()[1]  # "the cat climbed a tree"
    prompt = task.prompts[0].render(first, [shot])
    assert prompt.text == ("The dog chased the cat until the cat climbed a tree.\n\n"
                           "The ice melted in the sun because the sun")
    lm = RecordingLM()
    [pred] = predict(lm, [prompt], GenerationSettings(), Runtime())
    assert lm.requests == [
        ("The dog chased the cat until the cat climbed a tree.\n\nThe ice melted in the sun because the ice", " was hot."),
        ("The dog chased the cat until the cat climbed a tree.\n\nThe ice melted in the sun because the sun", " was hot."),
    ]
    assert pred.references == (first.choices[1],)
    # a trained method learns the gold choice's context followed by the rest of the sentence
    zero = task.prompts[0].render(examples[2], [])
    assert (zero.text, zero.target) == ("The bottle broke the glass because the bottle", "was heavy.")


def test_leakage_compares_a_multiple_input_rows_sentence_not_its_gold_index(tmp_path: Path) -> None:
    from promptkit.tasks.leakage import input_key

    task = trusted(WINO)
    fields = task.adapter().input_fields()
    train, evaluated = task.examples("train"), task.examples("validation")
    # every row's input field is the gold index (0 or 1): compared by that, all would collide
    assert not {input_key(e, fields) for e in evaluated} & {input_key(t, fields) for t in train}
    copy = tmp_path / "wino"
    shutil.copytree(WINO.parent, copy)
    (copy / "wino_validation.jsonl").write_text((copy / "wino_train.jsonl").read_text().splitlines()[1] + "\n")
    leaked = trusted(copy / "wino_style.yaml")
    assert input_key(leaked.examples("validation")[0], fields) == input_key(leaked.examples("train")[1], fields)


def test_training_rows_are_the_tasks_own_when_the_pool_is_processed_its_own_way(tmp_path: Path) -> None:
    """With fewshot_config.process_docs on the train split, the demonstrations are the pool's
    rows and a trained method's rows the task's process_docs (lm-eval's training_docs): the run
    does not reuse the pool as training rows, as it does when both are read alike."""
    from promptkit.config.run import RunConfig
    from promptkit.run.plan import prepare

    utils = ("\n_task_docs = process_docs\ndef fewshot_docs(dataset):\n"
             "    return _task_docs(dataset).map(lambda d: {'query': 'Pool ' + d['query']})\n")
    path = coded_copy(tmp_path, utils=utils)
    config = RunConfig.model_validate({"tasks": [f"lm-eval:{path}"], "methods": ["few-shot", "lora"],
                                       "trust_task_code": True})
    (prepared,) = prepare(config).tasks
    assert all(ex.fields["lm_eval_doc_to_text"].startswith("Pool ") for ex in prepared.pool)
    assert [ex.fields["lm_eval_doc_to_text"] for ex in prepared.train] == [
        "Q: What color is the sun ?\nA:", "Q: Where does a boat work ?\nA:", "Q: What does a cat do in the sun ?\nA:"]


def test_the_pools_own_hooks_run_on_the_pools_rows_only(tmp_path: Path) -> None:
    """lm-eval calls fewshot_config.doc_to_text on demonstrations alone: a hook that only a
    demonstration row can answer must not fail the evaluated rows."""
    utils = ("\ndef fewshot_text(doc):\n    if doc['query'].startswith('Q: What color is the sea'):\n"
             "        raise KeyError('an evaluated row')\n    return 'Example. ' + doc['query'] + '\\nA:'\n")
    task = trusted(coded_copy(tmp_path, utils=utils))
    assert len(task.examples("test")) == 3
    assert all(ex.fields["lm_eval_fewshot_doc_to_text"].startswith("Example. ") for ex in task.fewshot_pool())


def test_a_list_of_mappings_is_read_by_key_and_refused_whole(tmp_path: Path) -> None:
    """Chat turns, say: a template loops over them and reads keys, as lm-eval renders it; the list
    shown whole would be Python code and is refused, naming the row (it used to crash)."""
    from promptkit.errors import TemplateError

    (tmp_path / "d.jsonl").write_text('{"ctx": [{"t": "a"}, {"t": "b"}], "label": 0}\n')
    base = ("task: t\ndataset_path: json\ndataset_kwargs: {data_files: {test: d.jsonl}}\ntest_split: test\n"
            "output_type: multiple_choice\ndoc_to_target: label\ndoc_to_choice: [a, b]\n")
    (tmp_path / "loop.yaml").write_text(base + "doc_to_text: '{% for c in ctx %}{{ c.t }};{% endfor %} {{ ctx[1].t }}'\n")
    task = load_task(f"lm-eval:{tmp_path / 'loop.yaml'}")
    assert task.prompts[0].render(task.examples("test")[0], []).query == "a;b; b"
    (tmp_path / "whole.yaml").write_text(base + "doc_to_text: '{{ ctx }}'\n")
    task = load_task(f"lm-eval:{tmp_path / 'whole.yaml'}")
    with pytest.raises(TemplateError, match=r"split 'test' row 0: field 'ctx' \(column 'ctx'\) is a mapping"):
        render_all(task, task.examples("test"))


def test_an_evaluated_row_repeating_a_demonstration_is_found_though_the_pool_has_its_own_hook(tmp_path: Path) -> None:
    """The demonstrations' own column (fewshot_config.doc_to_text) is filled on the pool only, so
    the leakage check compares the other inputs: the repeat is still found."""
    from promptkit.config.run import RunConfig
    from promptkit.errors import LeakageError
    from promptkit.run.plan import prepare

    path = coded_copy(tmp_path)
    train = (tmp_path / "data" / "arc_train.jsonl").read_text().splitlines()
    (tmp_path / "data" / "arc_test.jsonl").write_text(train[0].replace("arc-train-0", "arc-test-9") + "\n")
    config = RunConfig.model_validate({"tasks": [f"lm-eval:{path}"], "methods": ["few-shot"], "trust_task_code": True})
    with pytest.raises(LeakageError, match="arc-test-9"):
        prepare(config)


@pytest.mark.parametrize("source", ["config", "set"])
def test_task_code_runs_only_when_the_command_line_says_so(source: str, tmp_path: Path) -> None:
    """A run YAML someone shared, or --set, cannot turn task code on: the flag must be given."""
    config = tmp_path / "run.yaml"
    config.write_text(f"tasks: ['lm-eval:{CODED}']\nmethods: [zero-shot]\n" + ("trust_task_code: true\n" if source == "config" else ""))
    args = ["eval", "--config", str(config), "--model", str(tmp_path / "no-model"), "--out", str(tmp_path / "runs")]
    args += ["--set", "trust_task_code=true"] if source == "set" else []
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 2
    where = f"run YAML {config}" if source == "config" else "--set"
    assert refused.stderr.strip().endswith(f"trust_task_code is true in {where}: an lm-eval task's own code runs only "
                                           "with --trust-task-code on the command line; add the flag to run it")
    allowed = CliRunner().invoke(cli, [*args, "--trust-task-code"])  # gets past the check: the model is missing
    assert allowed.exit_code != 0 and "--trust-task-code on the command line" not in allowed.output


def test_a_module_that_fails_to_import_is_run_and_reported_once(tmp_path: Path) -> None:
    """Six hooks name coded_utils.py: when it fails to import, its top-level code ran once and the
    error is one problem (at the first hook), not six."""
    marker = tmp_path / "runs.txt"
    path = coded_copy(tmp_path, utils=f"\nopen({str(marker)!r}, 'a').write('x')\nimport promptkit_no_such_package\n")
    with pytest.raises(ConfigError) as caught:
        trusted(path)
    assert [p.key for p in caught.value.problems] == ["process_docs"]
    assert marker.read_text() == "x"
