"""Encoder-decoder models (T5, BART, Marian) behind the backend contract: the encoder reads the
prompt, the decoder writes the answer; a soft prompt goes in front of the encoder input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from promptkit.models.backend import IGNORE, LogLikelihood, TrainingExample
from promptkit.models.hf import HFLanguageModel, continuation_logprob
from promptkit.prompting.chat import format_prompt
from promptkit.records import Prompt


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
