"""Base class of the PEFT methods: wrap the model, train with the shared loop, predict, unwrap."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from typing_extensions import Self

from promptkit.config import GenerationSettings, TrainingConfig
from promptkit.distributed import current
from promptkit.harness import Runtime, predict
from promptkit.methods.base import Method
from promptkit.methods.training import (
    DevEvaluator,
    Trainer,
    TrainingReport,
    tokenize_for_training,
)
from promptkit.records import Prediction, Prompt

ADAPTER_META = "promptkit.json"


@dataclass
class FitContext:
    """What a trainable method needs beyond its own config, supplied by the runner.

    Attributes:
        training: the run's shared budget.
        seed: run seed.
        workdir: where checkpoints and the adapter go (None: keep nothing on disk).
        dev: held-out training prompts for learning curves / early stopping.
        dev_score: scores dev predictions with the task's first metric.
        generation: the task's generation settings (dev predictions).
        on_step: progress callback ``(step, loss)``.
    """

    training: TrainingConfig = field(default_factory=TrainingConfig)
    seed: int = 0
    workdir: Path | None = None
    dev: Sequence[Prompt] = ()
    dev_score: Callable[[list[Prediction]], float] | None = None
    metric_name: str = ""
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    on_step: Callable[[int, float], None] | None = None


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class TrainableMethod(Method):
    """A PEFT method. Subclasses implement :meth:`peft_config`.

    After :meth:`fit`: ``peft_model_`` (the wrapped model), ``training_`` (a
    :class:`TrainingReport`), ``trainable_parameters_`` and ``adapter_path_`` (when a workdir
    was given). :meth:`release` unwraps the base model so the next method starts clean.
    """

    trainable = True
    trains = True

    def __init__(self, config: Any, model: Any, runtime: Runtime, context: FitContext | None = None):
        super().__init__(config, model, runtime)
        self.context = context or FitContext()

    def peft_config(self, train: Sequence[Prompt]) -> Any:
        """The PEFT config object for this method."""
        raise NotImplementedError

    def _task_type(self) -> Any:
        from peft import TaskType

        return TaskType.SEQ_2_SEQ_LM if self.model.is_encoder_decoder else TaskType.CAUSAL_LM

    def fit(self, train: Sequence[Prompt]) -> Self:
        import torch
        from peft import get_peft_model

        ctx = self.context
        base = self.model.model
        self.base_parameters_ = int(sum(p.numel() for p in base.parameters()))
        # Adapter initialisation draws random numbers (LoRA A, P-tuning's encoder): seed first.
        torch.manual_seed(ctx.seed)
        peft_model = get_peft_model(base, self.peft_config(train))
        # Trainable parameters in fp32 even when the base runs in bf16: small updates to bf16
        # weights round away (autocast still computes in bf16 on CUDA).
        for p in peft_model.parameters():
            if p.requires_grad and p.dtype != torch.float32:
                p.data = p.data.float()
        self.peft_model_ = peft_model
        chat = self.runtime.chat
        max_len = ctx.training.max_length
        examples = tokenize_for_training(self.model, train, chat, max_len)
        dev = None
        if ctx.dev:
            dev_examples = tokenize_for_training(self.model, ctx.dev, chat, max_len)
            metric = None
            if ctx.dev_score is not None:
                score = ctx.dev_score
                dev_prompts = list(ctx.dev)

                def metric() -> float:
                    return score(self._predict(dev_prompts, ctx.generation, "none", quiet=True))

            dev = DevEvaluator(dev_examples, metric, ctx.metric_name)
        checkpoint_dir = ctx.workdir / "checkpoint" if ctx.workdir else None
        trainer = Trainer(
            peft_model,
            ctx.training,
            lr=self.config.lr,
            weight_decay=self.config.weight_decay,
            seed=ctx.seed,
            device=self.model.device,
            pad_id=self.model.tokenizer.pad_token_id,
            seq2seq=self.model.is_encoder_decoder,
            checkpoint_dir=checkpoint_dir,
            dev=dev,
            on_step=ctx.on_step,
        )
        self.training_: TrainingReport = trainer.train(examples)
        self.peft_model_ = trainer.model
        trainable, _ = self.peft_model_.get_nb_trainable_parameters()
        self.trainable_parameters_ = int(trainable)
        self.adapter_path_: Path | None = None
        if ctx.workdir is not None:
            procs = current()
            with procs.main_first():  # one process writes, the others find it written
                if procs.is_main:
                    self.save(ctx.workdir / "adapter")
            self.adapter_path_ = ctx.workdir / "adapter"
        return self

    def save(self, path: Path) -> Path:
        """Save the adapter in PEFT format (``PeftModel.from_pretrained`` loads it) plus how
        prompts were formatted in training, so evaluation formats them the same way."""
        path.mkdir(parents=True, exist_ok=True)
        self.peft_model_.save_pretrained(str(path))
        meta = {"method": self.kind, "chat_template": self.runtime.chat, "base_model": self.model.name}
        (path / ADAPTER_META).write_text(json.dumps(meta, indent=2) + "\n")
        return path

    def _predict(self, prompts: Sequence[Prompt], generation: GenerationSettings, normalization: str, quiet: bool = False) -> list[Prediction]:
        lm = replace(self.model, model=self.peft_model_)
        runtime = replace(self.runtime, progress=None) if quiet else self.runtime
        was_training = self.peft_model_.training
        self.peft_model_.eval()
        try:
            return predict(lm, prompts, generation, runtime, normalization)
        finally:
            if was_training:
                self.peft_model_.train()

    def predict(self, prompts: Sequence[Prompt], generation: GenerationSettings, normalization: str = "none") -> list[Prediction]:
        return self._predict(prompts, generation, normalization)

    def cost(self) -> dict[str, float]:
        """Trainable parameters, adapter size and training cost for the report."""
        out: dict[str, float] = {
            "trainable_params": float(self.trainable_parameters_),
            "trainable_pct": round(100.0 * self.trainable_parameters_ / max(self.base_parameters_, 1), 4),
            "train_s": self.training_.wall_s,
            "train_tokens_per_s": self.training_.tokens_per_s,
            "peak_memory_mb": self.training_.peak_memory_mb,
        }
        if self.adapter_path_ is not None:
            out["adapter_bytes"] = float(directory_size(self.adapter_path_))
        return out

    def release(self) -> None:
        """Give the base model back without adapter layers (LoRA layers removed, unmerged)."""
        peft_model = getattr(self, "peft_model_", None)
        if peft_model is None:
            return
        if peft_model.active_peft_config.is_prompt_learning:
            self.model.model = peft_model.get_base_model()
        else:
            self.model.model = peft_model.unload()
        for p in self.model.model.parameters():
            p.requires_grad_(False)
        del self.peft_model_

