"""Masked-LM cloze prompts (promptkit.models.masked) on a tiny BERT built from config.

Scores are checked against a forward pass built by hand from token ids; zero-shot, prompt
tuning and LoRA run through the same training loop; generation and cloze-on-causal are refused.
``promptkit eval`` on the tiny BERT is in tests/integration/test_masked_lm_cli.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from helpers import make_method
from promptkit.config import GenerationSettings, ModelConfig, PromptConfig, TrainingConfig
from promptkit.errors import ModelError, PromptkitError
from promptkit.harness import Runtime, predict
from promptkit.methods import METHODS, FitContext
from promptkit.models import HFMaskedLM, load_model
from promptkit.models.backend import IGNORE
from promptkit.prompting.template import PromptTemplate
from promptkit.records import MASK_SLOT, Example, Prompt

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
SETTINGS = GenerationSettings(max_new_tokens=4)
REVIEWS = [("a good film", 1), ("a bad film", 0), ("i love this song", 1), ("boring and sad", 0),
           ("a great book", 1), ("a terrible car", 0), ("happy summer", 1), ("i hate this food", 0)]
CLOZE = [
    Prompt(f"s-{i}", "tiny/cloze", f"review : {text} . it was {MASK_SLOT} .", ("negative", "positive")[y],
           (("negative", "positive")[y],), choices=("negative", "positive"), label=y)
    for i, (text, y) in enumerate(REVIEWS)
]


@pytest.fixture
def bert(tiny_bert_dir: Path) -> Callable[[], Any]:
    return lambda: load_model(ModelConfig(name=str(tiny_bert_dir), device="cpu"))


def by_hand(lm: Any, words: list[str], slot: int, verbalizer: list[str]) -> float:
    """log p(verbalizer | words with len(verbalizer) masks at ``slot``), from explicit token ids."""
    tok = lm.tokenizer
    ids = [tok.cls_token_id, *tok.convert_tokens_to_ids(words[:slot]), *[tok.mask_token_id] * len(verbalizer),
           *tok.convert_tokens_to_ids(words[slot:]), tok.sep_token_id]
    with torch.inference_mode():
        logprobs = torch.log_softmax(lm.model(input_ids=torch.tensor([ids])).logits[0].float(), dim=-1)
    first = 1 + slot
    return float(sum(logprobs[first + k, tok.convert_tokens_to_ids(w)] for k, w in enumerate(verbalizer)))


def test_a_masked_lm_checkpoint_gets_the_masked_backend(bert: Callable[[], Any]) -> None:
    lm = bert()
    assert isinstance(lm, HFMaskedLM) and lm.fills_masks and not lm.can_generate
    assert not lm.supports_cache_prefix


def test_cloze_scores_match_a_forward_pass_by_hand(bert: Callable[[], Any]) -> None:
    lm = bert()
    context = f"review : a good film . it was {MASK_SLOT} ."
    got = lm.loglikelihood([context, context, context], ["positive", "negative", " good film"], Runtime(batch_size=2))
    words = "review : a good film . it was .".split()
    assert got[0].logprob == pytest.approx(by_hand(lm, words, 8, ["positive"]), abs=1e-5)
    assert got[1].logprob == pytest.approx(by_hand(lm, words, 8, ["negative"]), abs=1e-5)
    # two tokens: two masks, both predicted at once, log-probabilities summed
    assert got[2].tokens == 2
    assert got[2].logprob == pytest.approx(by_hand(lm, words, 8, ["good", "film"]), abs=1e-5)


def test_a_prompt_without_a_slot_is_scored_after_its_delimiter(bert: Callable[[], Any]) -> None:
    lm = bert()
    (got,) = lm.loglikelihood(["review : a good film\nsentiment :"], [" positive"], Runtime())
    words = "review : a good film \n sentiment :".split(" ")
    assert got.logprob == pytest.approx(by_hand(lm, words, len(words), ["positive"]), abs=1e-5)


@pytest.mark.parametrize("batch_size", [1, 3, 8])
def test_classification_does_not_depend_on_batch_size(batch_size: int, bert: Callable[[], Any]) -> None:
    lm = bert()
    want = predict(lm, CLOZE, SETTINGS, Runtime(batch_size=1))
    got = predict(lm, CLOZE, SETTINGS, Runtime(batch_size=batch_size))
    # Labels exactly; scores up to the float noise of other matrix shapes (a bidirectional
    # encoder reads the whole padded row, masked).
    assert [p.predicted_label for p in got] == [p.predicted_label for p in want]
    for g, w in zip(got, want, strict=True):
        assert g.choice_logprobs == pytest.approx(w.choice_logprobs, abs=1e-4)
    assert all(p.predicted_label in (0, 1) and len(p.choice_logprobs) == 2 for p in want)


def test_cloze_demonstrations_carry_their_answer_in_the_slot() -> None:
    template = PromptTemplate(PromptConfig(name="c", kind="classification", input="{{ sentence }} it was {{ mask }} .",
                                           target="{{ label_text }}", target_delimiter=" "))
    shot = Example("a", {"sentence": "a good film", "label_text": "positive"}, ("positive",))
    query = Example("b", {"sentence": "a bad film", "label_text": "negative"}, ("negative",))
    prompt = template.render(query, [shot])
    assert template.cloze and prompt.cloze
    assert prompt.text == f"a good film it was positive .\n\na bad film it was {MASK_SLOT} ."


def test_training_examples_put_the_target_at_the_mask(bert: Callable[[], Any]) -> None:
    lm = bert()
    (ex,) = lm.training_examples(CLOZE[:1], chat=False, max_length=64)
    tok = lm.tokenizer
    positions = [i for i, t in enumerate(ex.input_ids) if t == tok.mask_token_id]
    assert len(positions) == 1
    assert [t for t in ex.labels if t != IGNORE] == [tok.convert_tokens_to_ids("positive")]
    assert ex.labels[positions[0]] == tok.convert_tokens_to_ids("positive")


@pytest.mark.parametrize("kind", ["prompt-tuning", "p-tuning", "lora", "ia3", "full"])
def test_learning_methods_train_a_masked_lm_through_the_shared_loop(kind: str, bert: Callable[[], Any]) -> None:
    lm = bert()
    base = {n: p.detach().clone() for n, p in lm.model.named_parameters()}
    before = predict(lm, CLOZE, SETTINGS, Runtime(batch_size=8))
    training = TrainingConfig(steps=8, batch_size=4, warmup_ratio=0, max_length=64)
    method = make_method(kind, lm, training, lr=0.05 if kind != "full" else 1e-3).fit(CLOZE)
    assert len(method.training_.losses) == 8
    after = method.predict(CLOZE, SETTINGS)
    # Trained on these very prompts: the gold verbalizer gains on the other one.
    assert margin(after) > margin(before) + 0.5, (margin(before), margin(after))
    method.release()
    assert all(torch.equal(p, base[n]) for n, p in lm.model.named_parameters())
    assert predict(lm, CLOZE, SETTINGS, Runtime(batch_size=8)) == before


def margin(preds: list[Any]) -> float:
    """Mean log-probability lead of the gold choice over the other one."""
    return sum(p.choice_logprobs[p.label] - p.choice_logprobs[1 - p.label] for p in preds) / len(preds)


def test_prefix_tuning_and_generation_are_refused_on_a_masked_lm(bert: Callable[[], Any]) -> None:
    lm = bert()
    cls = METHODS.get("prefix-tuning")
    method = cls(cls.config_class.model_validate({"kind": "prefix-tuning"}), lm, Runtime(), FitContext())
    with pytest.raises(PromptkitError, match=r"^prefix-tuning needs a decoder-only model .*BertForMaskedLM"):
        method.fit(CLOZE)
    with pytest.raises(ModelError, match="is a masked language model .* cannot generate text"):
        lm.generate(["review : a good film"], max_new_tokens=2, stop=[], runtime=Runtime())


def test_a_cloze_prompt_is_refused_where_a_causal_model_would_read_it(tiny_llama_dir: Path) -> None:
    """Also outside the runner (a notebook calling predict or fit): the slot marker must never
    reach a model that does not fill masks."""
    lm = load_model(ModelConfig(name=str(tiny_llama_dir), device="cpu"))
    with pytest.raises(ModelError, match=r"^prompt 'tiny/cloze' is a cloze prompt .* does not fill masks"):
        predict(lm, CLOZE, SETTINGS, Runtime())
    cls = METHODS.get("lora")
    method = cls(cls.config_class.model_validate({"kind": "lora", "rank": 2}), lm, Runtime(), FitContext())
    with pytest.raises(ModelError, match="is a cloze prompt"):
        method.fit(CLOZE)
    assert not hasattr(method, "adaptation_")  # refused before the model was touched
