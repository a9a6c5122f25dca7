"""Batched greedy generation with stop sequences."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from promptkit.harness.batching import Runtime, length_sorted_batches


@dataclass(frozen=True)
class Generation:
    text: str  # cut at the first stop sequence, stripped
    raw: str  # everything generated (special tokens removed)
    prompt_tokens: int
    output_tokens: int


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """``text`` up to the earliest occurrence of any stop sequence."""
    end = len(text)
    for s in stop:
        if s:
            pos = text.find(s)
            if pos != -1:
                end = min(end, pos)
    return text[:end]


class _StopOnStrings:
    """Stops generation once every row's new text contains a stop sequence (or EOS).

    transformers' built-in stop-string criterion needs token-level setup per tokenizer; decoding
    the few new tokens per step is cheap for the short outputs evaluation uses.
    """

    def __init__(self, tokenizer: Any, start: int, stop: Sequence[str]):
        self.tokenizer = tokenizer
        self.start = start
        self.stop = [s for s in stop if s]
        # Row -> new tokens it had when it first finished. What follows is filler (padding, or
        # EOS when pad == EOS), so this is the row's output length whatever its batch mates do.
        self.finished_at: dict[int, int] = {}

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        done = []
        for r, row in enumerate(input_ids[:, self.start :]):
            text = self.tokenizer.decode(row, skip_special_tokens=True)
            # A row that emitted EOS only produces padding afterwards: treat it as done.
            finished = any(s in text for s in self.stop) or (
                self.tokenizer.eos_token_id is not None and bool((row == self.tokenizer.eos_token_id).any())
            )
            if finished and r not in self.finished_at:
                self.finished_at[r] = len(row)
            done.append(finished)
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def encode(tokenizer: Any, text: str, chat: bool) -> list[int]:
    # A chat-formatted string already carries its special tokens; adding BOS again would
    # duplicate it. Plain text gets whatever the tokenizer adds by default.
    return list(tokenizer(text, add_special_tokens=not chat)["input_ids"])


def generate(
    lm: Any,
    texts: Sequence[str],
    *,
    max_new_tokens: int,
    stop: Sequence[str],
    runtime: Runtime,
) -> list[Generation]:
    """Greedy-decode a continuation for every text.

    Decoder-only models get left padding (the new tokens of every row start at the same
    column) with an attention mask, so a row's output does not depend on its batch mates.
    """
    import torch
    from transformers import StoppingCriteriaList

    tok = lm.tokenizer
    encoded = [encode(tok, t, runtime.chat) for t in texts]
    results: list[Generation | None] = [None] * len(texts)
    pad_id = tok.pad_token_id
    done = 0
    for batch in length_sorted_batches([len(e) for e in encoded], runtime.batch_size):
        width = max(len(encoded[i]) for i in batch)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for r, i in enumerate(batch):
            seq = torch.tensor(encoded[i], dtype=torch.long)
            if lm.is_encoder_decoder:
                ids[r, : len(seq)], mask[r, : len(seq)] = seq, 1
            else:
                ids[r, width - len(seq) :], mask[r, width - len(seq) :] = seq, 1
        ids, mask = ids.to(lm.device), mask.to(lm.device)
        model, inputs, start = generation_inputs(lm, ids, mask)
        # Encoder-decoder outputs begin with the decoder start token.
        stopper = _StopOnStrings(tok, 1 if lm.is_encoder_decoder else start, stop)
        criteria = StoppingCriteriaList([stopper])
        with torch.inference_mode():
            out = model.generate(
                **inputs,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                num_beams=1,
                temperature=None,
                top_p=None,
                top_k=None,
                pad_token_id=pad_id,
                stopping_criteria=criteria,
            )
        new = out[:, start:].tolist()
        for r, i in enumerate(batch):
            tokens = new[r]
            n_out = stopper.finished_at.get(r, _count_generated(tokens, tok, lm.is_encoder_decoder))
            # Encoder-decoder rows begin with the decoder start token.
            keep = n_out + 1 if lm.is_encoder_decoder else n_out
            raw = tok.decode(tokens[:keep], skip_special_tokens=True)
            results[i] = Generation(cut_at_stop(raw, stop).strip(), raw, len(encoded[i]), n_out)
        done += len(batch)
        runtime.report("generate", done, len(texts))
    return [r for r in results if r is not None]


def soft_prompt_kind(model: Any) -> str | None:
    """``PROMPT_TUNING``/``P_TUNING``/``PREFIX_TUNING`` for a PEFT prompt-learning model, else None."""
    config = getattr(model, "active_peft_config", None)
    if config is None or not getattr(config, "is_prompt_learning", False):
        return None
    return str(getattr(config.peft_type, "value", config.peft_type))


def generation_inputs(lm: Any, ids: Any, mask: Any) -> tuple[Any, dict[str, Any], int]:
    """``(model to call, generate() inputs, column where new tokens start)``.

    Soft prompts are placed by us rather than by PEFT's generate: each left-padded row becomes
    ``[pad..][virtual tokens][prompt]`` so no padding sits between the soft prompt and the
    content, positions follow the attention mask, and a row's output cannot depend on its batch
    mates. Prefix tuning gets its key/value prefix as the initial cache, with the mask extended.
    """
    import torch

    kind = soft_prompt_kind(lm.model)
    if kind is None or lm.is_encoder_decoder:
        return lm.model, {"input_ids": ids, "attention_mask": mask}, (0 if lm.is_encoder_decoder else ids.shape[1])
    peft_model = lm.model
    base = peft_model.get_base_model()
    n_virtual = peft_model.active_peft_config.num_virtual_tokens
    batch, width = ids.shape
    ones = torch.ones((batch, n_virtual), dtype=mask.dtype, device=mask.device)
    if kind == "PREFIX_TUNING":
        cache = peft_model.get_prompt(batch_size=batch)
        return base, {"input_ids": ids, "attention_mask": torch.cat([ones, mask], dim=1), cache_argument(base): cache}, width
    embeds = peft_model.word_embeddings(ids)
    virtual = peft_model.get_prompt(batch_size=batch).to(embeds.dtype)
    rows, masks = [], []
    for r in range(batch):
        n_pad = int((mask[r] == 0).sum())
        rows.append(torch.cat([embeds[r, :n_pad], virtual[r], embeds[r, n_pad:]], dim=0))
        masks.append(torch.cat([mask[r, :n_pad], ones[r], mask[r, n_pad:]], dim=0))
    # Generating from embeddings alone, transformers returns only the new tokens.
    return base, {"inputs_embeds": torch.stack(rows), "attention_mask": torch.stack(masks)}, 0


def cache_argument(model: Any) -> str:
    """Name of the key/value cache argument: ``cache`` in recent transformers, else ``past_key_values``."""
    import inspect

    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def _count_generated(tokens: Sequence[int], tok: Any, seq2seq: bool) -> int:
    """Tokens the model produced for this row, up to and including its EOS."""
    if seq2seq:
        tokens = tokens[1:]
    eos = tok.eos_token_id
    for n, t in enumerate(tokens):
        if t == eos:
            return n + 1
    pad = tok.pad_token_id
    n = len(tokens)
    while n > 0 and tokens[n - 1] == pad and pad != eos:
        n -= 1
    return n
