"""Limits with their reasons (issue 22, items 11 and 12): sizes a user can type that would cost
days or echo another file's text are refused before any model loads, in one line that names the
key, the size and the bound.

Every CLI case here runs ``promptkit eval`` with a ``--model`` that does not exist: an error that
names it (or "loading the model" in the output) means the input got past the check.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import random
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import Result
from helpers import error_lines, invoke, set_args
from promptkit.config import MAX_CHOICES, MAX_TUNING_CANDIDATES, TuningConfig
from promptkit.errors import ConfigError
from promptkit.methods import LoraConfig
from promptkit.run import search
from promptkit.run.search import GridSampler, grid

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "fixtures" / "tiny"
LMEVAL = ROOT / "tests" / "fixtures" / "lmeval"


def evaluate(tmp: Path, task: Path | str, *extra: str, method: str = "zero-shot") -> Result:
    return invoke(["eval", "--task", str(task), "--model", str(tmp / "no-model"), "--method", method,
                   "--out", str(tmp / "out"), *extra])


def refused(result: Result) -> str:
    """The one error line of a run refused before the model (exit 2)."""
    assert result.exit_code == 2, result.output
    assert "no-model" not in result.output and "loading the model" not in result.output, result.output
    (line,) = error_lines(result)
    return line


# ----------------------------------------------------------------------------- tuning grids
def test_a_grid_over_the_bound_is_refused_before_the_model(tmp_path: Path) -> None:
    # 100 x 100 x 100 = 1,000,000 candidates: one training run each, about 60 days of the default budget
    space = "{lr: [%s], rank: [%s], alpha: [%s]}" % (", ".join(f"{(i + 1) * 1e-5:g}" for i in range(100)),
                                                     ", ".join(str(i + 1) for i in range(100)),
                                                     ", ".join(str(i + 1) for i in range(100)))
    line = refused(evaluate(tmp_path, TINY / "qa.yaml", *set_args(f"lora.tune={space}"), method="lora"))
    assert "lora" in line and "1,000,000 candidates (lr 100 x rank 100 x alpha 100)" in line
    assert f"at most {MAX_TUNING_CANDIDATES}" in line
    assert "set tuning.candidates: N to sample N of them, or shorten the value lists" in line


def test_the_builtin_grid_and_a_sampled_big_grid_pass_the_bound() -> None:
    search.check_grid_sizes({"lora": LoraConfig().space(builtin=True)}, TuningConfig())
    big = {"lr": list(range(1, 101)), "rank": list(range(1, 101))}
    search.check_grid_sizes({"lora": big}, TuningConfig(candidates=8))
    with pytest.raises(ConfigError, match="10,000 candidates"):
        search.check_grid_sizes({"lora": big}, TuningConfig(sampler="optuna"))  # N trials = the grid: as long


def test_tuning_candidates_has_the_same_bound(tmp_path: Path) -> None:
    line = refused(evaluate(tmp_path, TINY / "qa.yaml", "--tune", *set_args(f"tuning.candidates={MAX_TUNING_CANDIDATES + 1}"),
                            method="lora"))
    assert "tuning.candidates" in line and str(MAX_TUNING_CANDIDATES) in line


def old_subset(space: dict[str, list[int]], n: int, seed: int) -> list[dict[str, int]]:
    """GridSampler's subset as it was drawn before (from the enumerated grid): runs must not move."""
    points = grid(space)
    return [points[i] for i in sorted(random.Random(seed).sample(range(len(points)), n))]


def drain(sampler: Any) -> list[dict[str, Any]]:
    out = []
    while (params := sampler.ask()) is not None:
        out.append(params)
    return out


def test_sampling_a_huge_grid_never_enumerates_it(monkeypatch: pytest.MonkeyPatch) -> None:
    space = {"a": [1, 2, 3, 4], "b": [5, 6, 7], "c": [8, 9]}
    for n, seed in itertools.product((1, 5, 23), (0, 7)):
        assert drain(GridSampler(space, n, seed)) == old_subset(space, n, seed)  # the same candidates as before
    huge = {k: list(range(1000)) for k in "xyz"}  # 10^9 points: enumerating them would never end

    def enumerate_grid(space: Any) -> list[dict[str, Any]]:
        raise AssertionError("the grid was enumerated")

    monkeypatch.setattr(search, "grid", enumerate_grid)
    points = drain(GridSampler(huge, 5, seed=3))
    assert len(points) == 5 and len({tuple(p.values()) for p in points}) == 5
    assert points == sorted(points, key=lambda p: (p["x"], p["y"], p["z"]))  # grid order


def test_tuning_progress_shows_the_candidate_and_the_total(monkeypatch: pytest.MonkeyPatch) -> None:
    from promptkit.run import tuning

    labels: list[tuple[str, int, int]] = []

    @dataclasses.dataclass(frozen=True)
    class Context:
        on_step: Callable[[int, float], None] | None = None

    @contextmanager
    def built(spec: Any, cfg: Any, session: Any, context: Context) -> Iterator[Any]:
        yield context

    def fit_and_predict(method: Context, train: Any, predict: Any) -> tuple[list[Any], None, None]:
        assert method.on_step is not None
        method.on_step(1, 0.5)
        return [], None, None

    monkeypatch.setattr(tuning, "built", built)
    monkeypatch.setattr(tuning, "fit_and_predict", fit_and_predict)
    monkeypatch.setattr(tuning, "selection_score", lambda p, preds: 0.5)
    monkeypatch.setattr(tuning, "fit_context", lambda *a: Context())
    monkeypatch.setattr(tuning, "_saved_candidates", lambda *a: None)
    method = LoraConfig(tune={"lr": [1e-4, 1e-3, 1e-2]})
    config = SimpleNamespace(training=SimpleNamespace(steps=4, epochs=None, batch_size=2, grad_accum=1),
                             tuning=TuningConfig())
    prompts = SimpleNamespace(dev=["d"], train=["t"] * 6, n_train_examples=6)
    session = SimpleNamespace(
        plan=SimpleNamespace(config=config, seeds=SimpleNamespace(training=[0], tuning=1), spaces={"lora": method.tune}),
        prompts=SimpleNamespace(training=lambda spec, m: prompts),
        store=SimpleNamespace(resume=False, main=False),
        options=SimpleNamespace(progress=lambda label, done, total: labels.append((label, done, total))),
    )
    task = SimpleNamespace(name="t", train=[], task=SimpleNamespace(config=SimpleNamespace(metrics=["accuracy"], columns=lambda: ["accuracy"])))
    spec = SimpleNamespace(task=task, method=method, template=SimpleNamespace(name="p"))
    tuning.tune(session, spec)  # type: ignore[arg-type]
    assert labels == [(f"tune lora candidate {i}/3", 1, 4) for i in (1, 2, 3)]


# ----------------------------------------------------------------------------- resampling
def test_bootstrap_samples_is_bounded(tmp_path: Path) -> None:
    line = refused(evaluate(tmp_path, TINY / "qa.yaml", *set_args("bootstrap_samples=1000000000")))
    assert "bootstrap_samples" in line and "100000" in line


# ----------------------------------------------------------------------------- training budgets
@pytest.mark.parametrize(("setting", "bound"), [("training.steps=2000000", "1000000"), ("training.epochs=1e9", "10000"),
                                                ("training.grad_accum=100000", "1024")])
def test_a_training_budget_is_bounded(tmp_path: Path, setting: str, bound: str) -> None:
    line = refused(evaluate(tmp_path, TINY / "qa.yaml", *set_args(setting), method="lora"))
    assert setting.partition("=")[0] in line and bound in line


# ----------------------------------------------------------------------------- choice lists
def fixture_copy(fixture: Path, tmp: Path, edit: Callable[[str], str], name: str) -> Path:
    """A copy of the fixture folder ``fixture`` with its file ``name`` edited; the edited file."""
    shutil.copytree(fixture, tmp / fixture.name)
    path = tmp / fixture.name / name
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    return path


def choice_task(tmp: Path, edit: Callable[[str], str], name: str = "sentiment.yaml") -> Path:
    return fixture_copy(TINY, tmp, edit, name)


def test_classification_labels_are_bounded(tmp_path: Path) -> None:
    labels = "".join(f"    - {{value: {i}, verbalizer: w{i}}}\n" for i in range(MAX_CHOICES + 1))
    path = choice_task(tmp_path, lambda s: s.replace("    - {value: 0, verbalizer: negative}\n    - {value: 1, verbalizer: positive}\n",
                                                      labels))
    line = refused(evaluate(tmp_path, path))
    assert f"{path}:" in line and "adapter.labels" in line and "1,001 choices; at most 1,000" in line


def test_multiple_choice_choices_are_bounded(tmp_path: Path) -> None:
    mc = ("adapter:\n  kind: multiple_choice\n  choices: [" + ", ".join(f"w{i}" for i in range(MAX_CHOICES + 1)) + "]\n"
          "  fields:\n    inputs: {sentence: text}\n    label: label\n")
    path = choice_task(tmp_path, lambda s: s.split("adapter:")[0] + mc + "prompts:" + s.split("prompts:")[1])
    line = refused(evaluate(tmp_path, path))
    assert "adapter.choices" in line and "1,001 choices; at most 1,000" in line


def lm_eval_copy(tmp: Path, edit: Callable[[str], str], name: str = "sst2_choice.yaml") -> Path:
    return fixture_copy(LMEVAL, tmp, edit, name)


def test_an_lm_eval_choice_list_is_bounded_and_not_echoed(tmp_path: Path) -> None:
    choices = ", ".join(f"choice{i}" for i in range(MAX_CHOICES + 1))
    path = lm_eval_copy(tmp_path, lambda s: s.replace('doc_to_choice: ["negative", "positive"]', f"doc_to_choice: [{choices}]"))
    line = refused(evaluate(tmp_path, f"lm-eval:{path}"))
    assert f"{path}:15: doc_to_choice: 1,001 choices; at most 1,000" in line and "choice999" not in line


def test_a_row_with_too_many_choices_is_refused(tmp_path: Path) -> None:
    path = lm_eval_copy(tmp_path, lambda s: s, "arc_style.yaml")
    row = {"id": "arc-test-0", "question": "q ?", "choices": {"text": [f"c{i}" for i in range(MAX_CHOICES + 1)],
                                                              "label": [f"L{i}" for i in range(MAX_CHOICES + 1)]},
           "answerKey": "L1"}
    (tmp_path / "lmeval" / "data" / "arc_test.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    line = refused(evaluate(tmp_path, f"lm-eval:{path}"))
    assert "row 0" in line and "1,001 choices; at most 1,000" in line and "c999" not in line


# ----------------------------------------------------------------------------- lm-eval includes (item 12)
SECRETS = "secret_token: hunter2-XYZ\nroot:x:0:0:root:/root:/bin/bash\n"


@pytest.mark.parametrize("text", [
    SECRETS,
    "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n",  # /etc/passwd: one string
    "secret_token: hunter2-XYZ\napi_key: hunter2-XYZ2\npassword: hunter2-XYZ3\n",  # a secrets file: no lm-eval key
    "secret_token: hunter2-XYZ\ntask: t\n",  # lm-eval keys and others
    "repeats: hunter2-XYZ\n",  # an lm-eval key with a value from the other file
    "description: *hunter2-XYZ\n",  # YAML's own message would quote the alias
    "description: !hunter2-XYZ x\n",  # ... or the tag
    "include: hunter2-XYZ\n",  # an include of the included file that is not found
    "secret_token: hunter2-XYZ\nsecret_token: hunter2-XYZ\n",  # a key written twice
])
def test_an_included_file_is_never_quoted(tmp_path: Path, text: str) -> None:
    included = tmp_path / "secrets.txt"
    included.write_text(text, encoding="utf-8")
    path = lm_eval_copy(tmp_path, lambda s: s + f"include: {included}\n")
    result = evaluate(tmp_path, f"lm-eval:{path}")
    line = refused(result)
    assert line.startswith(f"error: {included}:")
    assert "hunter2" not in result.output and "/root:/bin/bash" not in result.output


def test_a_foreign_included_file_is_refused_in_one_line(tmp_path: Path) -> None:
    included = tmp_path / "secrets.txt"
    included.write_text("secret_token: hunter2-XYZ\napi_key: x\npassword: y\n", encoding="utf-8")
    path = lm_eval_copy(tmp_path, lambda s: s + f"include: {included}\n")
    line = refused(evaluate(tmp_path, f"lm-eval:{path}"))
    assert line == (f"error: {included}:1: not an lm-eval task file (included by {path.name}): a key that is not an "
                    "lm-eval key; an included file's text is never quoted")


def test_a_typo_in_an_included_template_is_still_named_by_its_lm_eval_key(tmp_path: Path) -> None:
    path = lm_eval_copy(tmp_path, lambda s: s + "repeat: 2\n", "_arc_template_yaml")
    line = refused(evaluate(tmp_path, f"lm-eval:{path.parent / 'arc_style.yaml'}"))
    assert line.startswith(f"error: {path}:20: not an lm-eval task file") and "did you mean 'repeats'?" in line


def test_an_included_lm_eval_value_is_named_by_key_and_line_only(tmp_path: Path) -> None:
    path = lm_eval_copy(tmp_path, lambda s: s.replace("num_fewshot: 1", "num_fewshot: 500"), "_arc_template_yaml")
    result = evaluate(tmp_path, f"lm-eval:{path.parent / 'arc_style.yaml'}")
    line = refused(result)
    assert line.startswith(f"error: {path}:17: num_fewshot: ") and "500" not in line
    assert "set num_fewshot in arc_style.yaml to see" in line


def test_the_named_files_values_are_still_quoted(tmp_path: Path) -> None:
    path = lm_eval_copy(tmp_path, lambda s: s + "repeats: 3\n")
    line = refused(evaluate(tmp_path, f"lm-eval:{path}"))
    assert "repeats 3: promptkit decodes greedily" in line


def test_every_key_the_converter_knows_is_an_lm_eval_key() -> None:
    from promptkit.tasks.lmeval.convert import CODE_HOOKS, IGNORED_KEYS, READ_KEYS, UNSUPPORTED_KEYS
    from promptkit.tasks.lmeval.reader import LM_EVAL_KEYS

    assert {*READ_KEYS, *IGNORED_KEYS, *CODE_HOOKS, *UNSUPPORTED_KEYS, "include"} == LM_EVAL_KEYS


@pytest.mark.parametrize(("method", "assignment"), [("lora", "lora.lr=inf"), ("lora", "lora.dropout=nan"),
                                                     ("zero-shot", "verdict.margin=nan")])
def test_no_setting_takes_infinity_or_nan(method: str, assignment: str, tmp_path: Path) -> None:
    """``lora.lr: inf`` trained (and a NaN margin compares false with everything)."""
    result = evaluate(tmp_path, TINY / "qa.yaml", *set_args(assignment), method=method)
    errors = error_lines(result)
    assert result.exit_code == 2 and len(errors) == 1, result.output
    assert f"{assignment.split('=')[0]}: input should be a finite number" in errors[0]
