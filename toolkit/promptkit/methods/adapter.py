"""Evaluate a saved PEFT adapter (``promptkit eval --adapter PATH``) without training."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from typing_extensions import Self

from promptkit.config import MethodBase
from promptkit.errors import ModelError
from promptkit.harness import Runtime
from promptkit.methods.base import register_method
from promptkit.methods.peft import PeftAdaptation
from promptkit.methods.trainable import ADAPTER_META, PeftMethod, directory_size
from promptkit.methods.training import TrainingReport
from promptkit.models.quantization import logical_numel
from promptkit.records import Cost, Prompt


def adapter_meta(path: Path) -> dict[str, Any]:
    """promptkit's sidecar (method, chat template used in training), empty for foreign adapters."""
    meta = path / ADAPTER_META
    return json.loads(meta.read_text()) if meta.is_file() else {}


def check_adapter_dir(path: str) -> Path:
    """``path`` as a saved-adapter directory, or a :class:`ModelError` saying what is expected."""
    directory = Path(path)
    if not (directory / "adapter_config.json").is_file():
        what = "no such directory" if not directory.is_dir() else "no adapter_config.json there"
        raise ModelError(f"--adapter {path!r}: {what}; give a directory saved by PEFT / promptkit (it holds adapter_config.json)")
    return directory


class SavedAdapterConfig(MethodBase):
    """Evaluate a saved PEFT adapter (``--adapter PATH``) without training."""

    kind: Literal["adapter"] = "adapter"
    path: str


@register_method(SavedAdapterConfig)
class SavedAdapterMethod(PeftMethod):
    """Loads an adapter saved in PEFT format; prompts are formatted as they were in training."""

    learns = False  # evaluates what was trained elsewhere: no seed, no training data

    @classmethod
    def check(cls, config: Any) -> None:
        check_adapter_dir(config.path)

    def __init__(self, config: Any, model: Any, runtime: Runtime, context: Any = None):
        path = check_adapter_dir(config.path)
        meta = adapter_meta(path)
        if "chat_template" in meta:
            runtime = replace(runtime, chat=bool(meta["chat_template"]))
        super().__init__(config, model, runtime, context)
        self.path = path
        self.meta = meta

    def fit(self, train: Sequence[Prompt]) -> Self:
        from peft import PeftModel, get_peft_model_state_dict

        self.base_parameters_ = int(sum(logical_numel(p) for p in self.model.model.parameters()))
        try:
            peft_model = PeftModel.from_pretrained(self.model.model, str(self.path))
        except Exception as exc:
            raise ModelError(f"--adapter {str(self.path)!r}: cannot load it onto {self.model.name!r}: {type(exc).__name__}: {exc}") from exc
        peft_model.eval()
        self.adaptation_ = PeftAdaptation(peft_model)
        # What the adapter holds, by PEFT's own account of its state (whatever the method: LoRA,
        # IA3, prompt embeddings); loaded for inference, nothing requires grad to be counted.
        self.trainable_parameters_ = int(sum(t.numel() for t in get_peft_model_state_dict(peft_model).values()))
        self.training_ = TrainingReport()
        self.adapter_path_ = self.path
        return self

    def cost(self) -> Cost:
        return replace(super().cost(), adapter_bytes=float(directory_size(self.path)))
