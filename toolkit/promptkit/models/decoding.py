"""Greedy decoding with a running batch: finished rows leave it, waiting prompts take their place.

``model.generate`` on a fixed batch decodes every row until its slowest row stops, and on a CPU a
decoding step costs about the same for 4 rows as for 16 (it is bound by reading the weights).
Here a row leaves the batch the step it stops, and once a quarter of the batch is free the next
prompts are prefilled together and join the running rows: their key/value caches are left-padded
to a common width and stacked, with the attention mask marking the padding. Every row keeps the
positions, mask and cache it would have alone, so its output does not depend on its batch mates
(tests hold the outputs equal to ``generate()`` row by row).

Stop sequences are looked for in the decoded tail of a row only (the last few tokens, enough to
hold the longest stop sequence), so a step costs the same at token 30 as at token 3.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


class StopScan:
    """Whether a row's new tokens end it: an end-of-sequence id, or a stop sequence in its text."""

    def __init__(self, tokenizer: Any, stop: Sequence[str], eos_ids: set[int]):
        self.tokenizer = tokenizer
        self.stop = [s for s in stop if s]
        self.eos = eos_ids
        self.special = set(getattr(tokenizer, "all_special_ids", []))
        # A stop sequence first appears in the text with the token that completes it, and each
        # visible token adds at least one byte: the last len(bytes) + 2 visible tokens hold it
        # (the extra two absorb a merged boundary or a leading space the decoder strips).
        self.window = max((len(s.encode("utf-8")) for s in self.stop), default=0) + 2

    def finished(self, tokens: Sequence[int]) -> bool:
        if tokens[-1] in self.eos:
            return True
        if not self.stop:
            return False
        tail: list[int] = []
        for t in reversed(tokens):
            if t not in self.special:
                tail.append(t)
                if len(tail) == self.window:
                    break
        text = self.tokenizer.decode(tail[::-1], skip_special_tokens=True)
        return any(s in text for s in self.stop)


@dataclass
class Prefilled:
    """Rows just read by the model: their next-token logits and the state to decode from.

    Attributes:
        logits: ``[rows, vocab]`` at each row's last position.
        cache: the model's key/value cache, ``[rows, heads, width, dim]`` per layer.
        mask: ``[rows, width]`` attention mask over the cache (left padding is 0).
        position: ``[rows]`` position id of each row's last token.
    """

    logits: Any
    cache: Any
    mask: Any
    position: Any


class Unsupported(Exception):
    """The model's cache cannot be re-batched (e.g. a sliding-window layer): use ``generate()``."""


@dataclass
class _Running:
    rows: list[int]  # which prompt each batch row is
    tokens: list[list[int]]  # new tokens so far
    last: Any  # [rows] the token to feed next
    cache: Any
    mask: Any
    position: Any

    def keep(self, keep: list[int]) -> None:
        import torch

        index = torch.tensor(keep, device=self.mask.device)
        self.rows = [self.rows[k] for k in keep]
        self.tokens = [self.tokens[k] for k in keep]
        self.last, self.mask, self.position = self.last[index], self.mask[index], self.position[index]
        self.cache.batch_select_indices(index)
        # drop leading columns that are padding in every remaining row
        lead = int(self.mask.argmax(dim=1).min())  # first attended column (a gap may follow it)
        if lead:
            self.mask = self.mask[:, lead:]
            for layer in layers_of(self.cache):
                layer.keys, layer.values = layer.keys[:, :, lead:], layer.values[:, :, lead:]

    def join(self, other: _Running) -> None:
        import torch

        width = max(self.mask.shape[1], other.mask.shape[1])

        def left_pad(x: Any, dim: int) -> Any:
            missing = width - x.shape[dim]
            if not missing:
                return x
            shape = list(x.shape)
            shape[dim] = missing
            return torch.cat([x.new_zeros(shape), x], dim=dim)

        for mine, theirs in zip(layers_of(self.cache), layers_of(other.cache), strict=True):
            mine.keys = torch.cat([left_pad(mine.keys, 2), left_pad(theirs.keys, 2)])
            mine.values = torch.cat([left_pad(mine.values, 2), left_pad(theirs.values, 2)])
        self.mask = torch.cat([left_pad(self.mask, 1), left_pad(other.mask, 1)])
        self.rows += other.rows
        self.tokens += other.tokens
        self.last = torch.cat([self.last, other.last])
        self.position = torch.cat([self.position, other.position])


def rolling_windows(tokens: Sequence[int], prefix: int, max_len: int) -> list[tuple[list[int], list[int]]]:
    """``(context, continuation)`` windows that predict every token of ``tokens`` exactly once, as
    lm-evaluation-harness 0.4.13 cuts a document for ``loglikelihood_rolling`` (its rolling windows
    with a context of one token, made disjoint): the first window reads ``prefix`` then up to
    ``max_len - 1`` tokens and predicts the first ``max_len``; each later window predicts the next
    ``max_len`` tokens (fewer at the end) after reading the ``max_len`` tokens before its last.
    Every window's input, context plus continuation less its last token, is ``max_len`` tokens at most."""
    if max_len < 1:
        raise ValueError("max_len must be at least 1")
    tokens = list(tokens)
    if not tokens:
        return []
    first = min(max_len, len(tokens))
    windows = [([prefix], tokens[:first])]
    done = first
    while done < len(tokens):
        size = min(len(tokens) - done, max_len)
        end = done + size
        read = tokens[max(end - max_len - 1, 0) : end - 1]  # the max_len tokens before the window's last
        windows.append((read[: len(read) - (size - 1)], tokens[end - size : end]))
        done = end
    return windows


def layers_of(cache: Any) -> list[Any]:
    from transformers.cache_utils import DynamicLayer

    layers = list(getattr(cache, "layers", None) or [])
    if not layers or any(type(layer) is not DynamicLayer for layer in layers):
        raise Unsupported(f"{type(cache).__name__} with {sorted({type(la).__name__ for la in layers})}")
    return layers


def decode_greedy(
    prefill: Callable[[list[int]], Prefilled],
    step: Callable[[Any, Any, Any, Any], Any],
    order: Sequence[int],
    *,
    batch_size: int,
    max_new_tokens: int,
    scan: StopScan,
    on_finished: Callable[[int, list[int], bool], None],
) -> None:
    """Greedy-decode prompts ``order`` (indices into the caller's list) with at most ``batch_size`` running.

    ``prefill(indices)`` reads those prompts; ``step(tokens, cache, mask, position)`` feeds one
    token per row and returns ``[rows, 1, vocab]`` logits. ``on_finished(index, tokens, stopped)``
    receives each prompt's new tokens (up to and including the one that stopped it) as soon as it
    ends; ``stopped``: by EOS or a stop sequence (False: the token budget ran out).
    """
    import torch

    waiting = deque(order)
    run: _Running | None = None
    refill_at = max(1, batch_size // 4)
    while waiting or run is not None:
        free = batch_size - (len(run.rows) if run is not None else 0)
        if waiting and (run is None or free >= min(refill_at, len(waiting))):
            take = [waiting.popleft() for _ in range(min(free, len(waiting)))]
            p = prefill(take)
            first = p.logits.argmax(-1)
            new = _Running(take, [[int(t)] for t in first.tolist()], first, p.cache, p.mask, p.position)
            layers_of(new.cache)  # refuse a cache that cannot be re-batched before any output is kept
            if run is None:
                run = new
            else:
                run.join(new)
        assert run is not None
        keep = []
        for r, tokens in enumerate(run.tokens):
            stopped = scan.finished(tokens)
            if stopped or len(tokens) >= max_new_tokens:
                on_finished(run.rows[r], tokens, stopped)
            else:
                keep.append(r)
        if not keep:
            run = None
            continue
        if len(keep) < len(run.rows):
            run.keep(keep)
        run.mask = torch.cat([run.mask, run.mask.new_ones((len(run.rows), 1))], dim=1)
        run.position = run.position + 1
        run.last = step(run.last[:, None], run.cache, run.mask, run.position[:, None])[:, -1].argmax(-1)
        for tokens, t in zip(run.tokens, run.last.tolist(), strict=True):
            tokens.append(int(t))


def score_shared_contexts(
    pairs: Sequence[tuple[list[int], list[int]]],
    *,
    prefill: Callable[[list[list[int]]], Prefilled],
    feed: Callable[[Any, Any, Any, Any], Any],
    batch_size: int,
    on_progress: Callable[[int], None],
) -> list[tuple[Any, list[int]]]:
    """Log-softmax rows for every ``(context ids, continuation ids)`` pair, each context read once.

    The distinct contexts are prefilled ``batch_size`` at a time (:func:`prefix_order`); their last
    position predicts every choice's first token, so a one-token choice costs nothing more. A
    longer choice feeds its tokens but the last after a copy of its context's cache, in batches of
    ``batch_size`` choices. Only positions that predict a continuation token are projected onto
    the vocabulary. Returns, per pair, ``[len(continuation), vocab]`` log-probabilities and the
    continuation (the caller reads the log-probability and greedy match from them).
    """
    import torch
    from transformers import DynamicCache

    groups: dict[tuple[int, ...], list[int]] = {}
    for i, (ctx, _) in enumerate(pairs):
        groups.setdefault(tuple(ctx), []).append(i)
    distinct = list(groups)
    contexts = [distinct[k] for k in prefix_order(distinct)]
    out: list[tuple[Any, list[int]] | None] = [None] * len(pairs)
    done = 0
    for start in range(0, len(contexts), batch_size):
        chunk = contexts[start : start + batch_size]
        p = prefill([list(c) for c in chunk])
        first = torch.log_softmax(p.logits.float(), dim=-1)
        rows = [(g, i) for g, c in enumerate(chunk) for i in groups[c]]
        for g, i in rows:
            out[i] = (first[g : g + 1], pairs[i][1])
        longer = [(g, i) for g, i in rows if len(pairs[i][1]) > 1]
        layers = layers_of(p.cache)
        for s in range(0, len(longer), batch_size):
            sub = longer[s : s + batch_size]
            index = torch.tensor([g for g, _ in sub], device=p.mask.device)
            cache = DynamicCache(ddp_cache_data=[(la.keys[index], la.values[index]) for la in layers])
            fed = [pairs[i][1][:-1] for _, i in sub]
            width = max(len(f) for f in fed)
            tokens = torch.zeros((len(sub), width), dtype=torch.long, device=p.mask.device)
            extra = torch.zeros_like(tokens)
            for r, f in enumerate(fed):
                tokens[r, : len(f)] = torch.tensor(f)
                extra[r, : len(f)] = 1  # padding after a choice is never read (causal attention)
            mask = torch.cat([p.mask[index], extra.to(p.mask.dtype)], dim=1)
            position = p.position[index, None] + 1 + torch.arange(width, device=p.mask.device)
            logprobs = torch.log_softmax(feed(tokens, cache, mask, position).float(), dim=-1)
            for r, (g, i) in enumerate(sub):
                out[i] = (torch.cat([first[g : g + 1], logprobs[r, : len(fed[r])]]), pairs[i][1])
        done += len(rows)
        on_progress(done)
    return [o for o in out if o is not None]


def shared_prefixes(seqs: Sequence[Sequence[int]], min_share: int = 16) -> list[tuple[int, list[int]]]:
    """Groups of ``seqs`` (indices) with the number of leading tokens every member shares.

    Sorted token lists put sequences with a common beginning (one paragraph, several questions;
    one instruction, many inputs) next to each other; a sequence joins the group before it when
    they share at least ``min_share`` tokens and what it saves outweighs what the members lose
    from a shorter common prefix. Every member keeps at least one token of its own (it needs
    logits at its last position).
    """

    def common(a: Sequence[int], b: Sequence[int]) -> int:
        n = 0
        for x, y in zip(a, b, strict=False):
            if x != y:
                break
            n += 1
        return n

    groups: list[tuple[int, list[int]]] = []
    for i in sorted(range(len(seqs)), key=lambda k: list(seqs[k])):
        if groups:
            n, members = groups[-1]
            shared = min(common(seqs[members[0]], seqs[i]), n, len(seqs[i]) - 1)
            if shared >= min_share and (n - shared) * len(members) <= shared:
                groups[-1] = (shared, [*members, i])
                continue
        groups.append((len(seqs[i]) - 1, [i]))
    return groups


def prefix_order(seqs: Sequence[Sequence[int]]) -> list[int]:
    """An order to read ``seqs`` in: sequences that begin alike next to each other (so one call
    reads their beginning once), longest first within such a group and among the rest (so rows
    read together have similar lengths and little padding)."""
    groups = shared_prefixes(seqs)
    shared = [sorted(members, key=lambda i: (-len(seqs[i]), i)) for _, members in groups if len(members) > 1]
    alone = sorted((m[0] for _, m in groups if len(m) == 1), key=lambda i: (-len(seqs[i]), i))
    return [i for members in shared for i in members] + alone
