"""The GPU check: promptkit's CUDA path end to end on one GPU, in one short run, one table.

    bash benchmarks/gpu_check.sh [MODEL]      # MODEL: a local directory or a hub id in the HF cache

1. the default comparison (zero-shot, few-shot, prompt tuning, LoRA) on squad_demo, bf16, on the
   Hugging Face backend;
2. the same cells on ``--backend vllm`` (when vLLM is installed): the share of identical greedy
   predictions per method (bf16 kernels differ between the two, so this is measured, not 1.0);
3. QLoRA: LoRA on the model loaded in NF4 (``model.quantization: nf4``, when bitsandbytes is);
4. training throughput (target tokens/s) and peak memory of each trained cell.

Nothing reaches the network (``HF_HUB_OFFLINE=1``). ``--dry-run`` runs the same steps on the CPU
with the embedded model and a tiny budget, to check the script itself where no GPU is lent.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

METHODS = ["zero-shot", "few-shot", "prompt-tuning", "lora"]


def promptkit(out: Path, run_id: str, model: str, limit: int, extra: list[str]) -> tuple[dict[str, Any] | None, float, str]:
    args = [sys.executable, "-m", "promptkit.cli", "eval", "--task", "squad_demo", "--model", model, "--limit", str(limit),
            "--out", str(out), "--run-id", run_id, *extra]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    t0 = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0 or not (out / run_id / "results.json").is_file():
        return None, wall, (done.stderr.strip().splitlines() or ["?"])[-1]
    return json.loads((out / run_id / "results.json").read_text()), wall, ""


def agreement(a: Path, b: Path, method: str) -> tuple[int, int]:
    """Identical predictions of ``method`` in two run directories: (same, total)."""
    def rows(run: Path) -> dict[str, str]:
        path = run / "samples" / "squad_demo" / f"{method}.jsonl"
        return {r["example_id"]: r["prediction"] for r in map(json.loads, path.open())} if path.is_file() else {}

    left, right = rows(a), rows(b)
    shared = [k for k in left if k in right]
    return sum(left[k] == right[k] for k in shared), len(shared)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", default="Qwen/Qwen2.5-0.5B-Instruct")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--dry-run", action="store_true", help="CPU, embedded model, tiny budget: checks the script")
    args = parser.parse_args()
    model, limit, steps = (("smollm2-135m-instruct", 4, 2) if args.dry_run else (args.model, args.limit, args.steps))
    device = ["--device", "cpu"] if args.dry_run else ["--device", "cuda", "--dtype", "bfloat16"]
    budget = ["--set", f"training.steps={steps}", "--set", "training.batch_size=8", *device]
    methods = [x for m in METHODS for x in ("--method", m)]
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        hf, wall, err = promptkit(out, "hf", model, limit, [*methods, *budget])
        if hf is None:
            sys.exit(f"the Hugging Face run failed: {err}")
        rows.append(["HF backend, 4 methods", f"{wall:.0f} s", _scores(hf)])
        if importlib.util.find_spec("vllm") is not None:
            vl, wall, err = promptkit(out, "vllm", model, limit, [*methods, *budget, "--backend", "vllm"])
            if vl is None:
                rows.append(["vLLM backend", "failed", err])
            else:
                rates = ", ".join(f"{m} {s}/{n}" for m in METHODS for s, n in [agreement(out / "hf", out / "vllm", m)])
                rows.append(["vLLM backend: identical greedy predictions", f"{wall:.0f} s", rates])
        else:
            rows.append(["vLLM backend", "skipped", "vllm is not installed (pip install 'promptkit[vllm]')"])
        if importlib.util.find_spec("bitsandbytes") is not None and not args.dry_run:
            q, wall, err = promptkit(out, "qlora", model, limit, ["--method", "lora", *budget, "--set", "model.quantization=nf4"])
            rows.append(["QLoRA (NF4 base) LoRA", f"{wall:.0f} s" if q else "failed", _scores(q) if q else err])
        else:
            rows.append(["QLoRA", "skipped", "bitsandbytes is not installed or --dry-run (CPU)"])
        for c in hf["cells"]:
            if c.get("cost"):
                rows.append([f"training {c['method']}", f"{c['cost']['train_s']:.1f} s",
                             f"{c['cost']['train_tokens_per_s']:.0f} tokens/s, peak {c['cost']['peak_memory_mb']:.0f} MB "
                             f"({(c.get('training') or {}).get('peak_memory_kind', '?')})"])
    print(f"| check ({model}, {limit} questions, {steps} steps) | time | result |\n|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


def _scores(result: dict[str, Any]) -> str:
    return ", ".join(f"{c['method']} EM {c['metrics']['exact_match']['value']:.1f}" for c in result["cells"] if c.get("metrics"))


if __name__ == "__main__":
    main()
