"""A run directory someone else touched: a hand-edited or damaged results.json or samples file is
refused by field in one line (never a traceback, never a report drawn from rows the cell did not
produce), a symbolic link planted in a run directory is not followed out of it, and results.json
is strict JSON (no NaN) that a browser's ``JSON.parse`` reads. One tiny run is made once, and each
case works on a copy of it."""

from __future__ import annotations

import copy
import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import error_lines, invoke, set_args
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


@pytest.fixture(scope="module")
def made_run(tmp_path_factory: pytest.TempPathFactory, tiny_llama_dir: Path) -> Path:
    """zero-shot, few-shot and prompt tuning (two seeds) on demo_qa, no bootstrap (NaN sources)."""
    out = tmp_path_factory.mktemp("tampered")
    result = invoke(["eval", "--task", "demo_qa", "--model", str(tiny_llama_dir), "--limit", "4",
                     "--method", "zero-shot", "--method", "few-shot", "--method", "prompt-tuning", "--seeds", "2",
                     "--out", str(out), "--run-id", "base", "--device", "cpu",
                     *set_args("training.steps=2", "bootstrap_samples=0")])
    assert result.exit_code == 0, result.output
    return out / "base"


def copy_run(made_run: Path, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(made_run, run)
    return run


def edit_results(run: Path, edit: Callable[[dict[str, Any]], Any]) -> None:
    data = json.loads((run / "results.json").read_text(encoding="utf-8"))
    changed = edit(data)
    (run / "results.json").write_text(json.dumps(data if changed is None else changed), encoding="utf-8")


def at(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return edit


def dropped(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda data: data.pop(key) and None


def refused_in_one_line(result: Any) -> str:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    errors = error_lines(result)
    assert result.exit_code == 2 and len(errors) == 1, result.output
    return errors[0]


# The 21 variants of the probe: each is refused naming the field (9 of them crashed before).
TAMPERED: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "a list": (lambda d: [], "a results.json holds an object, not list"),
    "no run_id": (dropped("run_id"), "results.json: run_id: missing"),
    "no config": (dropped("config"), "results.json: config: missing"),
    "cells a string": (at(["cells"], "abc"), "cells: expected a list, got 'abc'"),
    # the reports divide it (millions of parameters): a null used to crash them with a TypeError
    "null model parameters": (at(["model", "parameters"], None), "model.parameters: None is not a number of parameters"),
    "an empty cell": (at(["cells"], [{}]), "cells[0].task: missing"),
    "a string metric value": (at(["cells", 0, "metrics", "exact_match", "value"], "abc"),
                              "cells[0].metrics.exact_match.value: expected a number, got 'abc'"),
    "a null metric": (at(["cells", 0, "metrics", "exact_match"], None), "cells[0].metrics.exact_match: expected an object"),
    "a negative n": (at(["cells", 0, "n"], -3), "cells[0].n: -3 is negative"),
    "a duplicated cell": (lambda d: d["cells"].append(copy.deepcopy(d["cells"][0])), "is also cells[0]; a run holds one cell per key"),
    "tasks a list": (at(["tasks"], [1]), "tasks: expected an object, got a list"),
    "a string task size": (at(["tasks", "demo_qa", "n"], "x"), "tasks.demo_qa.n: expected an integer, got 'x'"),
    "a string seed": (at(["cells", 2, "seed"], "one"), "cells[2].seed: expected an integer, got 'one'"),
    "a number for samples": (at(["cells", 0, "samples"], 5), "cells[0].samples: expected a string, got 5"),
    "an unknown cell key": (at(["cells", 0, "bogus"], 5), "cells[0].'bogus': unknown key; CellResult has: "),
    "a string verdict outcomes": (at(["verdicts", 0, "outcomes"], "x"), "verdicts[0].outcomes: expected a list, got 'x'"),
    "a cell of no task": (at(["cells", 0, "task"], "nope"), "cells[0].task: 'nope' is not one of the run's tasks"),
    "a string context": (at(["cells", 0, "context"], "x"), "cells[0].context: expected an object, got 'x'"),
    "a string loss": (at(["cells", 2, "training", "losses"], ["a"]), "cells[2].training.losses[0]: expected a number, got 'a'"),
    "config methods a string": (at(["config", "methods"], "x"), "config.methods: expected a list, got 'x'"),
    "a string bootstrap_samples": (at(["config", "bootstrap_samples"], "x"), "config.bootstrap_samples: expected an integer, got 'x'"),
    "model a list": (at(["model"], []), "model: expected an object, got a list"),
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_a_tampered_results_json_is_refused_by_field(case: str, made_run: Path, tmp_path: Path) -> None:
    run = copy_run(made_run, tmp_path)
    edit, message = TAMPERED[case]
    edit_results(run, edit)
    before = (run / "results.json").read_bytes()
    error = refused_in_one_line(invoke(["report", str(run)]))
    assert message in error and str(run / "results.json") in error
    assert (run / "results.json").read_bytes() == before  # a refused file is not rewritten


def first_line(text: str) -> str:
    return text.splitlines()[0] + "\n"


SAMPLES: dict[str, tuple[Callable[[str], str | bytes], str]] = {
    "cut in the middle of a line": (lambda t: t[:50], "zero-shot.jsonl:1: invalid JSON line"),
    "a row given twice": (lambda t: t + first_line(t), "example 'qa-test-0006' has two rows"),
    "a row removed": (lambda t: "".join(t.splitlines(keepends=True)[1:]), "3 rows, but results.json says the cell evaluated n=4"),
    "a string score": (lambda t: t.replace('"exact_match": 0.0', '"exact_match": "x"', 1),
                       "zero-shot.jsonl:1: scores.exact_match: expected a number, got 'x'"),
    "a list for a row": (lambda t: "[1, 2]\n" + t, "zero-shot.jsonl:1: a row is an object, not list"),
    "not text": (lambda t: b"\xff\xfe\x00", "zero-shot.jsonl: not UTF-8 text"),
}


@pytest.mark.parametrize("case", sorted(SAMPLES))
def test_a_tampered_samples_file_is_refused_and_never_scored(case: str, made_run: Path, tmp_path: Path) -> None:
    run = copy_run(made_run, tmp_path)
    edit, message = SAMPLES[case]
    samples = run / "samples" / "demo_qa" / "zero-shot.jsonl"
    changed = edit(samples.read_text(encoding="utf-8"))
    samples.write_bytes(changed if isinstance(changed, bytes) else changed.encode("utf-8"))
    before = (run / "results.json").read_bytes()
    error = refused_in_one_line(invoke(["report", str(run), "--metric", "exact_match"]))
    assert message in error
    assert (run / "results.json").read_bytes() == before


def test_results_json_is_strict_json_and_reads_back(made_run: Path, tmp_path: Path) -> None:
    """bootstrap_samples: 0 leaves the seed summaries' bootstrap intervals uncomputed (NaN inside):
    the file holds null there, and reads back as it was computed."""

    def no_constants(name: str) -> None:
        raise AssertionError(f"results.json holds {name}, which strict JSON parsers reject")

    text = (made_run / "results.json").read_text(encoding="utf-8")
    data = json.loads(text, parse_constant=no_constants)
    assert data["seed_summaries"] and all(s["ci_seed_sample"] == [None, None] for s in data["seed_summaries"])
    for line in (made_run / "samples" / "demo_qa" / "prompt-tuning.jsonl").read_text(encoding="utf-8").splitlines():
        json.loads(line, parse_constant=no_constants)
    run = copy_run(made_run, tmp_path)
    again = invoke(["report", str(run)])
    assert again.exit_code == 0, again.output
    from promptkit.records.results import RunResult

    assert all(math.isnan(v) for s in RunResult.load(run).seed_summaries for v in s.ci_seed_sample)
    json.loads((run / "results.json").read_text(encoding="utf-8"), parse_constant=no_constants)


def test_a_planted_adapters_link_is_not_followed_out_of_the_run(tmp_path: Path, tiny_llama_dir: Path) -> None:
    """An ``adapters/`` symlink to another folder made the run delete that folder's same-named
    ``checkpoint``; a ``samples/`` one made it overwrite a file there."""
    elsewhere = tmp_path / "elsewhere"
    precious = elsewhere / "demo_qa" / "qa_extractive" / "prompt-tuning" / "seed-0" / "checkpoint" / "keep.txt"
    precious.parent.mkdir(parents=True)
    precious.write_text("precious")
    (elsewhere / "demo_qa" / "prompt-tuning.jsonl").write_text("kept\n")
    for planted in ("adapters", "samples"):
        run = tmp_path / "out" / planted
        run.mkdir(parents=True)
        (run / planted).symlink_to(elsewhere)
        result = invoke(["eval", "--task", "demo_qa", "--model", str(tiny_llama_dir), "--limit", "2",
                         "--method", "prompt-tuning", "--out", str(tmp_path / "out"), "--run-id", planted, "--device", "cpu",
                         *set_args("training.steps=2")])
        error = refused_in_one_line(result)
        assert f"{planted} leads out of the run directory" in error and "remove the link" in error
    assert precious.read_text() == "precious"
    assert (elsewhere / "demo_qa" / "prompt-tuning.jsonl").read_text() == "kept\n"


JSON = st.recursive(st.none() | st.booleans() | st.integers(-3, 10**12) | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=6)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON tree, as the keys leading there."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return found
    return found + [p for key, value in items for p in paths(value, (*prefix, key))]


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_any_edit_of_results_json_reports_or_refuses_in_one_line(data: st.DataObject, made_run: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    original = json.loads((made_run / "results.json").read_text(encoding="utf-8"))
    places = paths(original)
    edited = copy.deepcopy(original)
    for _ in range(data.draw(st.integers(1, 3))):
        place = data.draw(st.sampled_from(places))
        node = edited
        try:
            for key in place[:-1]:
                node = node[key]
            if data.draw(st.booleans()) and isinstance(node, dict):
                node.pop(place[-1], None)
            else:
                node[place[-1]] = data.draw(JSON)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed this place
    run = tmp_path_factory.mktemp("fuzz") / "run"
    shutil.copytree(made_run, run)
    (run / "results.json").write_text(json.dumps(edited), encoding="utf-8")
    result = invoke(["report", str(run), "--out", str(run / "again.md")])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code != 0:
        assert len(error_lines(result)) == 1, result.output


def test_resume_refuses_a_samples_file_with_a_cell_row_given_twice(made_run: Path, tmp_path: Path) -> None:
    """--resume keeps the finished cells' rows and rewrites their files: it checks them as report
    does, before a cell runs (the cell left to run here, prompt tuning's second seed, would have
    trained and rewritten its samples file first, and the run failed only at its end)."""
    run = copy_run(made_run, tmp_path)
    edit_results(run, lambda d: d["cells"].pop() and None)  # the last cell (prompt-tuning, seed 1) is left to run
    samples = run / "samples" / "demo_qa" / "zero-shot.jsonl"
    samples.write_text(samples.read_text(encoding="utf-8") + first_line(samples.read_text(encoding="utf-8")), encoding="utf-8")
    trained = (run / "samples" / "demo_qa" / "prompt-tuning.jsonl").stat().st_ino  # a rewrite replaces the file
    error = refused_in_one_line(invoke(["eval", "--resume", str(run)]))
    assert "example 'qa-test-0006' has two rows" in error
    assert (run / "samples" / "demo_qa" / "prompt-tuning.jsonl").stat().st_ino == trained  # no cell ran
