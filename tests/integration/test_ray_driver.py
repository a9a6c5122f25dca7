"""The ``--launcher ray`` driver without a cluster: a stand-in ``ray`` module runs each Ray task in
this process (as a worker would) or fails it, so what the driver does with a failed task, with
trackers and with a bad cluster address is checked exactly and fast. The real local Ray instance
is exercised by ``test_ray_launcher.py``."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from promptkit.cli import cli
from promptkit.errors import ConfigError
from promptkit.run.ray import ray_address

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
SETTINGS = ["--task", str(TINY / "qa.yaml"), "--method", "zero-shot", "--method", "lora", "--seeds", "2", "--limit", "3",
            "--device", "cpu", "--set", "training.steps=2", "--set", "training.batch_size=2", "--set", "lora.rank=2",
            "--set", "bootstrap_samples=20", "--launcher", "ray"]


class TaskError(Exception):
    """What ``ray.get`` raises for a failed task: the task's own exception is its ``cause``."""

    def __init__(self, cause: BaseException):
        super().__init__(str(cause))
        self.cause = cause


def fake_ray(fail: set[str]) -> types.ModuleType:
    """A ``ray`` whose tasks run here, except those whose run id (the group name) is in ``fail``."""
    ray = types.ModuleType("ray")
    ray.is_initialized = lambda: True  # type: ignore[attr-defined]

    def remote(**_resources: Any) -> Any:
        def wrap(fn: Any) -> Any:
            def submit(config: dict[str, Any], resume: bool) -> Any:
                return (fn, config, resume)

            return types.SimpleNamespace(remote=submit)

        return wrap

    def get(future: Any) -> Any:
        fn, config, resume = future
        if config["run_id"] in fail:
            raise TaskError(RuntimeError("worker died: out of memory"))
        return fn(config, resume)

    ray.remote = remote  # type: ignore[attr-defined]
    ray.get = get  # type: ignore[attr-defined]
    return ray


def test_a_failed_ray_task_fails_its_cells_only_and_resume_runs_them(tmp_path: Path, tiny_llama_dir: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", fake_ray({"tiny_qa-lora-1"}))
    args = [*SETTINGS, "--model", str(tiny_llama_dir), "--out", str(tmp_path), "--run-id", "r"]
    first = CliRunner().invoke(cli, ["eval", *args])
    assert first.exit_code == 1, first.output  # some cells failed; the run itself finished
    results = json.loads((tmp_path / "r" / "results.json").read_text(encoding="utf-8"))
    by_key = {(c["method"], c["seed"]): c for c in results["cells"]}
    assert set(by_key) == {("zero-shot", None), ("lora", 0), ("lora", 1)}
    failed = by_key[("lora", 1)]
    assert "Ray task tiny_qa-lora-1 failed (RuntimeError: worker died: out of memory)" in failed["error"]
    assert by_key[("lora", 0)]["error"] is None and by_key[("zero-shot", None)]["error"] is None
    assert (tmp_path / "r" / "report.md").is_file()  # the others are reported as a local run reports them
    assert (tmp_path / "r" / "ray").is_dir()  # kept: a cell is left to resume

    monkeypatch.setitem(sys.modules, "ray", fake_ray(set()))
    again = CliRunner().invoke(cli, ["eval", "--resume", str(tmp_path / "r")])
    assert again.exit_code == 0, again.output
    resumed = json.loads((tmp_path / "r" / "results.json").read_text(encoding="utf-8"))
    assert [c["error"] for c in resumed["cells"]] == [None, None, None]
    assert [(c["method"], c["seed"]) for c in resumed["cells"]] == [("zero-shot", None), ("lora", 0), ("lora", 1)]
    rows = [json.loads(line) for line in (tmp_path / "r" / "samples" / "tiny_qa" / "lora.jsonl").read_text().splitlines()]
    assert [r["seed"] for r in rows] == [0, 0, 0, 1, 1, 1]
    assert not (tmp_path / "r" / "ray").exists()


def test_cells_of_ray_tasks_reach_the_trackers(tmp_path: Path, tiny_llama_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    monkeypatch.setitem(sys.modules, "ray", fake_ray(set()))
    args = [*SETTINGS, "--model", str(tiny_llama_dir), "--out", str(tmp_path), "--run-id", "t", "--report-to", "tensorboard"]
    outcome = CliRunner().invoke(cli, ["eval", *args])
    assert outcome.exit_code == 0, outcome.output
    results = json.loads((tmp_path / "t" / "results.json").read_text(encoding="utf-8"))
    board = tmp_path / "t" / "tensorboard" / "tiny_qa" / "qa" / "extractive"
    for cell in results["cells"]:
        logs = board / cell["method"] / (f"seed-{cell['seed']}" if cell["seed"] is not None else "")
        events = EventAccumulator(str(logs))
        events.Reload()
        assert events.Scalars("test/exact_match")[-1].value == pytest.approx(cell["metrics"]["exact_match"]["value"])
        if cell["training"]:
            loss = [(e.step, e.value) for e in events.Scalars("train/loss")]
            assert loss == [(i + 1, pytest.approx(v)) for i, v in enumerate(cell["training"]["losses"])]
    report = EventAccumulator(str(tmp_path / "t" / "tensorboard" / "t" / "report"))  # the report, as a last run
    report.Reload()
    assert any("report" in tag for tag in report.Tags()["tensors"]), report.Tags()


@pytest.mark.parametrize("value", ["", "  ", "localhost", "host:port", "ray://:10001", "10.0.0.1:99999"])
def test_a_malformed_ray_address_is_one_line_and_leaves_nothing(value: str, tmp_path: Path, tiny_llama_dir: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAY_ADDRESS", value)
    monkeypatch.setitem(sys.modules, "ray", fake_ray(set()))
    outcome = CliRunner().invoke(cli, ["eval", *SETTINGS, "--model", str(tiny_llama_dir), "--out", str(tmp_path / "out")])
    assert outcome.exit_code != 0
    lines = [line for line in outcome.output.splitlines() if line.strip()]
    assert lines[-1].startswith("error: RAY_ADDRESS") and "accepted: auto, local, ray://HOST:PORT or HOST:PORT" in lines[-1]
    assert "Traceback" not in outcome.output
    assert not (tmp_path / "out").exists()


def test_well_formed_ray_addresses_pass() -> None:
    for good in ("auto", "local", "ray://head:10001", "10.0.0.5:6379", "[::1]:6379"):
        assert ray_address(good) == good
    with pytest.raises(ConfigError, match="ray.address 'head'"):
        ray_address("head")
