"""Masked language models (BERT, RoBERTa, DeBERTa ...) as cloze scorers, in the PET style.

A prompt marks the answer slot with ``{{ mask }}`` (rendered as :data:`MASK_SLOT`); a prompt
without one gets the slot after its target delimiter, where a causal model's answer would start.
A choice (verbalizer) of k tokens is scored by filling the slot with k mask tokens and summing
the log-probabilities of its tokens at those positions, all predicted at once (Schick & Schütze
2021 use single-token verbalizers, where this is exact). Training uses the same layout: the
masked-LM loss on the target's verbalizer tokens. There is no free-text generation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from promptkit.errors import ModelError
from promptkit.models.backend import IGNORE, Generation, LogLikelihood, TrainingExample
from promptkit.models.batching import Runtime
from promptkit.models.hf import HFLanguageModel, continuation_logprob
from promptkit.prompting.chat import format_prompt
from promptkit.records import MASK_SLOT, Prompt

Cloze = tuple[list[int], list[int], list[int]]  # (input ids, mask positions, verbalizer ids)


class HFMaskedLM(HFLanguageModel):
    """An encoder with a masked-LM head: scores cloze prompts, trains on them, cannot generate."""

    fills_masks: ClassVar[bool] = True

    @property
    def can_generate(self) -> bool:
        return False

    @property
    def peft_task_type(self) -> str:
        # PEFT has no masked-LM task; its feature-extraction wrapper passes labels through and
        # puts soft prompts in front of the input (collate pads the labels to match).
        return "FEATURE_EXTRACTION"

    def generate(self, texts: Sequence[str], *, max_new_tokens: int, stop: Sequence[str], runtime: Runtime) -> list[Generation]:
        raise ModelError(
            f"model {self.name!r} is a masked language model ({type(self.model).__name__}): it scores "
            "classification choices with a cloze prompt and cannot generate text; use a causal or "
            "encoder-decoder model for generation tasks"
        )

    def cloze(self, context: str, continuation: str) -> Cloze:
        """Token ids of ``context`` with its slot filled by one mask per verbalizer token."""
        tok = self.tokenizer
        if tok.mask_token is None:
            raise ModelError(f"model {self.name!r}: its tokenizer has no mask token; cloze prompts need one")
        if MASK_SLOT in context:
            before, _, after = context.partition(MASK_SLOT)
        else:
            word = continuation.lstrip()
            before, after = context + continuation[: len(continuation) - len(word)], ""
        # BPE vocabularies (RoBERTa) hold a word after a space as its own token ("Ġgreat").
        lead = " " if before[-1:].isspace() else ""
        verbalizer = list(tok(lead + continuation.strip(), add_special_tokens=False)["input_ids"])
        if not verbalizer:
            raise ModelError(f"choice {continuation.strip()!r} has no tokens for {self.name!r}")
        text = before + tok.mask_token * len(verbalizer) + after
        ids = list(tok(text)["input_ids"])
        max_len = int(getattr(self.model.config, "max_position_embeddings", 512)) - self._virtual_tokens()
        if len(ids) > max_len:  # cut the context from the left, keeping the leading special token
            ids = ids[:1] + ids[len(ids) - max_len + 1 :]
        positions = [i for i, t in enumerate(ids) if t == tok.mask_token_id]
        if len(positions) != len(verbalizer):
            raise ModelError(
                f"cloze prompt for {self.name!r}: expected {len(verbalizer)} mask token(s) for "
                f"{continuation.strip()!r}, found {len(positions)} (is the mask token inside the example text?)"
            )
        return ids, positions, verbalizer

    def _virtual_tokens(self) -> int:
        soft = self.adaptation.soft_prompt if self.adaptation is not None else None
        return soft.num_virtual_tokens if soft is not None and soft.placement == "embeddings" else 0

    def _scoring_pairs(self, contexts: Sequence[str], continuations: Sequence[str], chat: bool) -> list[tuple[list[int], list[int]]]:
        # (input ids with the slot masked, verbalizer ids); the mask positions are found again
        # in _score_batch, where cloze() has already checked there is one per verbalizer token.
        return [self.cloze(c, x)[::2] for c, x in zip(contexts, continuations, strict=True)]

    def _score_batch(self, pairs: Sequence[tuple[list[int], list[int]]]) -> list[LogLikelihood]:
        import torch

        ids, mask = self._pad_rows([ids for ids, _ in pairs], left=False)
        width = ids.shape[1]
        with torch.inference_mode():
            logits = self.module(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).logits
            # a soft prompt's positions come first: keep the input's
            logprobs = torch.log_softmax(logits[:, -width:].float(), dim=-1).cpu()
        mask_id = self.tokenizer.mask_token_id
        return [continuation_logprob(logprobs[r], [i for i, t in enumerate(row) if t == mask_id], verbalizer)
                for r, (row, verbalizer) in enumerate(pairs)]

    def training_examples(self, prompts: Sequence[Prompt], *, chat: bool, max_length: int) -> list[TrainingExample]:
        """The prompt with its slot masked; labels are the target's verbalizer at the mask positions."""
        out = []
        for p in prompts:
            ids, positions, verbalizer = self.cloze(format_prompt(p, self.tokenizer, chat), p.target_delimiter + p.target)
            labels = [IGNORE] * len(ids)
            for pos, token in zip(positions, verbalizer, strict=True):
                labels[pos] = token
            if len(ids) > max_length:
                keep = max(0, len(ids) - max_length)
                ids, labels = ids[:1] + ids[keep + 1 :], labels[:1] + labels[keep + 1 :]
            out.append(TrainingExample(ids, labels))
        return out

    def collate(self, examples: Sequence[TrainingExample]) -> dict[str, Any]:
        batch = super().collate(examples)
        n_virtual = self._virtual_tokens()
        if n_virtual:  # PEFT puts the virtual tokens first; the labels must line up with the logits
            import torch

            pad = torch.full((batch["labels"].shape[0], n_virtual), IGNORE, dtype=torch.long)
            batch["labels"] = torch.cat([pad, batch["labels"]], dim=1)
        return batch

    def _label_width(self, examples: Sequence[TrainingExample], width: int) -> int:
        return width

    def loss_tokens(self, batch: dict[str, Any]) -> int:
        return int((batch["labels"] != IGNORE).sum())
