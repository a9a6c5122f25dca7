"""Batched log-likelihood of continuations given contexts (classification, ranking)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from promptkit.harness.batching import Runtime, length_sorted_batches
from promptkit.harness.generation import encode


@dataclass(frozen=True)
class LogLikelihood:
    logprob: float  # summed over the continuation's tokens
    tokens: int
    greedy: bool  # every continuation token is the argmax (lm-eval's "is_greedy")


def split_tokens(tokenizer: Any, context: str, continuation: str, chat: bool, ctx: list[int] | None = None) -> tuple[list[int], list[int]]:
    """Token ids of context and continuation, tokenised together.

    Tokenising ``context + continuation`` as one string and cutting at the context's length
    keeps the merges a model saw in training (the same convention as lm-evaluation-harness).
    ``ctx``: the context's ids when the caller already has them (one context, many choices).
    """
    whole = encode(tokenizer, context + continuation, chat)
    if ctx is None:
        ctx = encode(tokenizer, context, chat)
    n = len(ctx)
    if whole[:n] != ctx:  # the boundary merged: fall back to separate tokenisation
        return ctx, list(tokenizer(continuation, add_special_tokens=False)["input_ids"])
    cont = whole[n:]
    if not cont:
        cont = list(tokenizer(continuation, add_special_tokens=False)["input_ids"])
    return ctx, cont


def loglikelihoods(lm: Any, contexts: Sequence[str], continuations: Sequence[str], runtime: Runtime) -> list[LogLikelihood]:
    """Log-probability of each continuation after its context."""
    tok = lm.tokenizer
    if lm.is_encoder_decoder:
        # The encoder reads the context; the decoder is scored on the continuation alone.
        pairs = [
            (list(tok(c)["input_ids"]), list(tok(x.lstrip(), add_special_tokens=False)["input_ids"]))
            for c, x in zip(contexts, continuations, strict=True)
        ]
    else:
        # Classification scores every choice after the same context: encode each context once.
        ctx_ids: dict[str, list[int]] = {}
        for c in contexts:
            if c not in ctx_ids:
                ctx_ids[c] = encode(tok, c, runtime.chat)
        pairs = [split_tokens(tok, c, x, runtime.chat, ctx_ids[c]) for c, x in zip(contexts, continuations, strict=True)]
    max_len = getattr(lm.model.config, "max_position_embeddings", None) or 1 << 30
    out: list[LogLikelihood | None] = [None] * len(pairs)
    pad = tok.pad_token_id
    done = 0
    lengths = [len(c) + len(x) for c, x in pairs]
    for batch in length_sorted_batches(lengths, runtime.batch_size):
        if lm.is_encoder_decoder:
            scored = _seq2seq_batch(lm, [pairs[i] for i in batch], pad)
        else:
            scored = _causal_batch(lm, [pairs[i] for i in batch], pad, max_len)
        for i, s in zip(batch, scored, strict=True):
            out[i] = s
        done += len(batch)
        runtime.report("score", done, len(pairs))
    return [o for o in out if o is not None]


def _causal_batch(lm: Any, pairs: Sequence[tuple[list[int], list[int]]], pad: int, max_len: int) -> list[LogLikelihood]:
    import torch

    # Input is context + continuation minus the last token; right padding is safe here because
    # every position only attends to earlier ones and padded positions are never read.
    seqs = []
    for ctx, cont in pairs:
        full = (ctx + cont)[-(max_len + 1) :]
        seqs.append(full[:-1])
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for r, s in enumerate(seqs):
        ids[r, : len(s)] = torch.tensor(s)
        mask[r, : len(s)] = 1
    with torch.inference_mode():
        logits = lm.model(input_ids=ids.to(lm.device), attention_mask=mask.to(lm.device)).logits
        # Soft-prompt models (PEFT prompt tuning, P-tuning) return logits for their virtual
        # tokens too, in front of the input's: keep the input's positions.
        logits = logits[:, -width:]
        logprobs = torch.log_softmax(logits.float(), dim=-1).cpu()
    results = []
    for r, ((_ctx, cont), s) in enumerate(zip(pairs, seqs, strict=True)):
        n = len(cont)
        positions = range(len(s) - n, len(s))
        rows = logprobs[r, list(positions)]
        target = torch.tensor(cont)
        lp = rows.gather(1, target[:, None]).squeeze(1)
        greedy = bool((rows.argmax(-1) == target).all())
        results.append(LogLikelihood(float(lp.sum()), n, greedy))
    return results


def _seq2seq_batch(lm: Any, pairs: Sequence[tuple[list[int], list[int]]], pad: int) -> list[LogLikelihood]:
    import torch

    enc_w = max(len(c) for c, _ in pairs)
    dec_w = max(len(x) for _, x in pairs)
    ids = torch.full((len(pairs), enc_w), pad, dtype=torch.long)
    mask = torch.zeros_like(ids)
    labels = torch.full((len(pairs), dec_w), -100, dtype=torch.long)
    for r, (ctx, cont) in enumerate(pairs):
        ids[r, : len(ctx)] = torch.tensor(ctx)
        mask[r, : len(ctx)] = 1
        labels[r, : len(cont)] = torch.tensor(cont)
    with torch.inference_mode():
        logits = lm.model(
            input_ids=ids.to(lm.device), attention_mask=mask.to(lm.device), labels=labels.to(lm.device)
        ).logits
        logprobs = torch.log_softmax(logits.float(), dim=-1).cpu()
    results = []
    for r, (_ctx, cont) in enumerate(pairs):
        n = len(cont)
        rows = logprobs[r, :n]
        target = torch.tensor(cont)
        lp = rows.gather(1, target[:, None]).squeeze(1)
        results.append(LogLikelihood(float(lp.sum()), n, bool((rows.argmax(-1) == target).all())))
    return results
