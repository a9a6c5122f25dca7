"""Evaluation through a vLLM engine (``--backend vllm``): the Hugging Face model still trains.

:class:`VLLMCausalLM` is the Hugging Face causal backend (tokenizer, chat formatting, training,
adapters) whose ``generate`` and ``loglikelihood`` go to one ``vllm.LLM`` engine shared by every
cell of the run:

- the base model (zero-shot, few-shot): the prompts' token ids, exactly as the Hugging Face path
  encodes them (``TokensPrompt``), so both backends read the same tokens;
- LoRA: the trained adapter saved to a temporary directory and passed as a ``LoRARequest``
  (vLLM's multi-LoRA: one engine serves every LoRA cell; a fresh id per evaluation, so a dev
  evaluation during training never reuses an older adapter state);
- prompt tuning and P-tuning: the soft prompt's vectors (P-tuning's encoder output computed once
  per evaluation) spliced in front of the prompt's token embeddings and sent as
  ``prompt_embeds`` (vLLM's V1 engine, ``enable_prompt_embeds``);
- anything vLLM cannot run (prefix tuning's key/value prefix, IA3, DoRA, full fine-tuning) falls
  back to the Hugging Face path, and the cell records why (``context.backend`` in results.json).

Greedy decoding (temperature 0) with the run's stop strings kept in the output, then the same
post-processing as the Hugging Face path (cut at the stop string, whole characters when the
budget ended the row), so predictions can be compared token for token. Scores of choices use
``prompt_logprobs`` on context + continuation; with a soft prompt they fall back.
"""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptkit.errors import ModelError
from promptkit.models.backend import Generation, LogLikelihood
from promptkit.models.backends import Backend
from promptkit.models.batching import Runtime
from promptkit.models.causal import HFCausalLM
from promptkit.models.hf import HFLanguageModel


def check_vllm() -> None:
    """vLLM is importable.

    Raises:
        ModelError: with the install command.
    """
    if importlib.util.find_spec("vllm") is None:
        raise ModelError("--backend vllm needs vllm (a CUDA GPU): pip install 'promptkit[vllm]'; or --backend hf")


class VLLMBackend(Backend):
    """``model.backend: vllm``: decoder-only models evaluated on a vLLM engine, trained with transformers."""

    def check(self, config: Any) -> None:
        check_vllm()

    def build(self, architecture: type[HFLanguageModel], model: Any, tokenizer: Any, config: Any, **fields: Any) -> HFLanguageModel:
        if architecture is not HFCausalLM:
            raise ModelError(f"--backend vllm: {type(model).__name__} is not a decoder-only model; vLLM runs decoder-only "
                             "models here; use --backend hf")
        engine = Engine(fields["source"], dtype=str(fields["dtype"]).replace("torch.", ""), memory=config.vllm_memory)
        return VLLMCausalLM(model=model, tokenizer=tokenizer, engine=engine, **fields)


@dataclass
class Engine:
    """The run's one vLLM engine, made at first use, and the adapters it was given."""

    source: str
    dtype: str
    memory: float = 0.5
    max_lora_rank: int = 64
    llm: Any = None
    next_lora_id: int = 1
    tmp: Any = None
    notes: list[str] = field(default_factory=list)

    def get(self) -> Any:
        if self.llm is None:
            from vllm import LLM

            self.llm = LLM(model=self.source, tokenizer=self.source, dtype=self.dtype, seed=0, enable_lora=True,
                           max_lora_rank=self.max_lora_rank, enable_prompt_embeds=True,
                           gpu_memory_utilization=self.memory)
        return self.llm

    def lora_request(self, peft_model: Any) -> Any:
        """The adapter's current weights saved, as a request for a fresh adapter id."""
        from vllm.lora.request import LoRARequest

        if self.tmp is None:
            self.tmp = tempfile.TemporaryDirectory(prefix="promptkit-vllm-lora-")
        lora_id = self.next_lora_id
        self.next_lora_id += 1
        path = Path(self.tmp.name) / f"lora-{lora_id}"
        peft_model.save_pretrained(str(path))
        return LoRARequest(f"lora-{lora_id}", lora_id, str(path))


@dataclass
class VLLMCausalLM(HFCausalLM):
    """A causal LM that trains with transformers and evaluates on a vLLM engine."""

    engine: Engine | None = None

    # ------------------------------------------------------------------ routing
    def route(self) -> str:
        """``base``, ``lora`` or ``embeds`` (vLLM runs it), or the reason it falls back to Hugging Face."""
        a = self.adaptation
        if a is None:
            return "base"
        soft = a.soft_prompt
        if soft is not None:
            return "embeds" if soft.placement == "embeddings" else \
                "prefix tuning: a key/value prefix cannot be given to vLLM; evaluated on the Hugging Face backend"
        config = getattr(getattr(a.module, "active_peft_config", None), "peft_type", None)
        kind = str(getattr(config, "value", config))
        if kind == "LORA" and not getattr(a.module.active_peft_config, "use_dora", False):
            return "lora"
        what = {"IA3": "IA3", "LORA": "DoRA"}.get(kind, "full fine-tuning" if kind == "None" else kind)
        return f"{what}: not served by vLLM; evaluated on the Hugging Face backend"

    def _note(self, reason: str) -> None:
        assert self.engine is not None
        if reason not in self.engine.notes:
            self.engine.notes.append(reason)

    def take_notes(self) -> list[str]:
        """Fallback reasons since the last call (the run records them in the cell's context)."""
        if self.engine is None:
            return []
        notes, self.engine.notes = self.engine.notes, []
        return notes

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "backend": "vllm"}

    # ------------------------------------------------------------------ requests
    def _prompts(self, ids: Sequence[list[int]], route: str) -> list[dict[str, Any]]:
        if route != "embeds":
            return [{"prompt_token_ids": list(x)} for x in ids]
        import torch

        assert self.adaptation is not None and self.adaptation.soft_prompt is not None
        with torch.inference_mode():
            virtual = self.adaptation.soft_prompt.virtual(1)[0]  # P-tuning's encoder runs once here
            table = self.model.get_input_embeddings()
            device = table.weight.device
            return [{"prompt_embeds": torch.cat([virtual.to(device, table.weight.dtype),
                                                 table(torch.tensor(x, device=device))], dim=0).cpu()} for x in ids]

    def _lora(self, route: str) -> Any:
        assert self.engine is not None
        return self.engine.lora_request(self.adaptation.module) if route == "lora" and self.adaptation else None

    def generate(self, texts: Sequence[str], *, max_new_tokens: int, stop: Sequence[str], runtime: Runtime) -> list[Generation]:
        route = self.route()
        if route not in ("base", "lora", "embeds"):
            self._note(route)
            return super().generate(texts, max_new_tokens=max_new_tokens, stop=stop, runtime=runtime)
        from vllm import SamplingParams

        assert self.engine is not None
        encoded = [self.encode(t, chat=runtime.chat) for t in texts]
        params = SamplingParams(temperature=0.0, max_tokens=max_new_tokens, stop=list(stop) or None,
                                include_stop_str_in_output=True, skip_special_tokens=True)
        outputs = self.engine.get().generate(self._prompts(encoded, route), params, lora_request=self._lora(route),
                                             use_tqdm=False)
        results = []
        for ids, out in zip(encoded, outputs, strict=True):
            done = out.outputs[0]
            tokens = list(done.token_ids)
            results.append(self._generation(tokens, len(tokens), stop, len(ids), cut=done.finish_reason == "length"))
        runtime.report("generate", len(texts), len(texts))
        return results

    def loglikelihood(self, contexts: Sequence[str], continuations: Sequence[str], runtime: Runtime) -> list[LogLikelihood]:
        route = self.route()
        if route not in ("base", "lora"):
            if route != "embeds":
                self._note(route)
            return super().loglikelihood(contexts, continuations, runtime)
        from vllm import SamplingParams

        assert self.engine is not None
        pairs = self._scoring_pairs(contexts, continuations, runtime.chat)
        if any(not c for c, _ in pairs):  # vLLM has no log-probability for a prompt's first token
            return super().loglikelihood(contexts, continuations, runtime)
        params = SamplingParams(temperature=0.0, max_tokens=1, prompt_logprobs=1)
        outputs = self.engine.get().generate([{"prompt_token_ids": c + x} for c, x in pairs], params,
                                             lora_request=self._lora(route), use_tqdm=False)
        scores = []
        for (ctx, cont), out in zip(pairs, outputs, strict=True):
            logprob, greedy = 0.0, True
            for k, token in enumerate(cont):
                entry = out.prompt_logprobs[len(ctx) + k][token]
                logprob += float(entry.logprob)
                greedy = greedy and entry.rank == 1
            scores.append(LogLikelihood(logprob, len(cont), greedy))
        runtime.report("score", len(pairs), len(pairs))
        return scores
