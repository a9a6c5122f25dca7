"""Hostile input that must end in a one-line error, never a traceback, code execution or a write
outside the output directory: run ids and names that are paths, YAML alias bombs, foreign
checkpoints."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from promptkit.cli import cli
from promptkit.config import PromptConfig, TaskConfig
from promptkit.errors import ConfigError
from promptkit.loading import MAX_YAML_CHARS, parse_yaml, validate
from promptkit.methods.training import TrainingError, _load_checkpoint, _rng_state, _set_rng_state
from promptkit.runconfig import RunConfig
from pydantic import ValidationError


@pytest.mark.parametrize("run_id", ["../escaped_run", "/abs/path", '"><img src=x onerror=alert(1)>', "a/b", ".hidden", "x" * 101, "a b"])
def test_a_run_id_is_one_plain_path_segment(run_id: str, tmp_path: Path, tiny_llama_dir: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["eval", "--task", "demo_qa", "--model", str(tiny_llama_dir), "--limit", "2",
                                      "--method", "zero-shot", "--out", str(out), "--run-id", run_id])
    assert result.exit_code == 2, result.output
    assert "run_id" in result.output and "Traceback" not in result.output
    assert [p.name for p in tmp_path.iterdir()] in ([], ["out"]) and not any(out.rglob("*"))  # nothing written anywhere
    assert not Path("/abs/path").exists()


def test_an_ordinary_run_id_is_accepted() -> None:
    assert RunConfig(run_id="squad-plain_2026.12.03").run_id == "squad-plain_2026.12.03"


def test_a_task_name_is_one_path_segment() -> None:
    base = {"dataset": {"kind": "files", "splits": {"train": "a.jsonl", "test": "t.jsonl"}}, "adapter": {"kind": "qa", "fields": {"question": "q", "answers": "a"}},
            "prompts": ["qa/closed_book"], "metrics": ["exact_match"]}
    for bad in ("a/../../x", "../x", "a/b"):
        with pytest.raises(ValidationError, match="name"):
            TaskConfig(name=bad, **base)
    assert TaskConfig(name="squad_v1.1", **base).name == "squad_v1.1"


def test_a_prompt_name_may_have_folders_but_no_dot_dot() -> None:
    assert PromptConfig(name="qa/extractive", input="{{ q }}", target="{{ a }}").name == "qa/extractive"
    for bad in ("qa/../../x", "qa//x", "qa/./x"):
        with pytest.raises(ValidationError, match=r"'\.\.' part"):
            PromptConfig(name=bad, input="x", target="y")


BILLION_LAUGHS = """\
name: toy
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_a_yaml_alias_bomb_is_refused_with_file_and_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse_yaml(BILLION_LAUGHS, "tasks/bomb.yaml")
    (problem,) = info.value.problems
    assert problem.file == "tasks/bomb.yaml" and problem.line == 10  # `i:`, the value that expands most
    # counted by hand: a list of 9 scalars, then lists of 9 of the previous; plus the keys and `name`
    sizes = [10]
    for _ in range(8):
        sizes.append(1 + 9 * sizes[-1])
    total = 1 + 2 + sum(1 + n for n in sizes)
    assert f"expands to {total:,} values through aliases" in problem.message


def test_moderate_aliases_still_load() -> None:
    doc = parse_yaml("name: toy\nbase: &b {lr: 0.1, rank: 8}\nother: *b\nlist: [*b, *b]\n", "run.yaml")
    assert doc.data["other"] == {"lr": 0.1, "rank": 8} and len(doc.data["list"]) == 2


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(ConfigError, match="recursive YAML"):
        parse_yaml("name: toy\na: &a [1, *a]\n", "tasks/loop.yaml")


def test_an_oversized_yaml_file_is_refused_before_parsing() -> None:
    with pytest.raises(ConfigError, match=f"at most {MAX_YAML_CHARS:,}"):
        parse_yaml("name: toy\nx: '" + "a" * MAX_YAML_CHARS + "'\n", "tasks/huge.yaml")


def test_validate_still_reports_bad_keys_after_the_size_check() -> None:
    with pytest.raises(ConfigError, match="name"):
        validate(TaskConfig, parse_yaml("name: ../x\n", "tasks/x.yaml"))


# ----------------------------------------------------------------------------- checkpoints
class _Planted:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {os.environ['PK_MARKER']}",))


def test_a_planted_checkpoint_does_not_run_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "ran"
    monkeypatch.setenv("PK_MARKER", str(marker))
    ckpt = tmp_path / "checkpoint.pt"
    import torch

    torch.save({"step": 1, "trainable": {}, "optimizer": {}, "scheduler": {}, "rng": _Planted()}, ckpt)
    with pytest.raises(TrainingError, match=r"checkpoint.pt: cannot resume from this checkpoint \(.*\); delete it"):
        _load_checkpoint(ckpt)
    assert not marker.exists()


def test_a_truncated_checkpoint_is_a_one_line_error(tmp_path: Path) -> None:
    import torch

    ckpt = tmp_path / "checkpoint.pt"
    torch.save({"step": 3, "trainable": {"w": torch.ones(100)}, "optimizer": {}, "scheduler": {}, "rng": _rng_state()}, ckpt)
    assert _load_checkpoint(ckpt)["step"] == 3
    ckpt.write_bytes(ckpt.read_bytes()[:200])
    with pytest.raises(TrainingError, match="cannot resume from this checkpoint") as info:
        _load_checkpoint(ckpt)
    assert "\n" not in str(info.value)


def test_random_states_survive_a_weights_only_round_trip(tmp_path: Path) -> None:
    import random

    import numpy as np
    import torch

    state = _rng_state()
    expected = (random.random(), float(np.random.random()), float(torch.rand(1)))
    ckpt = tmp_path / "checkpoint.pt"
    torch.save({"step": 0, "trainable": {}, "optimizer": {}, "scheduler": {}, "rng": state}, ckpt)
    _set_rng_state(_load_checkpoint(ckpt)["rng"])
    assert (random.random(), float(np.random.random()), float(torch.rand(1))) == expected


# ----------------------------------------------------------------------------- the run directory
def test_a_second_run_under_the_same_id_is_refused_and_the_first_kept(tmp_path: Path, tiny_llama_dir: Path) -> None:
    args = ["eval", "--task", "demo_qa", "--model", str(tiny_llama_dir), "--limit", "2", "--method", "zero-shot",
            "--out", str(tmp_path), "--run-id", "same", "--device", "cpu"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    results = (tmp_path / "same" / "results.json").read_bytes()
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 2
    assert "already holds a run (results.json); pass --resume" in again.output and "Traceback" not in again.output
    assert (tmp_path / "same" / "results.json").read_bytes() == results


def test_written_reports_follow_the_umask(tmp_path: Path) -> None:
    from promptkit.report.results import write_atomic

    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "results.json", "{}")
        os.umask(0o077)
        write_atomic(tmp_path / "private.json", "{}")
    finally:
        os.umask(old)
    assert (tmp_path / "results.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "private.json").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "results.json").read_text() == "{}"


def test_more_shots_than_the_pool_holds_is_refused_before_the_model_loads(tmp_path: Path) -> None:
    task = Path(__file__).resolve().parents[1] / "fixtures" / "tiny" / "qa.yaml"  # a 6-row train split
    args = ["eval", "--task", str(task), "--model", str(tmp_path / "no-model"), "--method", "few-shot", "--limit", "2",
            "--out", str(tmp_path / "out")]
    refused = CliRunner().invoke(cli, [*args, "--shots", "7"])
    assert refused.exit_code == 2
    assert "task 'tiny_qa': few-shot asks for 7 demonstrations per example but its 'train' split has 6 rows; use --shots 6 or fewer" in refused.output
    allowed = CliRunner().invoke(cli, [*args, "--shots", "6"])
    assert "demonstrations per example" not in allowed.output  # gets as far as the (missing) model
    assert "no-model" in allowed.output


# ----------------------------------------------------------------------------- template limits
HOSTILE_TEMPLATES = {
    "{{ 'a' * 10**9 }}": "'*' would build a value of 1,000,000,000 items (at most 2,000,000)",
    "{{ [0] * 10**8 }}": "'*' would build a value of 100,000,000 items (at most 2,000,000)",
    "{{ 'a'.center(10**9) }}": "center() with 1,000,000,000 (at most 2,000,000)",
    "{{ 9 ** 999999 }}": "'**' would build a number of about 3,999,996 bits (at most 4,096)",
    "{% for i in range(99999) %}{% for j in range(99999) %}{{ question }}{% endfor %}{% endfor %}":
        "the output passed 2,000,014 characters",  # 2,000,000 + twice the 7 characters of 'q' and the mask slot
}


@pytest.mark.parametrize("source", sorted(HOSTILE_TEMPLATES))
def test_templates_render_within_size_limits(source: str) -> None:
    from promptkit.errors import TemplateError
    from promptkit.prompting.template import PromptTemplate
    from promptkit.records import Example

    template = PromptTemplate(PromptConfig(name="evil", kind="qa", input=source, target="t"), origin="prompts/evil.yaml")
    with pytest.raises(TemplateError) as exc:
        template.render_input(Example("row-3", {"question": "q"}, ("a",)))
    assert str(exc.value) == f"prompts/evil.yaml: prompt 'evil': input: rendering stopped: {HOSTILE_TEMPLATES[source]} (example 'row-3')"


def test_a_template_that_loops_without_output_stops_at_the_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from promptkit.errors import TemplateError
    from promptkit.prompting import template as template_module
    from promptkit.records import Example

    monkeypatch.setattr(template_module, "RENDER_SECONDS", 0.2)
    source = "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}"  # 10^10 steps, no output
    template = template_module.PromptTemplate(PromptConfig(name="spin", kind="qa", input=source, target="t"))
    with pytest.raises(TemplateError, match=r"^spin: prompt 'spin': input: rendering stopped: rendering took more than 0.2 s"):
        template.render_input(Example("e", {}, ()))


def test_ordinary_templates_and_long_fields_still_render() -> None:
    from promptkit.prompting.template import PromptTemplate
    from promptkit.records import Example

    long_context = "word " * 600_000  # 3,000,000 characters: a field may be longer than the fixed budget
    source = "{% for i in range(3) %}{{ i }}{% endfor %} {{ [1, 2] * 2 }} {{ 2 ** 10 }} {{ context|length }}{{ context }}"
    template = PromptTemplate(PromptConfig(name="ok", kind="qa", input=source, target="t"))
    assert template.render_input(Example("e", {"context": long_context}, ())) == f"012 [1, 2, 1, 2] 1024 3000000{long_context}"
