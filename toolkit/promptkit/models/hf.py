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
from pathlib import Path
from typing import Any, ClassVar

from promptkit.errors import ModelError
from promptkit.models.backend import IGNORE, Adaptation, Generation, LogLikelihood, TrainingExample
from promptkit.models.batching import Runtime, length_sorted_batches
from promptkit.models.quantization import logical_numel, quantization_of
from promptkit.models.stopping import StopOnStrings, count_generated, cut_at_stop, whole_characters
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

    def loglikelihood_rolling(self, texts: Sequence[str], runtime: Runtime, max_length: int | None = None) -> list[LogLikelihood]:
        """Log-probability of each whole text, every token predicted from those before it
        (a decoder-only model: :class:`~promptkit.models.causal.HFCausalLM`)."""
        raise ModelError(f"{self.name}: the log-likelihood of a whole text needs a decoder-only model; "
                         f"this one is {type(self.model).__name__}")

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
