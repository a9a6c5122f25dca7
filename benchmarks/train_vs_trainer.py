"""Training speed and memory: promptkit's loop against the transformers Trainer + PEFT, side by side.

Both sides train the same adapter (same PEFT config, same initial weights, same learning rate,
schedule, clipping and seed) on the same token sequences in the same batches: the promptkit side
writes the batches its Trainer will draw (``batch_schedule`` with the run's seed) and the
Trainer side reads them, one pre-made batch per step. Each side is a whole process of its own
(one after the other, never at once: two torch processes on two cores slow each other 5-10x).
Reported per run: training wall time, tokens/s (real tokens, padding excluded), the mean loss
over the steps, and the process's peak resident memory (``ru_maxrss``, model loading included).

The Trainer runs in its own environment (not a promptkit dependency):

    python3 -m venv /tmp/anchors/trainer && /tmp/anchors/trainer/bin/pip install torch==2.13.0 \\
        transformers==5.24.0 peft==0.21.2 accelerate

    python benchmarks/train_vs_trainer.py --trainer-python /tmp/anchors/trainer/bin/python \\
        --methods lora,prompt-tuning --repeats 3                          # demo_qa, batch 8, 30 steps
    python benchmarks/train_vs_trainer.py --trainer-python /tmp/anchors/trainer/bin/python \\
        --methods lora --long --steps 10 --repeats 1                       # ~500-token SQuAD prompts

``--promptkit-path DIR`` runs the promptkit side from another checkout's ``toolkit/`` (a "before"
measurement in the same invocation). Offline; not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import OFFLINE_ENV, markdown_table, summary

HERE = Path(__file__).resolve()


# ----------------------------------------------------------------------------- promptkit side
def long_prompts(data_dir: str, n: int) -> list[Any]:
    """SQuAD questions with two solved questions (other paragraphs) in front: ~500-token prompts."""
    from dataclasses import replace

    from promptkit.records import Turn
    from promptkit.tasks import load_task
    from promptkit.tasks.catalog import default_data_dir, resolve_task

    task = load_task(resolve_task("squad"))
    rows = task.examples(task.config.eval_split, default_data_dir(data_dir), 3 * n)
    prompts = [task.prompts[0].render(r) for r in rows]
    out = []
    for k in range(n):
        a, b, p = prompts[3 * k], prompts[3 * k + 1], prompts[3 * k + 2]
        out.append(replace(p, shots=(Turn(a.query, a.target), Turn(b.query, b.target))))
    return out


def run_promptkit(args: argparse.Namespace) -> dict[str, Any]:
    import torch
    from promptkit.config import ModelConfig, TrainingConfig
    from promptkit.harness import Runtime
    from promptkit.methods import METHODS, FitContext
    from promptkit.methods.training import batch_schedule
    from promptkit.models import load_model
    from promptkit.seeding import derive
    from promptkit.tasks import load_task
    from promptkit.tasks.catalog import default_data_dir, resolve_task

    lm = load_model(ModelConfig(device="cpu"))
    if args.long:
        prompts = long_prompts(args.data_dir, args.examples)
    else:
        task = load_task(resolve_task(args.task))
        rows = task.examples(task.config.train_split, default_data_dir(args.data_dir), args.examples)
        prompts = [task.prompts[0].render(r) for r in rows]
    training = TrainingConfig(steps=args.steps, batch_size=args.batch_size, max_length=args.max_length,
                              gradient_checkpointing=args.checkpointing)
    cls = METHODS.get(args.method)
    method = cls(cls.config_class(), lm, Runtime(batch_size=args.batch_size), FitContext(training=training, seed=args.seed))
    examples = lm.training_examples(prompts, chat=False, max_length=args.max_length)
    schedule = batch_schedule([len(e.input_ids) for e in examples], training.batch_size, training.steps, args.seed)
    torch.manual_seed(derive(args.seed, "init"))
    peft_config = method.peft_config(prompts)  # what fit() will build (init draws come after)
    batches = [[{"input_ids": examples[i].input_ids, "labels": examples[i].labels} for i in b] for b in schedule]
    Path(args.batches).write_text(json.dumps({
        "model": str(lm.source), "peft": peft_config.to_dict(), "init_seed": derive(args.seed, "init"), "seed": args.seed,
        "lr": method.config.lr, "weight_decay": method.config.weight_decay, "warmup_ratio": training.warmup_ratio,
        "schedule": training.schedule, "max_grad_norm": training.max_grad_norm, "batches": batches,
        "pad_token_id": lm.tokenizer.pad_token_id,
    }, default=lambda o: sorted(o) if isinstance(o, (set, frozenset)) else str(o)))
    t0 = time.perf_counter()
    method.fit(prompts)
    wall = time.perf_counter() - t0
    report = method.training_
    tokens = sum(len(r["input_ids"]) for b in batches for r in b)
    assert report.tokens == tokens, (report.tokens, tokens)
    return {"side": "promptkit", "train_s": report.wall_s, "fit_s": wall, "tokens": tokens,
            "tokens_per_s": tokens / report.wall_s, "mean_loss": statistics.fmean(report.losses),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


# ----------------------------------------------------------------------------- Trainer side
def run_trainer(args: argparse.Namespace) -> dict[str, Any]:
    """Standalone: needs only torch, transformers and peft (the anchor environment)."""
    import torch
    from peft import get_peft_config, get_peft_model
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

    spec = json.loads(Path(args.batches).read_text())
    torch.set_num_threads(torch.get_num_threads())
    model = AutoModelForCausalLM.from_pretrained(spec["model"], dtype=torch.float32)
    peft = {k: v for k, v in spec["peft"].items() if v is not None}
    torch.manual_seed(spec["init_seed"])
    model = get_peft_model(model, get_peft_config(peft))
    pad = spec["pad_token_id"]

    class Batches(torch.utils.data.Dataset):  # type: ignore[type-arg]
        def __len__(self) -> int:
            return len(spec["batches"])

        def __getitem__(self, i: int) -> Any:
            return spec["batches"][i]

    def collate(items: list[Any]) -> dict[str, Any]:
        (rows,) = items
        width = max(len(r["input_ids"]) for r in rows)
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        labels = torch.full_like(ids, -100)
        for k, r in enumerate(rows):
            n = len(r["input_ids"])
            ids[k, :n], mask[k, :n], labels[k, :n] = torch.tensor(r["input_ids"]), 1, torch.tensor(r["labels"])
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}

    targs = TrainingArguments(
        output_dir=args.work, per_device_train_batch_size=1, max_steps=len(spec["batches"]),
        learning_rate=spec["lr"], weight_decay=spec["weight_decay"], warmup_steps=int(spec["warmup_ratio"] * len(spec["batches"])),
        lr_scheduler_type=spec["schedule"], max_grad_norm=spec["max_grad_norm"] or 0.0, logging_steps=1,
        save_strategy="no", report_to=[], seed=spec["seed"], use_cpu=True, dataloader_num_workers=0,
        remove_unused_columns=False, disable_tqdm=True,
    )

    class InOrder(Trainer):
        def _get_train_sampler(self, *a: Any, **k: Any) -> Any:
            return torch.utils.data.SequentialSampler(self.train_dataset)

    trainer = InOrder(model=model, args=targs, train_dataset=Batches(), data_collator=collate)
    out = trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    tokens = sum(len(r["input_ids"]) for b in spec["batches"] for r in b)
    seconds = out.metrics["train_runtime"]
    return {"side": "Trainer+PEFT", "train_s": seconds, "tokens": tokens, "tokens_per_s": tokens / seconds,
            "mean_loss": statistics.fmean(losses), "steps_logged": len(losses),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


# ----------------------------------------------------------------------------- the comparison
def child(python: str, side: str, args: argparse.Namespace, method: str, batches: Path, env_path: str | None) -> dict[str, Any]:
    cmd = [python, str(HERE), side, "--method", method, "--batches", str(batches), "--task", args.task,
           "--steps", str(args.steps), "--batch-size", str(args.batch_size), "--examples", str(args.examples),
           "--max-length", str(args.max_length), "--seed", str(args.seed), "--work", str(args.work)]
    if args.data_dir:
        cmd += ["--data-dir", args.data_dir]
    if args.long:
        cmd.append("--long")
    if args.checkpointing:
        cmd.append("--checkpointing")
    env = dict(OFFLINE_ENV)
    if env_path:
        env["PYTHONPATH"] = env_path
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{side} side failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("side", nargs="?", choices=["promptkit", "trainer"], help=argparse.SUPPRESS)
    ap.add_argument("--trainer-python", default="/tmp/anchors/trainer/bin/python")
    ap.add_argument("--promptkit-path", default=None, help="toolkit/ of another checkout for an extra 'before' side")
    ap.add_argument("--methods", default="lora,prompt-tuning")
    ap.add_argument("--method", default="lora", help=argparse.SUPPRESS)
    ap.add_argument("--task", default="demo_qa")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--long", action="store_true", help="~500-token SQuAD prompts (needs --data-dir with squad)")
    ap.add_argument("--checkpointing", action="store_true", help="promptkit side with training.gradient_checkpointing")
    ap.add_argument("--examples", type=int, default=200)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-length", type=int, default=512)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batches", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, default=Path("/tmp/pk-train-bench"))
    args = ap.parse_args()
    if args.side == "promptkit":
        print(json.dumps(run_promptkit(args)))
        return 0
    if args.side == "trainer":
        print(json.dumps(run_trainer(args)))
        return 0

    args.work.mkdir(parents=True, exist_ok=True)
    sides = [("promptkit", sys.executable, None)]
    if args.promptkit_path:
        sides.append(("promptkit before", sys.executable, args.promptkit_path))
    print(f"{'long SQuAD prompts' if args.long else args.task}, batch {args.batch_size}, {args.steps} steps, "
          f"max_length {args.max_length}, {args.repeats} repeats, one process at a time", flush=True)
    table = []
    for method in args.methods.split(","):
        runs: dict[str, list[dict[str, Any]]] = {}
        for r in range(args.repeats):
            batches = args.work / f"batches-{method}.json"
            for name, python, path in sides:
                runs.setdefault(name, []).append(child(python, "promptkit", args, method, batches, path))
                print(f"  {method} run {r + 1} {name}: {runs[name][-1]}", flush=True)
            runs.setdefault("Trainer+PEFT", []).append(child(args.trainer_python, "trainer", args, method, batches, None))
            print(f"  {method} run {r + 1} Trainer+PEFT: {runs['Trainer+PEFT'][-1]}", flush=True)
        anchor = statistics.median(x["tokens_per_s"] for x in runs["Trainer+PEFT"])
        for name, rs in runs.items():
            ratio = statistics.median(x["tokens_per_s"] for x in rs) / anchor
            table.append(f"| {method} | {name} | {summary([x['tokens_per_s'] for x in rs])} | {summary([x['train_s'] for x in rs])} | "
                         f"{statistics.median(x['mean_loss'] for x in rs):.4f} | {summary([x['peak_rss_mb'] / 1024 for x in rs])} | {ratio:.2f}x |")
    print()
    print(markdown_table(["method", "side", "tokens/s median (min-max)", "train s", "mean loss", "peak RSS GB", "tokens/s vs Trainer"], table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
