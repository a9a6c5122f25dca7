"""Hugging Face backends: decoder-only (causal) and encoder-decoder (seq2seq) language models.

Everything that depends on how a transformers architecture is fed lives here: padding side,
where the new tokens of ``generate()`` start, how a soft prompt or key/value prefix is placed,
how a prompt/target pair becomes a training example. The harness and the methods see only the
:class:`~promptkit.models.backend.LanguageModel` contract.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

from promptkit.models.backend import IGNORE, Adaptation, Generation, LogLikelihood, TrainingExample
from promptkit.models.batching import Runtime, length_sorted_batches
from promptkit.models.decoding import (
    Prefilled,
    StopScan,
    Unsupported,
    decode_greedy,
    layers_of,
    prefix_order,
    score_shared_contexts,
    shared_prefixes,
)
from promptkit.models.quantization import logical_numel, quantization_of
from promptkit.models.stopping import StopOnStrings, count_generated, cut_at_stop, whole_characters
from promptkit.prompting.chat import format_prompt, format_target
from promptkit.records import Prompt
from promptkit.tasks.catalog import display_path


def encode(tokenizer: Any, text: str, chat: bool) -> list[int]:
    # A chat-formatted string already carries its special tokens; adding BOS again would
    # duplicate it. Plain text gets whatever the tokenizer adds by default.
    return list(tokenizer(text, add_special_tokens=not chat)["input_ids"])


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


def cache_argument(model: Any) -> str:
    """Name of the key/value cache argument: ``cache`` in recent transformers, else ``past_key_values``."""
    import inspect

    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def continuation_logprob(logprobs: Any, positions: Sequence[int], cont: Sequence[int]) -> LogLikelihood:
    """The summed log-probability of tokens ``cont`` at ``positions`` of one row's log-softmax."""
    import torch

    rows = logprobs[list(positions)]
    target = torch.tensor(cont)
    lp = rows.gather(1, target[:, None]).squeeze(1)
    return LogLikelihood(float(lp.sum()), len(cont), bool((rows.argmax(-1) == target).all()))


# Generation-config settings that change which token greedy decoding picks (the running-batch
# decoder applies none of them; a model that sets one decodes through model.generate).
_GREEDY_CHANGERS = (
    "repetition_penalty", "encoder_repetition_penalty", "no_repeat_ngram_size", "bad_words_ids",
    "suppress_tokens", "begin_suppress_tokens", "forced_bos_token_id", "forced_eos_token_id",
    "min_length", "min_new_tokens", "sequence_bias", "exponential_decay_length_penalty",
    "renormalize_logits", "forced_decoder_ids",
)


def _greedy_changers(config: Any) -> list[str]:
    from transformers import GenerationConfig

    default = GenerationConfig()
    return [k for k in _GREEDY_CHANGERS if getattr(config, k, None) != getattr(default, k, None)]


def _eos_ids(config: Any, tokenizer: Any) -> set[int]:
    """Ids that end a row: the generation config's (one or a list) and the tokenizer's."""
    ids = getattr(config, "eos_token_id", None)
    out = set(ids if isinstance(ids, list) else [] if ids is None else [ids])
    if tokenizer.eos_token_id is not None:
        out.add(tokenizer.eos_token_id)
    return out


@dataclass
class HFLanguageModel:
    """A transformers model and tokenizer; subclasses fix the architecture-specific parts.

    Attributes:
        name: what the user asked for (alias, path or hub id).
        source: what was loaded (converted directory, local directory or hub id).
        origin: e.g. the hub checkpoint an embedded GGUF was made from.
        adaptation: set on the view :meth:`adapted` yields.
    """

    model: Any
    tokenizer: Any
    name: str
    source: str
    device: str
    dtype: Any
    origin: str = ""
    adaptation: Adaptation | None = None

    is_encoder_decoder: ClassVar[bool] = False
    # Scores cloze prompts (an answer slot inside the prompt) rather than continuations.
    fills_masks: ClassVar[bool] = False
    # Tokens generate() puts before the new ones in each output row (seq2seq: the decoder start).
    lead_tokens: ClassVar[int] = 0

    # ------------------------------------------------------------------ the contract
    @property
    def can_generate(self) -> bool:
        return True

    @property
    def supports_cache_prefix(self) -> bool:
        return False

    @property
    def peft_task_type(self) -> str:
        raise NotImplementedError

    @property
    def module(self) -> Any:
        return self.adaptation.module if self.adaptation is not None else self.model

    @property
    def context_length(self) -> int | None:
        """Positions the model reads (None: no fixed limit, e.g. T5's relative positions)."""
        cfg = self.model.config
        keys = ("max_position_embeddings",) if getattr(cfg, "is_encoder_decoder", False) else ("max_position_embeddings", "n_positions")
        for key in keys:
            value = getattr(cfg, key, None)
            if isinstance(value, int) and value > 0:
                return value
        return None

    def encode(self, text: str, *, chat: bool) -> list[int]:
        return encode(self.tokenizer, text, chat)

    def take_notes(self) -> list[str]:
        return []  # every request runs here as asked

    @contextmanager
    def adapted(self, adaptation: Adaptation) -> Iterator[HFLanguageModel]:
        """This model with ``adaptation`` applied, for the ``with`` block; the base is given back as it was."""
        adaptation.enter()
        try:
            yield replace(self, adaptation=adaptation)
        finally:
            adaptation.exit()

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": display_path(self.source) if Path(self.source).exists() else self.source,
            "origin": self.origin,
            "architecture": type(self.model).__name__,
            "is_encoder_decoder": self.is_encoder_decoder,
            "parameters": sum(logical_numel(p) for p in self.model.parameters()),
            "quantization": quantization_of(self.model),
            "attention": str(getattr(self.model.config, "_attn_implementation", None) or "default"),
            "device": self.device,
            "dtype": str(self.dtype).replace("torch.", ""),
            "has_chat_template": bool(getattr(self.tokenizer, "chat_template", None)),
        }

    def generate(self, texts: Sequence[str], *, max_new_tokens: int, stop: Sequence[str], runtime: Runtime) -> list[Generation]:
        """Greedy-decode a continuation for every text; a row's output does not depend on its batch mates."""
        return self.generate_fixed_batches(texts, max_new_tokens=max_new_tokens, stop=stop, runtime=runtime)

    def generate_fixed_batches(self, texts: Sequence[str], *, max_new_tokens: int, stop: Sequence[str], runtime: Runtime) -> list[Generation]:
        """The straightforward path: ``model.generate`` on length-sorted batches of ``runtime.batch_size``."""
        import torch
        from transformers import StoppingCriteriaList

        tok = self.tokenizer
        encoded = [self.encode(t, chat=runtime.chat) for t in texts]
        results: list[Generation | None] = [None] * len(texts)
        done = 0
        for batch in length_sorted_batches([len(e) for e in encoded], runtime.batch_size):
            ids, mask = self._pad([encoded[i] for i in batch])
            model, inputs, start = self._generation_inputs(ids.to(self.device), mask.to(self.device))
            stopper = StopOnStrings(tok, start + self.lead_tokens, stop)
            with torch.inference_mode():
                out = model.generate(
                    **inputs,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    num_beams=1,
                    temperature=None,
                    top_p=None,
                    top_k=None,
                    pad_token_id=tok.pad_token_id,
                    stopping_criteria=StoppingCriteriaList([stopper]),
                )
            new = out[:, start:].tolist()
            for r, i in enumerate(batch):
                tokens = new[r]
                n_out = stopper.finished_at.get(r, count_generated(tokens[self.lead_tokens :], tok))
                results[i] = self._generation(tokens[: n_out + self.lead_tokens], n_out, stop, len(encoded[i]),
                                              cut=n_out >= max_new_tokens and r not in stopper.finished_at)
            done += len(batch)
            runtime.report("generate", done, len(texts))
        return [r for r in results if r is not None]

    def _generation(self, tokens: list[int], n_out: int, stop: Sequence[str], prompt_tokens: int, *, cut: bool) -> Generation:
        """``cut``: the token budget ended the row; text after its last whole character is dropped."""
        raw = whole_characters(self.tokenizer, tokens, self.lead_tokens) if cut else self.tokenizer.decode(tokens, skip_special_tokens=True)
        return Generation(cut_at_stop(raw, stop).strip(), raw, prompt_tokens, n_out)

    def loglikelihood(self, contexts: Sequence[str], continuations: Sequence[str], runtime: Runtime) -> list[LogLikelihood]:
        """Log-probability of each continuation after its context."""
        return self.loglikelihood_per_pair(contexts, continuations, runtime)

    def loglikelihood_per_pair(self, contexts: Sequence[str], continuations: Sequence[str], runtime: Runtime) -> list[LogLikelihood]:
        """The straightforward path: one sequence per (context, continuation) pair, length-sorted batches."""
        pairs = self._scoring_pairs(contexts, continuations, runtime.chat)
        return self._score_pairs(pairs, runtime)

    def _score_pairs(self, pairs: Sequence[tuple[list[int], list[int]]], runtime: Runtime) -> list[LogLikelihood]:
        out: list[LogLikelihood | None] = [None] * len(pairs)
        done = 0
        for batch in length_sorted_batches([len(c) + len(x) for c, x in pairs], runtime.batch_size):
            for i, s in zip(batch, self._score_batch([pairs[i] for i in batch]), strict=True):
                out[i] = s
            done += len(batch)
            runtime.report("score", done, len(pairs))
        return [o for o in out if o is not None]

    def collate(self, examples: Sequence[TrainingExample]) -> dict[str, Any]:
        """Right-padded tensors. Right padding keeps every real token at the position it would
        have alone (soft prompts and prefixes go before it), so padding cannot leak into training."""
        import torch

        width = max(len(e.input_ids) for e in examples)
        pad = self.tokenizer.pad_token_id
        ids = torch.full((len(examples), width), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        labels = torch.full((len(examples), self._label_width(examples, width)), IGNORE, dtype=torch.long)
        for r, e in enumerate(examples):
            ids[r, : len(e.input_ids)] = torch.tensor(e.input_ids)
            mask[r, : len(e.input_ids)] = 1
            labels[r, : len(e.labels)] = torch.tensor(e.labels)
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}

    def training_loss(self, module: Any, batch: dict[str, Any]) -> Any:
        """Mean cross-entropy over the batch's target tokens, from ``module`` (the adapted module,
        possibly wrapped for data parallelism)."""
        return module(**batch).loss

    # ------------------------------------------------------------------ architecture hooks
    def _pad(self, seqs: Sequence[list[int]]) -> tuple[Any, Any]:
        raise NotImplementedError

    def _generation_inputs(self, ids: Any, mask: Any) -> tuple[Any, dict[str, Any], int]:
        raise NotImplementedError

    def _scoring_pairs(self, contexts: Sequence[str], continuations: Sequence[str], chat: bool) -> list[tuple[list[int], list[int]]]:
        raise NotImplementedError

    def _score_batch(self, pairs: Sequence[tuple[list[int], list[int]]]) -> list[LogLikelihood]:
        raise NotImplementedError

    def _label_width(self, examples: Sequence[TrainingExample], width: int) -> int:
        raise NotImplementedError

    def _pad_rows(self, seqs: Sequence[list[int]], left: bool) -> tuple[Any, Any]:
        import torch

        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for r, s in enumerate(seqs):
            seq = torch.tensor(s, dtype=torch.long)
            cols = slice(width - len(s), width) if left else slice(0, len(s))
            ids[r, cols], mask[r, cols] = seq, 1
        return ids, mask


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


class HFSeq2SeqLM(HFLanguageModel):
    """Encoder-decoder models (T5, BART, Marian): the encoder reads the prompt, the decoder writes."""

    is_encoder_decoder: ClassVar[bool] = True
    lead_tokens: ClassVar[int] = 1

    @property
    def peft_task_type(self) -> str:
        return "SEQ_2_SEQ_LM"

    def _pad(self, seqs: Sequence[list[int]]) -> tuple[Any, Any]:
        return self._pad_rows(seqs, left=False)

    def _generation_inputs(self, ids: Any, mask: Any) -> tuple[Any, dict[str, Any], int]:
        # The adapted module places its own soft prompt in front of the encoder input (PEFT's
        # seq2seq wrapper does); outputs hold the decoder's tokens only.
        return self.module, {"input_ids": ids, "attention_mask": mask}, 0

    def _scoring_pairs(self, contexts: Sequence[str], continuations: Sequence[str], chat: bool) -> list[tuple[list[int], list[int]]]:
        # The encoder reads the context; the decoder is scored on the continuation alone.
        tok = self.tokenizer
        return [
            (list(tok(c)["input_ids"]), list(tok(x.lstrip(), add_special_tokens=False)["input_ids"]))
            for c, x in zip(contexts, continuations, strict=True)
        ]

    def _score_batch(self, pairs: Sequence[tuple[list[int], list[int]]]) -> list[LogLikelihood]:
        import torch

        ids, mask = self._pad_rows([c for c, _ in pairs], left=False)
        labels = torch.full((len(pairs), max(len(x) for _, x in pairs)), IGNORE, dtype=torch.long)
        for r, (_ctx, cont) in enumerate(pairs):
            labels[r, : len(cont)] = torch.tensor(cont)
        with torch.inference_mode():
            logits = self.module(
                input_ids=ids.to(self.device), attention_mask=mask.to(self.device), labels=labels.to(self.device)
            ).logits
            logprobs = torch.log_softmax(logits.float(), dim=-1).cpu()
        return [continuation_logprob(logprobs[r], range(len(cont)), cont) for r, (_ctx, cont) in enumerate(pairs)]

    def training_examples(self, prompts: Sequence[Prompt], *, chat: bool, max_length: int) -> list[TrainingExample]:
        """Prompt as encoder input (cut from the left), the bare target as decoder labels."""
        tok = self.tokenizer
        out = []
        for p in prompts:
            src = list(tok(format_prompt(p, tok, chat))["input_ids"])[-max_length:]
            tgt = list(tok(text_target=p.target.strip())["input_ids"])[:max_length]
            out.append(TrainingExample(src, tgt))
        return out

    def _label_width(self, examples: Sequence[TrainingExample], width: int) -> int:
        return max(len(e.labels) for e in examples)

    def loss_tokens(self, batch: dict[str, Any]) -> int:
        return int((batch["labels"] != IGNORE).sum())
