"""Decoder-only models behind the backend contract: left padding for generation, a soft prompt
placed after the padding, the shared-context scoring and running-batch decoding of
``promptkit.models.decoding``."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from promptkit.errors import ModelError
from promptkit.models.backend import IGNORE, Generation, LogLikelihood, TrainingExample
from promptkit.models.batching import Runtime
from promptkit.models.decoding import (
    Prefilled,
    StopScan,
    Unsupported,
    decode_greedy,
    layers_of,
    prefix_order,
    rolling_windows,
    score_shared_contexts,
    shared_prefixes,
)
from promptkit.models.hf import (
    HFLanguageModel,
    _eos_ids,
    _greedy_changers,
    cache_argument,
    continuation_logprob,
    split_tokens,
)
from promptkit.prompting.chat import format_prompt, format_target
from promptkit.records import Prompt


class HFCausalLM(HFLanguageModel):
    """Decoder-only models (Llama, GPT-2, Qwen, SmolLM, ...)."""

    @property
    def supports_cache_prefix(self) -> bool:
        return True

    @property
    def peft_task_type(self) -> str:
        return "CAUSAL_LM"

    def _pad(self, seqs: Sequence[list[int]]) -> tuple[Any, Any]:
        # Left padding: the new tokens of every row start at the same column.
        return self._pad_rows(seqs, left=True)

    def generate(self, texts: Sequence[str], *, max_new_tokens: int, stop: Sequence[str], runtime: Runtime) -> list[Generation]:
        """Greedy decoding with a running batch (:mod:`promptkit.models.decoding`): a row leaves the
        batch when it stops and waiting prompts take its place. Falls back to fixed batches through
        ``model.generate`` where the model's generation config changes greedy choices or its cache
        cannot be re-batched."""
        import torch

        if _greedy_changers(self.model.generation_config):
            return self.generate_fixed_batches(texts, max_new_tokens=max_new_tokens, stop=stop, runtime=runtime)
        encoded = [self.encode(t, chat=runtime.chat) for t in texts]
        results: dict[int, Generation] = {}

        def prefill(rows: list[int]) -> Prefilled:
            return self._prefill([encoded[i] for i in rows])

        def finished(i: int, tokens: list[int], stopped: bool) -> None:
            results[i] = self._generation(tokens, len(tokens), stop, len(encoded[i]), cut=not stopped)
            runtime.report("generate", len(results), len(texts))

        order = prefix_order(encoded)  # prompts that begin alike are read together, their beginning once
        scan = StopScan(self.tokenizer, stop, _eos_ids(self.model.generation_config, self.tokenizer))
        try:
            with torch.inference_mode():
                decode_greedy(prefill, self._feed, order, batch_size=runtime.batch_size, max_new_tokens=max_new_tokens,
                              scan=scan, on_finished=finished)
        except Unsupported:
            return self.generate_fixed_batches(texts, max_new_tokens=max_new_tokens, stop=stop, runtime=runtime)
        return [results[i] for i in range(len(texts))]

    def loglikelihood(self, contexts: Sequence[str], continuations: Sequence[str], runtime: Runtime) -> list[LogLikelihood]:
        """Log-probability of each continuation after its context, each distinct context read once
        (:func:`promptkit.models.decoding.score_shared_contexts`). Pairs longer than the model's
        positions, with an empty context, or on a cache that cannot be copied per choice take the
        per-pair path."""
        import torch

        pairs = self._scoring_pairs(contexts, continuations, runtime.chat)
        max_len = getattr(self.model.config, "max_position_embeddings", None) or 1 << 30
        shared = [i for i, (c, x) in enumerate(pairs) if c and x and len(c) + len(x) - 1 <= max_len]
        rest = sorted(set(range(len(pairs))) - set(shared))
        out: dict[int, LogLikelihood] = {}
        try:
            with torch.inference_mode():
                scored = score_shared_contexts(
                    [pairs[i] for i in shared], prefill=self._prefill, feed=self._feed, batch_size=runtime.batch_size,
                    on_progress=lambda done: runtime.report("score", done, len(pairs)),
                )
        except Unsupported:
            shared, rest = [], list(range(len(pairs)))
        else:
            for i, (logprobs, cont) in zip(shared, scored, strict=True):
                out[i] = continuation_logprob(logprobs.cpu(), range(len(cont)), cont)
        if rest:
            for i, s in zip(rest, self._score_pairs([pairs[i] for i in rest], runtime), strict=True):
                out[i] = s
        return [out[i] for i in range(len(pairs))]

    def loglikelihood_rolling(self, texts: Sequence[str], runtime: Runtime, max_length: int | None = None) -> list[LogLikelihood]:
        """Log-probability of each whole text as lm-evaluation-harness 0.4.13's HF model computes a
        ``loglikelihood_rolling`` request: the text's tokens without special tokens, cut into
        windows of the model's context length (:func:`promptkit.models.decoding.rolling_windows`),
        the first read after the BOS token (EOS when the tokenizer has none); the windows are
        scored in length-sorted batches and summed per text. ``tokens``: the text's tokens.
        ``max_length``: shorter windows (room for a soft prompt's virtual tokens, or memory)."""
        tok = self.tokenizer
        prefix = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        if prefix is None:
            raise ModelError(f"{self.name}: its tokenizer has neither a BOS nor an EOS token to read a text after")
        max_len = self.context_length or 2048  # lm-eval's default when the config names none
        if max_length is not None:
            max_len = max(1, min(max_len, max_length))
        owner: list[int] = []
        pairs: list[tuple[list[int], list[int]]] = []
        for i, text in enumerate(texts):
            windows = rolling_windows(tok(text, add_special_tokens=False)["input_ids"], prefix, max_len)
            owner += [i] * len(windows)
            pairs += windows
        scored = self._score_pairs(pairs, runtime)
        total = [0.0] * len(texts)
        tokens = [0] * len(texts)
        greedy = [True] * len(texts)
        for i, s in zip(owner, scored, strict=True):
            total[i] += s.logprob
            tokens[i] += s.tokens
            greedy[i] = greedy[i] and s.greedy
        return [LogLikelihood(total[i], tokens[i], greedy[i]) for i in range(len(texts))]

    def _prefill(self, seqs: list[list[int]]) -> Prefilled:
        """Read prompts: logits at each row's last position and the cache to continue from.

        Prompts that begin alike (:func:`promptkit.models.decoding.shared_prefixes`) have their
        common beginning read once; each row then reads the rest of its prompt after a copy of
        that cache, left-padded, positions following the mask (a masked gap between the two parts
        changes nothing a row attends to)."""
        import torch
        from transformers import DynamicCache

        groups = shared_prefixes(seqs)
        if len(groups) == len(seqs):
            return self._prefill_whole(seqs)
        head = self._prefill_whole([seqs[members[0]][:n] for n, members in groups])
        rows = [(g, r) for g, (_, members) in enumerate(groups) for r in members]
        index = torch.tensor([g for g, _ in rows], device=head.mask.device)
        cache = DynamicCache(ddp_cache_data=[(la.keys[index], la.values[index]) for la in layers_of(head.cache)])
        ids, tail_mask = self._pad([seqs[r][groups[g][0] :] for g, r in rows])
        mask = torch.cat([head.mask[index], tail_mask.to(head.mask)], dim=1)
        position = (mask.long().cumsum(-1) - 1).masked_fill(mask == 0, 0)[:, -ids.shape[1] :]
        logits = self._feed(ids.to(self.device), cache, mask, position)[:, -1]
        # back to the caller's row order
        back = torch.tensor(sorted(range(len(rows)), key=lambda k: rows[k][1]), device=head.mask.device)
        cache.batch_select_indices(back)
        return Prefilled(logits[back], cache, mask[back], position[back, -1])

    def _prefill_whole(self, seqs: list[list[int]]) -> Prefilled:
        """Read left-padded prompts whole (the adaptation's soft prompt placed as in generation)."""
        ids, mask = self._pad(seqs)
        _, inputs, _ = self._generation_inputs(ids.to(self.device), mask.to(self.device))
        full = inputs["attention_mask"]
        # positions follow the mask, as generate() sets them: padding does not shift a row
        position = (full.long().cumsum(-1) - 1).masked_fill(full == 0, 0)
        width = (inputs["input_ids"] if "input_ids" in inputs else inputs["inputs_embeds"]).shape[1]
        keep_last = {"logits_to_keep": 1} if self._keeps_logits else {}
        out = self._decoding_module()(**inputs, position_ids=position[:, -width:], use_cache=True, **keep_last)
        cache = out.cache if "cache" in out else out.past_key_values  # renamed in transformers 5
        return Prefilled(out.logits[:, -1], cache, full, position[:, -1])

    def _feed(self, tokens: Any, cache: Any, mask: Any, position: Any) -> Any:
        """Logits for ``tokens`` ``[rows, n]`` read after ``cache``: ``[rows, n, vocab]``."""
        out = self._decoding_module()(input_ids=tokens, attention_mask=mask, position_ids=position, use_cache=True,
                                      **{self._cache_arg: cache})
        return out.logits

    def _decoding_module(self) -> Any:
        # a soft prompt is placed by _generation_inputs, so the base model decodes
        soft = self.adaptation.soft_prompt if self.adaptation is not None else None
        return self.module if soft is None else self.model

    def _generation_inputs(self, ids: Any, mask: Any) -> tuple[Any, dict[str, Any], int]:
        """``(model to call, generate() inputs, column where new tokens start)``.

        A soft prompt is placed here rather than by the adapted module's generate: each left-padded
        row becomes ``[pad..][virtual tokens][prompt]`` so no padding sits between the soft prompt
        and the content, positions follow the attention mask, and a row's output cannot depend on
        its batch mates. A key/value prefix becomes the initial cache, with the mask extended.
        """
        import torch

        soft = self.adaptation.soft_prompt if self.adaptation is not None else None
        if soft is None:
            return self._decoding_module(), {"input_ids": ids, "attention_mask": mask}, ids.shape[1]
        base = self._decoding_module()
        batch, width = ids.shape
        ones = torch.ones((batch, soft.num_virtual_tokens), dtype=mask.dtype, device=mask.device)
        if soft.placement == "cache":
            inputs = {"input_ids": ids, "attention_mask": torch.cat([ones, mask], dim=1), self._cache_arg: soft.virtual(batch)}
            return base, inputs, width
        embeds = base.get_input_embeddings()(ids)
        virtual = soft.virtual(batch).to(embeds.dtype)
        rows, masks = [], []
        for r in range(batch):
            n_pad = int((mask[r] == 0).sum())
            rows.append(torch.cat([embeds[r, :n_pad], virtual[r], embeds[r, n_pad:]], dim=0))
            masks.append(torch.cat([mask[r, :n_pad], ones[r], mask[r, n_pad:]], dim=0))
        # Generating from embeddings alone, transformers returns only the new tokens.
        return base, {"inputs_embeds": torch.stack(rows), "attention_mask": torch.stack(masks)}, 0

    def _scoring_pairs(self, contexts: Sequence[str], continuations: Sequence[str], chat: bool) -> list[tuple[list[int], list[int]]]:
        # Classification scores every choice after the same context: encode each context once.
        ctx_ids: dict[str, list[int]] = {}
        for c in contexts:
            if c not in ctx_ids:
                ctx_ids[c] = self.encode(c, chat=chat)
        return [split_tokens(self.tokenizer, c, x, chat, ctx_ids[c]) for c, x in zip(contexts, continuations, strict=True)]

    def _score_batch(self, pairs: Sequence[tuple[list[int], list[int]]]) -> list[LogLikelihood]:
        import torch

        max_len = getattr(self.model.config, "max_position_embeddings", None) or 1 << 30
        # Input is context + continuation minus the last token; right padding is safe here because
        # every position only attends to earlier ones and padded positions are never read.
        seqs = [(ctx + cont)[-(max_len + 1) :][:-1] for ctx, cont in pairs]
        ids, mask = self._pad_rows(seqs, left=False)
        width = ids.shape[1]
        with torch.inference_mode():
            logits = self.module(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).logits
            # An adapted module with a soft prompt returns logits for its virtual tokens too, in
            # front of the input's: keep the input's positions.
            logprobs = torch.log_softmax(logits[:, -width:].float(), dim=-1).cpu()
        return [
            continuation_logprob(logprobs[r], range(len(s) - len(cont), len(s)), cont)
            for r, ((_ctx, cont), s) in enumerate(zip(pairs, seqs, strict=True))
        ]

    def training_examples(self, prompts: Sequence[Prompt], *, chat: bool, max_length: int) -> list[TrainingExample]:
        """Prompt + target token ids with the prompt masked out of the loss.

        In plain mode EOS is appended to the target so the model learns where to stop; in chat
        mode the template's end-of-turn marker (part of the formatted target) plays that role.
        Too-long examples lose prompt tokens from the left, never target tokens.
        """
        tok = self.tokenizer
        out = []
        for p in prompts:
            ctx, cont = split_tokens(tok, format_prompt(p, tok, chat), format_target(p, tok, chat), chat)
            if not chat and tok.eos_token_id is not None:
                cont = [*cont, tok.eos_token_id]
            cont = cont[:max_length]
            ctx = ctx[-(max_length - len(cont)) :] if len(cont) < max_length else []
            out.append(TrainingExample([*ctx, *cont], [IGNORE] * len(ctx) + cont))
        return out

    def _label_width(self, examples: Sequence[TrainingExample], width: int) -> int:
        return width

    def loss_tokens(self, batch: dict[str, Any]) -> int:
        # the loss is a mean over predicted tokens: labels shifted by one
        return int((batch["labels"][:, 1:] != IGNORE).sum())

    def training_loss(self, module: Any, batch: dict[str, Any]) -> Any:
        """The loss of ``module(**batch)``, with the LM head and cross-entropy at target positions only.

        A QA target is a few tokens after a prompt of hundreds: projecting every position onto the
        vocabulary (and keeping those logits and their gradient) dominates the time and memory of a
        step. Position ``t`` predicts token ``t + 1``, so the kept positions are those whose next
        label is a target; the mean over them is the model's own loss (tests hold the two equal).
        """
        import torch

        if not self._keeps_logits:
            return super().training_loss(module, batch)
        labels = batch["labels"]
        follows = labels[:, 1:] != IGNORE
        keep = torch.zeros_like(labels, dtype=torch.bool)
        keep[:, :-1] = follows
        soft = self.adaptation.soft_prompt if self.adaptation is not None else None
        if soft is not None and soft.placement == "embeddings":
            # the adapted module puts its virtual tokens in front of the input (and of the logits)
            keep = torch.cat([keep.new_zeros((keep.shape[0], soft.num_virtual_tokens)), keep], dim=1)
        inputs = {k: v for k, v in batch.items() if k != "labels"}
        logits = module(**inputs, logits_to_keep=keep).logits  # [kept positions, vocab], row-major
        return torch.nn.functional.cross_entropy(logits.float(), labels[:, 1:][follows])

    @cached_property
    def _keeps_logits(self) -> bool:
        """Whether the architecture's forward takes ``logits_to_keep`` (recent transformers causal LMs)."""
        import inspect

        return "logits_to_keep" in inspect.signature(self.model.forward).parameters

    @cached_property
    def _cache_arg(self) -> str:
        # looked up once per model, not at every decoding step
        return cache_argument(self.model)
