"""Cross-check promptkit's generation against lm-evaluation-harness (HF backend).

Takes a finished promptkit run (one generation task, zero-shot), writes its exact prompts and
references as a JSONL dataset plus an lm-eval task YAML that feeds them verbatim with the same
generation settings, runs ``lm_eval`` on the same model directory, and compares per-example
predictions and exact match.

lm-eval is not a promptkit dependency: install it in its own environment and pass its python:

    python -m venv /tmp/lmeval && /tmp/lmeval/bin/pip install torch==2.13.0 "lm_eval[hf]"
    promptkit eval --task squad --data-dir ../shared/data --limit 200 --method zero-shot \
        --chat-template off --run-id squad-plain
    python benchmarks/compare_lm_eval.py reports/squad-plain --task squad \
        --lm-eval-python /tmp/lmeval/bin/python
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

TASK_YAML = """task: promptkit_parity
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "{{{{prompt}}}}"
doc_to_target: "{{{{references[0]}}}}"
generation_kwargs:
  until: {until}
  max_gen_toks: {max_new_tokens}
  do_sample: false
  temperature: 0.0
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
    ignore_case: true
    ignore_punctuation: true
metadata:
  version: 1
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--task", required=True)
    ap.add_argument("--method", default="zero-shot")
    ap.add_argument("--lm-eval-python", required=True, help="python of an environment with lm_eval installed")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--work", type=Path, default=None, help="scratch directory (default: a temp dir)")
    args = ap.parse_args()

    from promptkit.metrics import MetricContext, get_metric

    results = json.loads((args.run_dir / "results.json").read_text())
    if results["chat_template"]:
        print("note: the run used a chat template; prompts in samples are already formatted, so "
              "lm-eval gets them verbatim (no --apply_chat_template)")
    gen = results["tasks"][args.task]["generation"]
    rows = [json.loads(line) for line in (args.run_dir / "samples" / args.task / f"{args.method}.jsonl").open()]
    work = args.work or Path(tempfile.mkdtemp(prefix="pk-lmeval-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "data.jsonl"
    with data.open("w") as fh:
        for r in rows:
            fh.write(json.dumps({"id": r["example_id"], "prompt": r["prompt"], "references": r["references"]}) + "\n")
    (work / "tasks").mkdir(exist_ok=True)
    (work / "tasks" / "promptkit_parity.yaml").write_text(
        TASK_YAML.format(data=data, until=json.dumps(gen["stop"]), max_new_tokens=gen["max_new_tokens"])
    )
    model_dir = str(Path(results["model"]["source"]).expanduser().resolve())
    cmd = [
        args.lm_eval_python, "-m", "lm_eval", "--model", "hf",
        "--model_args", f"pretrained={model_dir},dtype=float32",
        "--tasks", "promptkit_parity", "--include_path", str(work / "tasks"),
        "--batch_size", str(args.batch_size), "--device", "cpu",
        "--log_samples", "--output_path", str(work / "out"),
    ]
    print("running:", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, env={"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    sample_files = sorted((work / "out").rglob("samples_promptkit_parity_*.jsonl"))
    theirs = {}
    for line in sample_files[-1].open():
        s = json.loads(line)
        theirs[s["doc"]["id"]] = s["filtered_resps"][0] if s.get("filtered_resps") else s["resps"][0][0]
    em = get_metric("exact_match")
    ctx = MetricContext(language=None)
    ours_pred = [r["prediction"] for r in rows]
    their_pred = [theirs[r["example_id"]].strip() for r in rows]
    refs = [r["references"] for r in rows]
    same = sum(a == b for a, b in zip(ours_pred, their_pred, strict=True))
    em_ours = float(em.aggregate(em.stats(ours_pred, refs, ctx)))
    em_theirs = float(em.aggregate(em.stats(their_pred, refs, ctx)))
    print(f"examples: {len(rows)}")
    print(f"identical predictions: {same}/{len(rows)}")
    print(f"exact match (SQuAD normalisation): promptkit {em_ours:.1f}, lm-eval {em_theirs:.1f}")
    for r, a, b in zip(rows, ours_pred, their_pred, strict=True):
        if a != b:
            print(f"  differs {r['example_id']}: promptkit={a!r} lm-eval={b!r}")
    return 0 if same == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
