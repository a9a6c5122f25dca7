"""Every prediction and training loss of a small fixed run, for before/after checks of a refactor.

    python scripts/prediction_fingerprint.py --out /tmp/before.json           # tiny models
    python scripts/prediction_fingerprint.py --real --out /tmp/before-real.json  # embedded model
    python scripts/prediction_fingerprint.py --compare /tmp/before.json /tmp/after.json

The tiny run builds the test suite's 2-layer Llama and T5 (tests/conftest.py) and runs every
method on the QA, sentiment (log-likelihood scoring) and translation fixtures; the real run puts
the embedded SmolLM2 through every method on the SQuAD demo. Outputs, raw outputs, choice
log-probabilities and per-step training losses are recorded exactly: on one machine and one
library version a refactor that keeps the computation must reproduce them bit for bit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TINY_TASKS = ROOT / "tests" / "fixtures" / "tiny"
METHODS = ("zero-shot", "few-shot", "prompt-tuning", "prefix-tuning", "p-tuning", "lora")
TINY_BUDGET = {
    "training": {"steps": 4, "batch_size": 2},
    "bootstrap_samples": 10,
}


def run(model: str, tasks: list[str], methods: tuple[str, ...], limit: int, out: Path, budget: dict[str, Any]) -> dict[str, Any]:
    from promptkit.config.run import RunConfig
    from promptkit.run import run as run_config

    entries: list[dict[str, Any]] = []
    for m in methods:
        entry: dict[str, Any] = {"kind": m}
        if m in ("prompt-tuning", "prefix-tuning", "p-tuning"):
            entry["num_virtual_tokens"] = 4
        if m == "lora":
            entry["rank"] = 2
        entries.append(entry)
    config = RunConfig.model_validate(
        {"tasks": tasks, "model": {"name": model}, "methods": entries, "limit": limit, "out_dir": str(out), "run_id": "fp",
         "batch_size": 3, **budget}
    )
    run_config(config)
    run_dir = out / "fp"
    cells: dict[str, Any] = {}
    for path in sorted((run_dir / "samples").rglob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        cells[str(path.relative_to(run_dir))] = [
            {k: r.get(k) for k in ("example_id", "prompt", "prediction", "raw_output", "choice_logprobs", "scores", "prompt_tokens", "output_tokens")}
            for r in rows
        ]
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    losses = {f"{c['task']}/{c['method']}": (c.get("training") or {}).get("losses") for c in results["cells"]}
    errors = {f"{c['task']}/{c['method']}": c.get("error") for c in results["cells"] if c.get("error")}
    return {"samples": cells, "losses": losses, "errors": errors}


def tiny(out: Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "tests"))
    import torch
    from conftest import save_tiny_llama, save_tiny_t5  # the test suite's own builders

    torch.set_num_threads(1)
    record: dict[str, Any] = {}
    tasks = [str(TINY_TASKS / f"{t}.yaml") for t in ("qa", "sentiment", "translation")]
    llama = save_tiny_llama(out / "llama")
    record["llama"] = run(str(llama), tasks, METHODS, 6, out / "runs-llama", TINY_BUDGET)
    t5 = save_tiny_t5(out / "t5")
    # prefix tuning refuses encoder-decoder models
    record["t5"] = run(str(t5), tasks, tuple(m for m in METHODS if m != "prefix-tuning"), 6, out / "runs-t5", TINY_BUDGET)
    return record


def real(out: Path) -> dict[str, Any]:
    budget = {"training": {"steps": 4, "batch_size": 4}, "bootstrap_samples": 10}
    return {"smollm2": run("smollm2-135m-instruct", ["squad_demo"], METHODS, 12, out / "runs-real", budget)}


def compare(a: Path, b: Path) -> int:
    before, after = json.loads(a.read_text()), json.loads(b.read_text())
    differences = 0

    def walk(x: Any, y: Any, where: str) -> None:
        nonlocal differences
        if isinstance(x, dict) and isinstance(y, dict):
            for key in sorted(set(x) | set(y)):
                if key not in x or key not in y:
                    differences += 1
                    print(f"{where}/{key}: only in {'after' if key not in x else 'before'}")
                else:
                    walk(x[key], y[key], f"{where}/{key}")
        elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for i, (u, v) in enumerate(zip(x, y, strict=True)):
                walk(u, v, f"{where}[{i}]")
        elif x != y:
            differences += 1
            if differences <= 30:
                print(f"{where}: {x!r} -> {y!r}")

    walk(before, after, "")
    n = sum(len(rows) for model in before.values() for rows in model["samples"].values())
    print(f"{n} predictions compared, {differences} differences")
    return 1 if differences else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--real", action="store_true", help="the embedded model on the SQuAD demo")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.compare:
        return compare(*args.compare)
    if args.out is None:
        parser.error("--out or --compare is required")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory() as tmp:
        record = real(Path(tmp)) if args.real else tiny(Path(tmp))
    args.out.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
