"""``--launcher ray`` on a local Ray instance with CPU workers: the cells of a run (two tasks x
zero-shot, few-shot and LoRA with two seeds) run as Ray tasks and end in the results a local run
writes, each cell logged to ``--report-to tensorboard``; a resumed run computes only the cells
results.json lacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import invoke, tiny_budget, without_timings

ray = pytest.importorskip("ray")

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
SETTINGS = ["--task", str(TINY / "qa.yaml"), "--task", str(TINY / "sentiment.yaml"), "--method", "zero-shot", "--method", "few-shot",
            "--method", "lora", "--seeds", "2", "--limit", "4", "--device", "cpu", *tiny_budget(3, bootstrap_samples=50)]


def comparable(run_dir: Path) -> dict[str, Any]:
    data = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    for key in ("created", "run_id", "timings", "commands"):
        data.pop(key)
    for key in ("run_id", "out_dir", "launcher", "report_to"):
        data["config"].pop(key)
    data["cells"] = [without_timings(cell) for cell in data["cells"]]
    return dict(data)


@pytest.fixture(scope="module")
def local_ray() -> Any:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_cells_on_ray_workers_give_the_local_run(tmp_path: Path, tiny_llama_dir: Path, local_ray: Any) -> None:
    args = [*SETTINGS, "--model", str(tiny_llama_dir), "--out", str(tmp_path)]
    here = invoke(["eval", *args, "--run-id", "local"])
    assert here.exit_code == 0, here.output
    there = invoke(["eval", *args, "--run-id", "ray", "--launcher", "ray", "--report-to", "tensorboard"])
    assert there.exit_code == 0, there.output
    assert comparable(tmp_path / "ray") == comparable(tmp_path / "local")
    # every cell computed on a worker is logged by the driver (tracker runs named task/prompt/method[/seed-k])
    board = tmp_path / "ray" / "tensorboard"
    cells = json.loads((tmp_path / "ray" / "results.json").read_text())["cells"]
    names = ["/".join([c["task"], c["prompt"], c["method"], *([f"seed-{c['seed']}"] if c["seed"] is not None else [])])
             for c in cells]
    assert len(names) == 8 and all(any((board / name).glob("events.out.tfevents.*")) for name in [*names, "ray/report"])
    for sample in sorted((tmp_path / "local" / "samples").rglob("*.jsonl")):
        rel = sample.relative_to(tmp_path / "local")
        assert (tmp_path / "ray" / rel).read_bytes() == sample.read_bytes(), rel
    adapters = sorted(p.relative_to(tmp_path / "local").as_posix() for p in (tmp_path / "local").rglob("adapter_model.safetensors"))
    assert len(adapters) == 4 and adapters == sorted(
        p.relative_to(tmp_path / "ray").as_posix() for p in (tmp_path / "ray").rglob("adapter_model.safetensors"))
    assert not (tmp_path / "ray" / "ray").exists()  # the per-task directories are gone once every cell is in
    assert json.loads((tmp_path / "ray" / "results.json").read_text())["config"]["launcher"] == "ray"

    # a cell missing from results.json (a run stopped early): --resume computes it, and only it changes
    results = json.loads((tmp_path / "ray" / "results.json").read_text())
    dropped = results["cells"].pop()
    (tmp_path / "ray" / "results.json").write_text(json.dumps(results))
    again = invoke(["eval", "--resume", str(tmp_path / "ray")])
    assert again.exit_code == 0, again.output
    assert comparable(tmp_path / "ray") == comparable(tmp_path / "local")
    assert json.loads((tmp_path / "ray" / "results.json").read_text())["cells"][-1]["method"] == dropped["method"]
