"""Several processes (``torchrun``, as ``accelerate launch`` does on GPUs) give the
single-process result.

Two CPU processes (gloo) against one, on the tiny models: evaluation is sharded and gathered
back in order, training splits every batch across the processes. The predictions must be
identical and the training losses, dev curves and adapter weights equal up to float rounding
(the gradient is summed in a different order). Only the main process writes the run directory,
and a run interrupted on one process resumes on two.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from promptkit.cli import cli
from promptkit.methods import training as training_module
from safetensors.torch import load_file

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not __import__("torch").distributed.is_available(), reason="this torch build has no torch.distributed"
)


def run_single(args: Sequence[str]) -> None:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output


def run_two_processes(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "promptkit", *args]
    # a hang (a process left out of a collective) fails the test instead of blocking CI
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def results(run_dir: Path) -> dict[str, Any]:
    return dict(json.loads((run_dir / "results.json").read_text(encoding="utf-8")))


def samples(run_dir: Path, cell: dict[str, Any]) -> list[dict[str, Any]]:
    lines = (run_dir / cell["samples"]).read_text(encoding="utf-8").splitlines()
    return [row for row in map(json.loads, lines) if row["prompt_name"] == cell["prompt"]]


def assert_same_run(one: Path, two: Path) -> None:
    a, b = results(one), results(two)
    assert [(c["task"], c["method"]) for c in a["cells"]] == [(c["task"], c["method"]) for c in b["cells"]]
    for ca, cb in zip(a["cells"], b["cells"], strict=True):
        where = f"{ca['task']}/{ca['method']}"
        assert ca["error"] is None and cb["error"] is None, where
        # evaluation: every example once, in order, the same prediction
        sa, sb = samples(one, ca), samples(two, cb)
        assert [r["example_id"] for r in sa] == [r["example_id"] for r in sb], where
        assert [r["raw_output"] for r in sa] == [r["raw_output"] for r in sb], where
        for ra, rb in zip(sa, sb, strict=True):
            assert rb.get("choice_logprobs", []) == pytest.approx(ra.get("choice_logprobs", []), abs=1e-4), where
        for name, metric in ca["metrics"].items():
            assert cb["metrics"][name]["value"] == pytest.approx(metric["value"]), (where, name)
        if not ca.get("training"):
            continue
        # training: same batches, same updates (up to the order of float additions)
        ta, tb = ca["training"], cb["training"]
        assert ta["steps"] == tb["steps"] and ta["tokens"] == tb["tokens"], where
        assert tb["losses"] == pytest.approx(ta["losses"], rel=1e-4), where
        for pa, pb in zip(ta["curve"], tb["curve"], strict=True):
            assert pb == pytest.approx(pa, rel=1e-4), where
        wa = load_file(one / ca["adapter"] / "adapter_model.safetensors")
        wb = load_file(two / cb["adapter"] / "adapter_model.safetensors")
        assert wa.keys() == wb.keys()
        for key in wa:
            assert (wa[key] - wb[key]).abs().max() < 1e-4, (where, key)


def test_two_processes_match_one_on_generation_and_classification(tiny_llama_dir: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # 7 test examples: uneven evaluation shards (4 + 3); 6 train rows - 3 dev = micro-batches of
    # 3 split 2 + 1; two micro-batches per step exercise the gradient exchange after the last only
    args = [
        "eval", "--task", str(TINY / "qa.yaml"), "--task", str(TINY / "sentiment.yaml"), "--model", str(tiny_llama_dir),
        "--limit", "7", "--out", str(tmp_path), "--method", "zero-shot", "--method", "prompt-tuning", "--method", "lora",
        "--set", "training.steps=4", "--set", "training.batch_size=3", "--set", "training.grad_accum=2",
        "--set", "training.dev_size=3", "--set", "training.eval_every=2", "--set", "training.checkpoint_every=2",
        "--set", "lora.rank=2", "--set", "lora.dropout=0", "--set", "prompt-tuning.num_virtual_tokens=4",
        "--set", "bootstrap_samples=20",
    ]
    run_single([*args, "--run-id", "one"])
    proc = run_two_processes([*args, "--run-id", "two"])
    assert_same_run(tmp_path / "one", tmp_path / "two")
    # one writer, one display: the summary is printed once
    assert proc.stdout.count("results: ") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "two"]
    assert (tmp_path / "two" / "report.md").is_file() and (tmp_path / "two" / "report.html").is_file()
    assert not list((tmp_path / "two").rglob("checkpoint*")), "finished trainings leave no checkpoint"

    # A single-process run killed after prompt tuning's step-2 checkpoint, resumed on two processes
    original_save = training_module.Trainer._save

    def save_then_die(self: Any, path: Path, step: int, *rest: Any) -> None:
        original_save(self, path, step, *rest)
        if "prompt-tuning" in path.parts and step == 2:
            raise KeyboardInterrupt

    with monkeypatch.context() as mp:
        mp.setattr(training_module.Trainer, "_save", save_then_die)
        interrupted = CliRunner().invoke(cli, [*args, "--run-id", "resumed"])
    assert interrupted.exit_code == 130, interrupted.output
    run_two_processes(["eval", "--resume", str(tmp_path / "resumed")])
    assert_same_run(tmp_path / "one", tmp_path / "resumed")
    assert results(tmp_path / "resumed")["cells"][1]["training"]["resumed_from"] == 2


def test_two_processes_with_single_row_batches_on_seq2seq(tiny_t5_dir: Path, tmp_path: Path) -> None:
    # batch size 1: the second process has no row in any micro-batch and joins every gradient
    # exchange with a zero-weighted pass; encoder-decoder labels
    args = [
        "eval", "--task", str(TINY / "translation.yaml"), "--model", str(tiny_t5_dir), "--limit", "3",
        "--out", str(tmp_path), "--method", "lora",
        "--set", "training.steps=3", "--set", "training.batch_size=1", "--set", "training.grad_accum=2",
        "--set", "lora.rank=2", "--set", "lora.dropout=0", "--set", "bootstrap_samples=20",
    ]
    run_single([*args, "--run-id", "one"])
    run_two_processes([*args, "--run-id", "two"])
    assert_same_run(tmp_path / "one", tmp_path / "two")
