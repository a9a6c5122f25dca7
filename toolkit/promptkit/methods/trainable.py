"""Base classes of the methods that learn: adapt the model, train with the shared loop, predict, release.

``TrainableMethod`` is generic over how the model is adapted (an
:class:`~promptkit.models.backend.Adaptation`); ``PeftMethod`` builds that adaptation from a PEFT
config, which is all a PEFT method module has to supply.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from typing_extensions import Self

from promptkit.config import GenerationSettings, TrainingConfig
from promptkit.distributed import current
from promptkit.faults import kill_point
from promptkit.harness import Runtime, predict
from promptkit.harness.predict import check_prompts
from promptkit.methods.base import Method
from promptkit.methods.peft import PeftAdaptation
from promptkit.methods.training import DevEvaluator, Trainer, TrainingReport
from promptkit.models.backend import Adaptation, LanguageModel
from promptkit.records import Cost, Prediction, Prompt
from promptkit.seeding import derive

ADAPTER_META = "promptkit.json"


@dataclass
class FitContext:
    """What a trainable method needs beyond its own config, supplied by the run (``promptkit.run.cell.fit_context``).

    Attributes:
        training: the run's shared budget.
        seed: run seed.
        workdir: where checkpoints and the adapter go (None: keep nothing on disk).
        dev: held-out training prompts for learning curves / early stopping.
        dev_score: scores dev predictions with the task's first metric.
        generation: the task's generation settings (dev predictions).
        on_step: progress callback ``(step, loss)``.
        on_log: tracker callback ``(step, values)``: train loss and learning rate each step, dev
            figures at each evaluation.
    """

    training: TrainingConfig = field(default_factory=TrainingConfig)
    seed: int = 0
    workdir: Path | None = None
    dev: Sequence[Prompt] = ()
    dev_score: Callable[[list[Prediction]], float] | None = None
    metric_name: str = ""
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    on_step: Callable[[int, float], None] | None = None
    on_log: Callable[[int, dict[str, float]], None] | None = None


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class TrainableMethod(Method):
    """A method that adapts the model and trains the adaptation. Subclasses implement :meth:`adapt`
    (and :meth:`save` to keep the result on disk).

    After :meth:`fit`: ``adaptation_``, ``training_`` (a :class:`TrainingReport`),
    ``trainable_parameters_``, ``base_parameters_`` and ``adapter_path_`` (when a workdir was
    given). :meth:`release` takes the adaptation off the base model so the next method starts clean.
    """

    learns = True
    adapts = True

    def __init__(self, config: Any, model: LanguageModel, runtime: Runtime, context: FitContext | None = None):
        super().__init__(config, model, runtime)
        self.context = context or FitContext()

    def adapt(self, train: Sequence[Prompt]) -> Adaptation:
        """A fresh, untrained adaptation of ``self.model`` (its trainable parameters require grad)."""
        raise NotImplementedError

    def parameter_counts(self, adaptation: Adaptation) -> tuple[int, int]:
        """``(trainable parameters, base parameters)``; called inside ``adapted``."""
        raise NotImplementedError

    def save(self, path: Path) -> Path:
        """Write the trained adaptation to ``path`` (a directory) and return it."""
        raise NotImplementedError

    def fit(self, train: Sequence[Prompt]) -> Self:
        import torch

        ctx = self.context
        check_prompts(self.model, [*train, *ctx.dev])
        # Adapter initialisation draws random numbers (LoRA A, P-tuning's encoder): from a stream
        # of its own, apart from the dropout masks the Trainer draws from ``ctx.seed``.
        torch.manual_seed(derive(ctx.seed, "init"))
        adaptation = self.adapt(train)
        # Trainable parameters in fp32 even when the base runs in bf16: small updates to bf16
        # weights round away (autocast still computes in bf16 on CUDA).
        for p in adaptation.module.parameters():
            if p.requires_grad and p.dtype != torch.float32:
                p.data = p.data.float()
        self.adaptation_ = adaptation
        chat = self.runtime.chat
        max_len = ctx.training.max_length
        with self.model.adapted(adaptation) as lm:
            examples = lm.training_examples(train, chat=chat, max_length=max_len)
            dev = None
            if ctx.dev:
                dev_examples = lm.training_examples(ctx.dev, chat=chat, max_length=max_len)
                metric = None
                if ctx.dev_score is not None:
                    score = ctx.dev_score
                    dev_prompts = list(ctx.dev)

                    def metric() -> float:
                        return score(self._predict(dev_prompts, ctx.generation, "none", quiet=True))

                dev = DevEvaluator(dev_examples, metric, ctx.metric_name)
            trainer = Trainer(
                lm,
                ctx.training,
                lr=self.config.lr,
                weight_decay=self.config.weight_decay,
                seed=ctx.seed,
                checkpoint_dir=ctx.workdir / "checkpoint" if ctx.workdir else None,
                dev=dev,
                on_step=ctx.on_step,
                on_log=ctx.on_log,
            )
            self.training_: TrainingReport = trainer.train(examples)
            adaptation.module = trainer.model
            self.trainable_parameters_, self.base_parameters_ = self.parameter_counts(adaptation)
        self.adapter_path_: Path | None = None
        if ctx.workdir is not None:
            procs = current()
            with procs.main_first():  # one process writes, the others find it written
                if procs.is_main:
                    self.save(ctx.workdir / "adapter")
            self.adapter_path_ = ctx.workdir / "adapter"
            kill_point("adapter-saved")
        return self

    def write_meta(self, path: Path) -> None:
        """How prompts were formatted in training, so evaluation formats them the same way."""
        meta = {"method": self.kind, "chat_template": self.runtime.chat, "base_model": self.model.name}
        (path / ADAPTER_META).write_text(json.dumps(meta, indent=2) + "\n")

    @contextmanager
    def applied(self) -> Iterator[LanguageModel]:
        module = self.adaptation_.module
        was_training = module.training
        module.eval()
        try:
            with self.model.adapted(self.adaptation_) as lm:
                yield lm
        finally:
            if was_training:
                module.train()

    def _predict(self, prompts: Sequence[Prompt], generation: GenerationSettings, normalization: str, quiet: bool = False) -> list[Prediction]:
        runtime = replace(self.runtime, progress=None) if quiet else self.runtime
        with self.applied() as lm:
            return predict(lm, prompts, generation, runtime, normalization)

    def predict(self, prompts: Sequence[Prompt], generation: GenerationSettings, normalization: str = "none") -> list[Prediction]:
        return self._predict(prompts, generation, normalization)

    def cost(self) -> Cost:
        """Trainable parameters, saved size and training cost for the report."""
        return Cost(
            trainable_params=float(self.trainable_parameters_),
            trainable_pct=round(100.0 * self.trainable_parameters_ / max(self.base_parameters_, 1), 4),
            train_s=self.training_.wall_s,
            train_tokens_per_s=self.training_.tokens_per_s,
            peak_memory_mb=self.training_.peak_memory_mb,
            adapter_bytes=float(directory_size(self.adapter_path_)) if self.adapter_path_ is not None else None,
        )

    def release(self) -> None:
        """Give the base model back without the adaptation (LoRA layers removed, unmerged)."""
        adaptation = getattr(self, "adaptation_", None)
        if adaptation is None:
            return
        adaptation.remove()
        for p in self.model.model.parameters():
            p.requires_grad_(False)
        del self.adaptation_


class PeftMethod(TrainableMethod):
    """A PEFT method: subclasses implement :meth:`peft_config`."""

    def peft_config(self, train: Sequence[Prompt]) -> Any:
        """The PEFT config object for this method."""
        raise NotImplementedError

    def _task_type(self) -> Any:
        from peft import TaskType

        return TaskType(self.model.peft_task_type)

    def adapt(self, train: Sequence[Prompt]) -> Adaptation:
        from peft import get_peft_model

        return PeftAdaptation(get_peft_model(self.model.model, self.peft_config(train)))

    def parameter_counts(self, adaptation: Adaptation) -> tuple[int, int]:
        assert isinstance(adaptation, PeftAdaptation)
        return adaptation.parameter_counts()

    def save(self, path: Path) -> Path:
        """Save the adapter in PEFT format (``PeftModel.from_pretrained`` loads it)."""
        path.mkdir(parents=True, exist_ok=True)
        self.adaptation_.module.save_pretrained(str(path))
        self.write_meta(path)
        return path
