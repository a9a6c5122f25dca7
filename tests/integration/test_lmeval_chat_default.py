"""lm-eval tasks are prompted as lm-eval prompts them: no chat template unless asked (lm-eval
applies one only with ``--apply_chat_template``); promptkit's own tasks keep ``auto``. A run
mixing both with the setting unset is refused, since one run has one formatting."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import error_lines, invoke, read_jsonl
from promptkit.config.run import RunConfig
from promptkit.errors import ConfigError
from promptkit.run.plan import chat_mode
from promptkit.tasks import load_task

ROOT = Path(__file__).resolve().parents[2]
LMEVAL = f"lm-eval:{ROOT / 'tests' / 'fixtures' / 'lmeval' / 'sst2_choice.yaml'}"
TINY_QA = ROOT / "tests" / "fixtures" / "tiny" / "qa.yaml"
CHAT_MARK = "<|user|>"  # the tiny tokenizer's chat template (tests/conftest.py)


@pytest.mark.parametrize(("tasks", "given", "expected"), [
    ([LMEVAL], None, "off"), ([TINY_QA], None, "auto"), ([LMEVAL], "on", "on"), ([LMEVAL, TINY_QA], "auto", "auto")])
def test_chat_mode_follows_the_tasks_unless_set(tasks: list, given: str | None, expected: str) -> None:
    config = RunConfig.model_validate({"model": {"chat_template": given}})
    assert chat_mode(config, [load_task(t) for t in tasks]) == expected


def test_a_mixed_run_with_the_default_is_refused() -> None:
    with pytest.raises(ConfigError, match="mixes lm-eval tasks .* with promptkit tasks .*--chat-template auto, on or off"):
        chat_mode(RunConfig(), [load_task(LMEVAL), load_task(TINY_QA)])


def test_an_lm_eval_run_prompts_without_the_chat_template(tmp_path: Path, tiny_llama_dir: Path) -> None:
    result = invoke(["eval", "--task", LMEVAL, "--model", str(tiny_llama_dir), "--method", "zero-shot",
                     "--out", str(tmp_path), "--run-id", "r", "--device", "cpu"])
    assert result.exit_code == 0 and not error_lines(result), result.output
    rows = read_jsonl(tmp_path / "r" / "samples" / "toy_sst2" / "zero-shot.jsonl")
    assert rows and not any(CHAT_MARK in r["prompt"] for r in rows)
    assert rows[0]["prompt"].endswith("\nQuestion: Is this sentence positive or negative?\nAnswer:")


def test_tasks_show_says_why_the_chat_template_is_off(tiny_llama_dir: Path) -> None:
    result = invoke(["tasks", "show", LMEVAL, "--model", str(tiny_llama_dir), "-n", "1"])
    assert result.exit_code == 0, result.output
    assert "chat template off (lm-eval's default for its tasks; --chat-template auto for the model's)" in result.output
    assert CHAT_MARK not in result.output
    again = invoke(["tasks", "show", LMEVAL, "--model", str(tiny_llama_dir), "-n", "1", "--chat-template", "auto"])
    assert "chat template on" in again.output and CHAT_MARK in again.output
