"""Per-row parity with lm-evaluation-harness: the same task file, the same model, the same answers.

For each lm-eval task file given (its data local; the evaluated split is cut to its first
``--rows`` rows in a copy, so that both tools evaluate the same rows with the same demonstrations:
lm-eval draws them in the order it evaluates), run

- promptkit: ``promptkit eval --task lm-eval:FILE --method zero-shot`` (or ``few-shot --shots K``),
  plain prompts (lm-eval's default), and
- lm-eval 0.4.x in its own environment: ``lm_eval run --model hf --tasks FILE --num_fewshot K
  --log_samples`` on the same model directory (fp32, CPU),

then compare, row by row: for ``multiple_choice`` the log-likelihood of every choice (largest
difference), the chosen answer and ``acc``; for ``generate_until`` the generated text, each
filter's output and each filter's ``exact_match`` (promptkit's ``string_match[filter]``); and the
aggregate. Offline; not part of the test suite (it runs both tools, minutes on a CPU).

    .venv/bin/python benchmarks/lm_eval_row_parity.py TASK.yaml[:K] ... --lm-eval-python ../lmeval-venv/bin/python \\
        --model ~/.cache/promptkit/models/SmolLM2-135M-Instruct.Q4_1-d684e4d9b778 --rows 100
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


class Function(str):
    """A ``!function module.name`` tag, kept as written in the copy (neither side is asked to
    import anything here)."""


class _Loader(yaml.SafeLoader):
    pass


class _Dumper(yaml.SafeDumper):
    pass


_Loader.add_constructor("!function", lambda loader, node: Function(loader.construct_scalar(node)))
_Dumper.add_representer(Function, lambda dumper, value: dumper.represent_scalar("!function", str(value)))


def cut_task(path: Path, rows: int, folder: Path) -> Path:
    """A copy of the task file whose evaluated split holds its first ``rows`` rows (data local)."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 (safe, plus !function kept as text)
    merged = dict(data)
    for include in [data["include"]] if isinstance(data.get("include"), str) else data.get("include") or []:
        shutil.copy(path.parent / include, folder / include)  # an included template beside the copy
        merged = {**yaml.load((path.parent / include).read_text(encoding="utf-8"), Loader=_Loader), **merged}  # noqa: S506
    split = merged.get("test_split") or merged["validation_split"]
    files = data["dataset_kwargs"]["data_files"]
    source = Path(files[split] if Path(files[split]).is_absolute() else path.parent / files[split])
    lines = [line for line in source.read_text(encoding="utf-8").splitlines() if line.strip()][:rows]
    (folder / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    files[split] = str(folder / f"{split}.jsonl")
    for other, value in files.items():
        if other != split and not Path(value).is_absolute():
            files[other] = str((path.parent / value).resolve())
    for module in path.parent.glob("*.py"):  # task code (!function utils.x) is found beside the file
        shutil.copy(module, folder / module.name)
    out = folder / path.name
    out.write_text(yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return out


def promptkit_rows(task: Path, model: str, shots: int, out: Path) -> tuple[str, dict[int, dict[str, Any]]]:
    method = ["--method", "few-shot", "--shots", str(shots)] if shots else ["--method", "zero-shot"]
    cmd = [str(ROOT / ".venv" / "bin" / "promptkit"), "eval", "--task", f"lm-eval:{task}", "--model", model, *method,
           "--out", str(out), "--run-id", "pk", "--device", "cpu", "--set", "bootstrap_samples=0",
           "--trust-task-code"]  # lm-eval runs a task's code (process_docs, !function): so does this side
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    (samples,) = (out / "pk" / "samples").glob("*/*.jsonl")
    name = samples.parent.name
    # every row of the cut split is evaluated (no --limit), in split order: the i-th is lm-eval's doc i
    rows = dict(enumerate(map(json.loads, samples.read_text(encoding="utf-8").splitlines())))
    (cell,) = json.loads((out / "pk" / "results.json").read_text(encoding="utf-8"))["cells"]
    rows[-1] = {"metrics": {k: v["value"] for k, v in cell["metrics"].items()}}  # the cell's values, apart
    return name, rows


def lm_eval_rows(task: Path, model: str, shots: int, out: Path, python: str) -> dict[int, dict[str, dict[str, Any]]]:
    """lm-eval's samples: doc id -> filter name -> its line."""
    cmd = [str(Path(python).parent / "lm_eval"), "run", "--model", "hf", "--model_args", f"pretrained={model},dtype=float32",
           "--tasks", str(task), "--num_fewshot", str(shots), "--device", "cpu", "--batch_size", "16",
           "--output_path", str(out), "--log_samples"]
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    (samples,) = out.glob("*/samples_*.jsonl")
    rows: dict[int, dict[str, dict[str, Any]]] = {}
    for line in samples.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        rows.setdefault(int(r["doc_id"]), {})[r["filter"]] = r
    (results,) = out.glob("*/results_*.json")
    (values,) = json.loads(results.read_text(encoding="utf-8"))["results"].values()
    rows[-1] = {"results": values}  # the task's aggregates ("acc,none": ...), apart
    return rows


LL_TOLERANCE = 1e-3  # a value computed from log-likelihoods (which differ by ~1e-5 between the tools)


def lm_eval_columns(doc: int, mine: dict[str, Any], lines: dict[str, dict[str, Any]], differences: list[str]) -> float:
    """Each lm-eval: column's value of the row (kept JSON-encoded under the column in ``filtered``)
    against lm-eval's logged value of that metric; the largest numeric difference."""
    largest = 0.0
    for column, text in (mine.get("filtered") or {}).items():
        if not column.startswith("lm-eval:"):
            continue
        metric, _, pipeline = column[len("lm-eval:"):].partition("[")
        key = metric.rpartition("@")[0] if "@" in metric else metric
        line = lines.get(pipeline.rstrip("]") or "none")
        ours, theirs = json.loads(text), (line or {}).get(key)
        if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)):
            largest = max(largest, abs(ours - theirs))
            if abs(ours - theirs) > LL_TOLERANCE:
                differences.append(f"row {doc} {column}: promptkit {ours} / lm-eval {theirs}")
        elif ours != theirs:
            differences.append(f"row {doc} {column}: promptkit {ours!r} / lm-eval {theirs!r}")
    return largest


def aggregates(ours: dict[str, Any], theirs: dict[str, Any], differences: list[str]) -> dict[str, Any]:
    """Each lm-eval: column's aggregate against lm-eval's (``key,filter``)."""
    out = {}
    for column, value in ours.items():
        if not column.startswith("lm-eval:"):
            continue
        metric, _, pipeline = column[len("lm-eval:"):].partition("[")
        key = metric.rpartition("@")[0] if "@" in metric else metric
        other = theirs.get(f"{key},{pipeline.rstrip(']') or 'none'}")
        out[column] = (round(value, 6), None if other is None else round(float(other), 6))
        if other is None or abs(value - float(other)) > LL_TOLERANCE:
            differences.append(f"aggregate {column}: promptkit {value} / lm-eval {other}")
    return out


def compare(ours: dict[int, dict[str, Any]], theirs: dict[int, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    cell, task = ours.pop(-1, {}).get("metrics", {}), theirs.pop(-1, {}).get("results", {})  # type: ignore[call-overload]
    out: dict[str, Any] = {"rows": len(ours), "lm-eval rows": len(theirs), "differences": []}
    if set(ours) != set(theirs):
        out["differences"].append(f"rows differ: {sorted(set(ours) ^ set(theirs))[:10]}")
    largest = 0.0
    agg: dict[str, list[float]] = {}
    for doc in sorted(set(ours) & set(theirs)):
        mine, lines = ours[doc], theirs[doc]
        if mine.get("choices") and len(mine["choices"]) == 1:  # loglikelihood: one continuation, acc = greedy
            line = lines["none"]
            ll, greedy = line["filtered_resps"][0] if isinstance(line["filtered_resps"][0], list) else line["filtered_resps"]
            largest = max(largest, abs(mine["choice_logprobs"][0] - float(ll)))
            greedy = greedy in (True, 1, "True", "true")  # lm-eval's samples write it as text
            if (mine["predicted_label"] == 0) != greedy:
                out["differences"].append(f"row {doc}: greedy match promptkit {mine['predicted_label'] == 0}, lm-eval {greedy}")
            pairs = {"acc": (mine["scores"].get("accuracy"), 100 * line["acc"])}
        elif mine.get("choices"):  # multiple_choice: one line, filter "none"
            line = lines["none"]
            lls = [float(x[0]) for x in line["filtered_resps"]]
            largest = max(largest, max(abs(a - b) for a, b in zip(mine["choice_logprobs"], lls, strict=True)))
            chosen = max(range(len(lls)), key=lls.__getitem__)
            if chosen != mine["predicted_label"]:
                out["differences"].append(f"row {doc}: promptkit chose {mine['predicted_label']}, lm-eval {chosen}")
            # a task scored by process_results has lm-eval: columns only (its acc is the code's)
            pairs = {"acc": (mine["scores"].get("accuracy"), 100 * line["acc"])} if "accuracy" in mine["scores"] else {}
        else:
            pairs = {}
            for name, line in lines.items():
                # lm-eval's response is cut before the first stop string, as generated; promptkit's raw
                # output keeps the stop string, its prediction (an lm-eval task's: not stripped) does not
                text = line["resps"][0][0]
                if not mine["raw_output"].startswith(text) or mine["prediction"] != text:
                    out["differences"].append(f"row {doc}: generations differ: {mine['prediction'][:60]!r} / {text[:60]!r}")
                filtered = line["filtered_resps"][0]
                if name != "none" and mine.get("filtered", {}).get(name) != filtered:
                    out["differences"].append(f"row {doc} {name}: filtered {mine.get('filtered', {}).get(name)!r} / {filtered!r}")
                column = f"string_match[{name}]" if name != "none" else "string_match"
                pairs[f"exact_match,{name}"] = (mine["scores"].get(column), 100 * line["exact_match"])
        out["largest lm-eval: value difference"] = max(out.get("largest lm-eval: value difference", 0.0),
                                                       lm_eval_columns(doc, mine, lines, out["differences"]))
        for metric, (a, b) in pairs.items():
            agg.setdefault(metric, [0.0, 0.0])
            agg[metric][0] += a or 0.0
            agg[metric][1] += b
            if a is None or abs(a - b) > 1e-9:
                out["differences"].append(f"row {doc} {metric}: promptkit {a} / lm-eval {b}")
    n = max(len(ours), 1)
    out["largest log-likelihood difference"] = largest
    out["aggregate (promptkit / lm-eval)"] = {k: (round(v[0] / n, 2), round(v[1] / n, 2)) for k, v in agg.items()}
    out["aggregate (promptkit / lm-eval)"].update(aggregates(cell, task, out["differences"]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", help="lm-eval task YAML files with local data, each optionally :K shots")
    ap.add_argument("--lm-eval-python", required=True)
    ap.add_argument("--model", required=True, help="a Hugging Face model directory both tools load")
    ap.add_argument("--rows", type=int, default=100)
    args = ap.parse_args()
    failed = 0
    for spec in args.files:
        file, _, k = spec.partition(":")
        shots = int(k or 0)
        with tempfile.TemporaryDirectory(prefix="pk-rows-") as tmp:
            folder = Path(tmp)
            task = cut_task(Path(file).resolve(), args.rows, folder)
            _, ours = promptkit_rows(task, args.model, shots, folder / "pk")
            theirs = lm_eval_rows(task, args.model, shots, folder / "lm", args.lm_eval_python)
            result = compare(ours, theirs)
        diffs = result.pop("differences")
        failed += bool(diffs)
        print(f"{Path(file).name} ({shots} shots): {json.dumps(result)}; " + ("identical" if not diffs else f"{len(diffs)} differences"))
        for d in diffs[:8]:
            print(f"  {d}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
