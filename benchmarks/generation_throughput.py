"""Batched generation throughput, measured side by side in one process.

Runs the same prompts of a task through promptkit's harness at several batch sizes, and through
the loop people write by hand (one ``model.generate`` per example, no stop sequences, so every
answer runs to EOS or ``max_new_tokens``), on the same loaded model. Reports examples/s and the
ratio to the hand-written loop, and checks that every batch size gives the same predictions.
Ratios, not absolute times, are the result: machines here are shared and noisy.

    python benchmarks/generation_throughput.py                       # demo_qa, 64 examples
    python benchmarks/generation_throughput.py --task squad --data-dir ../shared/data --limit 48 \
        --batch-sizes 1,8,16 --chat-template off
"""

from __future__ import annotations

import argparse
import time
from typing import Any


def hand_loop(lm: Any, texts: list[str], chat: bool, max_new_tokens: int) -> float:
    """One unbatched greedy generate() per example: the usual notebook loop. Returns seconds."""
    import torch
    from promptkit.models.hf import encode

    t0 = time.perf_counter()
    for text in texts:
        ids = torch.tensor([encode(lm.tokenizer, text, chat)], device=lm.device)
        with torch.inference_mode():
            lm.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens,
                              do_sample=False, pad_token_id=lm.tokenizer.pad_token_id)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="demo_qa")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--limit", type=int, default=64)
    parser.add_argument("--model", default=None, help="default: the embedded SmolLM2-135M-Instruct")
    parser.add_argument("--batch-sizes", default="1,4,8,16")
    parser.add_argument("--chat-template", default="auto", choices=["auto", "on", "off"])
    args = parser.parse_args()

    import torch
    from promptkit.config import ModelConfig
    from promptkit.harness import Runtime, predict
    from promptkit.models import load_model
    from promptkit.prompting.chat import format_prompt, use_chat_template
    from promptkit.tasks import load_task
    from promptkit.tasks.catalog import default_data_dir, resolve_task

    task = load_task(resolve_task(args.task))
    data_dir = default_data_dir(args.data_dir)
    examples = task.examples(task.config.eval_split, data_dir, args.limit)
    template = task.prompts[0]
    prompts = [template.render(ex) for ex in examples]
    lm = load_model(ModelConfig(name=args.model))
    chat = use_chat_template(lm.tokenizer, args.chat_template)
    generation = task.config.generation
    print(f"{task.name}, {len(prompts)} examples, {lm.name} on {lm.device} ({lm.dtype}), chat template {'on' if chat else 'off'}, "
          f"{torch.get_num_threads()} threads, max_new_tokens {generation.max_new_tokens}")

    predict(lm, prompts[:2], generation, Runtime(batch_size=2, chat=chat))  # warm-up
    rows = []
    reference = None
    for b in (int(x) for x in args.batch_sizes.split(",")):
        t0 = time.perf_counter()
        preds = predict(lm, prompts, generation, Runtime(batch_size=b, chat=chat))
        seconds = time.perf_counter() - t0
        outputs = [p.raw_output for p in preds]
        reference = reference or outputs
        same = sum(a == o for a, o in zip(reference, outputs, strict=True))
        rows.append((f"promptkit, batch {b}", seconds, sum(p.output_tokens for p in preds), f"{same}/{len(preds)}"))
    texts = [format_prompt(p, lm.tokenizer, chat) for p in prompts]
    rows.append(("hand loop (generate per example, no stop)", hand_loop(lm, texts, chat, generation.max_new_tokens), 0, "-"))

    base = rows[-1][1]
    print("\n| run | seconds | examples/s | output tokens | speed-up vs hand loop | same predictions as the first |")
    print("|---|---|---|---|---|---|")
    for name, seconds, out_tokens, same in rows:
        print(f"| {name} | {seconds:.1f} | {len(prompts) / seconds:.2f} | {out_tokens or '-'} | {base / seconds:.2f}x | {same} |")


if __name__ == "__main__":
    main()
