"""Conformance of every registered method (promptkit.methods), on the tiny Llama.

Parametrized over ``METHODS.names()``, so a method added to the registry is checked without
editing this file: ``fit`` returns self and never touches the base weights, greedy predictions
are deterministic and do not depend on the batch size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from pydantic import TypeAdapter

from promptkit import cli
from promptkit.config import FewShotConfig, GenerationSettings, MethodConfig, ModelConfig, ZeroShotConfig, method_kind_names
from promptkit.harness import Runtime
from promptkit.methods import METHODS, Method
from promptkit.models import load_model
from promptkit.records import Prompt, Turn

KINDS = METHODS.names()
SETTINGS = GenerationSettings(max_new_tokens=5, stop=["\n"])


def method_config(kind: str) -> Any:
    return TypeAdapter(MethodConfig).validate_python({"kind": kind})


def make(kind: str, lm: Any, batch_size: int = 8) -> Method:
    return METHODS.get(kind)(method_config(kind), lm, Runtime(batch_size=batch_size))


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
CHOICE_PROMPTS = [
    Prompt(f"s-{i}", "tiny/sentiment", f"review : {text}\nsentiment :", target, (target,),
           instruction="is the review positive or negative ?", choices=("negative", "positive"), label=int(target == "positive"))
    for i, (text, target) in enumerate(
        [("a good film", "positive"), ("a bad film", "negative"), ("i love this song", "positive"), ("boring and sad", "negative")]
    )
]
TRAIN = [qa_prompt(10 + i, p.query, "", p.target) for i, p in enumerate(GEN_PROMPTS)]


@pytest.fixture
def fresh_lm(tiny_llama_dir: Path) -> Any:
    """A private model per test: trainable methods may wrap or adapt it."""
    return load_model(ModelConfig(name=str(tiny_llama_dir), device="cpu"))


def weights(lm: Any) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in lm.model.named_parameters()}


# ----------------------------------------------------------------------------- the registry
def test_every_method_config_kind_is_registered_and_vice_versa() -> None:
    assert sorted(method_kind_names()) == KINDS
    assert {"zero-shot", "few-shot"} <= set(KINDS)


def test_the_cli_offers_every_registered_method() -> None:
    assert sorted(cli.METHOD_KINDS) == KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_method_class_declares_its_kind(kind: str) -> None:
    cls = METHODS.get(kind)
    assert issubclass(cls, Method)
    assert cls.kind == kind
    assert isinstance(cls.trainable, bool)


# ----------------------------------------------------------------------------- the contract
@pytest.mark.parametrize("kind", KINDS)
def test_fit_returns_self_and_keeps_base_weights(kind: str, fresh_lm: Any) -> None:
    before = weights(fresh_lm)
    method = make(kind, fresh_lm)
    assert method.fit(TRAIN) is method
    assert method.fit([]) is method  # what the runner calls for prompting methods
    after = {name: p for name, p in fresh_lm.model.named_parameters()}
    for name, tensor in before.items():
        assert name in after and torch.equal(after[name], tensor), f"fit changed base weight {name}"
    learned = [a for a in vars(method) if a.endswith("_") and not a.startswith("_")]
    assert bool(learned) is method.trainable, "learned state lives in attributes ending with '_'"


@pytest.mark.parametrize("kind", KINDS)
def test_greedy_predictions_are_deterministic(kind: str, tiny_llama: Any) -> None:
    method = make(kind, tiny_llama).fit(TRAIN)
    first = method.predict(GEN_PROMPTS, SETTINGS)
    assert method.predict(GEN_PROMPTS, SETTINGS) == first
    assert make(kind, tiny_llama).fit(TRAIN).predict(GEN_PROMPTS, SETTINGS) == first
    assert [p.example_id for p in first] == [p.example_id for p in GEN_PROMPTS]
    assert all(0 < p.output_tokens <= SETTINGS.max_new_tokens for p in first)


@pytest.mark.parametrize("kind", KINDS)
def test_batch_size_does_not_change_predictions(kind: str, tiny_llama: Any) -> None:
    one = make(kind, tiny_llama, batch_size=1).fit(TRAIN)
    eight = make(kind, tiny_llama, batch_size=8).fit(TRAIN)
    assert eight.predict(GEN_PROMPTS, SETTINGS) == one.predict(GEN_PROMPTS, SETTINGS)
    single = one.predict(CHOICE_PROMPTS, SETTINGS)
    batched = eight.predict(CHOICE_PROMPTS, SETTINGS)
    assert [p.predicted_label for p in batched] == [p.predicted_label for p in single]
    for s, b in zip(single, batched, strict=True):
        assert b.choice_logprobs == pytest.approx(s.choice_logprobs, rel=1e-4, abs=1e-4)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("normalization", ["none", "tokens", "chars"])
def test_classification_predictions(kind: str, normalization: str, tiny_llama: Any) -> None:
    preds = make(kind, tiny_llama).fit(TRAIN).predict(CHOICE_PROMPTS, SETTINGS, normalization)
    for prompt, pred in zip(CHOICE_PROMPTS, preds, strict=True):
        assert pred.predicted_label in (0, 1)
        assert pred.output == prompt.choices[pred.predicted_label]
        assert pred.label == prompt.label and len(pred.choice_logprobs) == 2


def test_predict_on_no_prompts(tiny_llama: Any) -> None:
    for kind in KINDS:
        assert make(kind, tiny_llama).fit([]).predict([], SETTINGS) == []


# ----------------------------------------------------------------------------- shots
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
