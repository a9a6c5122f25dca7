"""Achieved FLOP/s of prefill, decoding and a LoRA training step against this machine's matmul peak.

The peak is a measured square fp32 ``torch.matmul`` (the best of a few sizes). FLOPs are counted
analytically from the model config: per token 2 x (parameters of the blocks' linear layers), the
attention products 4 x layers x hidden x (keys attended), and the LM head 2 x vocab x hidden at
each position projected onto the vocabulary. A LoRA step counts the forward, the backward to
the activations (same FLOPs as the forward, frozen weights get no gradient) and nothing for the
adapters (they are ~1% of it). Prefill and training use real prompts (SQuAD dev and demo_qa).

    python benchmarks/flops.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any


def matmul_peak(threads: int) -> float:
    import torch

    best = 0.0
    for n in (1024, 2048, 3072):
        a, b = torch.randn(n, n), torch.randn(n, n)
        for _ in range(2):
            a @ b
        reps = max(3, int(4e10 / (2 * n**3)))
        t0 = time.perf_counter()
        for _ in range(reps):
            a @ b
        best = max(best, 2 * n**3 * reps / (time.perf_counter() - t0))
    return best


def block_linear_params(model: Any) -> int:
    import torch

    inner = model.get_decoder() if hasattr(model, "get_decoder") else model.model
    return sum(m.weight.numel() for m in inner.modules() if isinstance(m, torch.nn.Linear))


def forward_flops(cfg: Any, linear: int, tokens: int, attended: float, projected: int) -> float:
    """Matmul FLOPs of a forward over ``tokens`` positions, each attending ``attended`` keys on average."""
    return 2 * linear * tokens + 4 * cfg.num_hidden_layers * cfg.hidden_size * attended * tokens + 2 * cfg.vocab_size * cfg.hidden_size * projected


def timeit(fn: Any, reps: int) -> float:
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()

    import torch
    from promptkit.config import ModelConfig
    from promptkit.methods import METHODS
    from promptkit.models import load_model
    from promptkit.models.decoding import Prefilled
    from promptkit.prompting.chat import format_prompt
    from promptkit.tasks import load_task
    from promptkit.tasks.catalog import default_data_dir, resolve_task

    peak = matmul_peak(torch.get_num_threads())
    lm = load_model(ModelConfig(device="cpu"))
    cfg, linear = lm.model.config, block_linear_params(lm.model)
    data_dir = default_data_dir(args.data_dir)
    rows: list[tuple[str, float, float]] = []

    squad = load_task(resolve_task("squad"))
    prompts = [squad.prompts[0].render(e) for e in squad.examples(squad.config.eval_split, data_dir, args.batch_size)]
    seqs = [lm.encode(format_prompt(p, lm.tokenizer, False), chat=False) for p in prompts]
    width = min(map(len, seqs))
    seqs = [s[-width:] for s in seqs]  # the same length: no padding in the count
    holder: dict[str, Prefilled] = {}

    def prefill() -> None:
        with torch.inference_mode():
            holder["p"] = lm._prefill(seqs)

    t = timeit(prefill, args.reps)
    n = len(seqs) * width
    rows.append((f"prefill, {len(seqs)} x {width} tokens", forward_flops(cfg, linear, n, (width + 1) / 2, len(seqs)) / t, t))

    p = holder["p"]
    steps = 16
    base_cache = [(la.keys.clone(), la.values.clone()) for la in p.cache.layers]

    def decode() -> None:
        from transformers import DynamicCache

        cache = DynamicCache(ddp_cache_data=[(k.clone(), v.clone()) for k, v in base_cache])
        mask, pos, last = p.mask, p.position, p.logits.argmax(-1)
        with torch.inference_mode():
            for _ in range(steps):
                mask = torch.cat([mask, mask.new_ones((mask.shape[0], 1))], dim=1)
                pos = pos + 1
                last = lm._feed(last[:, None], cache, mask, pos[:, None])[:, -1].argmax(-1)

    t = timeit(decode, args.reps)
    flops = sum(forward_flops(cfg, linear, len(seqs), width + k + 1, len(seqs)) for k in range(steps))
    rows.append((f"decode, batch {len(seqs)}, {steps} steps after {width} tokens", flops / t, t / steps))

    qa = load_task(resolve_task("demo_qa"))
    train = [qa.prompts[0].render(e) for e in qa.examples(qa.config.train_split, data_dir, 8)]
    lora = METHODS.get("lora")
    from promptkit.harness import Runtime

    method = lora(lora.config_class(), lm, Runtime(batch_size=8))
    adaptation = method.adapt(train)
    with lm.adapted(adaptation) as alm:
        examples = alm.training_examples(train, chat=False, max_length=512)
        batch = alm.collate(examples)
        module = alm.module
        module.train()

        def step() -> None:
            loss = alm.training_loss(module, batch)
            loss.backward()
            module.zero_grad(set_to_none=True)

        t = timeit(step, args.reps)
    adaptation.remove()
    n = int(batch["attention_mask"].sum())
    width = batch["input_ids"].shape[1]
    targets = lm.loss_tokens(batch)
    rows.append((f"LoRA training step, {len(examples)} x {width} (padded), {targets} target positions",
                 2 * forward_flops(cfg, linear, n, (width + 1) / 2, targets) / t, t))

    print(f"matmul peak (fp32, {torch.get_num_threads()} threads): {peak / 1e9:.1f} GFLOP/s\n")
    print("| work | GFLOP/s | share of matmul peak | seconds |")
    print("|---|---|---|---|")
    for name, rate, seconds in rows:
        print(f"| {name} | {rate / 1e9:.1f} | {rate / peak:.0%} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
