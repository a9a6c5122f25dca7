"""A CPU test double of the parts of vLLM promptkit uses, following vLLM's documented interfaces:
``LLM(model=..., enable_lora=..., enable_prompt_embeds=...)``, ``LLM.generate(prompts,
sampling_params, lora_request=..., use_tqdm=...)`` with ``TokensPrompt`` (``{"prompt_token_ids":
[...]}``) and ``EmbedsPrompt`` (``{"prompt_embeds": tensor}``) inputs, ``SamplingParams``
(temperature 0 = greedy, ``max_tokens``, ``stop`` strings, ``include_stop_str_in_output``,
``prompt_logprobs``) and ``RequestOutput`` / ``CompletionOutput`` / ``Logprob`` results.

Underneath it runs the transformers model named by ``model`` one request at a time, without
batching or caches (greedy, fp32), and a LoRA adapter loaded with PEFT from ``lora_path``, cached
by ``lora_int_id`` as vLLM caches it. It shares no code with promptkit: predictions that agree
with promptkit's Hugging Face backend mean promptkit sent the engine the right tokens, adapter
and embeddings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CALLS: list[dict[str, Any]] = []  # every generate() call, for tests to inspect
ENGINES: list[LLM] = []


@dataclass
class SamplingParams:
    temperature: float = 1.0
    max_tokens: int | None = 16
    stop: list[str] | None = None
    include_stop_str_in_output: bool = False
    skip_special_tokens: bool = True
    prompt_logprobs: int | None = None


@dataclass
class Logprob:
    logprob: float
    rank: int
    decoded_token: str | None = None


@dataclass
class CompletionOutput:
    index: int
    text: str
    token_ids: list[int]
    finish_reason: str


@dataclass
class RequestOutput:
    request_id: str
    prompt_token_ids: list[int] | None
    prompt_logprobs: list[dict[int, Logprob] | None] | None
    outputs: list[CompletionOutput] = field(default_factory=list)


class LLM:
    def __init__(self, model: str, tokenizer: str | None = None, dtype: str = "auto", seed: int = 0, enable_lora: bool = False,
                 max_lora_rank: int = 16, enable_prompt_embeds: bool = False, gpu_memory_utilization: float = 0.9, **kwargs: Any):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.kwargs = {"model": model, "dtype": dtype, "enable_lora": enable_lora, "enable_prompt_embeds": enable_prompt_embeds,
                       "gpu_memory_utilization": gpu_memory_utilization, **kwargs}
        self.base = AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32).eval()
        self.tokenizer = AutoTokenizer.from_pretrained(tokenizer or model)
        self.enable_lora, self.enable_prompt_embeds = enable_lora, enable_prompt_embeds
        self.loras: dict[int, Any] = {}
        ENGINES.append(self)

    def _model(self, lora_request: Any) -> Any:
        if lora_request is None:
            return self.base
        if not self.enable_lora:
            raise ValueError("LoRA is not enabled; pass enable_lora=True")
        if lora_request.lora_int_id not in self.loras:  # cached by id, as vLLM does
            import copy

            from peft import PeftModel

            self.loras[lora_request.lora_int_id] = PeftModel.from_pretrained(copy.deepcopy(self.base), lora_request.lora_path).eval()
        return self.loras[lora_request.lora_int_id]

    def generate(self, prompts: list[dict[str, Any]], sampling_params: SamplingParams, lora_request: Any = None,
                 use_tqdm: bool = True) -> list[RequestOutput]:
        import torch

        if sampling_params.temperature != 0.0:
            raise ValueError("this double decodes greedily only (temperature=0)")
        CALLS.append({"prompts": prompts, "params": sampling_params, "lora": lora_request})
        model = self._model(lora_request)
        table = self.base.get_input_embeddings()
        eos = self.tokenizer.eos_token_id
        outputs = []
        with torch.inference_mode():
            for n, prompt in enumerate(prompts):
                if "prompt_embeds" in prompt:
                    if not self.enable_prompt_embeds:
                        raise ValueError("prompt embeddings are not enabled; pass enable_prompt_embeds=True")
                    embeds, ids = prompt["prompt_embeds"].to(torch.float32), None
                else:
                    ids = list(prompt["prompt_token_ids"])
                    embeds = table(torch.tensor(ids))
                logprobs = self._prompt_logprobs(model, ids, sampling_params.prompt_logprobs) if ids else None
                new: list[int] = []
                reason = "length"
                while len(new) < (sampling_params.max_tokens or 16):
                    step = torch.cat([embeds, table(torch.tensor(new, dtype=torch.long))]) if new else embeds
                    token = int(model(inputs_embeds=step[None]).logits[0, -1].argmax())
                    if token == eos:
                        reason = "stop"
                        break
                    new.append(token)
                    text = self.tokenizer.decode(new, skip_special_tokens=sampling_params.skip_special_tokens)
                    if any(s in text for s in sampling_params.stop or []):
                        reason = "stop"
                        break
                text = self.tokenizer.decode(new, skip_special_tokens=True)
                outputs.append(RequestOutput(str(n), ids, logprobs, [CompletionOutput(0, text, new, reason)]))
        return outputs

    @staticmethod
    def _prompt_logprobs(model: Any, ids: list[int], k: int | None) -> list[dict[int, Logprob] | None] | None:
        import torch

        if k is None:
            return None
        scores = torch.log_softmax(model(input_ids=torch.tensor([ids])).logits[0].float(), dim=-1)
        out: list[dict[int, Logprob] | None] = [None]
        for pos in range(1, len(ids)):
            row = scores[pos - 1]
            order = torch.argsort(row, descending=True)
            ranks = {int(t): r + 1 for r, t in enumerate(order[: max(k, 1)].tolist())}
            actual = ids[pos]
            entry = {actual: Logprob(float(row[actual]), int((row > row[actual]).sum()) + 1)}
            entry.update({t: Logprob(float(row[t]), r) for t, r in ranks.items() if t != actual})
            out.append(entry)
        return out
