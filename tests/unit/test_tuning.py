"""Search spaces, samplers and budgets (promptkit.run.search, TunableBase.tune)."""

from __future__ import annotations

import itertools

import pytest
from promptkit.config import TuningConfig
from promptkit.config.run import build_run_config
from promptkit.errors import ConfigError, PromptkitError
from promptkit.methods import LoraConfig, PromptTuningConfig
from promptkit.run.search import GridSampler, budget, check_budgets, grid, make_sampler


def drain(sampler: object) -> list[dict[str, object]]:
    out = []
    while (params := sampler.ask()) is not None:  # type: ignore[attr-defined]
        sampler.tell(params, 1.0)  # type: ignore[attr-defined]
        out.append(params)
    return out


def test_grid_is_the_full_product_in_order() -> None:
    space = {"lr": [1, 2, 3], "rank": [8, 16]}
    assert grid(space) == [{"lr": a, "rank": b} for a, b in itertools.product([1, 2, 3], [8, 16])]
    assert drain(GridSampler(space, None, seed=0)) == grid(space)


def test_capped_grid_is_a_seeded_subset() -> None:
    space = {"lr": [1, 2, 3, 4], "rank": [8, 16]}
    first, again, other = (drain(GridSampler(space, 3, seed=s)) for s in (5, 5, 6))
    assert first == again and len(first) == 3 and len({tuple(p.items()) for p in first}) == 3
    assert all(p in grid(space) for p in first)
    assert first != other or drain(GridSampler(space, 3, seed=7)) != first  # the seed matters


def test_budgets_must_match_or_be_capped() -> None:
    spaces = {"prompt-tuning": {"lr": [1, 2]}, "lora": {"lr": [1, 2, 3]}}
    with pytest.raises(PromptkitError, match=r"different budgets \(grid sizes: prompt-tuning 2, lora 3\)"):
        check_budgets(spaces, TuningConfig())
    check_budgets(spaces, TuningConfig(candidates=2))
    with pytest.raises(PromptkitError, match="tuning.candidates=3 but the grid of prompt-tuning has 2"):
        check_budgets(spaces, TuningConfig(candidates=3))
    assert budget(spaces["lora"], TuningConfig()) == 3 and budget(spaces["lora"], TuningConfig(candidates=2)) == 2


def test_unknown_setting_in_a_space_names_the_close_one() -> None:
    with pytest.raises(ValueError, match="tune.lrr: not a setting of lora; did you mean 'lr'"):
        LoraConfig(tune={"lrr": [1e-3]})
    with pytest.raises(ValueError, match="tune.rank: give at least one value"):
        LoraConfig(tune={"rank": []})


def test_every_value_of_a_space_is_validated() -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        LoraConfig(tune={"lr": [1e-3, -1.0]})
    with pytest.raises(ValueError, match="instruction"):
        PromptTuningConfig(tune={"init": ["instruction", "zeros"]})


def test_space_errors_in_a_run_yaml_name_the_entry(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "run.yaml"
    path.write_text("methods:\n  - {kind: lora, tune: {lrr: [0.001]}}\n")
    with pytest.raises(ConfigError) as info:
        build_run_config(path)
    (problem,) = info.value.problems
    assert problem.line == 2 and "tune.lrr: not a setting of lora" in problem.message


def test_builtin_space_only_with_the_flag() -> None:
    assert LoraConfig().space(builtin=False) == {}
    assert LoraConfig().space(builtin=True) == {"lr": [3e-4, 1e-3, 3e-3], "rank": [8, 16]}
    assert LoraConfig(tune={"lr": [1e-4]}).space(builtin=True) == {"lr": [1e-4]}  # the entry's own wins


def test_untuned_entries_serialise_as_before() -> None:
    assert "tune" not in LoraConfig().model_dump() and LoraConfig(tune={"lr": [1e-3]}).model_dump()["tune"] == {"lr": [1e-3]}


def test_optuna_sampler_asks_the_budget_within_the_space() -> None:
    pytest.importorskip("optuna")
    space = {"lr": [1e-4, 1e-3, 1e-2], "rank": [4, 8]}
    sampler = make_sampler(space, TuningConfig(sampler="optuna", candidates=5), seed=3)
    asked = drain(sampler)
    assert len(asked) == 5 and all(p["lr"] in space["lr"] and p["rank"] in space["rank"] for p in asked)


def test_a_tuned_method_next_to_an_untuned_one_is_refused() -> None:
    with pytest.raises(PromptkitError, match="tuning: lora is tuned but prompt-tuning is not"):
        check_budgets({"lora": {"lr": [1, 2]}}, TuningConfig(), ["prompt-tuning"])
