"""``promptkit eval`` on a task naming one file as ``train`` and ``test``: refused before the
model loads, unless ``--allow-overlap``, in which case results.json records the overlaps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promptkit.models
import pytest
from helpers import error_lines, invoke, tiny_budget

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
BUDGET = tiny_budget(2, bootstrap_samples=10)


class ModelLoaded(Exception):
    """Raised by the patched ``load_model``: the run got past every up-front check."""


def leaky_task(tmp_path: Path) -> Path:
    """The tiny QA task with its train file named as the test split too."""
    text = (TINY / "qa.yaml").read_text(encoding="utf-8").replace("name: tiny_qa", "name: leaky_qa")
    text = text.replace("data/qa_test.jsonl", "data/qa_train.jsonl").replace("data/", f"{TINY}/data/")
    path = tmp_path / "leaky.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def load_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    calls: list[Any] = []

    def fake_load_model(config: Any) -> Any:
        calls.append(config)
        raise ModelLoaded

    monkeypatch.setattr(promptkit.models, "load_model", fake_load_model)
    yield calls


def test_leak_is_refused_before_the_model_loads(tmp_path: Path, load_calls: list[Any]) -> None:
    task = leaky_task(tmp_path)
    out = tmp_path / "runs"
    result = invoke(["eval", "--task", str(task), "--method", "lora", "--out", str(out), "--run-id", "x"])
    assert result.exit_code == 2, result.output
    assert load_calls == [] and not isinstance(result.exception, ModelLoaded)
    lines = error_lines(result)
    assert len(lines) == 3, result.stderr
    assert lines[0] == (
        f"error: {task}: splits 'test' and 'train' (training) resolve to the same rows: both read "
        f"'{TINY}/data/qa_train.jsonl'"
    )
    assert lines[1].startswith(f"error: {task}: 6 of 6 'test' rows have the same input (context, question; normalised) "
                               "as a row of 'train' (training): test 'qa-train-0' = train 'qa-train-0', ")
    assert lines[1].endswith("and 3 more")
    assert lines[2].startswith("error: --allow-overlap")
    assert "Traceback" not in result.output
    assert not out.exists()  # no run directory


def test_allow_overlap_goes_on_to_the_model(tmp_path: Path, load_calls: list[Any]) -> None:
    args = ["eval", "--task", str(leaky_task(tmp_path)), "--method", "lora", "--out", str(tmp_path / "runs"), "--allow-overlap"]
    result = invoke(args)
    assert isinstance(result.exception, ModelLoaded), result.output
    assert len(load_calls) == 1


def test_allowed_overlaps_are_recorded(tmp_path: Path, tiny_llama_dir: Path) -> None:
    leaky = leaky_task(tmp_path)
    args = ["eval", "--task", str(leaky), "--task", str(TINY / "qa.yaml"), "--model", str(tiny_llama_dir),
            "--method", "lora", "--limit", "2", "--out", str(tmp_path), "--run-id", "allowed", "--allow-overlap", *BUDGET]
    result = invoke(args)
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "allowed" / "results.json").read_text(encoding="utf-8"))
    assert data["config"]["allow_overlap"] is True
    overlaps = data["tasks"]["leaky_qa"]["overlaps"]
    assert len(overlaps) == 2 and all(line.startswith(f"{leaky}: ") for line in overlaps)
    assert "2 of 2 'test' rows" in overlaps[1]  # --limit: only the evaluated rows count
    assert data["tasks"]["tiny_qa"]["overlaps"] == []
    assert all(c["error"] is None for c in data["cells"])
