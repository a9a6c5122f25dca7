"""``--report-to tensorboard --report-to mlflow``: every cell logged, offline, read back with the
trackers' own readers (TensorBoard's event accumulator, the MLflow client), never promptkit's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import invoke, set_args, tiny_budget

pytest.importorskip("tensorboard")
pytest.importorskip("mlflow")

QA = Path(__file__).resolve().parents[1] / "fixtures" / "tiny" / "qa.yaml"


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory, tiny_llama_dir: Path) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("tracked")
    outcome = invoke([
        "eval", "--task", str(QA), "--model", str(tiny_llama_dir), "--out", str(out), "--run-id", "t", "--device", "cpu",
        "--limit", "4", "--method", "zero-shot", "--method", "lora", "--report-to", "tensorboard", "--report-to", "mlflow",
        *tiny_budget(4), *set_args("training.dev_size=2", "training.eval_every=2")])
    assert outcome.exit_code == 0, outcome.output
    run_dir = out / "t"
    return run_dir, json.loads((run_dir / "results.json").read_text(encoding="utf-8"))


def test_tensorboard_event_files_hold_every_step_and_the_final_metrics(tracked: tuple[Path, dict[str, Any]]) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_dir, results = tracked
    lora = next(c for c in results["cells"] if c["method"] == "lora")
    logs = run_dir / "tensorboard" / "tiny_qa" / "qa" / "extractive" / "lora" / "seed-0"
    events = EventAccumulator(str(logs))
    events.Reload()
    loss = [(e.step, e.value) for e in events.Scalars("train/loss")]
    assert [s for s, _ in loss] == [1, 2, 3, 4]
    assert [v for _, v in loss] == pytest.approx(lora["training"]["losses"], rel=1e-5)
    assert [e.step for e in events.Scalars("dev/loss")] == [2, 4]
    assert events.Scalars("test/exact_match")[-1].value == pytest.approx(lora["metrics"]["exact_match"]["value"])
    assert events.Scalars("cost/trainable_params")[-1].value == pytest.approx(lora["cost"]["trainable_params"])
    zero = EventAccumulator(str(run_dir / "tensorboard" / "tiny_qa" / "qa" / "extractive" / "zero-shot"))
    zero.Reload()
    assert zero.Scalars("test/token_f1")[-1].value == pytest.approx(
        next(c for c in results["cells"] if c["method"] == "zero-shot")["metrics"]["token_f1"]["value"])


def test_an_mlflow_file_store_holds_one_run_per_cell_and_the_report(tracked: tuple[Path, dict[str, Any]]) -> None:
    import mlflow
    from mlflow.tracking import MlflowClient

    run_dir, results = tracked
    client = MlflowClient(tracking_uri=(run_dir / "mlruns").resolve().as_uri())
    experiment = client.get_experiment_by_name("t")
    assert experiment is not None
    runs = {r.info.run_name: r for r in client.search_runs([experiment.experiment_id])}
    assert set(runs) == {"tiny_qa/qa/extractive/zero-shot", "tiny_qa/qa/extractive/lora/seed-0", "t/report"}
    lora = runs["tiny_qa/qa/extractive/lora/seed-0"]
    history = client.get_metric_history(lora.info.run_id, "train/loss")
    expected = next(c for c in results["cells"] if c["method"] == "lora")["training"]["losses"]
    assert [m.value for m in sorted(history, key=lambda m: m.step)] == pytest.approx(expected, rel=1e-5)
    assert lora.data.params["method.kind"] == "lora" and lora.data.params["method.rank"] == "2"
    artifacts = {a.path for a in client.list_artifacts(runs["t/report"].info.run_id)}
    assert {"report.html", "report.md", "results.json"} <= artifacts
    mlflow.set_tracking_uri(None)


def test_a_missing_tracker_package_is_a_one_line_error_before_the_model_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "wandb" else real(name, *a))
    outcome = invoke(["eval", "--task", str(QA), "--model", str(tmp_path / "no-model"), "--out", str(tmp_path),
                      "--report-to", "wandb"])
    assert outcome.exit_code == 2, outcome.output
    assert outcome.output.strip().splitlines()[-1] == "error: --report-to wandb needs the wandb package: pip install 'promptkit[wandb]'"
    assert "loading the model" not in outcome.output and "Traceback" not in outcome.output
