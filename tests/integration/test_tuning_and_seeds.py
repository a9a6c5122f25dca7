"""Selection on a dev split (``tune`` / ``--tune``) and several training seeds, end to end on the
tiny model: what each candidate trained and was scored on, the same budget for every method,
the chosen settings trained once per seed, and what results.json and the report keep."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import invoke, set_args, tiny_budget
from promptkit.config.run import build_run_config
from promptkit.methods import TrainableMethod
from promptkit.run.plan import prepare, tuned_spaces

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
QA = TINY / "qa.yaml"
BUDGET = [*tiny_budget(2, "prompt-tuning.num_virtual_tokens=4"), *set_args("tuning.dev_size=2")]


def ids(split: str) -> list[str]:
    return [json.loads(line)["id"] for line in (TINY / "data" / f"qa_{split}.jsonl").read_text().splitlines()]


def write_run_yaml(path: Path, lora_space: str, pt_space: str) -> Path:
    path.write_text(f"methods:\n  - zero-shot\n  - {{kind: prompt-tuning, tune: {pt_space}}}\n  - {{kind: lora, tune: {lora_space}}}\n")
    return path


@pytest.fixture(scope="module")
def calls() -> Iterator[list[dict[str, Any]]]:
    """Every fit and predict of a trainable method in this module: which examples it saw."""
    seen: list[dict[str, Any]] = []
    fit, predict = TrainableMethod.fit, TrainableMethod.predict

    def spy_fit(self: TrainableMethod, train: Any) -> Any:
        seen.append({"call": "fit", "kind": self.kind, "lr": self.config.lr, "seed": self.context.seed,
                     "ids": [p.example_id for p in train]})
        return fit(self, train)

    def spy_predict(self: TrainableMethod, prompts: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append({"call": "predict", "kind": self.kind, "lr": self.config.lr, "ids": [p.example_id for p in prompts]})
        return predict(self, prompts, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(TrainableMethod, "fit", spy_fit)
        mp.setattr(TrainableMethod, "predict", spy_predict)
        yield seen


@pytest.fixture(scope="module")
def tuned_run(tmp_path_factory: pytest.TempPathFactory, tiny_llama_dir: Path, calls: list[dict[str, Any]]) -> tuple[Path, list[dict[str, Any]]]:
    out = tmp_path_factory.mktemp("tuned")
    config = write_run_yaml(out / "run.yaml", "{lr: [0.001, '1e-2']}", "{lr: [0.003, 0.3]}")
    start = len(calls)
    result = invoke(["eval", "--task", str(QA), "--model", str(tiny_llama_dir), "--limit", "4", "--out", str(out),
                     "--run-id", "tuned", "--config", str(config), "--seeds", "2", *BUDGET])
    assert result.exit_code == 0, result.output
    return out / "tuned", calls[start:]


def test_candidates_train_on_train_and_are_scored_on_dev_never_test(tuned_run: tuple[Path, list[dict[str, Any]]]) -> None:
    run_dir, seen = tuned_run
    results = json.loads((run_dir / "results.json").read_text())
    test_ids, train_ids = set(ids("test")[:4]), set(ids("train"))
    by_method = {c["method"]: c for c in results["cells"] if c["seed"] == 0}
    for method, kind in (("prompt-tuning", "prompt-tuning"), ("lora", "lora")):
        tuning = by_method[method]["tuning"]
        assert tuning["metric"] == "exact_match" and tuning["n_dev"] == 2 and tuning["split"].startswith("dev")
        fits = [c for c in seen if c["call"] == "fit" and c["kind"] == kind]
        # 2 candidates (first training seed), then the chosen settings once per seed
        assert len(fits) == 4
        candidate_fits, final_fits = fits[:2], fits[2:]
        dev_predicts = [c for c in seen if c["call"] == "predict" and c["kind"] == kind][:2]
        dev = set(dev_predicts[0]["ids"])
        assert len(dev) == 2 and dev <= train_ids and not dev & test_ids
        for fit in fits:
            assert not set(fit["ids"]) & dev and not set(fit["ids"]) & test_ids
            assert set(fit["ids"]) == train_ids - dev  # every fit, candidate or final, the same examples
        assert {c["seed"] for c in candidate_fits} == {final_fits[0]["seed"]}
        assert final_fits[0]["seed"] != final_fits[1]["seed"]
        # the chosen candidate is the best dev score, and the final cells use its settings
        scores = [c["dev_score"] for c in tuning["candidates"]]
        best = tuning["candidates"][scores.index(max(scores))]["params"]
        assert tuning["chosen"] == best
        assert {c["lr"] for c in final_fits} == {best["lr"]}
        for seed in (0, 1):
            cell = next(c for c in results["cells"] if c["method"] == method and c["seed"] == seed)
            assert cell["method_config"]["lr"] == best["lr"] and "tune" not in cell["method_config"]
            assert cell["cost"]["tuning_s"] > 0
    # YAML's '1e-2' (a string to YAML 1.1) was validated to a float
    lora_lrs = [c["params"]["lr"] for c in by_method["lora"]["tuning"]["candidates"]]
    assert lora_lrs == [0.001, 0.01]


def test_seeds_key_cells_adapters_and_samples(tuned_run: tuple[Path, list[dict[str, Any]]]) -> None:
    run_dir, _ = tuned_run
    results = json.loads((run_dir / "results.json").read_text())
    assert [(c["method"], c["seed"]) for c in results["cells"]] == [
        ("zero-shot", None), ("prompt-tuning", 0), ("prompt-tuning", 1), ("lora", 0), ("lora", 1)]
    adapters = {c["adapter"] for c in results["cells"] if c["adapter"]}
    assert len(adapters) == 4 and all((run_dir / a / "adapter_config.json").is_file() for a in adapters)
    rows = [json.loads(line) for line in (run_dir / "samples" / "tiny_qa" / "lora.jsonl").read_text().splitlines()]
    assert [r["seed"] for r in rows] == [0] * 4 + [1] * 4
    summaries = {(s["method"], s["metric"]) for s in results["seed_summaries"]}
    assert summaries == {(m, k) for m in ("prompt-tuning", "lora") for k in ("exact_match", "token_f1")}
    # seeds enter every test (mean metrics: their between-seed variance added to the paired t; the
    # exact sign-flip where the tiny model's differences are all alike)
    assert {p["test"] for p in results["comparisons"]} <= {"paired-t+seeds", "paired-sign-flip-exact+seeds"}
    assert "paired-t+seeds" in {p["test"] for p in results["comparisons"]}
    report = (run_dir / "report.md").read_text()
    assert "Settings chosen on the dev split (never test)" in report and "| lora | qa/extractive | lr=0.01 |" in report
    assert "Scores per training seed" in report and "95% CI, seeds + test sample" in report


def test_unequal_budgets_are_refused_before_the_model_loads(tmp_path: Path, tiny_llama_dir: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import promptkit.models

    monkeypatch.setattr(promptkit.models, "load_model", lambda *a, **k: pytest.fail("the model must not load"))
    config = write_run_yaml(tmp_path / "run.yaml", "{lr: [0.001, 0.003, 0.01]}", "{lr: [0.03, 0.3]}")
    result = invoke(["eval", "--task", str(QA), "--model", str(tiny_llama_dir), "--out", str(tmp_path), "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert "tuning: methods would get different budgets (grid sizes: prompt-tuning 2, lora 3)" in result.stderr
    assert "--set tuning.candidates=2" in result.stderr
    # With a cap of 2 candidates each, both get the same budget.
    capped = build_run_config(config, {"tasks": (str(QA),)}, ["tuning.candidates=2"])
    prepare(capped)


def test_selecting_on_the_test_split_is_refused(tiny_llama_dir: Path) -> None:
    from promptkit.errors import PromptkitError

    config = build_run_config(None, {"tasks": (str(QA),), "methods": ("lora",), "tuning.builtin": True}, ["tuning.split=test"])
    with pytest.raises(PromptkitError, match="tuning.split 'test' is the evaluated split of task 'tiny_qa'"):
        prepare(config)


def test_selecting_on_the_train_split_is_refused() -> None:
    from promptkit.errors import PromptkitError

    config = build_run_config(None, {"tasks": (str(QA),), "methods": ("lora",), "tuning.builtin": True}, ["tuning.split=train"])
    with pytest.raises(PromptkitError, match="tuning.split 'train' is the train split of task 'tiny_qa'"):
        prepare(config)


def test_builtin_spaces_give_every_method_the_same_budget() -> None:
    config = build_run_config(None, {"methods": ("prompt-tuning", "prefix-tuning", "p-tuning", "lora", "zero-shot"),
                                     "tuning.builtin": True})
    spaces = tuned_spaces(config)
    assert set(spaces) == {"prompt-tuning", "prefix-tuning", "p-tuning", "lora"}
    assert all("lr" in s for s in spaces.values())
    assert spaces["prompt-tuning"]["init"] == ["instruction", "vocab"]
    sizes = {len(s["lr"]) * len(next(v for k, v in s.items() if k != "lr")) for s in spaces.values()}
    assert sizes == {6}


def test_a_run_interrupted_during_tuning_keeps_its_finished_candidates(
        tuned_run: tuple[Path, list[dict[str, Any]]], tiny_llama_dir: Path, tmp_path: Path, calls: list[dict[str, Any]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from promptkit.run.progress import SavedCandidates

    config = write_run_yaml(tmp_path / "run.yaml", "{lr: [0.001, '1e-2']}", "{lr: [0.003, 0.3]}")
    args = ["eval", "--task", str(QA), "--model", str(tiny_llama_dir), "--limit", "4", "--out", str(tmp_path),
            "--run-id", "cut", "--config", str(config), "--seeds", "2", *BUDGET]
    original = SavedCandidates.append

    def stop_after_lora_first(self: SavedCandidates, key: str, candidate: Any) -> None:
        original(self, key, candidate)
        if "lora" in self.path.name:
            raise KeyboardInterrupt  # right after LoRA's first candidate was saved

    with monkeypatch.context() as mp:
        mp.setattr(SavedCandidates, "append", stop_after_lora_first)
        assert invoke(args).exit_code == 130
    start = len(calls)
    resumed = invoke(["eval", "--resume", str(tmp_path / "cut")])
    assert resumed.exit_code == 0, resumed.output
    lora_fits = [c["lr"] for c in calls[start:] if c["call"] == "fit" and c["kind"] == "lora"]
    assert lora_fits == [0.01, 0.001, 0.001] or lora_fits == [0.01, 0.01, 0.01]  # the second candidate, then the seeds
    assert not [c for c in calls[start:] if c["call"] == "fit" and c["kind"] == "prompt-tuning"]  # its cells were done

    def tuning(run_dir: Path) -> list[Any]:
        data = json.loads((run_dir / "results.json").read_text())
        return [(c["method"], c["seed"], c["tuning"]["chosen"], [(k["params"], k["dev_score"]) for k in c["tuning"]["candidates"]],
                 c["metrics"]) for c in data["cells"] if c["tuning"]]

    assert tuning(tmp_path / "cut") == tuning(tuned_run[0])
    assert not (tmp_path / "cut" / "partial").exists()
