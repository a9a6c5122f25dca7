"""Crash safety with a real SIGKILL: a run killed at any point and resumed ends as an
uninterrupted run does.

Every run here is a real ``promptkit eval`` subprocess on the tiny Llama. The kill is the
process's own SIGKILL at a named point (``PROMPTKIT_KILL_AT``, :mod:`promptkit.faults`): no
``finally`` runs and nothing is flushed, as with the OOM killer or a power cut. One run
directory is killed, resumed and killed again at every point in turn: mid-generation, mid-
training right after a checkpoint, mid-evaluation of a trained method, after results.json
listed a cell, and between two report files; the last resume runs to the end. Each resume is
also armed with a kill at a point it reaches only if it redoes finished work (a chunk of
predictions already saved, a training step already taken), so the test fails on a resume that
recomputes what it could have reused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from helpers import checkpoint_fields, without_timings
from safetensors.torch import load_file

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
QA = TINY / "qa.yaml"
SIGKILLED = -9

# 8 test rows in chunks of 2 (4 chunks per cell); LoRA trains 5 steps, checkpointed at 2 and 4.
SETTINGS = ["--limit", "8", "--batch-size", "2", "--seed", "0", "--device", "cpu", "--method", "zero-shot", "--method", "lora",
            "--set", "save_every=2", "--set", "lora.rank=2", "--set", "lora.dropout=0.1", "--set", "bootstrap_samples=50",
            "--set", "training.steps=5", "--set", "training.batch_size=2", "--set", "training.checkpoint_every=2"]



def promptkit(*args: str, kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    env.pop("PROMPTKIT_KILL_AT", None)
    if kill_at:
        env["PROMPTKIT_KILL_AT"] = kill_at
    return subprocess.run([sys.executable, "-m", "promptkit.cli", *args], env=env, capture_output=True, text=True, timeout=300)


def comparable(run_dir: Path) -> dict[str, Any]:
    data = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    for key in ("created", "run_id", "timings", "commands"):
        data.pop(key)
    data["config"].pop("run_id")
    data["config"].pop("out_dir")
    data["cells"] = [without_timings(cell, training_also=("resumed_from",)) for cell in data["cells"]]
    return data


def cells(run_dir: Path) -> list[str]:
    data = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    return [c["method"] for c in data["cells"] if c["error"] is None]


def progress_lines(run_dir: Path, method: str) -> int:
    files = list((run_dir / "partial").glob(f"*{method}*.jsonl")) if (run_dir / "partial").is_dir() else []
    return sum(len(f.read_text(encoding="utf-8").splitlines()) for f in files)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, tiny_llama_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("reference")
    done = promptkit("eval", "--task", str(QA), "--model", str(tiny_llama_dir), "--out", str(out), "--run-id", "ref", *SETTINGS)
    assert done.returncode == 0, done.stderr
    return out / "ref"


def test_a_run_killed_at_every_point_and_resumed_ends_like_an_uninterrupted_one(
        reference: Path, tiny_llama_dir: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "killed"
    start = ["eval", "--task", str(QA), "--model", str(tiny_llama_dir), "--out", str(tmp_path), "--run-id", "killed", *SETTINGS]
    resume = ["eval", "--resume", str(run_dir)]

    # 1. Mid-generation: zero-shot killed after its second chunk of predictions was saved.
    assert promptkit(*start, kill_at="chunk-saved:2").returncode == SIGKILLED
    assert cells(run_dir) == [] and progress_lines(run_dir, "zero-shot") == 4

    # 2. Resumed, zero-shot computes its last two chunks only (a third chunk-save would mean it
    #    redid saved ones), finishes, and LoRA is killed right after its step-2 checkpoint.
    assert promptkit(*resume, kill_at="chunk-saved:3,checkpoint-saved:1").returncode == SIGKILLED
    assert cells(run_dir) == ["zero-shot"]
    checkpoint = run_dir / "adapters/tiny_qa/qa-extractive/lora/seed-0/checkpoint/checkpoint.safetensors"
    assert checkpoint_fields(checkpoint)["step"] == 2

    # 3. Training resumes from step 2 (one more checkpoint, at step 4: a second would mean it
    #    started over), ends, and LoRA's evaluation is killed after two of its four chunks.
    assert promptkit(*resume, kill_at="checkpoint-saved:2,chunk-saved:2").returncode == SIGKILLED
    assert cells(run_dir) == ["zero-shot"] and progress_lines(run_dir, "lora") == 4
    assert checkpoint_fields(checkpoint)["final"] is True  # the trained state, kept

    # 4. The trained LoRA is reused, not trained again (any checkpoint would be a training
    #    step), its two missing chunks are computed, and the run is killed once results.json
    #    lists the cell, before the reports.
    assert promptkit(*resume, kill_at="checkpoint-saved:1,chunk-saved:3,cell-saved:1").returncode == SIGKILLED
    assert cells(run_dir) == ["zero-shot", "lora"]

    # 5. Nothing is left to compute; killed between report.md and report.html.
    assert promptkit(*resume, kill_at="chunk-saved:1,report:2").returncode == SIGKILLED
    assert (run_dir / "report.md").is_file()

    # 6. The last resume writes the reports.
    done = promptkit(*resume, kill_at="chunk-saved:1,checkpoint-saved:1")
    assert done.returncode == 0, done.stderr

    assert comparable(run_dir) == comparable(reference)
    commands = json.loads((run_dir / "results.json").read_text())["commands"]
    assert json.loads((reference / "results.json").read_text())["commands"][0].startswith("promptkit eval --task ")
    assert len(commands) >= 2 and commands[-1] == f"promptkit eval --resume {run_dir}"  # every invocation that wrote it
    for method in ("zero-shot", "lora"):
        path = f"samples/tiny_qa/{method}.jsonl"
        assert (run_dir / path).read_bytes() == (reference / path).read_bytes(), method
    adapter = "adapters/tiny_qa/qa-extractive/lora/seed-0/adapter/adapter_model.safetensors"
    got, want = load_file(run_dir / adapter), load_file(reference / adapter)
    assert sorted(got) == sorted(want) and all(torch.equal(got[k], want[k]) for k in want)
    assert (run_dir / "report.html").is_file() and (run_dir / "report.md").is_file()
    # finished: no progress files or checkpoints are left behind
    assert not (run_dir / "partial").exists() and not list(run_dir.rglob("checkpoint.safetensors"))


def test_resume_refuses_other_settings_and_changed_data(reference: Path, tiny_llama_dir: Path, tmp_path: Path) -> None:
    import shutil

    run_dir = tmp_path / "ref"
    shutil.copytree(reference, run_dir)
    before = (run_dir / "results.json").read_bytes()
    other = promptkit("eval", "--resume", str(run_dir), "--limit", "4", "--set", "training.steps=7")
    assert other.returncode == 2
    errors = [line for line in other.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: --resume: limit: the run has 8, the command asks 4; --resume continues {run_dir} as it was set up; "
        "start a new run (another --run-id) for other settings",
        f"error: --resume: training.steps: the run has 5, the command asks 7; --resume continues {run_dir} as it was set up; "
        "start a new run (another --run-id) for other settings",
    ]
    assert (run_dir / "results.json").read_bytes() == before
    # The same settings again are not a change: the finished run is simply complete.
    same = promptkit("eval", "--resume", str(run_dir), "--limit", "8", "--method", "zero-shot", "--method", "lora",
                     "--set", "lora.rank=2", "--set", "lora.dropout=0.1")
    assert same.returncode == 0, same.stderr

    # The task's test data changes under the run: refused before the model loads.
    task_dir = tmp_path / "task"
    shutil.copytree(TINY, task_dir)
    data = dict(json.loads((run_dir / "results.json").read_text(encoding="utf-8")))
    data["config"]["tasks"] = [str(task_dir / "qa.yaml")]
    (run_dir / "results.json").write_text(json.dumps(data), encoding="utf-8")
    test_file = task_dir / "data" / "qa_test.jsonl"
    rows = test_file.read_text(encoding="utf-8").splitlines()
    first = json.loads(rows[0])
    first["question"] = first["question"] + " and why"
    test_file.write_text("\n".join([json.dumps(first), *rows[1:]]) + "\n", encoding="utf-8")
    edited = (run_dir / "results.json").read_bytes()
    changed = promptkit("eval", "--resume", str(run_dir))
    assert changed.returncode == 2
    assert "error: task 'tiny_qa': its data or prompt templates changed since the run started" in changed.stderr
    assert "would mix cells scored on different examples" in changed.stderr
    assert (run_dir / "results.json").read_bytes() == edited  # nothing was written
