"""Full fine-tuning, the LoRA options (rsLoRA, PiSSA/OLoRA init), DoRA and IA3 on the tiny models.

The registry-wide contract (fit returns self, base weights kept, determinism, batch size) is in
test_methods.py; here is what is particular to each: what trains, what the shared base looks like
inside and outside ``adapted`` blocks, and what is saved.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from helpers import make_trainable, qa_prompt, snapshot
from promptkit.config import GenerationSettings, ModelConfig, TrainingConfig
from promptkit.harness import Runtime, predict
from promptkit.methods import TrainableMethod
from promptkit.methods.lora import ResidualAdaptation
from promptkit.models import load_model
from promptkit.records import Prompt

SETTINGS = GenerationSettings(max_new_tokens=5, stop=["\n"])
BUDGET = TrainingConfig(steps=3, batch_size=3, max_length=128, warmup_ratio=0)


TRAIN = [
    qa_prompt(10, "the white boat belongs to tom .", "who owns the white boat ?", "tom"),
    qa_prompt(11, "maria lives in rome .", "where does maria live ?", "in rome"),
    qa_prompt(12, "the old table has four legs .", "how many legs does the old table have ?", "four"),
    qa_prompt(13, "leo has a red bike .", "what color is the bike of leo ?", "red"),
]
EVAL = [
    qa_prompt(0, "the red car belongs to anna .", "who owns the red car ?", "anna"),
    qa_prompt(1, "maria lives in paris and works in berlin .", "where does maria work ?", "berlin"),
    qa_prompt(2, " ".join(["the small dog sleeps under the old table ."] * 3), "where does the dog sleep ?", "under the old table"),
]


def make(kind: str, lm: Any, workdir: Path | None = None, **fields: Any) -> TrainableMethod:
    """A trainable method on this file's BUDGET, its config the kind's defaults and ``fields`` (no SMALL sizes)."""
    return make_trainable(kind, lm, BUDGET, small=False, workdir=workdir, **fields)


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return sorted(a) == sorted(b) and all(torch.equal(a[n], b[n]) for n in a)


def logits(lm: Any, prompts: list[Prompt]) -> torch.Tensor:
    batch = lm.collate(lm.training_examples(prompts, chat=False, max_length=128))
    with torch.inference_mode():
        return lm.module.eval()(**batch).logits


# ----------------------------------------------------------------------------- full fine-tuning
@pytest.mark.parametrize("arch", ["llama", "t5"])
def test_full_fine_tuning_trains_a_copy_and_leaves_the_base(arch: str, fresh: Callable[..., Any], tmp_path: Path) -> None:
    lm = fresh(arch)
    base = snapshot(lm.model)
    baseline = predict(lm, EVAL, SETTINGS, Runtime())
    method = make("full", lm, workdir=tmp_path, lr=1e-2).fit(TRAIN)
    copy = method.adaptation_.module
    assert copy is not lm.model
    assert same(snapshot(lm.model), base), "full fine-tuning changed the shared base"
    trained = snapshot(copy)
    changed = [n for n in base if not torch.equal(trained[n], base[n])]
    assert len(changed) == len(base), f"every weight trains; unchanged: {sorted(set(base) - set(changed))}"
    cost = method.cost()
    assert cost.trainable_pct == 100.0 and cost.trainable_params == sum(t.numel() for t in base.values())
    # The saved result is a whole model (at least the fp32 weights), loadable as --model.
    assert cost.adapter_bytes is not None and cost.adapter_bytes >= 4 * cost.trainable_params
    reloaded = load_model(ModelConfig(name=str(method.adapter_path_), device="cpu"))
    assert predict(reloaded, EVAL, SETTINGS, Runtime()) == method.predict(EVAL, SETTINGS)
    assert predict(lm, EVAL, SETTINGS, Runtime()) == baseline
    method.release()
    assert not hasattr(method, "adaptation_")  # the copy is dropped
    assert same(snapshot(lm.model), base)


def test_full_fine_tuning_can_freeze_the_embeddings(fresh: Callable[..., Any]) -> None:
    lm = fresh()
    base = snapshot(lm.model)
    method = make("full", lm, lr=1e-2, freeze_embeddings=True).fit(TRAIN)
    trained = snapshot(method.adaptation_.module)
    frozen = {"model.embed_tokens.weight", "lm_head.weight"}
    assert all(torch.equal(trained[n], base[n]) for n in frozen)
    assert any(not torch.equal(trained[n], base[n]) for n in set(base) - frozen)
    assert method.trainable_parameters_ == sum(t.numel() for n, t in base.items() if n not in frozen)


# ----------------------------------------------------------------------------- LoRA options
def test_rslora_scales_by_the_square_root_of_the_rank(fresh: Callable[..., Any]) -> None:
    for rslora, expected in ((False, 16.0 / 4), (True, 16.0 / math.sqrt(4))):
        lm = fresh()
        method = make("lora", lm, rank=4, alpha=16.0, rslora=rslora).fit(TRAIN)
        scalings = [m.scaling["default"] for m in method.adaptation_.module.modules() if hasattr(m, "lora_A") and m.scaling]
        assert scalings and scalings == pytest.approx([expected] * len(scalings))
        method.release()


@pytest.mark.parametrize("init", ["pissa", "olora"])
def test_residual_inits_keep_the_shared_base_outside_adapted_blocks(init: str, fresh: Callable[..., Any], tmp_path: Path) -> None:
    """PiSSA/OLoRA rewrite the targeted weights into residuals: the base must read as the
    original outside `adapted`, the adapted model must start as the original model (residual +
    principal part), and the saved adapter must load onto an untouched base."""
    lm = fresh()
    base = snapshot(lm.model)
    before = logits(lm, EVAL)
    method = make("lora", lm, rank=4, init=init, lr=1e-2)
    adaptation = method.adapt(TRAIN)
    assert isinstance(adaptation, ResidualAdaptation)
    with lm.adapted(adaptation) as adapted:
        residual = {n: m.weight.detach().clone() for n, m in adaptation.modules.items()}
        assert any(not torch.equal(residual[n], adaptation.original[n]) for n in residual)
        # Untrained, residual + A B is the original weight: the model's outputs do not move.
        torch.testing.assert_close(logits(adapted, EVAL), before, rtol=1e-4, atol=1e-4)
    # Outside the block (LoRA layers still injected, switched off): the original weights and outputs.
    assert all(torch.equal(m.weight, adaptation.original[n]) for n, m in adaptation.modules.items())
    assert torch.equal(logits(lm, EVAL), before)
    adaptation.remove()
    assert same(snapshot(lm.model), base)

    method = make("lora", lm, workdir=tmp_path, rank=4, init=init, lr=1e-2).fit(TRAIN)
    assert torch.equal(logits(lm, EVAL), before), f"{init} left residual weights in the shared base"
    with lm.adapted(method.adaptation_) as adapted:
        trained = logits(adapted, EVAL)
    assert not torch.allclose(trained, before, atol=1e-3), "training changed nothing"

    # Saved converted to plain LoRA (rank 2r) on the original weights.
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    loaded = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(lm.source), str(method.adapter_path_)).eval()
    assert loaded.peft_config["default"].r == 8
    batch = lm.collate(lm.training_examples(EVAL, chat=False, max_length=128))
    with torch.inference_mode():
        torch.testing.assert_close(loaded(**batch).logits, trained, rtol=1e-4, atol=1e-4)
    held = method.adaptation_
    assert isinstance(held, ResidualAdaptation) and held.initial_dir.is_dir()
    method.release()
    assert same(snapshot(lm.model), base)
    assert not held.initial_dir.exists() and not adaptation.initial_dir.exists()


# ----------------------------------------------------------------------------- DoRA and IA3
def test_dora_trains_a_magnitude_vector_beside_lora(fresh: Callable[..., Any]) -> None:
    lm = fresh()
    lora = make("lora", lm, rank=2).fit(TRAIN)
    n_lora = lora.trainable_parameters_
    lora.release()
    dora = make("dora", lm, rank=2).fit(TRAIN)
    names = [n for n, _ in dora.adaptation_.module.named_parameters() if "lora_magnitude_vector" in n]
    assert names
    # one magnitude per output feature of every targeted layer, on top of LoRA's A and B
    targeted = [m for m in dora.adaptation_.module.modules() if hasattr(m, "lora_magnitude_vector") and m.lora_magnitude_vector]
    assert dora.trainable_parameters_ == n_lora + sum(m.out_features for m in targeted)
    dora.release()


@pytest.mark.parametrize(("feedforward", "expected"), [(True, {"k_proj", "v_proj", "down_proj"}), (False, {"k_proj", "v_proj"})])
def test_ia3_targets_follow_peft_and_the_feedforward_switch(feedforward: bool, expected: set[str], fresh: Callable[..., Any]) -> None:
    lm = fresh()
    method = make("ia3", lm, feedforward=feedforward).fit(TRAIN)
    scaled = {n.split(".ia3_l")[0].rsplit(".", 1)[-1] for n, _ in method.adaptation_.module.named_parameters() if ".ia3_l." in n}
    assert scaled == expected
    hidden = lm.model.config.hidden_size
    assert method.trainable_parameters_ > 0 and method.trainable_parameters_ < 2 * hidden * 8 * lm.model.config.num_hidden_layers
    method.release()


@pytest.mark.parametrize("kind", ["lora", "dora", "ia3"])
def test_injected_layers_are_off_outside_adapted_blocks(kind: str, fresh: Callable[..., Any]) -> None:
    """Methods that inject layers into the shared base switch them off on leaving `adapted`:
    while the method is still held (not yet released), the base reads as the base."""
    lm = fresh()
    before = logits(lm, EVAL)
    method = make(kind, lm, lr=5e-2, **({"rank": 2} if kind != "ia3" else {})).fit(TRAIN)
    assert torch.equal(logits(lm, EVAL), before)
    with lm.adapted(method.adaptation_) as adapted:
        assert not torch.allclose(logits(adapted, EVAL), before, atol=1e-4)
    assert torch.equal(logits(lm, EVAL), before)
    method.release()
