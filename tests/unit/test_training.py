"""The shared training loop (promptkit.methods.training) and what every trainable method
promises beyond the registry-wide conformance of test_methods.py, on the tiny Llama and T5.

Units: tokenisation for training (prompt masked, EOS, truncation from the left, seq2seq
layout), the seeded batch schedule, collation, the learning-rate schedule, gradient
accumulation and clipping, non-finite losses. Per trainable kind and architecture: only the
adapter's parameters train, a saved adapter reloads with PEFT (and through the ``adapter``
method) to the same predictions, and ``release()`` gives the original model back. Choice
scoring with a trained soft prompt does not depend on the batch size.

Optimizer steps are observed with torch's global step pre-hook (learning rate and gradients
as the optimizer is about to use them), so the loop itself is not modified for the tests.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from helpers import TINY_TRAINING, make_trainable, qa_prompt, snapshot
from promptkit.config import GenerationSettings, TrainingConfig
from promptkit.harness import Runtime, predict
from promptkit.harness.predict import choice_continuation
from promptkit.methods import METHODS, SavedAdapterConfig, TrainableMethod
from promptkit.methods import trainable as trainable_module
from promptkit.methods.peft import PeftAdaptation
from promptkit.methods.trainable import ADAPTER_META
from promptkit.methods.training import Trainer, TrainingError, batch_schedule, total_steps
from promptkit.models import HFCausalLM
from promptkit.models.backend import IGNORE, TrainingExample
from promptkit.models.hf import split_tokens
from promptkit.prompting.chat import format_prompt
from promptkit.records import Prompt

# PEFT methods (full fine-tuning trains a copy: tests/unit/test_full_and_lora_variants.py)
TRAINABLE = ["prompt-tuning", "prefix-tuning", "p-tuning", "lora", "dora", "ia3"]
SOFT_PROMPTS = ["prompt-tuning", "prefix-tuning", "p-tuning"]
ARCHS = ["llama", "t5"]


def skip_refused(kind: str, arch: str) -> None:
    if kind == "prefix-tuning" and arch == "t5":
        pytest.skip("prefix tuning on encoder-decoder models is refused (test_prefix_tuning_refuses_encoder_decoder)")


def test_prefix_tuning_refuses_encoder_decoder(tiny_t5: Any) -> None:
    from promptkit.errors import PromptkitError
    from promptkit.harness import Runtime
    from promptkit.methods import METHODS, PrefixTuningConfig

    method = METHODS.get("prefix-tuning")(PrefixTuningConfig(num_virtual_tokens=2), tiny_t5, Runtime())
    with pytest.raises(PromptkitError, match=r"^prefix-tuning needs a decoder-only model \(its key/value prefix would be dropped by T5ForConditionalGeneration\)"):
        method.fit([])
SETTINGS = GenerationSettings(max_new_tokens=5, stop=["\n"])
# Parameters each kind may train (PEFT names); everything else must stay as it was.
ADAPTER_PARAM = {
    "prompt-tuning": lambda n: n == "prompt_encoder.default.embedding.weight",
    "prefix-tuning": lambda n: n == "prompt_encoder.default.embedding.weight",
    "p-tuning": lambda n: n.startswith("prompt_encoder.default."),
    "lora": lambda n: ".lora_A.default." in n or ".lora_B.default." in n,
    "dora": lambda n: ".lora_A.default." in n or ".lora_B.default." in n or ".lora_magnitude_vector.default" in n,
    "ia3": lambda n: ".ia3_l.default" in n,
}


# Answers of different lengths (gradient accumulation must weight their tokens as one batch).
TRAIN = [
    qa_prompt(10, "the white boat belongs to tom .", "who owns the white boat ?", "tom"),
    qa_prompt(11, "maria lives in rome .", "where does maria live ?", "in rome"),
    qa_prompt(12, "the old table has four legs .", "how many legs does the old table have ?", "four"),
    qa_prompt(13, "the small dog sleeps under the old table .", "where does the dog sleep ?", "under the old table"),
    qa_prompt(14, "the cat sleeps in the sun .", "where does the cat sleep ?", "in the sun"),
    qa_prompt(15, "leo has a red bike .", "what color is the bike of leo ?", "red"),
]
EVAL = [
    qa_prompt(0, "the red car belongs to anna .", "who owns the red car ?", "anna"),
    qa_prompt(1, "maria lives in paris and works in berlin .", "where does maria work ?", "berlin"),
    qa_prompt(2, "the blue house has seven windows .", "how many windows does the blue house have ?", "seven"),
    qa_prompt(3, " ".join(["the small dog sleeps under the old table ."] * 4), "where does the dog sleep ?", "under the old table"),
]
SENTIMENT = [("a good film", 1), ("a bad film", 0), ("i love this song", 1), ("boring and sad", 0),
             ("a great book", 1), ("a terrible car", 0), ("happy summer", 1), ("i hate this food", 0)]
CHOICES = [
    Prompt(f"s-{i}", "tiny/sentiment", f"review : {text}\nsentiment :", ("negative", "positive")[label],
           (("negative", "positive")[label],), instruction="is the review positive or negative ?",
           choices=("negative", "positive"), label=label)
    for i, (text, label) in enumerate(SENTIMENT)
]


# ----------------------------------------------------------------------------- helpers
def zero_shot(lm: Any, prompts: list[Prompt], chat: bool = False) -> list[Any]:
    return predict(lm, prompts, SETTINGS, Runtime(batch_size=8, chat=chat))


@dataclass
class StepRecord:
    lr: float
    grads: list[torch.Tensor]

    @property
    def norm(self) -> float:
        return float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in self.grads])))


@contextmanager
def optimizer_steps() -> Iterator[list[StepRecord]]:
    """Every optimizer step taken inside the block: its learning rate and the gradients it uses."""
    from torch.optim.optimizer import register_optimizer_step_pre_hook

    records: list[StepRecord] = []

    def hook(opt: Any, args: Any, kwargs: Any) -> None:
        params = [p for group in opt.param_groups for p in group["params"]]
        records.append(StepRecord(opt.param_groups[0]["lr"], [p.grad.detach().clone() for p in params if p.grad is not None]))

    handle = register_optimizer_step_pre_hook(hook)
    try:
        yield records
    finally:
        handle.remove()


# ----------------------------------------------------------------------------- tokenisation
def test_plain_mode_masks_the_prompt_and_appends_eos(tiny_llama: Any) -> None:
    tok = tiny_llama.tokenizer
    for prompt, ex in zip(TRAIN, tiny_llama.training_examples(TRAIN, chat=False, max_length=512), strict=True):
        prompt_ids = tok(prompt.text)["input_ids"]
        target_ids = tok(" " + prompt.target, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        assert ex.input_ids == prompt_ids + target_ids
        assert ex.labels == [IGNORE] * len(prompt_ids) + target_ids
        assert tok.decode(target_ids) == prompt.target + " " + tok.eos_token


def test_chat_mode_trains_on_the_assistant_turn_without_an_extra_eos(tiny_llama: Any) -> None:
    tok = tiny_llama.tokenizer
    prompt = TRAIN[1]
    ex = tiny_llama.training_examples([prompt], chat=True, max_length=512)[0]
    prompt_ids = tok(format_prompt(prompt, tok, True), add_special_tokens=False)["input_ids"]
    assert ex.input_ids[: len(prompt_ids)] == prompt_ids
    assert ex.labels[: len(prompt_ids)] == [IGNORE] * len(prompt_ids)
    target = ex.labels[len(prompt_ids):]
    assert target == ex.input_ids[len(prompt_ids):]
    # The chat template's end-of-turn marker tells the model to stop; no EOS is appended.
    assert tok.convert_ids_to_tokens(target) == ["in", "rome", "<|end|>", "\n"]
    assert tok.eos_token_id not in ex.input_ids


def test_truncation_cuts_the_prompt_from_the_left_and_keeps_the_target(tiny_llama: Any) -> None:
    long = qa_prompt(20, " ".join(["the cat sleeps in the sun ."] * 20), "where does the cat sleep ?", "in the sun")
    full = tiny_llama.training_examples([long], chat=False, max_length=512)[0]
    cut = tiny_llama.training_examples([long], chat=False, max_length=16)[0]
    n_target = sum(label != IGNORE for label in full.labels)
    assert len(full.input_ids) > 16 and n_target == 4  # "in the sun" + EOS
    assert cut.input_ids == full.input_ids[-16:]
    assert cut.labels == full.labels[-16:]
    assert cut.labels[-n_target:] == full.labels[-n_target:] and IGNORE not in cut.labels[-n_target:]
    # A short example is left alone.
    short = tiny_llama.training_examples([TRAIN[0]], chat=False, max_length=512)[0]
    assert tiny_llama.training_examples([TRAIN[0]], chat=False, max_length=len(short.input_ids))[0] == short


def test_seq2seq_layout_prompt_to_encoder_target_to_labels(tiny_t5: Any) -> None:
    tok = tiny_t5.tokenizer
    for prompt, ex in zip(TRAIN, tiny_t5.training_examples(TRAIN, chat=False, max_length=512), strict=True):
        assert ex.input_ids == tok(prompt.text)["input_ids"] and ex.input_ids[-1] == tok.eos_token_id
        assert ex.labels == tok(prompt.target, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        assert IGNORE not in ex.labels
    long = qa_prompt(20, " ".join(["the cat sleeps in the sun ."] * 20), "where does the cat sleep ?", "in the sun")
    full = tiny_t5.training_examples([long], chat=False, max_length=512)[0]
    cut = tiny_t5.training_examples([long], chat=False, max_length=16)[0]
    assert cut.input_ids == full.input_ids[-16:] and cut.labels == full.labels


# ----------------------------------------------------------------------------- schedule and collation
def test_batch_schedule_is_fixed_by_the_seed() -> None:
    lengths = [7, 3, 9, 1, 4, 4, 8, 2, 6, 5]
    assert batch_schedule(lengths, 3, 12, seed=1) == batch_schedule(lengths, 3, 12, seed=1)
    assert batch_schedule(lengths, 3, 12, seed=1) != batch_schedule(lengths, 3, 12, seed=2)
    # A resumed run asks for the same prefix of the same schedule.
    assert batch_schedule(lengths, 3, 5, seed=1) == batch_schedule(lengths, 3, 12, seed=1)[:5]


@pytest.mark.parametrize(("n", "batch_size"), [(10, 3), (8, 4), (5, 8), (150, 2)])
def test_batch_schedule_covers_every_example_once_per_epoch(n: int, batch_size: int) -> None:
    lengths = [(i * 7919) % 23 for i in range(n)]
    per_epoch = sum(math.ceil(len(range(s, min(s + batch_size * 32, n))) / batch_size) for s in range(0, n, batch_size * 32))
    schedule = batch_schedule(lengths, batch_size, 3 * per_epoch, seed=0)
    assert len(schedule) == 3 * per_epoch
    for epoch in range(3):
        batches = schedule[epoch * per_epoch : (epoch + 1) * per_epoch]
        assert sorted(i for b in batches for i in b) == list(range(n))
        assert all(1 <= len(b) <= batch_size for b in batches)
    if n > batch_size * 32:  # beyond one length-sorted window, batches are regrouped every epoch
        assert sorted(map(sorted, schedule[:per_epoch])) != sorted(map(sorted, schedule[per_epoch : 2 * per_epoch]))


def test_batch_schedule_groups_examples_of_similar_length() -> None:
    lengths = list(range(40))
    for batch in batch_schedule(lengths, 4, 10, seed=3):
        got = sorted(lengths[i] for i in batch)
        assert got == list(range(got[0], got[0] + 4)), batch  # neighbours in length order


def test_total_steps_from_steps_or_epochs() -> None:
    assert total_steps(TrainingConfig(steps=7), 1000) == 7
    assert total_steps(TrainingConfig(epochs=2, batch_size=3), 10) == 7  # ceil(20 / 3)
    assert total_steps(TrainingConfig(epochs=2, batch_size=3, grad_accum=2), 10) == 4  # ceil(20 / 6)
    assert total_steps(TrainingConfig(epochs=1, batch_size=4), 8) == 2
    assert total_steps(TrainingConfig(epochs=0.01, batch_size=8), 10) == 1


def test_collate_pads_on_the_right(tiny_llama: Any, tiny_t5: Any) -> None:
    assert tiny_llama.tokenizer.pad_token_id == tiny_t5.tokenizer.pad_token_id == 0
    a = TrainingExample([5, 6, 7], [IGNORE, 6, 7])
    b = TrainingExample([5, 6, 7, 8, 9], [IGNORE, IGNORE, IGNORE, 8, 9])
    batch = tiny_llama.collate([a, b])
    assert batch["input_ids"].tolist() == [[5, 6, 7, 0, 0], [5, 6, 7, 8, 9]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
    assert batch["labels"].tolist() == [[IGNORE, 6, 7, IGNORE, IGNORE], [IGNORE, IGNORE, IGNORE, 8, 9]]
    assert tiny_llama.loss_tokens(batch) == 4  # predicted tokens: labels after the first position
    s2s = tiny_t5.collate([TrainingExample([5, 6], [8, 1]), TrainingExample([5, 6, 7, 8], [9, 9, 9, 1])])
    assert s2s["input_ids"].tolist() == [[5, 6, 0, 0], [5, 6, 7, 8]]
    assert s2s["attention_mask"].tolist() == [[1, 1, 0, 0], [1, 1, 1, 1]]
    assert s2s["labels"].tolist() == [[8, 1, IGNORE, IGNORE], [9, 9, 9, 1]]
    assert tiny_t5.loss_tokens(s2s) == 6


# ----------------------------------------------------------------------------- the loop
@pytest.mark.parametrize("schedule", ["linear", "cosine", "constant"])
def test_learning_rate_warms_up_then_follows_the_schedule(schedule: str, fresh: Callable[..., Any]) -> None:
    lr, steps, warmup = 0.1, 10, 2
    cfg = TrainingConfig(steps=steps, batch_size=2, warmup_ratio=0.2, schedule=schedule)  # type: ignore[arg-type]
    with optimizer_steps() as records:
        make_trainable("prompt-tuning", fresh(), cfg, lr=lr).fit(TRAIN)
    lrs = [r.lr for r in records]
    assert len(lrs) == steps
    assert lrs[:warmup] == pytest.approx([0.0, lr / 2])
    assert lrs[warmup] == pytest.approx(lr)  # warmup reaches the configured rate
    decay = {
        "linear": lambda k: lr * (steps - k) / (steps - warmup),
        "cosine": lambda k: lr * 0.5 * (1 + math.cos(math.pi * (k - warmup) / (steps - warmup))),
        "constant": lambda k: lr,
    }[schedule]
    assert lrs[warmup:] == pytest.approx([decay(k) for k in range(warmup, steps)])
    if schedule != "constant":
        assert decay(steps) == pytest.approx(0.0, abs=1e-12)  # the rate after the last step
        assert lrs[-1] < lr / 4


@pytest.mark.parametrize("max_grad_norm", [1e-3, None])
def test_gradient_norm_is_clipped(max_grad_norm: float | None, fresh: Callable[..., Any]) -> None:
    cfg = TrainingConfig(steps=3, batch_size=2, warmup_ratio=0, max_grad_norm=max_grad_norm)
    with optimizer_steps() as records:
        make_trainable("lora", fresh(), cfg).fit(TRAIN)
    assert len(records) == 3
    if max_grad_norm is None:
        assert all(r.norm > 1e-2 for r in records)
    else:
        assert all(r.norm <= max_grad_norm * (1 + 1e-4) for r in records)
        assert all(r.norm >= max_grad_norm * 0.99 for r in records)  # the raw norms are far larger


@pytest.mark.parametrize("arch", ARCHS)
def test_gradient_accumulation_equals_one_larger_batch(arch: str, fresh: Callable[..., Any]) -> None:
    """batch 2 x accumulation 2 over four examples is one batch of four: same loss, gradient
    and update, although the four answers have different numbers of tokens."""
    data = TRAIN[:4]
    results = []
    for batch_size, accum in ((4, 1), (2, 2)):
        lm = fresh(arch)
        no_dropout(lm.model)  # T5's dropout would draw different masks for other batch shapes
        cfg = TrainingConfig(steps=1, batch_size=batch_size, grad_accum=accum, warmup_ratio=0, max_grad_norm=None)
        with optimizer_steps() as records:
            method = make_trainable("prompt-tuning", lm, cfg).fit(data)
        assert len(records) == 1
        results.append((records[0].grads, method.training_, snapshot(method.adaptation_.module)))
    (grads_a, report_a, params_a), (grads_b, report_b, params_b) = results
    for ga, gb in zip(grads_a, grads_b, strict=True):
        torch.testing.assert_close(gb, ga, rtol=1e-4, atol=1e-6)
    assert report_b.losses == pytest.approx(report_a.losses, rel=1e-5)
    assert report_b.examples == report_a.examples == 4 and report_b.epochs == report_a.epochs == 1.0
    assert report_b.tokens == report_a.tokens  # real (unpadded) tokens seen
    for name, value in params_a.items():
        torch.testing.assert_close(params_b[name], value, rtol=1e-4, atol=1e-6)


def no_dropout(model: Any) -> None:
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
        elif isinstance(getattr(module, "dropout", None), float):  # T5 attention: functional dropout
            module.dropout = 0.0


def test_gradient_accumulation_counts_steps_and_examples(fresh: Callable[..., Any]) -> None:
    lm = fresh()
    batches: list[int] = []
    handle = lm.model.register_forward_pre_hook(lambda mod, args, kwargs: batches.append(_rows(kwargs)), with_kwargs=True)
    cfg = TrainingConfig(steps=3, batch_size=2, grad_accum=2)
    with optimizer_steps() as records:
        method = make_trainable("lora", lm, cfg).fit(TRAIN)
    handle.remove()
    report = method.training_
    assert len(records) == 3 and report.steps == report.planned_steps == 3 and len(report.losses) == 3
    assert batches == [2] * 6  # two micro-batches of two per optimizer step
    assert report.examples == 6 and report.epochs == pytest.approx(3 * 2 * 2 / 6)


def _rows(kwargs: dict[str, Any]) -> int:
    x = kwargs.get("input_ids")
    return int((x if x is not None else kwargs["inputs_embeds"]).shape[0])


# ----------------------------------------------------------------------------- failures
class ToyModel(torch.nn.Module):
    """One parameter; the loss turns ``bad`` (nan or inf) on forward call number ``bad_call``."""

    def __init__(self, bad_call: int, bad: float):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(()))
        self.calls = 0
        self.bad_call, self.bad = bad_call, bad

    def forward(self, input_ids: Any, attention_mask: Any, labels: Any) -> Any:
        self.calls += 1
        loss = (self.w * attention_mask.float().mean()) ** 2
        if self.calls == self.bad_call:
            loss = loss * self.bad
        return SimpleNamespace(loss=loss)


def toy_lm(model: ToyModel) -> HFCausalLM:
    """The toy model behind a causal backend (its collate pads with id 0)."""
    return HFCausalLM(model=model, tokenizer=SimpleNamespace(pad_token_id=0), name="toy", source="toy", device="cpu", dtype=torch.float32)


@pytest.mark.parametrize(("bad", "accum", "bad_call", "step"), [(float("nan"), 1, 3, 3), (float("inf"), 2, 5, 3), (float("-inf"), 1, 1, 1)])
def test_non_finite_loss_names_the_step_and_learning_rate(bad: float, accum: int, bad_call: int, step: int) -> None:
    examples = [TrainingExample([1, 2, 3], [IGNORE, 2, 3]) for _ in range(4)]
    cfg = TrainingConfig(steps=5, batch_size=2, grad_accum=accum)
    trainer = Trainer(toy_lm(ToyModel(bad_call, bad)), cfg, lr=0.5, weight_decay=0.0, seed=0)
    with pytest.raises(TrainingError, match=rf"^training loss became (nan|-?inf) at step {step} \(lr=0\.5\); lower the learning rate"):
        trainer.train(examples)


def test_training_without_examples_or_parameters_fails_clearly() -> None:
    cfg = TrainingConfig(steps=1)
    toy = ToyModel(0, 1.0)
    with pytest.raises(TrainingError, match="no training examples"):
        Trainer(toy_lm(toy), cfg, lr=0.1, weight_decay=0.0, seed=0).train([])
    toy.w.requires_grad_(False)
    with pytest.raises(TrainingError, match="no trainable parameters"):
        Trainer(toy_lm(toy), cfg, lr=0.1, weight_decay=0.0, seed=0).train([TrainingExample([1, 2], [IGNORE, 2])])


def test_diverging_lora_raises_and_release_still_restores_the_model(fresh: Callable[..., Any]) -> None:
    lm = fresh()
    before = snapshot(lm.model)
    baseline = zero_shot(lm, EVAL)
    method = make_trainable("lora", lm, TrainingConfig(steps=20, batch_size=2), lr=1e6)
    with pytest.raises(TrainingError, match=r"training loss became (nan|-?inf) at step \d+ \(lr=1000000\.0\)"):
        method.fit(TRAIN)
    method.release()
    after = snapshot(lm.model)
    assert sorted(after) == sorted(before)
    assert all(torch.equal(after[n], t) for n, t in before.items())
    assert zero_shot(lm, EVAL) == baseline


# ----------------------------------------------------------------------------- per kind and architecture
class SnapshotTrainer(Trainer):
    """The real Trainer, recording every parameter of the wrapped model just before training."""

    seen: list[dict[str, tuple[torch.Tensor, bool]]] = []

    def train(self, examples: Any) -> Any:
        SnapshotTrainer.seen.append({n: (p.detach().clone(), p.requires_grad) for n, p in self.model.named_parameters()})
        return super().train(examples)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("kind", TRAINABLE)
def test_only_the_adapter_trains_and_release_restores_the_model(kind: str, arch: str, fresh: Callable[..., Any],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    skip_refused(kind, arch)
    monkeypatch.setattr(trainable_module, "Trainer", SnapshotTrainer)
    monkeypatch.setattr(SnapshotTrainer, "seen", [])
    lm = fresh(arch)
    base = snapshot(lm.model)
    baseline = zero_shot(lm, EVAL)
    method = make_trainable(kind, lm).fit(TRAIN)
    (initial,) = SnapshotTrainer.seen
    trained = sorted(n for n, (_, grad) in initial.items() if grad)
    with lm.adapted(method.adaptation_) as adapted:  # LoRA layers are switched off outside
        after = dict(adapted.module.named_parameters())
        assert trained == sorted(n for n, p in after.items() if p.requires_grad)
    assert trained and all(ADAPTER_PARAM[kind](n) for n in trained), trained
    if kind == "prompt-tuning":
        assert trained == ["prompt_encoder.default.embedding.weight"]  # the soft prompt alone
    frozen = [n for n, (_, grad) in initial.items() if not grad]
    assert len(frozen) >= len(base)
    for name in frozen:
        assert torch.equal(after[name], initial[name][0]), f"{kind} changed frozen parameter {name}"
    assert any(not torch.equal(after[n], initial[n][0]) for n in trained), "training changed nothing"
    assert method.trainable_parameters_ == sum(after[n].numel() for n in trained)
    assert 0 < method.cost().trainable_pct < 100
    method.release()
    released = snapshot(lm.model)
    assert sorted(released) == sorted(base)
    assert all(torch.equal(released[n], t) for n, t in base.items())
    assert not any(p.requires_grad for p in lm.model.parameters())
    assert zero_shot(lm, EVAL) == baseline


def _auto_class(lm: Any) -> Any:
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    return AutoModelForSeq2SeqLM if lm.is_encoder_decoder else AutoModelForCausalLM


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("kind", TRAINABLE)
def test_saved_adapter_reloads_with_peft_to_the_same_predictions(kind: str, arch: str, fresh: Callable[..., Any], tmp_path: Path) -> None:
    skip_refused(kind, arch)
    from peft import PeftModel

    lm = fresh(arch)
    method = make_trainable(kind, lm).fit(TRAIN)
    path = method.save(tmp_path / "adapter")
    assert (path / "adapter_config.json").is_file()
    assert json.loads((path / ADAPTER_META).read_text()) == {"method": kind, "chat_template": False, "base_model": lm.name}
    trained_gen = method.predict(EVAL, SETTINGS)
    trained_cls = method.predict(CHOICES, SETTINGS)

    # Plain PEFT on a fresh copy of the base model: same forward pass, bit for bit.
    other = fresh(arch)
    loaded = PeftModel.from_pretrained(_auto_class(lm).from_pretrained(lm.source), str(path)).eval()
    batch = lm.collate(lm.training_examples(EVAL, chat=False, max_length=128))
    method.adaptation_.module.eval()
    with lm.adapted(method.adaptation_) as adapted, torch.inference_mode():
        want, got = adapted.module(**batch), loaded(**batch)
    torch.testing.assert_close(got.logits, want.logits, rtol=0, atol=0)
    with replace(other, model=loaded.get_base_model()).adapted(PeftAdaptation(loaded)) as view:
        assert predict(view, EVAL, SETTINGS, Runtime(batch_size=8)) == trained_gen

    # promptkit's own `adapter` method on another fresh copy.
    saved: Any = METHODS.get("adapter")(SavedAdapterConfig(path=str(path)), fresh(arch), Runtime(batch_size=8))
    saved.fit([])
    assert saved.predict(EVAL, SETTINGS) == trained_gen
    assert saved.predict(CHOICES, SETTINGS) == trained_cls
    # PEFT saves P-tuning's virtual tokens as computed by its encoder, not the encoder itself.
    stored = method.adaptation_.module.get_prompt_embedding_to_save("default").numel() if kind == "p-tuning" else method.trainable_parameters_
    assert saved.trainable_parameters_ == stored


@pytest.mark.parametrize("chat", [True, False])
def test_adapter_method_formats_prompts_as_in_training(chat: bool, fresh: Callable[..., Any], tmp_path: Path) -> None:
    method = make_trainable("lora", fresh(), chat=chat).fit(TRAIN)
    path = method.save(tmp_path / "adapter")
    trained = method.predict(EVAL, SETTINGS)
    assert trained[0].prompt.startswith("<s><|user|>") is chat
    # Asked for the other formatting, the adapter keeps the one it was trained with.
    saved = METHODS.get("adapter")(SavedAdapterConfig(path=str(path)), fresh(), Runtime(batch_size=8, chat=not chat))
    assert saved.runtime.chat is chat
    assert saved.fit([]).predict(EVAL, SETTINGS) == trained
    # A foreign adapter (no promptkit.json) uses the run's setting.
    (path / ADAPTER_META).unlink()
    foreign = METHODS.get("adapter")(SavedAdapterConfig(path=str(path)), fresh(), Runtime(batch_size=8, chat=not chat))
    assert foreign.runtime.chat is (not chat)


# ----------------------------------------------------------------------------- choice scoring
@pytest.mark.parametrize("kind", SOFT_PROMPTS)
def test_choice_scores_with_a_trained_soft_prompt(kind: str, fresh: Callable[..., Any]) -> None:
    """Trained on the sentiment prompts themselves; the scores of every batch size equal a
    one-sequence forward pass through PEFT (virtual-token logits left out)."""
    lm = fresh()
    method = make_trainable(kind, lm, TrainingConfig(steps=4, batch_size=4)).fit(CHOICES)
    runs = {bs: replace_batch(method, bs).predict(CHOICES, SETTINGS) for bs in (1, 3, 8)}
    tok = lm.tokenizer
    model = method.adaptation_.module.eval()
    for i, prompt in enumerate(CHOICES):
        expected = []
        for choice in prompt.choices:
            ctx, cont = split_tokens(tok, format_prompt(prompt, tok, False), choice_continuation(prompt, choice, False), False)
            seq = (ctx + cont)[:-1]
            with torch.inference_mode():
                logits = model(input_ids=torch.tensor([seq]), attention_mask=torch.ones(1, len(seq), dtype=torch.long)).logits
            logprobs = torch.log_softmax(logits[0, -len(seq):].float(), dim=-1)
            expected.append(float(sum(logprobs[len(ctx) - 1 + j, t] for j, t in enumerate(cont))))
        for preds in runs.values():
            assert preds[i].choice_logprobs == pytest.approx(expected, rel=1e-4, abs=1e-4)
            assert preds[i].predicted_label == max(range(2), key=lambda k: (expected[k], -k))


def replace_batch(method: TrainableMethod, batch_size: int) -> TrainableMethod:
    method.runtime = replace(method.runtime, batch_size=batch_size)
    return method


def test_adapter_init_draws_from_its_own_stream(fresh: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """LoRA's A matrices come from derive(seed, "init"), not from the seed the Trainer gives
    dropout: the two streams start apart."""
    from peft import get_peft_model
    from promptkit.seeding import derive

    seen: list[dict[str, torch.Tensor]] = []

    def record(self: Any, examples: Any) -> Any:
        seen.append({n: p.detach().clone() for n, p in self.model.named_parameters() if "lora_A" in n})
        raise TrainingError("stop after recording")

    monkeypatch.setattr(Trainer, "train", record)
    lm = fresh()
    method = make_trainable("lora", lm)
    with pytest.raises(TrainingError):
        method.fit(TRAIN)
    method.release()
    (trained_init,) = seen
    for seed, same in ((derive(0, "init"), True), (0, False)):
        other = fresh()
        torch.manual_seed(seed)
        reference = get_peft_model(other.model, method.peft_config(TRAIN))
        a = {n: p for n, p in reference.named_parameters() if "lora_A" in n}
        assert sorted(a) == sorted(trained_init)
        assert all(torch.equal(a[n], trained_init[n]) for n in a) is same


# ----------------------------------------------------------------------------- target-position loss
@pytest.mark.parametrize("kind", [*TRAINABLE, "full"])
def test_loss_at_target_positions_equals_the_full_loss_and_its_gradient(kind: str, fresh: Callable[..., Any]) -> None:
    """The training loss projects only target positions onto the vocabulary; it must equal the
    model's own loss over all positions (same value, same gradient), soft prompts included."""
    lm = fresh("llama")
    method = make_trainable(kind, lm, TINY_TRAINING.model_copy(update={"steps": 1})).fit(TRAIN)
    with lm.adapted(method.adaptation_) as adapted:
        module = adapted.module
        batch = adapted.collate(adapted.training_examples(TRAIN, chat=False, max_length=128))
        n_targets = adapted.loss_tokens(batch)
        head_rows: list[int] = []
        handle = module.get_output_embeddings().register_forward_hook(
            lambda _m, args, _out: head_rows.append(args[0].reshape(-1, args[0].shape[-1]).shape[0]))
        params = [p for p in module.parameters() if p.requires_grad]
        try:
            ours = adapted.training_loss(module, batch)
            ours_grads = torch.autograd.grad(ours, params)
            full = module(**batch).loss
            full_grads = torch.autograd.grad(full, params)
        finally:
            handle.remove()
    assert head_rows[0] == n_targets < head_rows[1]  # the LM head saw the target positions only
    assert float(ours) == pytest.approx(float(full), rel=1e-6, abs=1e-6)
    for a, b in zip(ours_grads, full_grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    method.release()


@pytest.mark.parametrize("kind", ["lora", "prompt-tuning"])
def test_gradient_checkpointing_recomputes_layers_and_keeps_the_losses(kind: str, fresh: Callable[..., Any]) -> None:
    def run(checkpointing: bool) -> tuple[list[float], int, bool]:
        lm = fresh("llama")
        calls = [0]
        inner = lm.model.model.layers[0].mlp  # inside the checkpointed forward: runs again in backward
        forward = inner.forward

        def counted(*args: Any, **kwargs: Any) -> Any:  # (module hooks do not fire on the recompute)
            calls[0] += 1
            return forward(*args, **kwargs)

        inner.forward = counted
        cfg = TINY_TRAINING.model_copy(update={"steps": 3, "gradient_checkpointing": checkpointing})
        method = make_trainable(kind, lm, cfg).fit(TRAIN)
        still_on = lm.model.is_activation_checkpointing
        losses = method.training_.losses
        method.release()
        return losses, calls[0], still_on

    plain, plain_calls, _ = run(False)
    ckpt, ckpt_calls, still_on = run(True)
    assert ckpt == pytest.approx(plain, rel=1e-5)
    assert ckpt_calls == 2 * plain_calls  # every layer ran again in the backward pass
    assert not still_on  # the shared base model is given back without checkpointing


def test_gradient_checkpointing_refuses_a_key_value_prefix(fresh: Callable[..., Any]) -> None:
    lm = fresh("llama")
    cfg = TINY_TRAINING.model_copy(update={"gradient_checkpointing": True})
    with pytest.raises(TrainingError, match=r"^training.gradient_checkpointing cannot train a key/value prefix \(prefix-tuning\)"):
        make_trainable("prefix-tuning", lm, cfg).fit(TRAIN)
    assert not lm.model.is_activation_checkpointing
