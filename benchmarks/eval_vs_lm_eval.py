"""Evaluation speed: promptkit against lm-evaluation-harness (HF backend), side by side, whole processes.

Workloads (embedded SmolLM2-135M-Instruct, fp32, CPU, plain prompts without a chat template):

- ``generation``: SQuAD v1.1 dev, first 200 questions, greedy, at most 32 new tokens, stop "\\n".
  promptkit side: ``promptkit eval --task squad --method zero-shot``. lm-eval side: a
  ``generate_until`` task fed promptkit's exact prompts (from its samples file).
- ``sst2``: SST-2 dev, first 300 sentences, two label words. promptkit side: ``promptkit eval
  --task sst2``; lm-eval side: a ``multiple_choice`` task with the same prompts and words.
- ``reading``: a 4-choice reading task built from SQuAD dev (the paragraph and question, the gold
  answer and the answers of the next three questions as choices, several tokens each, after a
  ~180-token shared context). promptkit side: the backend's ``loglikelihood`` in a process of its
  own (no task adapter takes per-row choices); lm-eval side: ``multiple_choice`` on the same text.

Every repeat runs promptkit then lm-eval, one process at a time (two torch processes on two cores
slow each other 5-10x), and checks that predictions are identical. Printed: wall seconds per
side (median, min, max) and the ratio lm-eval / promptkit of the medians.

    python3 -m venv /tmp/anchors/lmeval && /tmp/anchors/lmeval/bin/pip install torch==2.13.0 "lm-eval[hf]==0.4.13"
    python benchmarks/eval_vs_lm_eval.py --data-dir ../shared/data --workloads generation,sst2,reading --repeats 3

``--promptkit-path DIR`` adds a side running another checkout's ``toolkit/`` (a "before").
Offline; not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import OFFLINE_ENV, markdown_table, summary
from compare_lm_eval import TASK_YAML

HERE = Path(__file__).resolve()
MC_YAML = """task: {name}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: multiple_choice
doc_to_text: "{{{{prompt}}}}"
doc_to_choice: "{{{{choices}}}}"
doc_to_target: label
target_delimiter: "{delimiter}"
metric_list:
  - metric: acc
metadata:
  version: 1
"""
ENV = OFFLINE_ENV


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def lm_eval(args: argparse.Namespace, task: str, tasks_dir: Path, out: Path, model_dir: str) -> tuple[float, dict[str, Any]]:
    cmd = [args.lm_eval_python, "-m", "lm_eval", "--model", "hf", "--model_args", f"pretrained={model_dir},dtype=float32",
           "--tasks", task, "--include_path", str(tasks_dir), "--batch_size", str(args.batch_size), "--device", "cpu",
           "--log_samples", "--output_path", str(out)]
    seconds, _ = timed(cmd, {**ENV, "PATH": "/usr/bin:/bin"})
    (samples,) = sorted(out.rglob(f"samples_{task}_*.jsonl"))[-1:]
    return seconds, {json.loads(line)["doc"]["id"]: json.loads(line) for line in samples.open()}


def promptkit_cli(args: argparse.Namespace, env: dict[str, str], task: str, limit: int, run_id: str) -> tuple[float, Path]:
    out = args.work / "runs"
    cmd = [str(Path(sys.executable).parent / "promptkit"), "eval", "--task", task, "--limit", str(limit), "--method", "zero-shot",
           "--chat-template", "off", "--batch-size", str(args.batch_size), "--out", str(out), "--run-id", run_id]
    if args.data_dir:
        cmd += ["--data-dir", args.data_dir]
    seconds, _ = timed(cmd, env)
    return seconds, out / run_id


def samples(run: Path, task: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "samples" / task / "zero-shot.jsonl").open()]


def workload_generation(args: argparse.Namespace, env: dict[str, str], tag: str, r: int) -> tuple[float, float, str]:
    seconds, run = promptkit_cli(args, env, "squad", 200, f"gen-{tag}-{r}")
    ours = samples(run, "squad")
    results = json.loads((run / "results.json").read_text())
    gen = results["tasks"]["squad"]["generation"]
    data = args.work / "gen.jsonl"
    data.write_text("".join(json.dumps({"id": s["example_id"], "prompt": s["prompt"], "references": s["references"]}) + "\n" for s in ours))
    tasks = args.work / "tasks-gen"
    tasks.mkdir(exist_ok=True)
    # the parity task compare_lm_eval.py writes: promptkit's prompts verbatim, its generation settings
    (tasks / "promptkit_parity.yaml").write_text(TASK_YAML.format(data=data, until=json.dumps(gen["stop"]), max_new_tokens=gen["max_new_tokens"]))
    if tag != "promptkit":
        return seconds, float("nan"), "-"
    theirs_s, theirs = lm_eval(args, "promptkit_parity", tasks, args.work / f"lmeval-gen-{r}", model_dir(results))
    same = sum(s["prediction"] == theirs[s["example_id"]]["filtered_resps"][0].strip() for s in ours)
    return seconds, theirs_s, f"{same}/{len(ours)}"


def workload_sst2(args: argparse.Namespace, env: dict[str, str], tag: str, r: int) -> tuple[float, float, str]:
    seconds, run = promptkit_cli(args, env, "sst2", 300, f"sst2-{tag}-{r}")
    ours = samples(run, "sst2")
    results = json.loads((run / "results.json").read_text())
    if tag != "promptkit":
        return seconds, float("nan"), "-"
    data = args.work / "sst2.jsonl"
    with data.open("w") as fh:
        for s in ours:
            fh.write(json.dumps({"id": s["example_id"], "prompt": s["prompt"], "choices": s["choices"], "label": s["label"]}) + "\n")
    tasks = args.work / "tasks-sst2"
    tasks.mkdir(exist_ok=True)
    (tasks / "pk_sst2.yaml").write_text(MC_YAML.format(name="pk_sst2", data=data, delimiter=" "))
    theirs_s, theirs = lm_eval(args, "pk_sst2", tasks, args.work / f"lmeval-sst2-{r}", model_dir(results))
    same, worst = 0, 0.0
    for s in ours:
        lps = [float(x[0]) for x in theirs[s["example_id"]]["filtered_resps"]]
        same += max(range(len(lps)), key=lambda k: (lps[k], -k)) == s["predicted_label"]
        worst = max(worst, max(abs(a - b) for a, b in zip(lps, s["choice_logprobs"], strict=True)))
    return seconds, theirs_s, f"{same}/{len(ours)}, log-probs within {worst:.1e}"


def reading_docs(data_dir: str, n: int) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (Path(data_dir) / "squad_v1.1" / "dev.jsonl").open()]
    docs = []
    for k in range(n):
        gold = rows[k]["answers"][0]
        others = list(dict.fromkeys(r["answers"][0] for r in rows[k + 1 : k + 40] if r["answers"][0] != gold))[:3]
        rot = k % 4  # the gold answer takes every place in turn
        choices = others[:rot] + [gold] + others[rot:]
        docs.append({"id": str(k), "prompt": f"Context: {rows[k]['context']}\nQuestion: {rows[k]['question']}\nAnswer:",
                     "choices": choices, "label": rot})
    return docs


def reading_child(args: argparse.Namespace) -> None:
    """The promptkit side of ``reading``: the backend scores every choice; prints one JSON line."""
    from promptkit.config import ModelConfig
    from promptkit.harness import Runtime
    from promptkit.models import load_model

    docs = [json.loads(line) for line in Path(args.docs).open()]
    lm = load_model(ModelConfig(device="cpu"))
    contexts = [d["prompt"] for d in docs for _ in d["choices"]]
    conts = [" " + c for d in docs for c in d["choices"]]
    scores = lm.loglikelihood(contexts, conts, Runtime(batch_size=args.batch_size))
    out, k = {}, 0
    for d in docs:
        out[d["id"]] = [s.logprob for s in scores[k : k + len(d["choices"])]]
        k += len(d["choices"])
    print(json.dumps({"model": str(lm.source), "logprobs": out}))


def workload_reading(args: argparse.Namespace, env: dict[str, str], tag: str, r: int) -> tuple[float, float, str]:
    docs = reading_docs(args.data_dir, 200)
    data = args.work / "reading.jsonl"
    data.write_text("".join(json.dumps(d) + "\n" for d in docs))
    seconds, stdout = timed([sys.executable, str(HERE), "reading-child", "--docs", str(data), "--batch-size", str(args.batch_size)], env)
    ours = json.loads(stdout.strip().splitlines()[-1])
    if tag != "promptkit":
        return seconds, float("nan"), "-"
    tasks = args.work / "tasks-reading"
    tasks.mkdir(exist_ok=True)
    (tasks / "pk_reading.yaml").write_text(MC_YAML.format(name="pk_reading", data=data, delimiter=" "))
    theirs_s, theirs = lm_eval(args, "pk_reading", tasks, args.work / f"lmeval-reading-{r}", ours["model"])
    same, worst = 0, 0.0
    for d in docs:
        mine = ours["logprobs"][d["id"]]
        lps = [float(x[0]) for x in theirs[d["id"]]["filtered_resps"]]
        same += max(range(4), key=lambda k: (lps[k], -k)) == max(range(4), key=lambda k: (mine[k], -k))
        worst = max(worst, max(abs(a - b) for a, b in zip(lps, mine, strict=True)))
    return seconds, theirs_s, f"{same}/{len(docs)}, log-probs within {worst:.1e}"


def model_dir(results: dict[str, Any]) -> str:
    return str(Path(results["model"]["source"]).expanduser().resolve())


WORKLOADS = {"generation": workload_generation, "sst2": workload_sst2, "reading": workload_reading}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("child", nargs="?", choices=["reading-child"], help=argparse.SUPPRESS)
    ap.add_argument("--docs", help=argparse.SUPPRESS)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--lm-eval-python", default="/tmp/anchors/lmeval/bin/python")
    ap.add_argument("--promptkit-path", default=None, help="toolkit/ of another checkout for an extra 'before' side")
    ap.add_argument("--workloads", default="generation,sst2,reading")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--work", type=Path, default=Path("/tmp/pk-eval-bench"))
    args = ap.parse_args()
    if args.child:
        reading_child(args)
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    sides = [("promptkit", ENV)]
    if args.promptkit_path:
        sides.append(("before", {**ENV, "PYTHONPATH": args.promptkit_path}))
    lines = []
    for name in args.workloads.split(","):
        times: dict[str, list[float]] = {}
        checks = []
        for r in range(args.repeats):
            for tag, env in sides:
                ours, theirs, check = WORKLOADS[name](args, env, tag, r)
                times.setdefault(tag, []).append(ours)
                if tag == "promptkit":
                    times.setdefault("lm-eval", []).append(theirs)
                    checks.append(check)
                print(f"  {name} run {r + 1} {tag}: {ours:.1f} s" + (f", lm-eval {theirs:.1f} s, identical {check}" if tag == "promptkit" else ""), flush=True)
        anchor = statistics.median(times["lm-eval"])
        for tag, ts in times.items():
            lines.append(f"| {name} | {tag} | {summary(ts)} | {anchor / statistics.median(ts):.2f}x | {checks[-1] if tag == 'promptkit' else ''} |")
    print(f"\nbatch size {args.batch_size}, {args.repeats} repeats, wall seconds of whole processes\n")
    print(markdown_table(["workload", "side", "wall s median (min-max)", "lm-eval / side", "identical predictions"], lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
