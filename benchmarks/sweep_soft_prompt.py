"""Small hyper-parameter sweep for a trainable method, selected on held-out TRAIN data.

The task's train split is divided by a hash of the example id into 80% training and 20% dev;
every configuration is trained on the former and scored on the latter. The task's test split is
never read, so the chosen defaults are not tuned on test. Used to pick promptkit's
prompt-tuning defaults (see the closing note of the soft prompt / LoRA issue).

    python benchmarks/sweep_soft_prompt.py --task tasks/demo_qa.yaml --steps 30 \
        --grid "prompt-tuning.lr=0.003,0.03,0.3" --grid "prompt-tuning.init=instruction,vocab"
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
from pathlib import Path

import yaml


def dev_task(task_path: Path, out_dir: Path) -> Path:
    data = yaml.safe_load(task_path.read_text())
    train = data["dataset"]["splits"]["train"]
    path = train if isinstance(train, str) else train["path"]
    absolute = str((task_path.parent / path).resolve())
    data["dataset"]["splits"] = {
        "train": {"path": absolute, "group_by": "id", "part": [0.0, 0.8]},
        "test": {"path": absolute, "group_by": "id", "part": [0.8, 1.0]},
    }
    data["name"] = data["name"] + "_dev"
    data.pop("limit", None)
    target = out_dir / f"{data['name']}.yaml"
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", type=Path, required=True)
    ap.add_argument("--method", default="prompt-tuning")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--grid", action="append", default=[], help="key=v1,v2,... (repeatable)")
    ap.add_argument("--baselines", default="zero-shot,lora", help="methods run once for reference")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    from promptkit.config.run import build_run_config
    from promptkit.run import run

    out = args.out or Path(tempfile.mkdtemp(prefix="pk-sweep-"))
    out.mkdir(parents=True, exist_ok=True)
    task = dev_task(args.task, out)
    axes = [(k, vs.split(",")) for k, _, vs in (g.partition("=") for g in args.grid)]
    combos = [dict(zip([k for k, _ in axes], values, strict=True)) for values in itertools.product(*[v for _, v in axes])]
    runs = [(m, {}) for m in args.baselines.split(",") if m] + [(args.method, c) for c in combos]
    rows = []
    for method, combo in runs:
        run_id = method + "".join(f"_{k.split('.')[-1]}-{v}" for k, v in combo.items())
        sets = [f"{k}={v}" for k, v in combo.items()] + [f"training.steps={args.steps}"]
        config = build_run_config(None, {"tasks": (str(task),), "methods": (method,), "out_dir": str(out), "run_id": run_id}, sets)
        result = run(config)
        cell = result.cells[0]
        row = {"run": run_id, **{m: round(s.value, 1) for m, s in cell.metrics.items()}, "error": cell.error,
               "final_loss": cell.training.get("final_loss"), "train_s": cell.cost.get("train_s")}
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("\nrun | " + " | ".join(k for k in rows[0] if k != "run"))
    for r in rows:
        print(r["run"] + " | " + " | ".join(str(v) for k, v in r.items() if k != "run"))


if __name__ == "__main__":
    main()
