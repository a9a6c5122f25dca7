"""``--backend vllm`` against a CPU test double of vLLM (``tests/fakes/vllm``, vLLM's documented
``LLM`` / ``SamplingParams`` / ``LoRARequest`` interfaces over transformers): the same run on
both backends gives the same predictions; LoRA goes through ``LoRARequest`` on one engine, soft
prompts through ``prompt_embeds``; prefix tuning falls back to Hugging Face with a note."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import invoke, tiny_budget

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
FAKES = Path(__file__).resolve().parents[1] / "fakes"
BUDGET = [*tiny_budget(3), "--device", "cpu"]
SOFT = ("prompt-tuning", "p-tuning", "prefix-tuning")


@pytest.fixture
def fake_vllm(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(FAKES))
    for name in [m for m in sys.modules if m == "vllm" or m.startswith("vllm.")]:
        monkeypatch.delitem(sys.modules, name)
    import vllm

    assert Path(vllm.__file__).is_relative_to(FAKES)
    vllm.CALLS.clear()
    vllm.ENGINES.clear()
    return vllm


def run(out: Path, run_id: str, model: Path, task: Path, methods: list[str], *extra: str) -> dict[str, Any]:
    args = ["eval", "--task", str(task), "--model", str(model), "--out", str(out), "--run-id", run_id, "--limit", "4", *BUDGET, *extra]
    for m in methods:
        args += ["--method", m] + (["--set", f"{m}.num_virtual_tokens=4"] if m in SOFT else [])
    outcome = invoke(args)
    assert outcome.exit_code == 0, outcome.output
    return dict(json.loads((out / run_id / "results.json").read_text(encoding="utf-8")))


def predictions(run_dir: Path, task: str, method: str) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in (run_dir / "samples" / task / f"{method}.jsonl").open()]
    return [(r["example_id"], r["prediction"]) for r in rows]


def test_generation_on_vllm_matches_the_hugging_face_backend(tmp_path: Path, tiny_llama_dir: Path, fake_vllm: Any) -> None:
    methods = ["zero-shot", "few-shot", "lora", "prompt-tuning", "p-tuning", "prefix-tuning"]
    hf = run(tmp_path, "hf", tiny_llama_dir, TINY / "qa.yaml", methods)
    assert fake_vllm.ENGINES == []
    vl = run(tmp_path, "vllm", tiny_llama_dir, TINY / "qa.yaml", methods, "--backend", "vllm")
    assert len(fake_vllm.ENGINES) == 1  # one engine for every cell
    engine = fake_vllm.ENGINES[0]
    assert engine.kwargs["enable_lora"] and engine.kwargs["enable_prompt_embeds"]
    for m in methods:
        assert predictions(tmp_path / "vllm", "tiny_qa", m) == predictions(tmp_path / "hf", "tiny_qa", m), m
    assert vl["model"]["backend"] == "vllm" and "backend" not in hf["model"]
    # what reached the engine: token ids for prompting, a LoRARequest for LoRA, embeddings for soft prompts
    kinds = [("lora" if c["lora"] else "embeds" if "prompt_embeds" in c["prompts"][0] else "tokens") for c in fake_vllm.CALLS]
    assert kinds.count("lora") >= 1 and kinds.count("embeds") >= 2 and kinds.count("tokens") >= 2
    assert len({c["lora"].lora_int_id for c in fake_vllm.CALLS if c["lora"]}) == kinds.count("lora")  # a fresh id each time
    notes = {c["method"]: (c.get("context") or {}).get("backend") for c in vl["cells"]}
    assert notes["prefix-tuning"] == ["prefix tuning: a key/value prefix cannot be given to vLLM; evaluated on the Hugging Face backend"]
    assert all(notes[m] is None for m in methods if m != "prefix-tuning")


def test_choice_scores_on_vllm_match_the_hugging_face_backend(tmp_path: Path, tiny_llama_dir: Path, fake_vllm: Any) -> None:
    methods = ["zero-shot", "lora"]
    run(tmp_path, "hf", tiny_llama_dir, TINY / "sentiment.yaml", methods)
    run(tmp_path, "vllm", tiny_llama_dir, TINY / "sentiment.yaml", methods, "--backend", "vllm")
    assert any(c["params"].prompt_logprobs == 1 for c in fake_vllm.CALLS)
    for m in methods:
        hf = [json.loads(line) for line in (tmp_path / "hf" / "samples" / "tiny_sentiment" / f"{m}.jsonl").open()]
        vl = [json.loads(line) for line in (tmp_path / "vllm" / "samples" / "tiny_sentiment" / f"{m}.jsonl").open()]
        assert [r["prediction"] for r in vl] == [r["prediction"] for r in hf], m
        for a, b in zip(vl, hf, strict=True):
            assert a["choice_logprobs"] == pytest.approx(b["choice_logprobs"], abs=1e-4), m


def test_without_vllm_the_backend_is_a_one_line_error(tmp_path: Path, tiny_llama_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "vllm" else real(name, *a))
    outcome = invoke(["eval", "--task", str(TINY / "qa.yaml"), "--model", str(tiny_llama_dir), "--out", str(tmp_path),
                      "--method", "zero-shot", "--backend", "vllm", "--device", "cpu"])
    assert outcome.exit_code == 2 and "Traceback" not in outcome.output
    assert outcome.output.strip().splitlines()[-1] == (
        "error: --backend vllm needs vllm (a CUDA GPU): pip install 'promptkit[vllm]'; or --backend hf")
