"""The command line: ``--help``, ``tasks list|validate|show`` and the error mapping (one line per
problem, an exit code, no traceback unless ``--debug``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from helpers import error_lines, invoke
from promptkit import __version__
from promptkit.cli import cli
from promptkit.errors import UnknownNameError
from promptkit.tasks.catalog import prompt_files, task_files

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
INVALID = FIXTURES / "invalid_tasks"
TOY_QA = FIXTURES / "toy_tasks" / "toy_qa.yaml"


def assert_no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    # The CLI exits on purpose (sys.exit with the error's code), nothing escaped.
    assert result.exception is None or isinstance(result.exception, SystemExit)


# ----------------------------------------------------------------------------- help
def test_help() -> None:
    result = invoke(["--help"])
    assert result.exit_code == 0
    for command in ("eval", "tasks", "report", "--debug"):
        assert command in result.output
    assert invoke(["-h"]).output == result.output


def test_subcommand_help() -> None:
    for args in (("tasks", "--help"), ("eval", "--help"), ("tasks", "validate", "--help")):
        result = invoke(args)
        assert result.exit_code == 0, result.output
    assert "--set KEY=VALUE" in invoke(["eval", "--help"]).output


def test_version() -> None:
    result = invoke(["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_help_is_fast_and_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from promptkit.cli import cli\n"
        "cli.main(['--help'], prog_name='promptkit', standalone_mode=False)\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'peft', 'accelerate', 'datasets') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
    assert "Usage:" in out
    assert "HEAVY []" in out


# ----------------------------------------------------------------------------- tasks list
def test_tasks_list_shows_builtin_tasks() -> None:
    result = invoke(["tasks", "list"])
    assert result.exit_code == 0, result.output
    for name in task_files():
        assert name in result.stdout
    assert "built-in" in result.stdout
    for kind in ("qa", "translation", "generation", "classification"):
        assert kind in result.stdout


def test_tasks_list_with_a_user_dir(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(TOY_QA.read_text().replace("name: toy_qa", "name: mine"))
    (tmp_path / "broken.yaml").write_text("name: [unclosed\n")
    result = invoke(["tasks", "list", "--tasks-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    mine = next(line for line in lines if " mine " in line)
    # A user task shows its path (cut by the table width), not "built-in".
    assert " qa " in mine and "built-in" not in mine and "/" in mine
    broken = next(line for line in lines if " broken " in line)
    assert "?" in broken  # listed, not fatal: `tasks validate` says what is wrong


def test_tasks_list_bad_tasks_dir(tmp_path: Path) -> None:
    result = invoke(["tasks", "list", "--tasks-dir", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert error_lines(result) == [f"error: --tasks-dir {str(tmp_path / 'nope')!r} is not a directory"]
    assert_no_traceback(result)


# ----------------------------------------------------------------------------- tasks validate
def test_validate_every_shipped_file() -> None:
    result = invoke(["tasks", "validate", str(REPO / "tasks"), str(REPO / "prompts")])
    assert result.exit_code == 0, result.output
    count = len(list((REPO / "tasks").rglob("*.yaml"))) + len(list((REPO / "prompts").rglob("*.yaml")))
    assert count == len(task_files()) + len(prompt_files())
    assert result.stdout.count("ok: ") == count
    assert f"{count} valid, 0 invalid" in result.output
    assert error_lines(result) == []


def test_validate_bad_task_one_line_per_problem() -> None:
    path = INVALID / "bad_task.yaml"
    result = invoke(["tasks", "validate", str(path)])
    assert result.exit_code == 2
    assert_no_traceback(result)
    assert sorted(error_lines(result)) == sorted(
        [
            f"error: {path}:11: adapter.fields.contxt: unknown key 'contxt'; did you mean 'context'? "
            "(accepted: answers, context, id, question)",
            f"error: {path}:12: prompts[0]: unknown prompt 'qa/extractiv'; did you mean 'qa/extractive'?",
            f"error: {path}:13: metrics[1]: unknown metric 'token_fl'; did you mean 'token_f1'?",
            f"error: {path}:14: generation.max_new_tokens: input should be a valid integer, unable to parse "
            "string as an integer (got 'lots')",
        ]
    )
    assert "0 valid, 1 invalid" in result.stderr


def test_validate_mixed_good_and_bad(tmp_path: Path) -> None:
    result = invoke(["tasks", "validate", str(TOY_QA), str(INVALID)])
    assert result.exit_code == 2
    assert_no_traceback(result)
    assert f"ok: {TOY_QA}" in result.stdout
    bad_prompt = INVALID / "bad_prompt.yaml"
    assert f"error: {bad_prompt}: prompt 'broken/prompt': input: invalid Jinja2 on line 1 of the template: unexpected '}}'" in error_lines(result)
    assert len(error_lines(result)) == 5
    assert "1 valid, 2 invalid" in result.stderr


def test_validate_duplicate_keys_and_bad_yaml(tmp_path: Path) -> None:
    (tmp_path / "dup.yaml").write_text("name: a\nname: b\n")
    (tmp_path / "syntax.yaml").write_text("name: a\n  bad: [\n")
    result = invoke(["tasks", "validate", str(tmp_path)])
    assert result.exit_code == 2
    assert_no_traceback(result)
    lines = error_lines(result)
    assert lines[0] == f"error: {tmp_path / 'dup.yaml'}:2: name: duplicate key 'name' (first defined on line 1); each key may appear once"
    assert lines[1].startswith(f"error: {tmp_path / 'syntax.yaml'}:2: invalid YAML: ")
    assert len(lines) == 2


def test_validate_missing_file_and_empty_dir(tmp_path: Path) -> None:
    result = invoke(["tasks", "validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert error_lines(result) == [f"error: {tmp_path / 'nope.yaml'}: file not found"]
    result = invoke(["tasks", "validate", str(tmp_path)])
    assert result.exit_code == 1
    assert error_lines(result) == [f"error: no YAML files found in {tmp_path}"]
    assert_no_traceback(result)


def test_validate_needs_a_path() -> None:
    result = invoke(["tasks", "validate"])
    assert result.exit_code == 2 and "Missing argument" in result.output


# ----------------------------------------------------------------------------- eval errors
@pytest.fixture
def no_model_load(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fail loudly if anything tries to load a model."""
    import promptkit.models
    import promptkit.models.loading

    calls: list[Any] = []

    def load_model(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(promptkit.models, "load_model", load_model)
    monkeypatch.setattr(promptkit.models.loading, "load_model", load_model)
    return calls


def test_eval_unknown_task_fails_before_the_model(no_model_load: list[Any], tmp_path: Path) -> None:
    result = invoke(["eval", "--task", "squd", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert_no_traceback(result)
    assert error_lines(result) == ["error: unknown task 'squd'; did you mean 'squad'?"]
    assert no_model_load == []
    assert list(tmp_path.iterdir()) == []  # no run directory for a run that never started


def test_eval_bad_task_file_lists_every_problem(no_model_load: list[Any]) -> None:
    path = INVALID / "bad_task.yaml"
    result = invoke(["eval", "--task", str(path)])
    assert result.exit_code == 2
    assert_no_traceback(result)
    assert len(error_lines(result)) == 4
    assert all(line.startswith(f"error: {path}:") for line in error_lines(result))
    assert no_model_load == []


def test_eval_bad_set_fails_before_the_model(no_model_load: list[Any]) -> None:
    result = invoke(["eval", "--task", "squad", "--set", "batchsize=2"])
    assert result.exit_code == 2
    assert_no_traceback(result)
    (line,) = error_lines(result)
    assert "unknown key 'batchsize'; did you mean 'batch_size'?" in line
    result = invoke(["eval", "--method", "zero-shot", "--set", "few-shot.shots=5"])
    assert result.exit_code == 2
    assert error_lines(result) == [
        "error: --set 'few-shot.shots=5': method 'few-shot' is not in this run (methods: zero-shot); add --method few-shot"
    ]
    assert no_model_load == []


def test_eval_missing_data_dir_source(no_model_load: list[Any], tmp_path: Path) -> None:
    # squad reads the hub unless --data-dir is given; an empty data dir is a clear error.
    result = invoke(["eval", "--task", "squad", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert_no_traceback(result)
    (line,) = error_lines(result)
    assert "data file not found" in line and str(tmp_path) in line
    assert no_model_load == []


def test_eval_rejects_unknown_method_choice() -> None:
    result = invoke(["eval", "--method", "lora-ish"])
    assert result.exit_code == 2
    assert "Invalid value for '--method'" in result.output


def test_debug_shows_the_exception() -> None:
    result = invoke(["--debug", "tasks", "show", "squd"])
    assert isinstance(result.exception, UnknownNameError)
    # The flag does not stick to later invocations.
    result = invoke(["tasks", "show", "squd"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)


# ----------------------------------------------------------------------------- tasks show
def test_tasks_show_unknown_task() -> None:
    result = invoke(["tasks", "show", "sqaud"])
    assert result.exit_code == 2
    assert error_lines(result) == ["error: unknown task 'sqaud'; did you mean 'squad'?"]
    assert_no_traceback(result)


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding a tiny word-level tokenizer with a chat template (no model weights:
    ``tasks show`` only loads the tokenizer)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    backend = Tokenizer(models.WordLevel(vocab={"[UNK]": 0, "<s>": 1, "</s>": 2}, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", bos_token="<s>", eos_token="</s>")
    tok.chat_template = (
        "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
    )
    path = tmp_path_factory.mktemp("tokenizer")
    tok.save_pretrained(path)
    (path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    AutoTokenizer.from_pretrained(path)  # the first load imports much of transformers: pay it here
    return path


def test_tasks_show_renders_every_prompt(tokenizer_dir: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["tasks", "show", str(TOY_QA), "--model", str(tokenizer_dir), "--shots", "1", "-n", "1", "--chat-template", "off"],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "toy_qa" in out and "chat template off" in out
    for name in ("qa/extractive", "qa/extractive_plain", "qa/closed_book"):
        assert f"{name} · qa-test-1 · " in out
    assert "Question: Which pier does the night ferry leave from?\nAnswer:" in out
    assert "target: 'pier 3'" in out


def test_tasks_show_never_rewraps_long_lines(tokenizer_dir: Path, tmp_path: Path) -> None:
    # a long task path and a long context line, on an 80-column non-terminal output (CI): the
    # heading and the prompt must come out unwrapped, or the shown prompt is not the model's prompt
    deep = tmp_path.joinpath(*["a-rather-long-directory-name"] * 4)
    (deep / "data").mkdir(parents=True)
    context = " ".join(["The night ferry to the island leaves from pier 3 every evening."] * 4)
    row = {"id": "long-1", "context": context, "question": "Which pier?", "answers": {"text": ["pier 3"], "answer_start": [0]}}
    for split in ("train", "test"):
        (deep / "data" / f"{split}.jsonl").write_text(json.dumps(row) + "\n")
    task = TOY_QA.read_text().replace("../toy_data/qa/", "data/")
    (deep / "toy_qa.yaml").write_text(task)
    result = CliRunner().invoke(
        cli,
        ["tasks", "show", str(deep / "toy_qa.yaml"), "--model", str(tokenizer_dir), "-n", "1", "--chat-template", "off"],
        env={"COLUMNS": "80"},
    )
    assert result.exit_code == 0, result.output
    assert f"({deep / 'toy_qa.yaml'}), chat template off\n" in result.stdout
    assert f"\n{context}\n" in result.stdout


def test_tasks_show_with_chat_template(tokenizer_dir: Path) -> None:
    result = CliRunner().invoke(
        cli, ["tasks", "show", str(TOY_QA), "--model", str(tokenizer_dir), "-n", "1", "--chat-template", "on"], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    assert "chat template on" in result.stdout
    assert "<|user|>\nAnswer the question with a short phrase.\n\nQuestion: Which pier" in result.stdout
