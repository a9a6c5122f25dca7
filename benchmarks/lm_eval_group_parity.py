"""Group parity with lm-evaluation-harness: the same group file, the same model, the same aggregate.

For an lm-eval group file whose tasks read local data (a copy of MMLU's ``_mmlu.yaml`` with some
subjects, say), run

- promptkit: ``promptkit eval --task lm-eval:GROUP.yaml --method zero-shot`` (or ``few-shot
  --shots K``), and
- lm-eval 0.4.x in its own environment: ``lm_eval run --model hf --tasks GROUP_NAME
  --include_path GROUP_FOLDER --num_fewshot K --log_samples`` on the same model directory,

then compare every task's rows (each choice's log-likelihood, the chosen answer, ``acc``), every
task's ``acc`` and every group's aggregate (lm-eval's ``acc,none`` of the group against
promptkit's ``group_scores`` value). The task names must not clash with lm-eval's own catalogue
(give the copies names of their own). Offline; not part of the test suite.

    .venv/bin/python benchmarks/lm_eval_group_parity.py GROUP.yaml --lm-eval-python ../lmeval-venv/bin/python \\
        --model ~/.cache/promptkit/models/SmolLM2-135M-Instruct.Q4_1-d684e4d9b778 [--shots K]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from lm_eval_row_parity import compare  # noqa: E402 (the per-row comparison of one task)


def promptkit_run(group: Path, model: str, shots: int, out: Path) -> dict[str, Any]:
    method = ["--method", "few-shot", "--shots", str(shots)] if shots else ["--method", "zero-shot"]
    cmd = [str(ROOT / ".venv" / "bin" / "promptkit"), "eval", "--task", f"lm-eval:{group}", "--model", model, *method,
           "--out", str(out), "--run-id", "pk", "--device", "cpu", "--set", "bootstrap_samples=0", "--trust-task-code"]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return dict(json.loads((out / "pk" / "results.json").read_text(encoding="utf-8")))


def lm_eval_run(group: Path, model: str, shots: int, out: Path, python: str) -> tuple[dict[str, Any], dict[str, Path]]:
    name = next(line.split(":", 1)[1].strip() for line in group.read_text(encoding="utf-8").splitlines()
                if line.startswith("group:"))
    cmd = [str(Path(python).parent / "lm_eval"), "run", "--model", "hf", "--model_args", f"pretrained={model},dtype=float32",
           "--tasks", name, "--include_path", str(group.parent), "--num_fewshot", str(shots), "--device", "cpu",
           "--batch_size", "16", "--output_path", str(out), "--log_samples"]
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    (results,) = out.glob("*/results_*.json")
    samples = {p.name.removeprefix("samples_").rsplit("_", 1)[0]: p for p in out.glob("*/samples_*.jsonl")}
    return dict(json.loads(results.read_text(encoding="utf-8"))), samples


def lm_eval_rows(path: Path) -> dict[int, dict[str, dict[str, Any]]]:
    rows: dict[int, dict[str, dict[str, Any]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        rows.setdefault(int(r["doc_id"]), {})[r["filter"]] = r
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("group", type=Path, help="an lm-eval group file whose tasks read local data")
    ap.add_argument("--lm-eval-python", required=True)
    ap.add_argument("--model", required=True, help="a Hugging Face model directory both tools load")
    ap.add_argument("--shots", type=int, default=0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="pk-group-") as tmp:
        ours = promptkit_run(args.group.resolve(), args.model, args.shots, Path(tmp) / "pk")
        theirs, samples = lm_eval_run(args.group.resolve(), args.model, args.shots, Path(tmp) / "lm", args.lm_eval_python)
        differences = 0
        for task in ours["tasks"]:
            rows = dict(enumerate(json.loads(line) for line in
                                  (Path(tmp) / "pk" / "pk" / "samples" / task / f"{'few-shot' if args.shots else 'zero-shot'}.jsonl")
                                  .read_text(encoding="utf-8").splitlines()))
            report = compare(rows, lm_eval_rows(samples[task]))
            differences += len(report["differences"])
            print(f"{task}: {json.dumps({k: v for k, v in report.items() if k != 'differences'})}; "
                  f"{'identical' if not report['differences'] else report['differences'][:5]}")
        for score in ours.get("group_scores", []):
            theirs_value = 100 * theirs["results"][score["group"]]["acc,none"]
            same = abs(score["value"] - theirs_value) < 1e-9
            differences += not same
            print(f"group {score['group']} ({score['method']}, {score['n']} rows, {score['tasks']} tasks): promptkit "
                  f"{score['value']:.4f} [{score['ci_low']:.1f}, {score['ci_high']:.1f}] / lm-eval {theirs_value:.4f}"
                  f"{'' if same else ' DIFFERENT'}")
    print("no differences" if not differences else f"{differences} difference(s)")
    return 0 if not differences else 1


if __name__ == "__main__":
    sys.exit(main())
