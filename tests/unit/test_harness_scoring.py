"""Log-likelihood scoring (the Hugging Face backends) and choice classification via predict()."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from promptkit.config import GenerationSettings
from promptkit.harness import Runtime, predict
from promptkit.harness.predict import choice_continuation
from promptkit.models.backend import LogLikelihood
from promptkit.models.hf import encode, split_tokens
from promptkit.prompting.chat import format_prompt
from promptkit.records import Prompt, Turn

CONTEXTS = [
    "review : a good and happy film\nsentiment :",
    "a",
    "context : the red car belongs to anna .\nquestion : who owns the red car ?\nanswer :",
    " ".join(["the small dog sleeps under the old table ."] * 6),
    "translate from english to french .\nenglish : the cat is black\nfrench :",
]
CONTINUATIONS = [" positive", " negative", " anna", " the cat sleeps in the sun", " le chat est noir"]
PAIRS = [(c, x) for c in CONTEXTS for x in CONTINUATIONS]

TOL = dict(rel=1e-4, abs=1e-4)


def manual_causal(lm: Any, context: str, continuation: str, chat: bool = False) -> LogLikelihood:
    """One sequence, no batching: the sum of log-softmax at the continuation's positions."""
    tok = lm.tokenizer
    ctx = tok(context, add_special_tokens=not chat)["input_ids"]
    full = tok(context + continuation, add_special_tokens=not chat)["input_ids"]
    assert full[: len(ctx)] == ctx
    cont = full[len(ctx):]
    with torch.inference_mode():
        logits = lm.model(input_ids=torch.tensor([full])).logits[0]
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    rows = logprobs[len(ctx) - 1 : len(full) - 1]
    target = torch.tensor(cont)
    total = float(rows[torch.arange(len(cont)), target].sum())
    return LogLikelihood(total, len(cont), bool((rows.argmax(-1) == target).all()))


def manual_seq2seq(lm: Any, context: str, continuation: str) -> LogLikelihood:
    """The encoder reads the context; the decoder is scored on the continuation (no EOS)."""
    tok = lm.tokenizer
    enc = tok(context)["input_ids"]
    dec = tok(continuation.lstrip(), add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        logits = lm.model(input_ids=torch.tensor([enc]), labels=torch.tensor([dec])).logits[0]
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    target = torch.tensor(dec)
    total = float(logprobs[torch.arange(len(dec)), target].sum())
    return LogLikelihood(total, len(dec), bool((logprobs.argmax(-1) == target).all()))


def manual(lm: Any, context: str, continuation: str) -> LogLikelihood:
    if lm.is_encoder_decoder:
        return manual_seq2seq(lm, context, continuation)
    return manual_causal(lm, context, continuation)


def assert_same(got: list[LogLikelihood], want: list[LogLikelihood]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.logprob == pytest.approx(w.logprob, **TOL)
        assert (g.tokens, g.greedy) == (w.tokens, w.greedy)


# ----------------------------------------------------------------------------- loglikelihoods
def test_loglikelihoods_match_a_manual_computation(tiny_lm: Any) -> None:
    contexts, conts = zip(*PAIRS, strict=True)
    got = tiny_lm.loglikelihood(contexts, conts, Runtime(batch_size=8))
    assert_same(got, [manual(tiny_lm, c, x) for c, x in PAIRS])
    assert all(s.logprob < 0 for s in got)
    assert got[CONTINUATIONS.index(" the cat sleeps in the sun")].tokens == 6


@pytest.mark.parametrize("batch_size", [1, 3, 8, 64])
def test_loglikelihoods_do_not_depend_on_batch_size(tiny_lm: Any, batch_size: int) -> None:
    contexts, conts = zip(*PAIRS, strict=True)
    reference = tiny_lm.loglikelihood(contexts, conts, Runtime(batch_size=1))
    assert_same(tiny_lm.loglikelihood(contexts, conts, Runtime(batch_size=batch_size)), reference)


def test_a_shared_context_is_read_once_and_only_choice_positions_reach_the_vocabulary(tiny_llama: Any) -> None:
    """Counted at the embedding and the LM head: every distinct context's tokens once, each
    choice's tokens but its last once; the head sees one row per context and per fed choice token.
    The per-pair path (kept as the reference) reads the context again for every choice."""
    contexts, conts = zip(*PAIRS, strict=True)
    pairs = [split_tokens(tiny_llama.tokenizer, c, x, False) for c, x in PAIRS]
    seen = {"embedded": 0, "projected": 0}
    model = tiny_llama.model
    hooks = [
        model.get_input_embeddings().register_forward_hook(lambda m, i, o: seen.__setitem__("embedded", seen["embedded"] + o.shape[0] * o.shape[1])),
        model.get_output_embeddings().register_forward_hook(lambda m, i, o: seen.__setitem__("projected", seen["projected"] + o.shape[:-1].numel())),
    ]
    try:
        shared = tiny_llama.loglikelihood(contexts, conts, Runtime(batch_size=1))
        reads = dict(seen)
        seen.update(embedded=0, projected=0)
        per_pair = tiny_llama.loglikelihood_per_pair(contexts, conts, Runtime(batch_size=1))
    finally:
        for h in hooks:
            h.remove()
    distinct = {tuple(c) for c, _ in pairs}
    fed = sum(len(x) - 1 for _, x in pairs)
    assert reads == {"embedded": sum(map(len, distinct)) + fed, "projected": len(distinct) + fed}
    assert seen["embedded"] == sum(len(c) + len(x) - 1 for c, x in pairs)
    assert_same(shared, per_pair)


def test_contexts_that_begin_alike_read_their_common_beginning_once(tiny_llama: Any) -> None:
    """Questions on one paragraph: the paragraph is embedded once, then each question after a
    copy of its cache; the log-probabilities are those of reading every pair whole."""
    paragraph = " ".join(["the small dog sleeps under the old table and the cat sleeps in the sun ."] * 3)
    contexts = [f"{paragraph}\nquestion : {q} ?\nanswer :" for q in ("where does the dog sleep", "where does the cat sleep", "who sleeps")]
    conts = [" under the old table", " in the sun", " the cat"]
    ctx_ids = [split_tokens(tiny_llama.tokenizer, c, x, False)[0] for c, x in zip(contexts, conts, strict=True)]
    common = 0
    while all(len(c) > common + 1 and c[common] == ctx_ids[0][common] for c in ctx_ids):
        common += 1
    assert common > 40
    embedded = []
    hook = tiny_llama.model.get_input_embeddings().register_forward_hook(lambda m, i, o: embedded.append(o.shape[0] * o.shape[1]))
    try:
        got = tiny_llama.loglikelihood(contexts, conts, Runtime(batch_size=8))
    finally:
        hook.remove()
    fed = [len(split_tokens(tiny_llama.tokenizer, c, x, False)[1]) - 1 for c, x in zip(contexts, conts, strict=True)]
    tails = [len(c) - common for c in ctx_ids]
    # the paragraph once, then the questions (left-padded to the longest), then the choices (padded to the longest)
    assert embedded == [common, len(tails) * max(tails), len(fed) * max(fed)]
    assert_same(got, [manual(tiny_llama, c, x) for c, x in zip(contexts, conts, strict=True)])


def test_shared_prefixes_group_sequences_that_begin_alike() -> None:
    """Brute force over random sequences over a small alphabet: every sequence in exactly one group,
    members share the group's prefix, keep a token of their own, and groups of several share at
    least the minimum."""
    import random

    from promptkit.models.decoding import shared_prefixes

    rng = random.Random(1)
    heads = [[rng.randrange(5) for _ in range(rng.randint(0, 40))] for _ in range(4)]
    for _ in range(200):
        seqs = [rng.choice(heads) + [rng.randrange(5) for _ in range(rng.randint(1, 6))] for _ in range(rng.randint(1, 9))]
        groups = shared_prefixes(seqs, min_share=8)
        assert sorted(i for _, m in groups for i in m) == list(range(len(seqs)))
        for n, members in groups:
            assert all(seqs[i][:n] == seqs[members[0]][:n] and len(seqs[i]) > n for i in members)
            assert len(members) == 1 or n >= 8
    assert shared_prefixes([[1] * 20 + [2], [1] * 20 + [3]], min_share=8) == [(20, [0, 1])]
    assert shared_prefixes([[1, 2, 3], [1, 2, 4]], min_share=8) == [(2, [0]), (2, [1])]


def test_loglikelihoods_with_chat_formatted_contexts(tiny_llama: Any) -> None:
    tok = tiny_llama.tokenizer
    context = tok.apply_chat_template([{"role": "user", "content": "who owns the red car ?"}],
                                      add_generation_prompt=True, tokenize=False)
    got = tiny_llama.loglikelihood([context, context], ["anna", "tom"], Runtime(batch_size=2, chat=True))
    assert_same(got, [manual_causal(tiny_llama, context, x, chat=True) for x in ("anna", "tom")])


def test_greedy_flag_is_true_for_the_greedy_continuation(tiny_lm: Any) -> None:
    tok = tiny_lm.tokenizer
    checked = 0
    for context in CONTEXTS:
        (gen,) = tiny_lm.generate([context], max_new_tokens=3, stop=[], runtime=Runtime())
        continuation = " " + gen.raw
        ids = tok(continuation.lstrip(), add_special_tokens=False)["input_ids"]
        if tok.unk_token_id in ids or len(ids) != 3:
            continue  # an unknown or special token was generated: the text does not round-trip
        greedy, other = tiny_lm.loglikelihood([context, context], [continuation, " zzz qqq"], Runtime())
        assert greedy.greedy and greedy.tokens == 3
        assert not other.greedy
        assert greedy.logprob > other.logprob
        checked += 1
    assert checked >= 2


def test_long_contexts_are_cut_from_the_left(tiny_llama: Any) -> None:
    """Sequences beyond max_position_embeddings keep their most recent tokens."""
    tok = tiny_llama.tokenizer
    max_len = tiny_llama.model.config.max_position_embeddings
    context = " ".join(["the dog sleeps ."] * 200)  # 800 words
    continuation = " the cat"
    (got,) = tiny_llama.loglikelihood([context], [continuation], Runtime())
    full = tok(context + continuation)["input_ids"][-(max_len + 1):]
    with torch.inference_mode():
        logits = tiny_llama.model(input_ids=torch.tensor([full[:-1]])).logits[0]
    logprobs = torch.log_softmax(logits, -1)
    want = float(logprobs[-2, full[-2]] + logprobs[-1, full[-1]])
    assert got.tokens == 2
    assert got.logprob == pytest.approx(want, **TOL)


def test_split_tokens(tiny_llama: Any) -> None:
    tok = tiny_llama.tokenizer
    ctx, cont = split_tokens(tok, "who owns the car ?", " anna", chat=False)
    assert ctx[0] == tok.bos_token_id and len(ctx) == 6
    assert cont == [tok.convert_tokens_to_ids("anna")]
    chat_ctx, _ = split_tokens(tok, "<s><|user|>\nhi", " anna", chat=True)
    assert chat_ctx.count(tok.bos_token_id) == 1


def test_split_tokens_falls_back_when_the_boundary_merges(tiny_llama: Any) -> None:
    """'tab' + 'le' tokenises as 'table' together: the context's own tokens are kept and the
    continuation is tokenised on its own."""
    tok = tiny_llama.tokenizer
    ctx, cont = split_tokens(tok, "the tab", "le", chat=False)
    assert ctx == tok("the tab")["input_ids"]
    assert cont == tok("le", add_special_tokens=False)["input_ids"]


# ----------------------------------------------------------------------------- classification
def choice_prompt(i: int, query: str, shots: tuple[Turn, ...] = ()) -> Prompt:
    return Prompt(
        example_id=f"s{i}",
        template="t",
        instruction="is the sentiment positive or negative ?",
        shots=shots,
        query=f"review : {query}\nsentiment :",
        target="positive",
        references=("positive",),
        choices=("negative", "positive"),
        label=1,
    )


REVIEWS = ["a good film", "a bad and sad film", "i love this song", "the food was terrible", "boring", "the book is great and the film is good"]
CHOICE_PROMPTS = [choice_prompt(i, r) for i, r in enumerate(REVIEWS)]
SETTINGS = GenerationSettings()


@pytest.mark.parametrize("chat", [False, True], ids=["plain", "chat"])
def test_classification_picks_the_most_likely_choice(tiny_llama: Any, chat: bool) -> None:
    runtime = Runtime(batch_size=4, chat=chat)
    preds = predict(tiny_llama, CHOICE_PROMPTS, SETTINGS, runtime)
    for prompt, pred in zip(CHOICE_PROMPTS, preds, strict=True):
        text = format_prompt(prompt, tiny_llama.tokenizer, chat)
        conts = [choice_continuation(prompt, c, chat) for c in prompt.choices]
        assert conts == ([" negative", " positive"] if not chat else ["negative", "positive"])
        want = tiny_llama.loglikelihood([text, text], conts, Runtime(chat=chat))
        assert pred.choice_logprobs == pytest.approx([w.logprob for w in want], **TOL)
        best = max(range(2), key=lambda i: pred.choice_logprobs[i])
        assert pred.predicted_label == best
        assert pred.output == pred.raw_output == prompt.choices[best]
        assert (pred.label, pred.choices, pred.references, pred.prompt) == (1, prompt.choices, ("positive",), text)
        assert pred.output_tokens == 0
        # The same count generation uses (no second BOS in front of a chat-formatted prompt).
        assert pred.prompt_tokens == len(encode(tiny_llama.tokenizer, text, chat))


def test_classification_does_not_depend_on_batch_size(tiny_lm: Any) -> None:
    shots = (Turn("review : a great film\nsentiment :", "positive"),)
    prompts = [*CHOICE_PROMPTS, *(choice_prompt(10 + i, r, shots) for i, r in enumerate(REVIEWS))]
    single = predict(tiny_lm, prompts, SETTINGS, Runtime(batch_size=1))
    batched = predict(tiny_lm, prompts, SETTINGS, Runtime(batch_size=8))
    assert [p.predicted_label for p in batched] == [p.predicted_label for p in single]
    for s, b in zip(single, batched, strict=True):
        assert b.choice_logprobs == pytest.approx(s.choice_logprobs, **TOL)


def test_classification_on_t5_scores_the_bare_verbalizer(tiny_t5: Any) -> None:
    (pred,) = predict(tiny_t5, CHOICE_PROMPTS[:1], SETTINGS, Runtime())
    text = CHOICE_PROMPTS[0].text
    want = [manual_seq2seq(tiny_t5, text, " " + c).logprob for c in ("negative", "positive")]
    assert pred.choice_logprobs == pytest.approx(want, **TOL)


@pytest.mark.parametrize(
    ("normalization", "expected"),
    [("none", 0), ("tokens", 1), ("chars", 1)],
)
def test_normalization_divides_by_length(normalization: str, expected: int) -> None:
    """Choice 0: 1 token, 3 chars, -2.0. Choice 1: 4 tokens, 15 chars, -4.0: the better choice
    summed, the worse one per token (-1.0 vs -2.0) and per character (-0.27 vs -0.67)."""
    scores = [LogLikelihood(-2.0, 1, False), LogLikelihood(-4.0, 4, False)]
    lm = _FakeLM(scores)
    prompt = Prompt("x", "t", "q", "bad", ("bad",), choices=("bad", "not bad at all!"), label=0)
    (pred,) = predict(lm, [prompt], SETTINGS, Runtime(), normalization=normalization)
    assert pred.predicted_label == expected
    assert pred.choice_logprobs == (-2.0, -4.0)  # the raw sums are reported either way


def test_ties_go_to_the_first_choice() -> None:
    scores = [LogLikelihood(-1.0, 1, False)] * 3
    prompt = Prompt("x", "t", "q", "b", ("b",), choices=("a", "b", "c"), label=1)
    (pred,) = predict(_FakeLM(scores), [prompt], SETTINGS, Runtime())
    assert pred.predicted_label == 0


class _FakeTokenizer:
    chat_template = None

    def __call__(self, text: str, add_special_tokens: bool = True) -> dict[str, list[int]]:
        return {"input_ids": [0] * len(text.split())}


class _FakeLM:
    """A backend whose log-likelihoods are given: predict() asks it for nothing else."""

    tokenizer = _FakeTokenizer()

    def __init__(self, scores: list[LogLikelihood]):
        self.scores = scores

    def loglikelihood(self, contexts: Any, continuations: Any, runtime: Any) -> list[LogLikelihood]:
        return list(self.scores)

    def encode(self, text: str, *, chat: bool) -> list[int]:
        return list(self.tokenizer(text)["input_ids"])
