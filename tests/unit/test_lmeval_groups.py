"""lm-evaluation-harness group files: resolved into their tasks (names, groups, tags, nesting),
aggregated as lm-eval aggregates them (checked against lm-eval's own rule, computed level by
level), with a stratified interval and a pooled paired test checked by simulation."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from promptkit.analysis.groups import group_weights, stratified
from promptkit.errors import ConfigError
from promptkit.tasks.lmeval.convert import task_name
from promptkit.tasks.lmeval.groups import Aggregate, expand_groups, resolve_group
from scipy import stats

GROUP = Path(__file__).resolve().parents[1] / "fixtures" / "lmeval" / "group"


def test_a_group_resolves_to_its_tasks_through_groups_and_tags() -> None:
    resolved = resolve_group(GROUP / "_toy_group.yaml", task_name)
    assert [p.name for p in resolved.tasks] == ["toy_sub_a.yaml", "toy_sub_b.yaml", "toy_sub_c.yaml"]
    outer, inner = resolved.groups["toy_group"], resolved.groups["toy_inner"]
    assert outer.members == (("task", "toy_sub_a"), ("group", "toy_inner"))
    assert inner.members == (("task", "toy_sub_b"), ("task", "toy_sub_c")) and inner.alias == "inner"
    assert outer.aggregates == (Aggregate("acc", True),) and inner.aggregates == (Aggregate("acc", False),)
    refs, groups = expand_groups(["squad", f"lm-eval:{GROUP / '_toy_group.yaml'}", f"lm-eval:{GROUP / 'toy_sub_a.yaml'}"])
    assert refs == ["squad", *(f"lm-eval:{GROUP / n}" for n in ("toy_sub_a.yaml", "toy_sub_b.yaml", "toy_sub_c.yaml"))]
    assert {g.name for g in groups[refs[1]]} == {"toy_group", "toy_inner"} and "squad" not in groups


@pytest.mark.parametrize(("edit", "message"), [
    ("  - toy_missing\n", "task[2]: no task, group or tag 'toy_missing' in "),
    ("  - {task: toy_sub_a, num_fewshot: 3}\n", "task[2]: a member that sets task keys inline"),
    ("  - toy_group\n", "task: group 'toy_group' contains itself (through toy_group)"),
])
def test_what_a_group_file_may_not_say_is_refused_at_its_line(edit: str, message: str, tmp_path: Path) -> None:
    folder = tmp_path / "group"
    shutil.copytree(GROUP, folder)
    shutil.copytree(GROUP.parent / "data", tmp_path / "data")
    path = folder / "_toy_group.yaml"
    path.write_text(path.read_text().replace("  - toy_inner\n", "  - toy_inner\n" + edit))
    with pytest.raises(ConfigError) as caught:
        resolve_group(path, task_name)
    assert any(message in str(p) for p in caught.value.problems), caught.value.problems


def lm_eval_aggregate(scores: dict[str, float], sizes: dict[str, int], weight_by_size: bool) -> float:
    """lm-eval 0.4.13's rule (lm_eval.api.metrics.aggregate_subtask_metrics over the group's leaf
    tasks, nested groups flattened, the group's own weight_by_size): the size-weighted mean of
    the tasks' scores, or their plain mean."""
    if not weight_by_size:
        return sum(scores.values()) / len(scores)
    return sum(scores[t] * sizes[t] for t in scores) / sum(sizes.values())


def test_the_weights_give_lm_evals_aggregate() -> None:
    rng = np.random.default_rng(0)
    for by_size in (True, False):
        for _ in range(20):
            sizes = {t: int(rng.integers(1, 500)) for t in ("toy_sub_a", "toy_sub_b", "toy_sub_c")}
            scores = {t: float(rng.uniform(0, 100)) for t in sizes}
            weights = group_weights(sizes, by_size)
            assert sum(weights.values()) == pytest.approx(1.0)
            assert sum(w * scores[t] for t, w in weights.items()) == pytest.approx(lm_eval_aggregate(scores, sizes, by_size))


def test_an_aggregate_without_weight_by_size_weighs_by_size_as_lm_eval_0_4_13(tmp_path: Path) -> None:
    folder = tmp_path / "group"
    shutil.copytree(GROUP, folder)
    path = folder / "_toy_group.yaml"
    path.write_text(path.read_text().replace("    weight_by_size: true\n", ""))
    assert resolve_group(path, task_name).groups["toy_group"].aggregates == (Aggregate("acc", True, None),)


@pytest.mark.parametrize("by_size", [True, False])
def test_the_stratified_interval_covers_the_true_aggregate(by_size: bool) -> None:
    """Binary rows with known accuracies per task: the 95% interval covers the true weighted
    accuracy in about 95% of 4,000 simulated evaluations."""
    rng = np.random.default_rng(1)
    p = np.array([0.35, 0.6, 0.8, 0.5])
    n = np.array([40, 120, 60, 300])
    w = n / n.sum() if by_size else np.full(len(n), 1 / len(n))
    truth = 100 * float(w @ p)
    z = stats.norm.ppf(0.975)
    covered = 0
    for _ in range(4000):
        values = {str(t): 100.0 * (rng.random(n[t]) < p[t]) for t in range(len(n))}
        value, se = stratified(values, {str(t): float(w[t]) for t in range(len(n))})
        covered += value - z * se <= truth <= value + z * se
    assert 0.935 <= covered / 4000 <= 0.965


def test_the_pooled_paired_test_holds_its_level() -> None:
    """Two methods with the same accuracy on every task, their rows correlated (a shared row
    difficulty): the test on the pooled differences rejects about 5% of the time."""
    rng = np.random.default_rng(2)
    n = np.array([50, 80, 200])
    p = np.array([0.4, 0.7, 0.55])
    w = {str(t): float(n[t] / n.sum()) for t in range(len(n))}
    rejected = 0
    trials = 4000
    for _ in range(trials):
        diffs = {}
        for t in range(len(n)):
            easy = rng.random(n[t])
            a = easy < p[t] + 0.1 * (rng.random(n[t]) - 0.5)
            b = easy < p[t] + 0.1 * (rng.random(n[t]) - 0.5)
            diffs[str(t)] = 100.0 * (a.astype(float) - b.astype(float))
        d, se = stratified(diffs, w)
        rejected += 2 * stats.norm.sf(abs(d) / se) < 0.05 if se > 0 else 0
    assert 0.035 <= rejected / trials <= 0.065


def test_tasks_validate_checks_a_group_as_its_tasks() -> None:
    from click.testing import CliRunner
    from promptkit.cli import cli

    result = CliRunner().invoke(cli, ["tasks", "validate", f"lm-eval:{GROUP / '_toy_group.yaml'}"])
    assert result.exit_code == 0, result.output
    assert [line.split(" (")[0] for line in result.stdout.splitlines() if line.startswith("ok: ")] == [
        f"ok: lm-eval:{GROUP / name}" for name in ("toy_sub_a.yaml", "toy_sub_b.yaml", "toy_sub_c.yaml")]


def test_which_column_each_aggregate_reads_as_lm_eval_finds_its_metric() -> None:
    """An aggregate without filter_list takes every filter its tasks were scored on (GSM8K's two);
    acc / acc_norm / acc_bytes read promptkit's one accuracy column only where the task's choices
    were scored that way; a task without the metric is left out, as lm-eval leaves it out."""
    from promptkit.analysis.groups import _columns
    from promptkit.records.results import RunResult, TaskInfo

    gen = ("string_match[strict-match]", "string_match[flexible-extract]")
    result = RunResult(run_id="r", created="now", config={}, tasks={
        "g1": TaskInfo(adapter="generation", metrics=gen), "g2": TaskInfo(adapter="generation", metrics=gen[:1]),
        "plain": TaskInfo(adapter="multiple_choice", metrics=("accuracy",), normalization="none"),
        "normed": TaskInfo(adapter="multiple_choice", metrics=("accuracy",), normalization="chars"),
        # a loglikelihood task (LAMBADA): its acc is the greedy match
        "lambada": TaskInfo(adapter="multiple_choice", metrics=("accuracy",), normalization="greedy"),
        # written by an older promptkit: which accuracy it holds is not recorded, so it is not filtered
        "old": TaskInfo(adapter="multiple_choice", metrics=("accuracy",)),
    })
    found = _columns(result, ["g1", "g2"], Aggregate("exact_match"))
    assert found == {"strict-match": {"g1": gen[0], "g2": gen[0]}, "flexible-extract": {"g1": gen[1]}}
    assert _columns(result, ["g1", "g2"], Aggregate("exact_match", True, "flexible-extract")) == {"flexible-extract": {"g1": gen[1]}}
    assert _columns(result, ["plain", "normed"], Aggregate("acc")) == {None: {"plain": "accuracy"}}
    assert _columns(result, ["plain", "normed"], Aggregate("acc_norm")) == {None: {"normed": "accuracy"}}
    assert _columns(result, ["plain", "lambada", "old"], Aggregate("acc")) == {
        None: {"plain": "accuracy", "lambada": "accuracy", "old": "accuracy"}}
    assert _columns(result, ["lambada", "old"], Aggregate("acc_norm")) == {None: {"old": "accuracy"}}


def test_a_task_of_one_row_gives_no_interval_rather_than_a_false_one() -> None:
    value, se = stratified({"a": np.array([100.0]), "b": np.array([0.0, 100.0])}, {"a": 0.5, "b": 0.5})
    assert value == 75.0 and np.isnan(se)


@pytest.mark.parametrize("edit", [{"name": None}, {"alias": 5}, {"members": [["task"]]}, {"members": [["table", "x"]]},
                                  {"aggregates": [{"weight_by_size": True}]},
                                  {"aggregates": [{"metric": "acc", "weight_by_size": "false"}]}])
def test_an_edited_group_record_is_refused_in_one_line(edit: dict[str, object]) -> None:
    from promptkit.records.validation import RecordError
    from promptkit.tasks.lmeval.groups import GroupDef

    good = resolve_group(GROUP / "_toy_group.yaml", task_name).groups["toy_group"].to_dict()
    with pytest.raises(RecordError, match="^lm_eval_groups: .*not a group as promptkit writes it$"):
        GroupDef.from_dict({**good, **edit})
