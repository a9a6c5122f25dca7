"""The CUDA path (marker ``gpu``; skipped without CUDA): bf16 evaluation and training, the peak
memory CUDA reports, QLoRA on an NF4 base, and a real vLLM engine. Run with ``pytest -m gpu``
(and ``benchmarks/gpu_check.sh`` for the figures)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from promptkit.cli import cli

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]
QA = Path(__file__).resolve().parents[1] / "fixtures" / "tiny" / "qa.yaml"
BUDGET = ["--set", "training.steps=4", "--set", "training.batch_size=2", "--set", "lora.rank=2", "--set", "bootstrap_samples=20"]


def run(tmp_path: Path, model: Path, run_id: str, *extra: str) -> dict:
    outcome = CliRunner().invoke(cli, ["eval", "--task", str(QA), "--model", str(model), "--out", str(tmp_path), "--run-id", run_id,
                                       "--limit", "4", "--device", "cuda", *BUDGET, *extra])
    assert outcome.exit_code == 0, outcome.output
    return json.loads((tmp_path / run_id / "results.json").read_text())


def test_bf16_evaluation_and_training_on_cuda(tmp_path: Path, tiny_llama_dir: Path) -> None:
    results = run(tmp_path, tiny_llama_dir, "bf16", "--method", "zero-shot", "--method", "lora", "--dtype", "bfloat16")
    assert results["model"]["dtype"] == "bfloat16" and results["model"]["device"].startswith("cuda")
    lora = next(c for c in results["cells"] if c["method"] == "lora")
    assert lora["training"]["peak_memory_kind"] == "cuda_max_allocated" and lora["cost"]["peak_memory_mb"] > 0
    assert all(loss == loss for loss in lora["training"]["losses"])  # finite in bf16 autocast


@pytest.mark.skipif(importlib.util.find_spec("bitsandbytes") is None, reason="needs bitsandbytes")
def test_qlora_trains_lora_on_an_nf4_base(tmp_path: Path, tiny_llama_dir: Path) -> None:
    results = run(tmp_path, tiny_llama_dir, "qlora", "--method", "lora", "--set", "model.quantization=nf4")
    assert results["model"]["quantization"] == "nf4"
    assert results["cells"][0]["error"] is None and results["cells"][0]["cost"]["trainable_params"] > 0


@pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="needs vllm")
def test_the_vllm_engine_agrees_with_the_hugging_face_backend_in_fp32(tmp_path: Path, tiny_llama_dir: Path) -> None:
    hf = run(tmp_path, tiny_llama_dir, "hf", "--method", "zero-shot", "--method", "lora", "--dtype", "float32")
    vl = run(tmp_path, tiny_llama_dir, "vllm", "--method", "zero-shot", "--method", "lora", "--dtype", "float32", "--backend", "vllm")
    for method in ("zero-shot", "lora"):
        a = [json.loads(x)["prediction"] for x in (tmp_path / "hf" / "samples" / "tiny_qa" / f"{method}.jsonl").open()]
        b = [json.loads(x)["prediction"] for x in (tmp_path / "vllm" / "samples" / "tiny_qa" / f"{method}.jsonl").open()]
        assert sum(x == y for x, y in zip(a, b, strict=True)) >= len(a) - 1, method  # fp32: at most one kernel-order flip
    assert vl["model"]["backend"] == "vllm" and hf["cells"][0]["n"] == vl["cells"][0]["n"]
