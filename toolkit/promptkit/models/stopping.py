"""Stop sequences for greedy generation: where a row ends and how many tokens it produced."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """``text`` up to the earliest occurrence of any stop sequence."""
    end = len(text)
    for s in stop:
        if s:
            pos = text.find(s)
            if pos != -1:
                end = min(end, pos)
    return text[:end]


class StopOnStrings:
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


def count_generated(tokens: Sequence[int], tok: Any) -> int:
    """Tokens the model produced for this row (its new tokens only), up to and including its EOS."""
    eos = tok.eos_token_id
    for n, t in enumerate(tokens):
        if t == eos:
            return n + 1
    pad = tok.pad_token_id
    n = len(tokens)
    while n > 0 and tokens[n - 1] == pad and pad != eos:
        n -= 1
    return n
