"""``promptkit eval`` on the tiny BERT (a masked LM): a cloze task runs with every method kind
that fits one; a generation task on a masked LM and a cloze prompt on a causal model are
refused once the model is known. The units (scores, training, refusals outside the runner) are
in tests/unit/test_masked_lm.py."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import invoke

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"


def test_cli_runs_a_cloze_task_on_a_masked_lm(tiny_bert_dir: Path, tmp_path: Path) -> None:
    result = invoke(["eval", "--task", str(TINY / "sentiment_cloze.yaml"), "--model", str(tiny_bert_dir),
                     "--method", "zero-shot", "--method", "few-shot", "--method", "prompt-tuning", "--method", "lora",
                     "--set", "training.steps=2", "--set", "training.batch_size=2", "--set", "bootstrap_samples=20",
                     "--out", str(tmp_path), "--run-id", "mlm"])
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "mlm" / "results.json").read_text())
    cells = {c["method"]: c for c in results["cells"]}
    assert set(cells) == {"zero-shot", "few-shot", "prompt-tuning", "lora"}
    assert all(c["error"] is None and c["metrics"]["accuracy"]["value"] is not None for c in cells.values())
    assert cells["lora"]["cost"]["trainable_params"] > 0


def test_a_generation_task_on_a_masked_lm_is_refused_before_anything_runs(tiny_bert_dir: Path, tmp_path: Path) -> None:
    result = invoke(["eval", "--task", str(TINY / "qa.yaml"), "--model", str(tiny_bert_dir), "--method", "zero-shot",
                     "--out", str(tmp_path), "--run-id", "qa"])
    assert result.exit_code != 0
    assert "task 'tiny_qa' (qa) needs text generation" in result.output and "masked LM" in result.output
    assert not (tmp_path / "qa" / "results.json").exists()


def test_a_cloze_prompt_on_a_causal_model_is_refused(tiny_llama_dir: Path, tmp_path: Path) -> None:
    result = invoke(["eval", "--task", str(TINY / "sentiment_cloze.yaml"), "--model", str(tiny_llama_dir),
                     "--method", "zero-shot", "--out", str(tmp_path), "--run-id", "c"])
    assert result.exit_code != 0
    assert "prompt 'tiny/sentiment-cloze' is a cloze prompt ({{ mask }})" in result.output
    assert "does not fill masks" in result.output
