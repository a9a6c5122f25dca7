"""The one training loop shared by every trainable method (soft prompts, prefixes, LoRA).

Loss on the target tokens only: the backend turns prompts into examples whose prompt tokens are
masked (``LanguageModel.training_examples``) and batches them (``collate``). AdamW with warmup and
linear/cosine decay, gradient accumulation and clipping, bf16 autocast on CUDA through
accelerate, fp32 on CPU. The batch order of the whole run is fixed up front from the seed, so a
run resumed from a checkpoint sees exactly the batches an uninterrupted run would.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promptkit import interrupt
from promptkit.config import TrainingConfig
from promptkit.distributed import current
from promptkit.errors import TrainingError
from promptkit.faults import kill_point
from promptkit.methods.checkpoint import load_training_checkpoint, rng_state, set_rng_state, write_checkpoint
from promptkit.methods.memory import RssPeak, gradient_checkpointing
from promptkit.models.backend import IGNORE, LanguageModel, TrainingExample
from promptkit.records import TrainingReport

CHECKPOINT = "checkpoint.safetensors"


def batch_schedule(lengths: Sequence[int], batch_size: int, n_batches: int, seed: int) -> list[list[int]]:
    """Indices of every batch of the run, fixed by the seed.

    Each epoch shuffles the examples, sorts windows of 32 batches by length (so a batch holds
    examples of similar length and padding wastes little compute), then shuffles batch order.
    """
    rng = random.Random(seed)
    batches: list[list[int]] = []
    n = len(lengths)
    window = batch_size * 32
    while len(batches) < n_batches:
        order = list(range(n))
        rng.shuffle(order)
        epoch: list[list[int]] = []
        for start in range(0, n, window):
            chunk = sorted(order[start : start + window], key=lambda i: lengths[i])
            epoch += [chunk[j : j + batch_size] for j in range(0, len(chunk), batch_size)]
        rng.shuffle(epoch)
        batches += epoch
    return batches[:n_batches]


def total_steps(cfg: TrainingConfig, n_examples: int) -> int:
    if cfg.epochs is None:
        return cfg.steps
    per_step = cfg.batch_size * cfg.grad_accum
    return max(1, math.ceil(cfg.epochs * n_examples / per_step))


@dataclass
class DevEvaluator:
    """Held-out slice of the train split: teacher-forced loss and the task metric."""

    examples: Sequence[TrainingExample]
    metric: Callable[[], float] | None = None
    metric_name: str = ""


@dataclass
class _Loop:
    """One training run as the loop sees it: what accelerate prepared, the batches, the report
    being filled and the early-stopping state (a resumed run restores the last three)."""

    accelerator: Any
    model: Any
    optimizer: Any
    scheduler: Any
    params: list[Any]
    use_cuda: bool
    steps: int
    schedule: list[list[int]]
    n_targets: list[int]
    report: TrainingReport
    state: dict[str, Any]
    start_step: int = 0


class Trainer:
    """Trains the parameters of ``model`` that require grad.

    Args:
        lm: the adapted model (``with base.adapted(adaptation) as lm``); its ``module`` is
            trained, its ``collate`` makes batches.
        cfg: the shared training budget and schedule.
        lr / weight_decay: the method's optimiser settings.
        seed: fixes batch order and dropout.
        checkpoint_dir: where to save/restore ``checkpoint.safetensors`` (None: no checkpoints).
        dev: optional dev evaluator (learning curves, early stopping).
        on_step: called as ``on_step(step, loss)`` after every optimiser step.
        on_log: called as ``on_log(step, values)`` with ``train/loss`` and ``train/lr`` after every
            step and the ``dev/...`` figures after each dev evaluation (experiment trackers).
    """

    def __init__(self, lm: LanguageModel, cfg: TrainingConfig, *, lr: float, weight_decay: float, seed: int,
                 checkpoint_dir: Path | None = None, dev: DevEvaluator | None = None,
                 on_step: Callable[[int, float], None] | None = None,
                 on_log: Callable[[int, dict[str, float]], None] | None = None):
        self.lm = lm
        self.model = lm.module
        self.cfg = cfg
        self.lr = lr
        self.weight_decay = weight_decay
        self.seed = seed
        self.device = lm.device
        self.checkpoint_dir = checkpoint_dir
        self.dev = dev
        self.on_step = on_step
        self.on_log = on_log

    def _params(self) -> list[Any]:
        return [p for p in self.model.parameters() if p.requires_grad]

    def _trainable_state(self) -> dict[str, Any]:
        return {n: p.detach().clone() for n, p in self.model.named_parameters() if p.requires_grad}

    def _load_trainable_state(self, state: dict[str, Any]) -> None:
        import torch

        with torch.no_grad():
            for n, p in self.model.named_parameters():
                if n in state:
                    p.copy_(state[n])

    def train(self, examples: Sequence[TrainingExample]) -> TrainingReport:
        """Run the whole budget (or resume it) and return the report.

        Raises:
            TrainingError: no examples, or a non-finite loss (with the step and learning rate).
        """
        with gradient_checkpointing(self.lm, self.cfg.gradient_checkpointing):
            return self._train(examples)

    def _train(self, examples: Sequence[TrainingExample]) -> TrainingReport:
        import torch

        if not examples:
            raise TrainingError("no training examples")
        cfg = self.cfg
        loop = self._setup(examples)
        ckpt = self.checkpoint_dir / CHECKPOINT if self.checkpoint_dir else None
        torch.manual_seed(self.seed)
        if ckpt is not None and ckpt.is_file():
            finished = self._resume(loop, ckpt)
            if finished is not None:  # trained to the end before an interruption: nothing to redo
                return finished
        if loop.use_cuda:
            torch.cuda.reset_peak_memory_stats()
        rss = RssPeak()
        loop.model.train()
        t_start = time.perf_counter()
        eval_time = 0.0
        report, steps = loop.report, loop.steps
        tokens = report.tokens
        for step in range(loop.start_step, steps):
            step_loss, step_tokens = self._step(loop, examples, step)
            tokens += step_tokens
            rss.sample()
            report.losses.append(round(step_loss, 6))
            done = step + 1
            if self.dev is not None and cfg.eval_every and (done % cfg.eval_every == 0 or done == steps):
                t0 = time.perf_counter()
                point = self._evaluate(done, step_loss)
                eval_time += time.perf_counter() - t0
                report.curve.append(point)
                if self.on_log is not None:
                    self.on_log(done, {"dev/" + k.removeprefix("dev_"): v for k, v in point.items() if k.startswith("dev_")})
                loop.model.train()
                if self._early_stop(point, loop.state, done):
                    report.stopped_early = done < steps
                    if report.stopped_early:
                        report.steps = done
                        break
            report.steps = done
            report.tokens = tokens
            if self.on_step is not None:
                self.on_step(done, step_loss)
            if self.on_log is not None:
                self.on_log(done, {"train/loss": step_loss, "train/lr": float(loop.scheduler.get_last_lr()[0])})
            stop = interrupt.requested() and done < steps  # Ctrl-C: this step is the last
            if ckpt is not None and done < steps and (stop or (cfg.checkpoint_every and done % cfg.checkpoint_every == 0)):
                report.wall_s += time.perf_counter() - t_start - eval_time
                t_start, eval_time = time.perf_counter(), 0.0
                self._save(ckpt, done, loop.optimizer, loop.scheduler, report, loop.state)
            if stop:
                raise interrupt.Interrupted(f"training stopped after step {done} of {steps}"
                                            + (" (checkpointed)" if ckpt is not None else ""))
        report.wall_s += time.perf_counter() - t_start - eval_time
        report.tokens = tokens
        return self._finish(loop, len(examples), rss, ckpt)

    def _setup(self, examples: Sequence[TrainingExample]) -> _Loop:
        """The optimizer, schedule and batches of a training run, prepared by accelerate."""
        import torch
        from accelerate import Accelerator
        from transformers import get_scheduler

        cfg = self.cfg
        params = self._params()
        if not params:
            raise TrainingError("the model has no trainable parameters")
        use_cuda = self.device.startswith("cuda")
        accelerator = Accelerator(mixed_precision="bf16" if use_cuda else "no", cpu=not use_cuda)
        steps = total_steps(cfg, len(examples))
        optimizer = torch.optim.AdamW(params, lr=self.lr, weight_decay=self.weight_decay)
        scheduler = get_scheduler(
            cfg.schedule if cfg.schedule != "constant" else "constant_with_warmup",
            optimizer,
            num_warmup_steps=int(cfg.warmup_ratio * steps),
            num_training_steps=steps,
        )
        # The scheduler stays ours: prepared, accelerate would step it once per process at every
        # step (it assumes each process adds a batch); here the processes share one batch.
        model, optimizer = accelerator.prepare(self.model, optimizer)
        schedule = batch_schedule([len(e.input_ids) for e in examples], cfg.batch_size, steps * cfg.grad_accum, self.seed)
        return _Loop(accelerator=accelerator, model=model, optimizer=optimizer, scheduler=scheduler, params=params,
                     use_cuda=use_cuda, steps=steps, schedule=schedule,
                     n_targets=[sum(1 for t in e.labels if t != IGNORE) for e in examples],
                     report=TrainingReport(planned_steps=steps, examples=len(examples)),
                     state={"best": None, "best_state": None, "bad_evals": 0})

    def _resume(self, loop: _Loop, ckpt: Path) -> TrainingReport | None:
        """Continue from the checkpoint: optimizer, schedule, random state and report as they
        were; the finished report when the checkpoint is the final one."""
        procs = current()
        saved = load_training_checkpoint(ckpt)
        self._load_trainable_state(saved["trainable"])
        if saved.get("final"):
            loop.model.eval()
            self.model = loop.accelerator.unwrap_model(loop.model)
            procs.barrier()
            return TrainingReport(**saved["report"])
        loop.optimizer.load_state_dict(saved["optimizer"])
        loop.scheduler.load_state_dict(saved["scheduler"])
        rng = saved["rng"]
        set_rng_state(rng[procs.rank] if len(rng) == procs.world else rng[0])
        loop.start_step = saved["step"]
        loop.report = TrainingReport(**saved["report"])
        loop.report.resumed_from = loop.start_step
        loop.state = saved["state"]
        return None

    def _step(self, loop: _Loop, examples: Sequence[TrainingExample], step: int) -> tuple[float, int]:
        """One optimizer step over its micro-batches; the step's loss and the tokens it read."""
        cfg = self.cfg
        procs = current()
        accelerator, model = loop.accelerator, loop.model
        rows = [loop.schedule[step * cfg.grad_accum + micro] for micro in range(cfg.grad_accum)]
        # Each micro-batch's loss is the mean over its own target tokens; weighted by its share
        # of the step's target tokens, accumulation equals one batch of batch_size * grad_accum.
        # Several processes split every micro-batch and DDP averages their gradients, hence
        # the factor `world`: the update equals the single-process one.
        step_targets = sum(loop.n_targets[i] for micro in rows for i in micro)
        step_loss = 0.0
        tokens = 0
        for micro, micro_rows in enumerate(rows):
            tokens += sum(len(examples[i].input_ids) for i in micro_rows)
            mine = procs.shard(micro_rows)
            # A process left without rows still runs a forward/backward (weight 0): DDP needs
            # every process in every gradient exchange.
            batch = self.lm.collate([examples[i] for i in (mine or micro_rows[:1])])
            share = sum(loop.n_targets[i] for i in mine) / max(step_targets, 1)
            batch = {k: v.to(accelerator.device) for k, v in batch.items()}
            last = micro == len(rows) - 1
            with accelerator.no_sync(model) if not last else contextlib.nullcontext():
                with accelerator.autocast():
                    loss = self.lm.training_loss(model, batch) * share
                accelerator.backward(loss * procs.world)
            step_loss += float(loss.detach())
        step_loss = procs.sum([step_loss])[0]
        if not math.isfinite(step_loss):
            raise TrainingError(
                f"training loss became {step_loss!r} at step {step + 1} (lr={self.lr}); "
                "lower the learning rate or check the data"
            )
        if cfg.max_grad_norm:
            accelerator.clip_grad_norm_(loop.params, cfg.max_grad_norm)
        loop.optimizer.step()
        loop.scheduler.step()
        loop.optimizer.zero_grad(set_to_none=True)
        return step_loss, tokens

    def _finish(self, loop: _Loop, n_examples: int, rss: RssPeak, ckpt: Path | None) -> TrainingReport:
        """The report completed (speed, epochs, peak memory), the best dev state restored, the
        final checkpoint written."""
        import torch

        cfg, report = self.cfg, loop.report
        report.tokens_per_s = round(report.tokens / report.wall_s, 2) if report.wall_s > 0 else 0.0
        report.wall_s = round(report.wall_s, 3)
        report.final_loss = report.losses[-1] if report.losses else float("nan")
        report.epochs = round(report.steps * cfg.batch_size * cfg.grad_accum / n_examples, 3)
        if loop.state["best_state"] is not None:
            # Early stopping / dev selection: keep the best parameters seen on the dev slice.
            self._load_trainable_state(loop.state["best_state"])
            report.best_step = loop.state["best_step"]
        if loop.use_cuda:
            report.peak_memory_mb = round(torch.cuda.max_memory_allocated() / 2**20, 1)
            report.peak_memory_kind = "cuda_max_allocated"
        else:
            report.peak_memory_mb = round(rss.peak / 2**20, 1)
            report.peak_memory_kind = "process_rss"
        loop.model.eval()
        self.model = loop.accelerator.unwrap_model(loop.model)
        if ckpt is not None:
            # The finished state (trainable parameters and this report) replaces the last
            # checkpoint: a run killed while this cell is evaluated does not train it again. The
            # run deletes it once the cell is in results.json.
            self._save_final(ckpt, report)
        return report

    def _save_final(self, path: Path, report: TrainingReport) -> None:
        procs = current()
        procs.barrier()  # every process is past its last read of the checkpoint
        if procs.is_main:
            write_checkpoint(path, {"step": report.steps, "final": True, "trainable": self._trainable_state(),
                                     "report": report.to_dict()})
        procs.barrier()

    def _evaluate(self, step: int, train_loss: float) -> dict[str, float]:
        """Dev loss (and metric) at ``step``; every process gets the same figures.

        Runs on the unwrapped model: a DDP forward exchanges buffers between processes, which
        would hang when processes run different numbers of dev batches.
        """
        import torch

        assert self.dev is not None
        procs = current()
        model = self.model
        model.eval()
        mine = procs.shard(range(len(self.dev.examples)))
        loss_sum = n_tokens = 0.0
        with torch.inference_mode():
            for start in range(0, len(mine), self.cfg.batch_size):
                chunk = [self.dev.examples[i] for i in mine[start : start + self.cfg.batch_size]]
                batch = self.lm.collate(chunk)
                # the model's loss is a mean over the tokens it predicts
                n = float(self.lm.loss_tokens(batch))
                batch = {k: v.to(next(model.parameters()).device) for k, v in batch.items()}
                if n:
                    loss_sum += float(self.lm.training_loss(model, batch)) * n
                    n_tokens += n
        loss_sum, n_tokens = procs.sum([loss_sum, n_tokens])
        # per target token, so the figure does not depend on how the dev slice is batched
        point = {"step": float(step), "train_loss": train_loss, "dev_loss": loss_sum / max(n_tokens, 1.0)}
        if self.dev.metric is not None:
            point["dev_" + (self.dev.metric_name or "metric")] = float(self.dev.metric())
        return point

    def _early_stop(self, point: dict[str, float], state: dict[str, Any], step: int) -> bool:
        """Track the best dev value (metric if any, else loss); True when patience runs out."""
        assert self.dev is not None
        if self.dev.metric is not None:
            value = point["dev_" + (self.dev.metric_name or "metric")]
        else:
            value = -point["dev_loss"]
        if state["best"] is None or value > state["best"]:
            state.update(best=value, best_state=self._trainable_state(), best_step=step, bad_evals=0)
            return False
        state["bad_evals"] += 1
        patience = self.cfg.early_stopping_patience
        return bool(patience and state["bad_evals"] >= patience)

    def _save(self, path: Path, step: int, optimizer: Any, scheduler: Any, report: TrainingReport, state: dict[str, Any]) -> None:
        """Write the checkpoint (main process; every process's random state goes in it)."""
        procs = current()
        rng = procs.all_gather(rng_state())
        if procs.is_main:
            write_checkpoint(path, {
                "step": step,
                "trainable": self._trainable_state(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "rng": rng,
                "report": report.to_dict(),
                "state": state,
            })
        procs.barrier()
        kill_point("checkpoint-saved")
