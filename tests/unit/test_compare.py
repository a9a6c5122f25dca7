"""All-pairs comparisons, Holm adjustment, seed summaries and the verdict (promptkit.report.compare).

References are independent of the code under test: scipy's binomial test for McNemar, Holm
written out from its definition, and per-sample outcomes chosen so that every score is known.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from promptkit.records import Cost, MetricScore
from promptkit.report.compare import compare_runs
from promptkit.report.markdown import render_markdown
from promptkit.report.results import CellResult, RunResult, TaskInfo

scipy_stats = pytest.importorskip("scipy.stats")

N = 60
REFS = [[f"answer {i}"] for i in range(N)]


def _write_cell(run_dir: Path, method: str, correct: np.ndarray, seed: int | None = None, params: float | None = None,
                train_s: float = 100.0) -> CellResult:
    """A cell whose prediction of row i is right exactly where ``correct[i]``."""
    preds = [REFS[i][0] if correct[i] else "nothing" for i in range(N)]
    path = run_dir / "samples" / "toy" / f"{method}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        for i, p in enumerate(preds):
            fh.write(json.dumps({"example_id": f"ex{i}", "prompt_name": "qa", "method": method, "seed": seed,
                                 "prediction": p, "references": REFS[i]}) + "\n")
    em = 100.0 * float(np.mean(correct))
    return CellResult(task="toy", prompt="qa", method=method, method_config={"kind": method}, task_version="1",
                      prompt_version="1", n=N, seed=seed,
                      metrics={"exact_match": MetricScore("exact_match", em, em - 5, em + 5, N),
                               "token_f1": MetricScore("token_f1", em, em - 5, em + 5, N)},
                      cost=None if params is None else Cost(trainable_params=params, trainable_pct=0.1, train_s=train_s),
                      throughput={"prompt_tokens": 1000.0, "examples_per_s": 1.0},
                      samples=f"samples/toy/{method}.jsonl")


def _run(cells: list[CellResult], methods: list[str]) -> RunResult:
    return RunResult(run_id="r", created="now", config={"methods": [{"kind": m} for m in methods], "seed": 0},
                     tasks={"toy": TaskInfo(metrics=("exact_match", "token_f1"), language="en")}, cells=cells)


def _holm_reference(p: list[float]) -> list[float]:
    """Holm (1979) from its definition: the i-th smallest p times (m - i + 1), made monotone."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    out = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


@pytest.fixture
def outcomes() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    zero = rng.random(N) < 0.1
    lora = rng.random(N) < 0.85
    # prompt tuning agrees with LoRA except on 4 rows: a small, non-significant difference
    pt = lora.copy()
    pt[:4] = ~pt[:4]
    return {"zero-shot": zero, "prompt-tuning": pt, "lora": lora}


def test_every_pair_mcnemar_matches_scipy_and_holm_matches_definition(tmp_path: Path, outcomes: dict[str, np.ndarray]) -> None:
    cells = [_write_cell(tmp_path, "zero-shot", outcomes["zero-shot"]),
             _write_cell(tmp_path, "prompt-tuning", outcomes["prompt-tuning"], seed=0, params=10_000),
             _write_cell(tmp_path, "lora", outcomes["lora"], seed=0, params=900_000)]
    run = _run(cells, ["zero-shot", "prompt-tuning", "lora"])
    compare_runs(run, tmp_path, n_boot=500, seed=1)
    pairs = run.comparisons
    assert len(pairs) == 3 * 2  # three pairs x two metrics
    assert {(p.a, p.b) for p in pairs} == {("prompt-tuning", "zero-shot"), ("lora", "zero-shot"), ("lora", "prompt-tuning")}
    for p in (p for p in pairs if p.metric == "exact_match"):
        a, b = outcomes[p.a], outcomes[p.b]
        n01, n10 = int(np.sum(a & ~b)), int(np.sum(~a & b))
        expected = 1.0 if n01 + n10 == 0 else scipy_stats.binomtest(min(n01, n10), n01 + n10, 0.5).pvalue
        assert p.test == "mcnemar-exact" and p.resamples is None
        assert p.p_value == pytest.approx(expected, rel=1e-9)
        assert p.delta == pytest.approx(100.0 * (a.mean() - b.mean()), abs=1e-3)
        # MDD: (z_{1-alpha/2} + z_{power}) * sd(per-example differences) / sqrt(n), by scipy
        diffs = 100.0 * (a.astype(float) - b.astype(float))
        z = scipy_stats.norm.ppf(0.975) + scipy_stats.norm.ppf(0.8)
        assert p.mdd == pytest.approx(z * diffs.std(ddof=1) / np.sqrt(N), abs=1e-3)
    f1 = [p for p in pairs if p.metric == "token_f1"]
    assert {p.test for p in f1} == {"paired-bootstrap"} and {p.resamples for p in f1} == {500}
    assert [p.p_holm for p in pairs] == pytest.approx(_holm_reference([p.p_value for p in pairs]))


def test_verdict_ties_and_recommends_the_cheapest(tmp_path: Path, outcomes: dict[str, np.ndarray]) -> None:
    cells = [_write_cell(tmp_path, "zero-shot", outcomes["zero-shot"]),
             _write_cell(tmp_path, "prompt-tuning", outcomes["prompt-tuning"], seed=0, params=10_000),
             _write_cell(tmp_path, "lora", outcomes["lora"], seed=0, params=900_000)]
    run = _run(cells, ["zero-shot", "prompt-tuning", "lora"])
    compare_runs(run, tmp_path, n_boot=500, seed=1)
    (verdict,) = run.verdicts
    values = {m: 100 * outcomes[m].mean() for m in outcomes}
    best = max(values, key=lambda m: values[m])
    assert verdict.metric == "exact_match" and verdict.best == best
    assert set(verdict.tied) == {"prompt-tuning", "lora"}  # zero-shot is far below
    assert verdict.recommended == "prompt-tuning"  # tied, and 90x fewer trainable parameters
    assert verdict.reason.startswith("statistically tied with the best on exact_match, lora") and "cheaper" in verdict.reason
    text = render_markdown(run)
    assert "Recommendation for qa: prompt-tuning" in text


def test_clear_winner_is_recommended_even_when_expensive(tmp_path: Path, outcomes: dict[str, np.ndarray]) -> None:
    cells = [_write_cell(tmp_path, "zero-shot", outcomes["zero-shot"]),
             _write_cell(tmp_path, "lora", outcomes["lora"], seed=0, params=900_000)]
    run = _run(cells, ["zero-shot", "lora"])
    compare_runs(run, tmp_path, n_boot=200, seed=1)
    (verdict,) = run.verdicts
    assert verdict.tied == ("lora",) and verdict.recommended == "lora"


def test_floor_p_values_are_written_as_bounds(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    # Fractional F1-like outcomes are impossible here (exact or wrong), so use a large gap that
    # puts the bootstrap p at its floor 1 / (B + 1).
    cells = [_write_cell(tmp_path, "zero-shot", rng.random(N) < 0.05), _write_cell(tmp_path, "lora", rng.random(N) < 0.95, 0, 9)]
    run = _run(cells, ["zero-shot", "lora"])
    compare_runs(run, tmp_path, n_boot=1000, seed=1)
    f1 = next(p for p in run.comparisons if p.metric == "token_f1")
    assert f1.p_value == pytest.approx(1 / 1001)
    text = render_markdown(run)
    assert "p < 0.001 (B = 1000)" in text
    assert "p=0.001" not in text and "p = 0.001" not in text


def test_seeds_give_two_level_tests_and_summaries(tmp_path: Path, outcomes: dict[str, np.ndarray]) -> None:
    rng = np.random.default_rng(11)
    cells = [_write_cell(tmp_path, "zero-shot", outcomes["zero-shot"])]
    for seed in range(3):
        flip = rng.random(N) < 0.1
        cells.append(_write_cell(tmp_path, "lora", outcomes["lora"] ^ flip, seed=seed, params=900_000))
    run = _run(cells, ["zero-shot", "lora"])
    compare_runs(run, tmp_path, n_boot=300, seed=1)
    assert {p.test for p in run.comparisons} == {"two-level-paired-bootstrap"}
    summary = next(s for s in run.seed_summaries if s.metric == "exact_match")
    values = [c.metrics["exact_match"].value for c in cells[1:]]
    assert summary.seeds == (0, 1, 2)
    assert list(summary.values) == pytest.approx(values, abs=1e-3)
    assert summary.mean == pytest.approx(np.mean(values), abs=1e-3)
    assert summary.sd == pytest.approx(np.std(values, ddof=1), abs=1e-3)
    for low, high in (summary.ci_sample, summary.ci_seed_sample):
        assert low <= summary.mean <= high
    text = render_markdown(run)
    assert "Scores per training seed" in text and "seeds + test sample" in text


def test_report_round_trip_keeps_comparisons(tmp_path: Path, outcomes: dict[str, np.ndarray]) -> None:
    cells = [_write_cell(tmp_path, m, outcomes[m], seed=None if m == "zero-shot" else 0, params=None if m == "zero-shot" else 5)
             for m in outcomes]
    run = _run(cells, list(outcomes))
    compare_runs(run, tmp_path, n_boot=100, seed=1)
    run.save(tmp_path)
    loaded = RunResult.load(tmp_path)
    assert loaded.comparisons == run.comparisons and loaded.verdicts == run.verdicts


def test_pair_count_grows_quadratically(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    names = [f"m{i}" for i in range(5)]
    cells = [_write_cell(tmp_path, m, rng.random(N) < 0.5) for m in names]
    run = _run(cells, names)
    compare_runs(run, tmp_path, n_boot=50, seed=1)
    assert {(p.a, p.b) for p in run.comparisons} == {(b, a) for a, b in itertools.combinations(names, 2)}


def test_untested_pairs_are_not_counted_as_ties(tmp_path: Path, outcomes: dict[str, np.ndarray]) -> None:
    # bootstrap_samples 0: token F1 (the selection metric here) cannot be tested; the verdict
    # must not call the cheaper method "tied" on the strength of a missing test.
    cells = [_write_cell(tmp_path, "zero-shot", outcomes["zero-shot"]),
             _write_cell(tmp_path, "lora", outcomes["lora"], seed=0, params=900_000)]
    run = _run(cells, ["zero-shot", "lora"])
    run.tasks["toy"] = dataclasses.replace(run.tasks["toy"], metrics=("token_f1", "exact_match"))
    compare_runs(run, tmp_path, n_boot=0, seed=1)
    (verdict,) = run.verdicts
    assert verdict.metric == "token_f1" and verdict.tied == ("lora",) and verdict.recommended == "lora"
    assert "Not tested against lora (bootstrap_samples is 0): zero-shot." in verdict.reason


def test_identical_seeds_give_the_single_seed_interval(tmp_path: Path, outcomes: dict[str, np.ndarray]) -> None:
    # Seeds that agree row for row carry no seed variance: both intervals must then be the plain
    # 95% bootstrap interval of one seed (a wrong level or an extra spread would show here).
    from promptkit.metrics import bootstrap_ci, get_metric

    cells = [_write_cell(tmp_path, "zero-shot", outcomes["zero-shot"])]
    cells += [_write_cell(tmp_path, "lora", outcomes["lora"], seed=s, params=9) for s in range(3)]
    run = _run(cells, ["zero-shot", "lora"])
    compare_runs(run, tmp_path, n_boot=400, seed=5)
    summary = next(s for s in run.seed_summaries if s.metric == "exact_match")
    stats = outcomes["lora"].astype(np.float64).reshape(-1, 1)
    expected = bootstrap_ci(get_metric("exact_match"), stats, n_boot=400, alpha=0.05, seed=5)
    assert summary.sd == 0.0
    assert summary.ci_sample == pytest.approx(expected, abs=1e-4)
    assert summary.ci_seed_sample == pytest.approx(expected, abs=1e-4)
