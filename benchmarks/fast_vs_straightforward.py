"""Each inference optimisation against the straightforward path it replaced, in one process.

The straightforward paths stay in the backend for exactly this (and for the tests that hold the
outputs equal): ``generate_fixed_batches`` (``model.generate`` on length-sorted batches, stop
strings checked by decoding every row) and ``loglikelihood_per_pair`` (one sequence per
(context, choice) pair, log-softmax over every position). Same loaded model, same prompts.

    python benchmarks/fast_vs_straightforward.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args()

    from promptkit.config import ModelConfig
    from promptkit.harness import Runtime
    from promptkit.harness.predict import choice_continuation
    from promptkit.models import load_model
    from promptkit.prompting.chat import format_prompt
    from promptkit.tasks import load_task
    from promptkit.tasks.catalog import default_data_dir, resolve_task

    data_dir = default_data_dir(args.data_dir)
    lm = load_model(ModelConfig(device="cpu"))
    rt = Runtime(batch_size=args.batch_size)

    squad = load_task(resolve_task("squad"))
    texts = [format_prompt(squad.prompts[0].render(e), lm.tokenizer, False) for e in squad.examples(squad.config.eval_split, data_dir, 200)]
    lm.generate(texts[:2], max_new_tokens=2, stop=["\n"], runtime=rt)  # warm-up
    t0 = time.perf_counter()
    fast = lm.generate(texts, max_new_tokens=32, stop=["\n"], runtime=rt)
    t1 = time.perf_counter()
    plain = lm.generate_fixed_batches(texts, max_new_tokens=32, stop=["\n"], runtime=rt)
    t2 = time.perf_counter()
    same = sum(a == b for a, b in zip(fast, plain, strict=True))
    print(f"| generation, 200 SQuAD, max 32, stop \\n, batch {args.batch_size} | running batch {t1 - t0:.1f} s | "
          f"fixed batches {t2 - t1:.1f} s | {(t2 - t1) / (t1 - t0):.2f}x | identical {same}/{len(fast)} |")

    sst2 = load_task(resolve_task("sst2"))
    prompts = [sst2.prompts[0].render(e) for e in sst2.examples(sst2.config.eval_split, data_dir, 300)]
    ctx = [format_prompt(p, lm.tokenizer, False) for p in prompts for _ in p.choices]
    cont = [choice_continuation(p, c, False) for p in prompts for c in p.choices]
    t0 = time.perf_counter()
    fast_ll = lm.loglikelihood(ctx, cont, rt)
    t1 = time.perf_counter()
    plain_ll = lm.loglikelihood_per_pair(ctx, cont, rt)
    t2 = time.perf_counter()
    worst = max(abs(a.logprob - b.logprob) for a, b in zip(fast_ll, plain_ll, strict=True))
    print(f"| scoring, 300 SST-2 x 2 label words, batch {args.batch_size} | shared contexts {t1 - t0:.1f} s | "
          f"per pair {t2 - t1:.1f} s | {(t2 - t1) / (t1 - t0):.2f}x | log-probs within {worst:.1e} |")


if __name__ == "__main__":
    main()
