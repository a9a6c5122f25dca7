"""Evaluate a saved PEFT adapter (``promptkit eval --adapter PATH``) without training."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from typing_extensions import Self

from promptkit.errors import ModelError
from promptkit.harness import Runtime
from promptkit.methods.base import METHODS
from promptkit.methods.trainable import ADAPTER_META, TrainableMethod, directory_size
from promptkit.methods.training import TrainingReport
from promptkit.records import Prompt


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


@METHODS.register("adapter")
class SavedAdapterMethod(TrainableMethod):
    """Loads an adapter saved in PEFT format; prompts are formatted as they were in training."""

    kind = "adapter"
    trains = False  # evaluates what was trained elsewhere: no seed, no training data

    def __init__(self, config: Any, model: Any, runtime: Runtime, context: Any = None):
        path = check_adapter_dir(config.path)
        meta = adapter_meta(path)
        if "chat_template" in meta:
            runtime = replace(runtime, chat=bool(meta["chat_template"]))
        super().__init__(config, model, runtime, context)
        self.path = path
        self.meta = meta

    def fit(self, train: Sequence[Prompt]) -> Self:
        from peft import PeftModel

        base = self.model.model
        self.base_parameters_ = int(sum(p.numel() for p in base.parameters()))
        try:
            self.peft_model_ = PeftModel.from_pretrained(base, str(self.path))
        except Exception as exc:
            raise ModelError(f"--adapter {str(self.path)!r}: cannot load it onto {self.model.name!r}: {type(exc).__name__}: {exc}") from exc
        self.peft_model_.eval()
        self.trainable_parameters_ = int(sum(p.numel() for n, p in self.peft_model_.named_parameters() if _adapter_name(n)))
        self.training_ = TrainingReport()
        self.adapter_path_ = self.path
        return self

    def cost(self) -> dict[str, float]:
        out = super().cost()
        out["adapter_bytes"] = float(directory_size(self.path))
        return out


def _adapter_name(name: str) -> bool:
    return any(k in name for k in ("lora_", "prompt_encoder", "prefix_encoder", "modules_to_save"))
