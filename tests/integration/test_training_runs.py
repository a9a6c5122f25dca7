"""Trainable methods through the runner and ``promptkit eval``, on the tiny Llama and toy QA.

One CLI run (zero-shot, prompt tuning and LoRA with a three-step budget) is shared by the
schema tests; further runs check saved adapters (``--adapter``), early stopping, the epochs
budget, a diverging training and resuming an interrupted run (``promptkit.run.run(config, resume=True)`` and
``promptkit eval --resume``), which must end exactly where an uninterrupted run ends.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import torch
from helpers import checkpoint_fields, error_lines, invoke, read_jsonl, tiny_budget, tiny_training
from promptkit.config.run import RunConfig, resume_run_config
from promptkit.methods import TrainableMethod
from promptkit.methods import training as training_module
from promptkit.methods.zero_shot import ZeroShotMethod
from promptkit.run import run as run_config
from promptkit.seeding import derive
from safetensors.torch import load_file

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
QA = TINY / "qa.yaml"
LIMIT = 4
HIDDEN = 48  # the tiny Llama's hidden size (tests/conftest.py)
METHODS = ("zero-shot", "prompt-tuning", "lora")
COST_KEYS = {"trainable_params", "trainable_pct", "adapter_bytes", "train_s", "train_tokens_per_s", "peak_memory_mb"}
BUDGET = tiny_budget(3, "prompt-tuning.num_virtual_tokens=4")


def eval_args(model: Path, out: Path, run_id: str, *extra: str, methods: Sequence[str] = METHODS) -> list[str]:
    args = ["eval", "--task", str(QA), "--model", str(model), "--limit", str(LIMIT), "--out", str(out), "--run-id", run_id]
    for method in methods:
        args += ["--method", method]
    return [*args, *extra]


def load_results(run_dir: Path) -> dict[str, Any]:
    return dict(json.loads((run_dir / "results.json").read_text(encoding="utf-8")))


def cells_by_method(run_dir: Path) -> dict[str, dict[str, Any]]:
    return {c["method"]: c for c in load_results(run_dir)["cells"]}


def split_ids(split: str) -> list[str]:
    return [row["id"] for row in read_jsonl(TINY / "data" / f"qa_{split}.jsonl")]


@pytest.fixture(scope="module")
def fit_calls() -> Iterator[list[dict[str, Any]]]:
    """Every TrainableMethod.fit call of the module's runs: what each method trained on."""
    calls: list[dict[str, Any]] = []
    original = TrainableMethod.fit

    def spy(self: TrainableMethod, train: Any) -> Any:
        ctx = self.context
        calls.append({"kind": self.kind, "train": [p.example_id for p in train], "targets": [p.target for p in train],
                      "dev": [p.example_id for p in ctx.dev], "seed": ctx.seed})
        return original(self, train)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(TrainableMethod, "fit", spy)
        yield calls


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory, tiny_llama_dir: Path, fit_calls: list[dict[str, Any]]) -> tuple[Path, list[dict[str, Any]]]:
    out = tmp_path_factory.mktemp("trained")
    start = len(fit_calls)
    result = invoke(eval_args(tiny_llama_dir, out, "trained", *BUDGET))
    assert result.exit_code == 0, result.output
    return out / "trained", fit_calls[start:]


# ----------------------------------------------------------------------------- the trained run
def test_trainable_cells_report_cost_and_training(trained_run: tuple[Path, list[dict[str, Any]]]) -> None:
    run_dir = trained_run[0]
    results = load_results(run_dir)
    assert [c["method"] for c in results["cells"]] == list(METHODS)
    assert results["config"]["training"]["steps"] == 3 and results["tasks"]["tiny_qa"]["n_train"] == 6
    base_params = results["model"]["parameters"]
    for cell in results["cells"]:
        assert cell["error"] is None and cell["metrics"]
        if cell["method"] == "zero-shot":
            assert cell["cost"] is None and cell["training"] is None and cell["adapter"] == ""
            continue
        cost, training = cell["cost"], cell["training"]
        assert set(cost) == COST_KEYS
        assert all(math.isfinite(v) and v > 0 for v in cost.values()), cost
        expected_params = 4 * HIDDEN if cell["method"] == "prompt-tuning" else None
        if expected_params is not None:
            assert cost["trainable_params"] == expected_params  # the soft prompt alone
        assert cost["trainable_pct"] == pytest.approx(100 * cost["trainable_params"] / base_params, abs=1e-4)
        assert training["steps"] == training["planned_steps"] == 3
        assert len(training["losses"]) == 3 and all(math.isfinite(x) for x in training["losses"])
        assert training["final_loss"] == training["losses"][-1]
        assert training["examples"] == 6 and training["epochs"] == pytest.approx(1.0)
        assert training["curve"] == [] and training["best_step"] is None and training["resumed_from"] is None
        assert training["tokens"] > 0 and training["peak_memory_kind"] == "process_rss"
        assert cell["chat_template"] is True


def test_adapted_cells_record_forgetting_on_the_shipped_probe(trained_run: tuple[Path, list[dict[str, Any]]], tiny_llama: Any) -> None:
    from promptkit.analysis.forgetting import read_probe, score_probe
    from promptkit.harness import Runtime

    cells = cells_by_method(trained_run[0])
    assert cells["zero-shot"]["forgetting"] is None  # it changes no weight: nothing to measure
    figures = [cells[m]["forgetting"] for m in ("prompt-tuning", "lora")]
    for f in figures:
        assert f["documents"] == 100 and f["bytes"] > 40_000 and f["tokens"] > 0
        assert f["bits_per_byte"] - f["base_bits_per_byte"] == pytest.approx(f["delta_bits_per_byte"], abs=1e-9)
        assert f["ci_low"] <= f["delta_bits_per_byte"] <= f["ci_high"] and f["confidence"] == 0.95
    assert figures[0]["base_bits_per_byte"] == figures[1]["base_bits_per_byte"]  # one base, measured once
    probe = read_probe(documents=100)  # the default: the shipped probe's first 100 documents
    bare = score_probe(tiny_llama, probe, Runtime(batch_size=16))  # the base model with nothing applied
    assert figures[0]["base_bits_per_byte"] == pytest.approx(-sum(s.logprob for s in bare) / sum(probe.bytes) / math.log(2), rel=1e-6)


def test_no_forgetting_skips_the_probe_and_a_bad_probe_fails_before_the_model_loads(
        tiny_llama_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = invoke(eval_args(tiny_llama_dir, tmp_path, "off", "--no-forgetting", *tiny_budget(3), methods=("lora",)))
    assert result.exit_code == 0, result.output
    assert cells_by_method(tmp_path / "off")["lora"]["forgetting"] is None
    import promptkit.models

    def no_load(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the model must not load for a bad forgetting probe")

    monkeypatch.setattr(promptkit.models, "load_model", no_load)
    bad = tmp_path / "probe.jsonl"
    bad.write_text('{"text": "one paragraph"}\n{"txt": "two"}\n', encoding="utf-8")
    result = invoke(eval_args(tiny_llama_dir, tmp_path, "bad", "--set", f"forgetting.text={bad}", *tiny_budget(3), methods=("lora",)))
    assert result.exit_code != 0
    assert error_lines(result) == [f"error: {bad}:2: text: expected an object with a 'text' string on every line"]
    assert not (tmp_path / "bad").exists()
    result = invoke(eval_args(tiny_llama_dir, tmp_path, "both", "--no-forgetting", "--set", "verdict.max_forgetting=0.1",
                              methods=("lora",)))
    assert result.exit_code == 2
    assert error_lines(result) == ["error: <command line>: forgetting: is off (--no-forgetting) while verdict.max_forgetting "
                                   "is 0.1: the verdict would have nothing to hold the methods against; turn one of them off"]


def test_a_failing_probe_costs_the_cell_its_figure_not_its_scores(tiny_llama_dir: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from promptkit.analysis.forgetting import ProbeRun

    def fails(self: Any, method: Any) -> Any:
        raise MemoryError("probe window too large")

    monkeypatch.setattr(ProbeRun, "measure", fails)
    result = invoke(eval_args(tiny_llama_dir, tmp_path, "probe", *tiny_budget(3), methods=("lora",)))
    assert result.exit_code == 0, result.output
    cell = cells_by_method(tmp_path / "probe")["lora"]
    assert cell["error"] is None and cell["metrics"] and cell["forgetting"] is None
    assert "forgetting probe not measured: MemoryError: probe window too large" in cell["context"]["backend"][0]


def test_adapters_are_saved_in_peft_format(trained_run: tuple[Path, list[dict[str, Any]]], tiny_llama_dir: Path) -> None:
    run_dir = trained_run[0]
    for method in ("prompt-tuning", "lora"):
        cell = cells_by_method(run_dir)[method]
        assert cell["adapter"] == f"adapters/tiny_qa/qa-extractive/{method}/seed-0/adapter"
        adapter = run_dir / cell["adapter"]
        assert (adapter / "adapter_config.json").is_file() and (adapter / "adapter_model.safetensors").is_file()
        meta = json.loads((adapter / "promptkit.json").read_text())
        assert meta == {"method": method, "chat_template": True, "base_model": str(tiny_llama_dir)}
        assert cell["cost"]["adapter_bytes"] == sum(p.stat().st_size for p in adapter.rglob("*") if p.is_file())
        # Finished: the training checkpoint is gone.
        assert not list((adapter.parent).rglob("checkpoint.safetensors"))


def test_every_method_sees_the_same_examples_and_seed(trained_run: tuple[Path, list[dict[str, Any]]]) -> None:
    run_dir, calls = trained_run
    samples = {m: read_jsonl(run_dir / "samples" / "tiny_qa" / f"{m}.jsonl") for m in METHODS}
    reference = samples["zero-shot"]
    from promptkit.tasks import sample_indices

    ids = split_ids("test")
    assert [r["example_id"] for r in reference] == [ids[i] for i in sample_indices(len(ids), LIMIT, derive(0, "limit"))]
    for rows in samples.values():
        assert [r["example_id"] for r in rows] == [r["example_id"] for r in reference]
        assert [r["prompt"] for r in rows] == [r["prompt"] for r in reference]
        assert [r["references"] for r in rows] == [r["references"] for r in reference]
    assert [c["kind"] for c in calls] == ["prompt-tuning", "lora"]
    first = calls[0]
    for call in calls:
        # the training stream of seed 0 (few-shot draws and bootstrap have streams of their own)
        assert call["train"] == first["train"] and call["seed"] == first["seed"] == derive(0, "training") and call["dev"] == []


def test_training_reads_the_train_split_only(trained_run: tuple[Path, list[dict[str, Any]]]) -> None:
    train_ids, test_ids = split_ids("train"), split_ids("test")
    answers = {row["id"]: row["answers"][0] for row in read_jsonl(TINY / "data" / "qa_train.jsonl")}
    for call in trained_run[1]:
        assert sorted(call["train"]) == sorted(train_ids)  # all of it (--limit is for evaluation)
        assert not set(call["train"]) & set(test_ids)
        assert call["targets"] == [answers[i] for i in call["train"]]


@pytest.mark.parametrize("method", ["prompt-tuning", "lora"])
def test_saved_adapter_evaluates_without_training(method: str, trained_run: tuple[Path, list[dict[str, Any]]],
                                                  tiny_llama_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir = trained_run[0]
    trained = cells_by_method(run_dir)[method]

    def no_training(self: Any, examples: Any) -> Any:
        raise AssertionError("--adapter must not train")

    monkeypatch.setattr(training_module.Trainer, "train", no_training)
    # --chat-template off is overridden by the setting stored with the adapter.
    result = invoke(eval_args(tiny_llama_dir, tmp_path, "saved", "--adapter", str(run_dir / trained["adapter"]),
                              "--chat-template", "off", "--set", "bootstrap_samples=20", methods=()))
    assert result.exit_code == 0, result.output
    (cell,) = load_results(tmp_path / "saved")["cells"]
    assert cell["method"] == "adapter" and cell["error"] is None
    assert cell["chat_template"] is True
    assert cell["cost"]["trainable_params"] == trained["cost"]["trainable_params"]
    assert cell["cost"]["adapter_bytes"] == trained["cost"]["adapter_bytes"]
    assert cell["training"]["steps"] == 0 and cell["training"]["losses"] == []
    assert {k: v["value"] for k, v in cell["metrics"].items()} == {k: v["value"] for k, v in trained["metrics"].items()}
    saved = read_jsonl(tmp_path / "saved" / "samples" / "tiny_qa" / "adapter.jsonl")
    original = read_jsonl(run_dir / "samples" / "tiny_qa" / f"{method}.jsonl")
    for key in ("example_id", "prompt", "prediction", "raw_output", "output_tokens"):
        assert [r[key] for r in saved] == [r[key] for r in original], key


def test_two_saved_adapters_in_one_run(trained_run: tuple[Path, list[dict[str, Any]]], tiny_llama_dir: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Each --adapter gets a name from its directory, its own cell, samples file and report column.
    run_dir = trained_run[0]
    trained = cells_by_method(run_dir)
    adapters = [str(run_dir / trained[m]["adapter"]) for m in ("prompt-tuning", "lora")]

    def no_training(self: Any, examples: Any) -> Any:
        raise AssertionError("--adapter must not train")

    monkeypatch.setattr(training_module.Trainer, "train", no_training)
    result = invoke(eval_args(tiny_llama_dir, tmp_path, "two", "--adapter", adapters[0], "--adapter", adapters[1],
                              "--set", "bootstrap_samples=20", methods=()))
    assert result.exit_code == 0, result.output
    cells = cells_by_method(tmp_path / "two")
    assert list(cells) == ["adapter-prompt-tuning", "adapter-lora"]
    for method in ("prompt-tuning", "lora"):
        cell = cells[f"adapter-{method}"]
        assert cell["method_config"] == {"kind": "adapter", "name": f"adapter-{method}", "path": adapters[method == "lora"]}
        assert {k: v["value"] for k, v in cell["metrics"].items()} == {k: v["value"] for k, v in trained[method]["metrics"].items()}
        rows = read_jsonl(tmp_path / "two" / cell["samples"])
        assert cell["samples"] == f"samples/tiny_qa/adapter-{method}.jsonl" and {r["method"] for r in rows} == {f"adapter-{method}"}
        original = read_jsonl(run_dir / "samples" / "tiny_qa" / f"{method}.jsonl")
        assert [r["raw_output"] for r in rows] == [r["raw_output"] for r in original]
    results = json.loads((tmp_path / "two" / "results.json").read_text())
    assert [(p["a"], p["b"]) for p in results["comparisons"]
            if p["metric"] == "exact_match" and p["family"] == "secondary"] == [("adapter-lora", "adapter-prompt-tuning")]
    assert "adapter-lora" in (tmp_path / "two" / "report.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("make", "fragment"), [(lambda d: d / "missing", "no such directory"),
                                              (lambda d: d, "no adapter_config.json there")])
def test_bad_adapter_directory_fails_before_the_model_loads(make: Any, fragment: str, tiny_llama_dir: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import promptkit.models

    def no_load(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the model must not load for a bad --adapter")

    monkeypatch.setattr(promptkit.models, "load_model", no_load)
    path = make(tmp_path)
    result = invoke(eval_args(tiny_llama_dir, tmp_path, "bad", "--adapter", str(path), methods=()))
    assert result.exit_code == 2, result.output
    assert error_lines(result) == [f"error: --adapter {str(path)!r}: {fragment}; give a directory saved by PEFT / promptkit "
                                   "(it holds adapter_config.json)"]
    assert not (tmp_path / "bad").exists()


def test_two_configurations_of_one_method_in_one_run(tiny_llama_dir: Path, tmp_path: Path) -> None:
    # LoRA rank 2 against rank 4 (named), on the same batches; --set reaches each by its label.
    config = tmp_path / "run.yaml"
    config.write_text("methods: [lora, {kind: lora, rank: 4, name: lora-r4}]\n")
    args = eval_args(tiny_llama_dir, tmp_path, "ranks", "--config", str(config), *tiny_budget(3, "lora-r4.dropout=0"), methods=())
    result = invoke(args)
    assert result.exit_code == 0, result.output
    cells = cells_by_method(tmp_path / "ranks")
    assert list(cells) == ["lora", "lora-r4"]
    r2, r4 = cells["lora"], cells["lora-r4"]
    assert (r2["method_config"]["rank"], r4["method_config"]["rank"]) == (2, 4)  # lora.rank=2 hits the entry labelled lora
    assert (r2["method_config"]["dropout"], r4["method_config"]["dropout"]) == (0.05, 0.0)
    assert r4["cost"]["trainable_params"] == 2 * r2["cost"]["trainable_params"]
    assert r2["training"]["tokens"] == r4["training"]["tokens"]  # same batches
    assert r2["adapter"].endswith("/lora/seed-0/adapter") and r4["adapter"].endswith("/lora-r4/seed-0/adapter")
    results = json.loads((tmp_path / "ranks" / "results.json").read_text())
    assert {(p["a"], p["b"]) for p in results["comparisons"] if p["family"] == "secondary"} == {("lora-r4", "lora")}


# ----------------------------------------------------------------------------- budgets
def test_early_stopping_keeps_a_curve_and_the_best_step(tiny_llama_dir: Path, tmp_path: Path, fit_calls: list[dict[str, Any]]) -> None:
    start = len(fit_calls)
    result = invoke(eval_args(tiny_llama_dir, tmp_path, "early",
                              *tiny_budget(8, "training.dev_size=2", "training.eval_every=1", "training.early_stopping_patience=1"),
                              methods=("lora",)))
    assert result.exit_code == 0, result.output
    training = cells_by_method(tmp_path / "early")["lora"]["training"]
    curve = training["curve"]
    assert curve and [p["step"] for p in curve] == list(range(1, len(curve) + 1))
    for point in curve:
        assert set(point) == {"step", "train_loss", "dev_loss", "dev_exact_match"}
        assert math.isfinite(point["dev_loss"]) and 0 <= point["dev_exact_match"] <= 100
    scores = [p["dev_exact_match"] for p in curve]
    assert training["best_step"] == curve[scores.index(max(scores))]["step"]  # the first best
    assert training["steps"] == len(training["losses"]) == len(curve)
    assert training["examples"] == 4  # dev examples are held out of training
    if training["stopped_early"]:
        assert training["steps"] < training["planned_steps"] == 8
        assert training["steps"] - training["best_step"] == 1  # patience
    (call,) = fit_calls[start:]
    assert len(call["dev"]) == 2 and not set(call["dev"]) & set(call["train"])
    assert set(call["dev"]) | set(call["train"]) == set(split_ids("train"))


def test_epochs_set_the_budget(tiny_llama_dir: Path, tmp_path: Path) -> None:
    result = invoke(eval_args(tiny_llama_dir, tmp_path, "epochs", "--set", "training.epochs=2", "--set", "training.batch_size=2",
                              "--set", "lora.rank=2", "--set", "bootstrap_samples=20", "--limit", "2", methods=("lora",)))
    assert result.exit_code == 0, result.output
    training = cells_by_method(tmp_path / "epochs")["lora"]["training"]
    assert training["planned_steps"] == training["steps"] == len(training["losses"]) == 6  # 2 x 6 examples / 2
    assert training["epochs"] == pytest.approx(2.0)


# ----------------------------------------------------------------------------- failures
def test_diverging_training_fails_only_its_cell(tiny_llama_dir: Path, tmp_path: Path) -> None:
    result = invoke(eval_args(tiny_llama_dir, tmp_path, "nan", *tiny_budget(30, "lora.lr=1e6", "prompt-tuning.num_virtual_tokens=4"),
                              methods=("zero-shot", "lora", "prompt-tuning")))
    assert result.exit_code == 1, result.output
    assert error_lines(result) == ["error: some cells failed (see above); finished cells are saved"]
    assert "Traceback" not in result.output
    run_dir = tmp_path / "nan"
    cells = load_results(run_dir)["cells"]
    assert [c["method"] for c in cells] == ["zero-shot", "lora", "prompt-tuning"]
    lora = cells[1]
    assert re.fullmatch(r"training loss became (nan|-?inf) at step \d+ \(lr=1000000\.0\); lower the learning rate or check the data",
                        lora["error"]), lora["error"]
    assert lora["metrics"] == {} and lora["samples"] == ""
    assert not (run_dir / "samples" / "tiny_qa" / "lora.jsonl").exists()
    for cell in (cells[0], cells[2]):  # before and after the failure
        assert cell["error"] is None and cell["metrics"]
        assert len(read_jsonl(run_dir / cell["samples"])) == LIMIT
    assert (run_dir / "report.md").is_file()


def lora_only(model: Path, out: Path, training: dict[str, Any]) -> RunConfig:
    return RunConfig.model_validate({
        "tasks": [str(QA)], "methods": [{"kind": "lora", "rank": 2}], "model": {"name": str(model), "device": "cpu"},
        "limit": 2, "out_dir": str(out), "run_id": "lora", "bootstrap_samples": 0, "training": training,
    })


def test_training_progress_uses_one_label_per_cell(tiny_llama_dir: Path, tmp_path: Path) -> None:
    config = lora_only(tiny_llama_dir, tmp_path, tiny_training(3))
    calls: list[tuple[str, int, int]] = []
    run_config(config, progress=lambda *a: calls.append(a))
    labels = {label for label, _, _ in calls if label.startswith("train")}
    assert len(labels) == 1, sorted(labels)


def test_training_progress_total_follows_the_epochs_budget(tiny_llama_dir: Path, tmp_path: Path) -> None:
    config = lora_only(tiny_llama_dir, tmp_path, {"epochs": 1, "batch_size": 2})
    calls: list[tuple[str, int, int]] = []
    run_config(config, progress=lambda *a: calls.append(a))
    totals = {total for label, _, total in calls if label.startswith("train")}
    assert totals == {3}  # 6 examples / batch 2


# ----------------------------------------------------------------------------- resume
RESUME_METHODS: list[dict[str, Any]] = [{"kind": "zero-shot"}, {"kind": "lora", "rank": 2, "dropout": 0.1}, {"kind": "prompt-tuning", "num_virtual_tokens": 4}]


def resume_config(model: Path, out: Path, run_id: str) -> RunConfig:
    """LoRA with dropout (the restored RNG state matters) and prompt tuning, checkpointed every
    two steps of five."""
    return RunConfig.model_validate({
        "tasks": [str(QA)], "methods": RESUME_METHODS, "model": {"name": str(model), "device": "cpu"},
        "limit": LIMIT, "batch_size": 4, "out_dir": str(out), "run_id": run_id, "bootstrap_samples": 20,
        "training": tiny_training(5, checkpoint_every=2),
    })


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory, tiny_llama_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("straight")
    run_config(resume_config(tiny_llama_dir, out, "straight"))
    return out / "straight"


def assert_same_run(run_dir: Path, reference: Path) -> None:
    cells, ref_cells = load_results(run_dir)["cells"], load_results(reference)["cells"]
    assert [c["method"] for c in cells] == [c["method"] for c in ref_cells] == [m["kind"] for m in RESUME_METHODS]
    for cell, ref in zip(cells, ref_cells, strict=True):
        assert cell["error"] is None
        assert cell["metrics"] == ref["metrics"], cell["method"]
        if cell["training"]:
            assert cell["training"]["losses"] == ref["training"]["losses"], cell["method"]
            assert cell["training"]["steps"] == ref["training"]["steps"] == 5
            assert cell["training"]["tokens"] == ref["training"]["tokens"]
        rows, ref_rows = read_jsonl(run_dir / cell["samples"]), read_jsonl(reference / ref["samples"])
        assert [r["raw_output"] for r in rows] == [r["raw_output"] for r in ref_rows], cell["method"]
    for method in ("lora", "prompt-tuning"):
        adapter = Path("adapters/tiny_qa/qa-extractive") / method / "seed-0/adapter/adapter_model.safetensors"
        got, want = load_file(run_dir / adapter), load_file(reference / adapter)
        assert sorted(got) == sorted(want) and all(torch.equal(got[k], want[k]) for k in want), method
    assert not list(run_dir.rglob("checkpoint.safetensors"))


def test_resumed_runner_ends_like_an_uninterrupted_run(uninterrupted: Path, tiny_llama_dir: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    config = resume_config(tiny_llama_dir, tmp_path, "resumed")
    run_dir = tmp_path / "resumed"

    def stop_in_lora(label: str, done: int, total: int) -> None:
        if label.startswith("train lora") and done == 3:
            raise KeyboardInterrupt  # after step 3; the last checkpoint is step 2's

    with pytest.raises(KeyboardInterrupt):
        run_config(config, progress=stop_in_lora)
    assert [c["method"] for c in load_results(run_dir)["cells"]] == ["zero-shot"]
    checkpoint = run_dir / "adapters/tiny_qa/qa-extractive/lora/seed-0/checkpoint/checkpoint.safetensors"
    assert checkpoint_fields(checkpoint)["step"] == 2  # plain tensors and values only
    zero_samples = (run_dir / "samples/tiny_qa/zero-shot.jsonl").read_bytes()

    def recomputed(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a finished cell was run again")

    monkeypatch.setattr(ZeroShotMethod, "predict", recomputed)
    run_config(config, resume=True)
    assert (run_dir / "samples/tiny_qa/zero-shot.jsonl").read_bytes() == zero_samples
    cells = cells_by_method(run_dir)
    assert cells["lora"]["training"]["resumed_from"] == 2
    assert cells["prompt-tuning"]["training"]["resumed_from"] is None
    assert_same_run(run_dir, uninterrupted)


def test_eval_resume_continues_an_interrupted_cli_run(uninterrupted: Path, tiny_llama_dir: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir = tmp_path / "cli"
    # The run of `uninterrupted`, through the CLI.
    args = ["eval", "--task", str(QA), "--model", str(tiny_llama_dir), "--limit", str(LIMIT), "--batch-size", "4",
            "--out", str(tmp_path), "--run-id", "cli", "--method", "zero-shot", "--method", "lora", "--method", "prompt-tuning",
            "--set", "lora.rank=2", "--set", "lora.dropout=0.1", "--set", "prompt-tuning.num_virtual_tokens=4",
            "--set", "bootstrap_samples=20", "--set", "training.steps=5", "--set", "training.batch_size=2",
            "--set", "training.checkpoint_every=2", "--device", "cpu"]
    original_save = training_module.Trainer._save

    def save_then_die(self: Any, path: Path, step: int, *rest: Any) -> None:
        original_save(self, path, step, *rest)
        if "prompt-tuning" in path.parts and step == 2:
            raise KeyboardInterrupt  # killed right after prompt tuning's step-2 checkpoint

    with monkeypatch.context() as mp:
        mp.setattr(training_module.Trainer, "_save", save_then_die)
        result = invoke(args)
    assert result.exit_code == 130, result.output
    assert "interrupted; results saved so far are kept" in result.stderr
    assert [c["method"] for c in load_results(run_dir)["cells"]] == ["zero-shot", "lora"]
    # The run directory holds the very config of `uninterrupted` (bar where it is written).
    assert resume_run_config(run_dir) == resume_config(tiny_llama_dir, tmp_path, "cli")

    trained: list[str] = []
    original_train = training_module.Trainer.train

    def counting_train(self: Any, examples: Any) -> Any:
        trained.append(str(self.checkpoint_dir))
        return original_train(self, examples)

    monkeypatch.setattr(training_module.Trainer, "train", counting_train)
    result = invoke(["eval", "--resume", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert len(trained) == 1 and "prompt-tuning" in trained[0]  # LoRA's finished cell is kept
    cells = cells_by_method(run_dir)
    assert cells["prompt-tuning"]["training"]["resumed_from"] == 2
    assert cells["lora"]["training"]["resumed_from"] is None
    assert_same_run(run_dir, uninterrupted)
