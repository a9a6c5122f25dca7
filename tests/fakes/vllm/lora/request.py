"""``vllm.lora.request.LoRARequest`` as vLLM documents it: a name, an integer id (the engine caches
an adapter by its id), and the directory of a PEFT LoRA adapter."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LoRARequest:
    lora_name: str
    lora_int_id: int
    lora_path: str
