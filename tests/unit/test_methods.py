"""Conformance of every registered method (promptkit.methods), on the tiny Llama.

Parametrized over ``METHODS.names()``, so a method added to the registry is checked without
editing this file: ``fit`` returns self, keeps learned state in ``*_`` attributes and leaves the
base weights bit-identical (trainable methods: once released); greedy predictions are
deterministic, reproducible from the seed, and do not depend on the batch size.

Trainable methods get a two-step training budget and small adapters; a method whose config
needs a saved adapter ``path`` gets one saved by the first trainable method.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch
from helpers import make_method
from promptkit import cli
from promptkit.config import GenerationSettings, ModelConfig
from promptkit.harness import Runtime
from promptkit.methods import (
    METHODS,
    FewShotConfig,
    Method,
    MethodConfig,
    ZeroShotConfig,
    cli_kinds,
    learning_kinds,
    method_kinds,
)
from promptkit.models import load_model
from promptkit.records import Prompt, Turn

KINDS = METHODS.names()
SETTINGS = GenerationSettings(max_new_tokens=5, stop=["\n"])


def qa_prompt(i: int, context: str, question: str, answer: str) -> Prompt:
    return Prompt(
        example_id=f"qa-{i}",
        template="tiny/qa",
        instruction="answer the question .",
        shots=(Turn("context : tom lives in rome .\nquestion : where does tom live ?\nanswer :", "rome"),) if i % 2 else (),
        query=f"context : {context}\nquestion : {question}\nanswer :",
        target=answer,
        references=(answer,),
    )


GEN_PROMPTS = [
    qa_prompt(0, "the red car belongs to anna .", "who owns the red car ?", "anna"),
    qa_prompt(1, "maria lives in paris and works in berlin .", "where does maria work ?", "berlin"),
    qa_prompt(2, "the blue house has seven windows .", "how many windows does the blue house have ?", "seven"),
    qa_prompt(3, " ".join(["the small dog sleeps under the old table ."] * 4), "where does the dog sleep ?", "under the old table"),
    qa_prompt(4, "leo wrote a book .", "who wrote a book ?", "leo"),
]
# Several questions on one long paragraph: prompts whose common beginning is read once.
PARAGRAPH = "anna owns the red car and the blue house . tom lives in rome and works in paris . the old dog sleeps under the table ."
SHARED_PARAGRAPH = [qa_prompt(20 + k, PARAGRAPH, q, a) for k, (q, a) in enumerate(
    [("who owns the red car ?", "anna"), ("where does tom work ?", "paris"), ("where does the old dog sleep ?", "under the table"),
     ("where does tom live ?", "rome")]
)]
CHOICE_PROMPTS = [
    Prompt(f"s-{i}", "tiny/sentiment", f"review : {text}\nsentiment :", target, (target,),
           instruction="is the review positive or negative ?", choices=("negative", "positive"), label=int(target == "positive"))
    for i, (text, target) in enumerate(
        [("a good film", "positive"), ("a bad film", "negative"), ("i love this song", "positive"), ("boring and sad", "negative")]
    )
]
TRAIN = [
    qa_prompt(10, "the white boat belongs to tom .", "who owns the white boat ?", "tom"),
    qa_prompt(11, "maria lives in rome .", "where does maria live ?", "rome"),
    qa_prompt(12, "the old table has four legs .", "how many legs does the old table have ?", "four"),
    qa_prompt(13, "leo has a red bike .", "what color is the bike of leo ?", "red"),
    qa_prompt(14, "the cat sleeps in the sun .", "where does the cat sleep ?", "in the sun"),
]


# Known defects, one entry per (test, method); strict: an entry fails once the defect is fixed.
SOFT_PROMPT_BATCHING = (
    "generation with a soft prompt (PEFT prompt learning) differs once a batch holds prompts of "
    "different lengths, even for the unpadded row: with peft 0.21 / transformers 5 the decode "
    "steps after the first differ (first-step logits are identical; choice scoring is unaffected)"
)
UNSEEDED_INIT = (
    "TrainableMethod.fit builds the adapter (get_peft_model) before the Trainer seeds torch, so "
    "randomly initialised adapters (p-tuning's prompt encoder) differ between runs with one seed"
)
KNOWN_ISSUES = {
}


def kinds(test: str) -> list[Any]:
    """Every registered kind, known defects marked as expected failures."""
    return [
        pytest.param(k, marks=pytest.mark.xfail(reason=KNOWN_ISSUES[(test, k)], strict=True)) if (test, k) in KNOWN_ISSUES else k
        for k in KINDS
    ]


def config_class(kind: str) -> Any:
    return METHODS.get(kind).config_class


def needs_path(kind: str) -> bool:
    field = config_class(kind).model_fields.get("path")
    return field is not None and field.is_required()


def adapter_path(kind: str, adapter: Path | None) -> dict[str, Any]:
    """The ``path`` field of a kind that needs a saved adapter (skips the test when there is none)."""
    if not needs_path(kind):
        return {}
    if adapter is None:
        pytest.skip(f"{kind!r} needs a saved adapter and no trainable method is registered to make one")
    return {"path": str(adapter)}


def make(kind: str, lm: Any, adapter: Path | None = None, batch_size: int = 8, workdir: Path | None = None) -> Method:
    """``make_method`` (SMALL sizes, TINY_TRAINING) with the saved adapter a kind may need."""
    return make_method(kind, lm, batch_size=batch_size, workdir=workdir, **adapter_path(kind, adapter))


def with_batch_size(method: Method, batch_size: int) -> Method:
    method.runtime = replace(method.runtime, batch_size=batch_size)
    return method


@pytest.fixture
def fresh_lm(tiny_llama_dir: Path) -> Callable[[], Any]:
    """Factory of private copies of the tiny Llama: trainable methods wrap the model they get."""
    return lambda: load_model(ModelConfig(name=str(tiny_llama_dir), device="cpu"))


@pytest.fixture(scope="module")
def saved_adapter(tiny_llama_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """An adapter saved by the first trainable method that needs no path (None if none)."""
    producer = next((k for k in KINDS if METHODS.get(k).learns and not needs_path(k)), None)
    if producer is None:
        return None
    lm = load_model(ModelConfig(name=str(tiny_llama_dir), device="cpu"))
    workdir = tmp_path_factory.mktemp(f"adapter-{producer}")
    method = make(producer, lm, workdir=workdir).fit(TRAIN)
    path = getattr(method, "adapter_path_", None) or workdir / "adapter"
    return Path(path)


def weights(lm: Any) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in lm.model.named_parameters()}


def release(method: Method) -> None:
    """Give the base model back (trainable methods wrap it while they are in use)."""
    if hasattr(method, "release"):
        method.release()


# ----------------------------------------------------------------------------- the registry
def test_the_config_union_is_the_registry() -> None:
    """One registration per method: the run config's union is derived, member for member."""
    members = typing.get_args(typing.get_args(MethodConfig)[0])
    assert [m.model_fields["kind"].default for m in members] == method_kinds()
    assert sorted(method_kinds()) == KINDS
    assert all(METHODS.get(m.model_fields["kind"].default).config_class is m for m in members)
    assert {"zero-shot", "few-shot"} <= set(KINDS)


def test_the_cli_offers_every_method_that_needs_no_path() -> None:
    option = next(p for p in cli.eval_cmd.params if p.name == "methods")
    assert list(option.type.choices) == cli_kinds()  # type: ignore[attr-defined]
    assert set(cli_kinds()) == {k for k in KINDS if not needs_path(k)}
    assert "adapter" not in cli_kinds()


def test_learning_kinds_follow_the_capability() -> None:
    assert learning_kinds() == [k for k in method_kinds() if METHODS.get(k).learns]
    assert {"prompt-tuning", "lora"} <= set(learning_kinds())
    assert not {"zero-shot", "few-shot", "adapter"} & set(learning_kinds())


@pytest.mark.parametrize("kind", KINDS)
def test_method_class_declares_its_kind(kind: str) -> None:
    cls = METHODS.get(kind)
    assert issubclass(cls, Method)
    assert cls.kind == kind == cls.config_class.model_fields["kind"].default
    assert isinstance(cls.learns, bool) and isinstance(cls.adapts, bool)


# ----------------------------------------------------------------------------- the contract
@pytest.mark.parametrize("kind", KINDS)
def test_fit_returns_self_and_keeps_base_weights(kind: str, fresh_lm: Callable[[], Any], saved_adapter: Path | None) -> None:
    lm = fresh_lm()
    before = weights(lm)
    baseline = make("zero-shot", lm).predict(GEN_PROMPTS, SETTINGS)
    method = make(kind, lm, saved_adapter)
    assert method.fit(TRAIN) is method
    if not method.adapts:
        assert method.fit([]) is method  # what the runner calls for prompting methods
    learned = [a for a in vars(method) if a.endswith("_") and not a.startswith("_")]
    assert bool(learned) is method.adapts, "learned state lives in attributes ending with '_'"
    method.predict(GEN_PROMPTS[:2], SETTINGS)
    release(method)
    after = dict(lm.model.named_parameters())
    assert sorted(after) == sorted(before), "the base model's parameters were renamed or replaced"
    for name, tensor in before.items():
        assert torch.equal(after[name], tensor), f"fit changed base weight {name}"
    # Released, the model predicts exactly as before: the next method starts clean.
    assert make("zero-shot", lm).predict(GEN_PROMPTS, SETTINGS) == baseline


@pytest.mark.parametrize("kind", kinds("reproducible"))
def test_greedy_predictions_are_deterministic_and_reproducible(kind: str, fresh_lm: Callable[[], Any], saved_adapter: Path | None) -> None:
    method = make(kind, fresh_lm(), saved_adapter).fit(TRAIN)
    first = method.predict(GEN_PROMPTS, SETTINGS)
    assert method.predict(GEN_PROMPTS, SETTINGS) == first
    assert [p.example_id for p in first] == [p.example_id for p in GEN_PROMPTS]
    assert all(0 < p.output_tokens <= SETTINGS.max_new_tokens for p in first)
    # Same seed, same data, a fresh copy of the model: the same predictions.
    again = make(kind, fresh_lm(), saved_adapter).fit(TRAIN)
    assert again.predict(GEN_PROMPTS, SETTINGS) == first


@pytest.mark.parametrize("kind", kinds("batch"))
def test_batch_size_does_not_change_predictions(kind: str, fresh_lm: Callable[[], Any], saved_adapter: Path | None) -> None:
    method = make(kind, fresh_lm(), saved_adapter).fit(TRAIN)
    one = with_batch_size(method, 1).predict(GEN_PROMPTS, SETTINGS)
    eight = with_batch_size(method, 8).predict(GEN_PROMPTS, SETTINGS)
    assert eight == one
    single = with_batch_size(method, 1).predict(CHOICE_PROMPTS, SETTINGS)
    batched = with_batch_size(method, 8).predict(CHOICE_PROMPTS, SETTINGS)
    assert [p.predicted_label for p in batched] == [p.predicted_label for p in single]
    for s, b in zip(single, batched, strict=True):
        assert b.choice_logprobs == pytest.approx(s.choice_logprobs, rel=1e-4, abs=1e-4)


@pytest.mark.parametrize("kind", KINDS)
def test_classification_and_empty_input(kind: str, fresh_lm: Callable[[], Any], saved_adapter: Path | None) -> None:
    method = make(kind, fresh_lm(), saved_adapter).fit(TRAIN)
    for normalization in ("none", "tokens", "chars"):
        preds = method.predict(CHOICE_PROMPTS, SETTINGS, normalization)
        for prompt, pred in zip(CHOICE_PROMPTS, preds, strict=True):
            assert pred.predicted_label in (0, 1)
            assert pred.output == prompt.choices[pred.predicted_label]
            assert pred.label == prompt.label and len(pred.choice_logprobs) == 2
    assert method.predict([], SETTINGS) == []


# ----------------------------------------------------------------------------- shots
@pytest.mark.parametrize("kind", KINDS)
def test_only_few_shot_asks_for_demonstrations(kind: str, tiny_llama: Any, saved_adapter: Path | None) -> None:
    method = make(kind, tiny_llama, saved_adapter)  # not fitted: the shared model is untouched
    expected = 3 if kind == "few-shot" else 0
    assert method.shots(3) == expected


@pytest.mark.parametrize("task_default", [0, 3, 8])
def test_zero_shot_uses_no_demonstrations(task_default: int, tiny_llama: Any) -> None:
    assert METHODS.get("zero-shot")(ZeroShotConfig(), tiny_llama, Runtime()).shots(task_default) == 0


@pytest.mark.parametrize(("configured", "task_default", "expected"), [(None, 3, 3), (None, 0, 0), (5, 3, 5), (1, 8, 1)])
def test_few_shot_uses_its_own_count_else_the_task_default(configured: int | None, task_default: int, expected: int, tiny_llama: Any) -> None:
    method = METHODS.get("few-shot")(FewShotConfig(shots=configured), tiny_llama, Runtime())
    assert method.shots(task_default) == expected


def test_few_shot_predicts_like_zero_shot_on_the_same_prompts(tiny_llama: Any) -> None:
    """The demonstrations are in the prompts (rendered by the runner); the methods then share
    the one inference path."""
    zero = make("zero-shot", tiny_llama).predict(GEN_PROMPTS, SETTINGS)
    few = make("few-shot", tiny_llama).predict(GEN_PROMPTS, SETTINGS)
    assert few == zero


@pytest.mark.parametrize("kind", kinds("batch"))
def test_running_batch_decodes_what_generate_decodes(kind: str, fresh_lm: Callable[[], Any], saved_adapter: Path | None,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The running-batch decoder (rows leave when they stop, waiting prompts join) gives every
    prompt exactly what ``model.generate`` gives it alone, for every method's way of placing its
    adaptation (LoRA layers, soft prompt embeddings, key/value prefix)."""
    from promptkit.models.causal import HFCausalLM

    method = make(kind, fresh_lm(), saved_adapter).fit(TRAIN)
    prompts = [replace(p, example_id=f"{p.example_id}-{k}") for k in range(2) for p in GEN_PROMPTS] + SHARED_PARAGRAPH
    lengths = set()
    for settings in (SETTINGS, GenerationSettings(max_new_tokens=12, stop=["\n", "works", "nine", "big", "sea", "book", "cat"])):
        with monkeypatch.context() as m:
            m.setattr(HFCausalLM, "generate", HFCausalLM.generate_fixed_batches)
            alone = with_batch_size(method, 1).predict(prompts, settings)
        lengths |= {p.output_tokens for p in alone}
        for b in (2, 3, 16):
            assert with_batch_size(method, b).predict(prompts, settings) == alone, f"batch {b}, stop {settings.stop}"
    assert len(lengths) > 2, "rows stop at different steps, or nothing is tested"


@pytest.mark.parametrize("kind", kinds("batch"))
def test_shared_context_scoring_equals_scoring_each_pair(kind: str, fresh_lm: Callable[[], Any], saved_adapter: Path | None,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Choices of several tokens scored from their context's cache give the log-probabilities of
    reading every (context, choice) sequence whole, under every method's adaptation."""
    from promptkit.models.causal import HFCausalLM

    method = make(kind, fresh_lm(), saved_adapter).fit(TRAIN)
    choices = ("anna", "the old table", "in the sun and the sea", "maria lives in rome")
    prompts = [replace(p, choices=choices, label=k % 4) for k, p in enumerate(GEN_PROMPTS + SHARED_PARAGRAPH)]
    with monkeypatch.context() as m:
        m.setattr(HFCausalLM, "loglikelihood", HFCausalLM.loglikelihood_per_pair)
        reference = with_batch_size(method, 3).predict(prompts, SETTINGS)
    for b in (1, 3, 16):
        got = with_batch_size(method, b).predict(prompts, SETTINGS)
        assert [p.predicted_label for p in got] == [p.predicted_label for p in reference]
        for g, r in zip(got, reference, strict=True):
            assert g.choice_logprobs == pytest.approx(r.choice_logprobs, rel=1e-5, abs=1e-5)
    assert len({p.predicted_label for p in reference}) > 1 or len({tuple(p.choice_logprobs) for p in reference}) > 1
