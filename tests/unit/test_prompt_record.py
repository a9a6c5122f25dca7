"""Prompt records as run hashes see them (saved progress across promptkit versions)."""

from __future__ import annotations


def test_a_prompt_hashes_as_before_continuation_existed() -> None:
    """Saved progress is matched by a hash of the prompts (run/cell.py, run/tuning.py): a prompt
    without a continuation (every prompt but lm-eval's multiple-input form) gives the record it
    gave before the field existed, so --resume keeps a run started by an older version."""
    import dataclasses

    from promptkit.records import Prompt, prompt_record

    prompt = Prompt(example_id="e", template="t", query="q", target="a", references=("a",))
    record = prompt_record(prompt)
    assert "continuation" not in record
    assert record == {k: v for k, v in dataclasses.asdict(prompt).items() if k != "continuation"}
    assert prompt_record(dataclasses.replace(prompt, continuation="rest"))["continuation"] == "rest"
