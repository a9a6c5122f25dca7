"""Hostile input that must end in a one-line error, never a traceback, code execution or a write
outside the output directory: run ids and names that are paths, YAML alias bombs, foreign
checkpoints."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from promptkit.cli import cli
from promptkit.config import PromptConfig
from promptkit.config.documents import MAX_YAML_CHARS, parse_yaml, validate
from promptkit.config.run import RunConfig
from promptkit.errors import ConfigError
from promptkit.methods.checkpoint import load_training_checkpoint, rng_state, set_rng_state, write_checkpoint
from promptkit.methods.training import TrainingError
from promptkit.tasks import TaskConfig
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
    ckpt = tmp_path / "checkpoint.safetensors"
    import torch

    # a pickle under the checkpoint's name: read as safetensors, it is refused, never unpickled
    torch.save({"step": 1, "trainable": {}, "optimizer": {}, "scheduler": {}, "rng": _Planted()}, ckpt)
    with pytest.raises(TrainingError, match=r"checkpoint.safetensors: cannot resume from this checkpoint \(.*\); delete it"):
        load_training_checkpoint(ckpt)
    assert not marker.exists()


def test_a_safetensors_file_that_is_not_a_checkpoint_is_refused(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    ckpt = tmp_path / "checkpoint.safetensors"
    save_file({"w": torch.ones(2)}, str(ckpt))  # an adapter's weights, say
    with pytest.raises(TrainingError, match="without promptkit's checkpoint metadata"):
        load_training_checkpoint(ckpt)


def test_a_truncated_checkpoint_is_a_one_line_error(tmp_path: Path) -> None:
    import torch

    ckpt = tmp_path / "checkpoint.safetensors"
    write_checkpoint(ckpt, {"step": 3, "trainable": {"w": torch.ones(100)}, "optimizer": {}, "scheduler": {}, "rng": rng_state()})
    assert load_training_checkpoint(ckpt)["step"] == 3
    ckpt.write_bytes(ckpt.read_bytes()[:200])
    with pytest.raises(TrainingError, match="cannot resume from this checkpoint") as info:
        load_training_checkpoint(ckpt)
    assert "\n" not in str(info.value)


def test_random_states_survive_the_round_trip(tmp_path: Path) -> None:
    import random

    import numpy as np
    import torch

    state = rng_state()
    expected = (random.random(), float(np.random.random()), float(torch.rand(1)))
    ckpt = tmp_path / "checkpoint.safetensors"
    write_checkpoint(ckpt, {"step": 0, "trainable": {}, "optimizer": {}, "scheduler": {}, "rng": [state]})
    set_rng_state(load_training_checkpoint(ckpt)["rng"][0])
    assert (random.random(), float(np.random.random()), float(torch.rand(1))) == expected


def test_an_adamw_checkpoint_restores_the_optimizer_exactly(tmp_path: Path) -> None:
    """AdamW's state (int-keyed, 0-d step tensors), a scheduler and tagged values come back as they
    were: two more steps from the restored optimizer equal two more steps from the original."""
    import torch

    def model_and_optimizer() -> tuple[torch.nn.Linear, torch.optim.AdamW, torch.optim.lr_scheduler.LambdaLR]:
        torch.manual_seed(0)
        lin = torch.nn.Linear(3, 2)
        opt = torch.optim.AdamW(lin.parameters(), lr=0.1)
        return lin, opt, torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 / (s + 1))

    def step(lin: torch.nn.Linear, opt: torch.optim.AdamW, sched: torch.optim.lr_scheduler.LambdaLR) -> None:
        lin(torch.ones(1, 3)).pow(2).sum().backward()
        opt.step()
        sched.step()
        opt.zero_grad()

    lin, opt, sched = model_and_optimizer()
    step(lin, opt, sched)
    odd = {"__tuple__": 1, 7: (1, [2.5, None]), "nan": float("nan")}  # keys that look like tags, int keys
    write_checkpoint(tmp_path / "c.safetensors", {"step": 1, "trainable": dict(lin.state_dict()), "optimizer": opt.state_dict(),
                                                   "scheduler": sched.state_dict(), "rng": [], "odd": odd})
    saved = load_training_checkpoint(tmp_path / "c.safetensors")
    assert saved["odd"][7] == (1, [2.5, None]) and saved["odd"]["__tuple__"] == 1 and saved["odd"]["nan"] != saved["odd"]["nan"]
    lin2, opt2, sched2 = model_and_optimizer()
    lin2.load_state_dict(saved["trainable"])
    opt2.load_state_dict(saved["optimizer"])
    sched2.load_state_dict(saved["scheduler"])
    for _ in range(2):
        step(lin, opt, sched)
        step(lin2, opt2, sched2)
    assert all(torch.equal(a, b) for a, b in zip(lin.parameters(), lin2.parameters(), strict=True))
    assert sched.get_last_lr() == sched2.get_last_lr()


# ----------------------------------------------------------------------------- the run directory
# (a second run under an existing run id, end to end: tests/integration/test_run_directory_cli.py)
def test_written_reports_follow_the_umask(tmp_path: Path) -> None:
    from promptkit.records.results import write_atomic

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
    "{% for i in range(99999) %}{{ question * 1000 }}{% endfor %}":
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


@pytest.mark.parametrize("source", [
    "{% for a in context %}{% for b in context %}{% endfor %}{% endfor %}",  # 10^10 steps over a field's characters
    "{% for a in context.split() %}{% for b in context.split() %}{% endfor %}{% endfor %}",  # over a list
])
def test_loops_over_a_long_field_stop_at_the_time_limit(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from promptkit.errors import TemplateError
    from promptkit.prompting import template as template_module
    from promptkit.records import Example

    monkeypatch.setattr(template_module, "RENDER_SECONDS", 0.2)
    template = template_module.PromptTemplate(PromptConfig(name="spin", kind="qa", input=source, target="t"))
    start = time.monotonic()
    with pytest.raises(TemplateError, match=r"rendering stopped: rendering took more than 0.2 s"):
        template.render_input(Example("e", {"context": "w " * 100_000}, ()))
    assert time.monotonic() - start < 30  # stopped, not run to the end (which takes hours)


def test_the_render_timer_leaves_an_outer_timer_running() -> None:
    import signal

    from promptkit.prompting.template import PromptTemplate
    from promptkit.records import Example

    fired: list[int] = []

    def handler(signum: int, frame: object) -> None:
        fired.append(signum)

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 30.0)
        PromptTemplate(PromptConfig(name="ok", kind="qa", input="{{ question }}", target="t")).render_input(Example("e", {"question": "q"}, ()))
        left, _ = signal.setitimer(signal.ITIMER_REAL, 0)
        assert 25.0 < left <= 30.0 and not fired  # set again with its remaining time, handler restored
        assert signal.getsignal(signal.SIGALRM) is handler
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_ordinary_templates_and_long_fields_still_render() -> None:
    from promptkit.prompting.template import PromptTemplate
    from promptkit.records import Example

    long_context = "word " * 600_000  # 3,000,000 characters: a field may be longer than the fixed budget
    source = "{% for i in range(3) %}{{ i }}{% endfor %} {{ [1, 2] * 2 }} {{ 2 ** 10 }} {{ context|length }}{{ context }}"
    template = PromptTemplate(PromptConfig(name="ok", kind="qa", input=source, target="t"))
    assert template.render_input(Example("e", {"context": long_context}, ())) == f"012 [1, 2, 1, 2] 1024 3000000{long_context}"


# ----------------------------------------------------------------------------- data rows and cells
TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"


def tiny_task_copy(tmp_path: Path, first_test_row: str | bytes) -> Path:
    import shutil

    task_dir = tmp_path / "task"
    shutil.copytree(TINY, task_dir)
    test_file = task_dir / "data" / "qa_test.jsonl"
    rest = test_file.read_bytes()
    line = first_test_row if isinstance(first_test_row, bytes) else first_test_row.encode("utf-8")
    test_file.write_bytes(rest + line + b"\n")  # the 9th row, line 9
    return task_dir / "qa.yaml"


@pytest.mark.parametrize(("value", "message"), [
    ("null", "field 'question' (column 'question') is null; a prompt needs text there: fill it in or drop the row"),
    ('{"text": "who ?", "lang": "en"}', "field 'question' (column 'question') is a mapping (keys: lang, text), "
                                        "which a prompt would show as Python code; map one of them, e.g. question.lang"),
    ('["who", null]', "field 'question' (column 'question') is null; a prompt needs text there: fill it in or drop the row"),
    ('[{"t": "who ?"}]', "field 'question' (column 'question') is a mapping (keys: t), which a prompt would show as Python "
                         "code; map one of them, e.g. question.t"),
])
def test_null_and_mapping_fields_are_refused_with_the_row(value: str, message: str, tmp_path: Path) -> None:
    from promptkit.errors import DatasetError
    from promptkit.tasks import load_task

    path = tiny_task_copy(tmp_path, f'{{"id": "bad-1", "context": "c .", "question": {value}, "answers": ["a"]}}')
    with pytest.raises(DatasetError) as exc:
        load_task(path).examples("test", None)
    assert str(exc.value).endswith(f"/task/qa.yaml): split 'test' row 8: {message}")


def test_numbers_render_as_text(tmp_path: Path) -> None:
    from promptkit.tasks import load_task

    path = tiny_task_copy(tmp_path, '{"id": "n-1", "context": 1998, "question": "which year ?", "answers": ["1998"]}')
    example = load_task(path).examples("test", None)[-1]
    assert example.fields["context"] == "1998"


def test_a_data_file_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    from promptkit.errors import DatasetError
    from promptkit.tasks import load_task

    path = tiny_task_copy(tmp_path, '{"id": "l-1", "context": "caf\xe9 .", "question": "q ?", "answers": ["a"]}'.encode("latin-1"))
    with pytest.raises(DatasetError) as exc:
        load_task(path).examples("test", None)
    assert "qa_test.jsonl:9: not UTF-8 text (invalid continuation byte, byte 0xe9); re-save the file as UTF-8" in str(exc.value)


def test_an_unexpected_exception_fails_its_cell_only(tmp_path: Path, tiny_llama_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from promptkit.methods.zero_shot import FewShotMethod
    from promptkit.run import run as run_config

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB\nmore detail")

    monkeypatch.setattr(FewShotMethod, "predict", broken)
    config = RunConfig.model_validate({"tasks": [str(TINY / "qa.yaml")], "methods": ["few-shot", "zero-shot"], "limit": 2,
                                       "model": {"name": str(tiny_llama_dir), "device": "cpu"}, "out_dir": str(tmp_path),
                                       "run_id": "r", "bootstrap_samples": 10})
    result = run_config(config)
    assert [c.error for c in result.cells] == [
        "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB (run with --debug for the traceback)", None]
    assert (tmp_path / "r" / "report.md").is_file()
    with pytest.raises(RuntimeError, match="CUDA out of memory"):  # --debug: the traceback
        run_config(config.model_copy(update={"run_id": "d"}), debug=True)


@pytest.mark.parametrize("kind", ["file", "read-only"])
def test_an_unwritable_out_is_refused_before_the_model_loads(kind: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    if kind == "file":
        out.write_text("not a directory")
    else:
        out.mkdir()
        out.chmod(0o500)
        if os.access(out, os.W_OK):  # root ignores permissions
            pytest.skip("running as root: a read-only directory is still writable")
    args = ["eval", "--task", str(TINY / "qa.yaml"), "--model", str(tmp_path / "no-model"), "--method", "zero-shot",
            "--out", str(out), "--run-id", "r"]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 2, refused.output
    reason = "Not a directory" if kind == "file" else "Permission denied"
    assert f"error: --out {out}: cannot write the run directory" in refused.output and f"({reason}); choose a writable directory" in refused.output
    assert "no-model" not in refused.output  # refused before the model


def test_a_template_error_stops_the_run_before_the_model_loads(tmp_path: Path) -> None:
    import shutil

    task_dir = tmp_path / "task"
    shutil.copytree(TINY, task_dir)
    (task_dir / "evil.yaml").write_text("name: evil\nkind: qa\ninput: \"{{ question.__class__ }}\"\ntarget: \"{{ answer }}\"\n")
    task = task_dir / "qa.yaml"
    task.write_text(task.read_text().replace("prompts: [qa/extractive]", "prompts: [evil.yaml]"))
    args = ["eval", "--task", str(task), "--model", str(tmp_path / "no-model"), "--method", "zero-shot", "--out", str(tmp_path / "o")]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code != 0
    assert "prompt 'evil': input: access to attribute '__class__' of 'str' object is unsafe" in refused.output
    assert "no-model" not in refused.output and not (tmp_path / "o").exists()


def test_tasks_validate_renders_the_rows_so_template_errors_show_there(tmp_path: Path) -> None:
    import shutil

    task_dir = tmp_path / "task"
    shutil.copytree(TINY, task_dir)
    task = task_dir / "qa.yaml"
    good = CliRunner().invoke(cli, ["tasks", "validate", str(task)])
    assert good.exit_code == 0 and f"ok: {task} (8 prompts rendered)" in good.output
    # valid YAML and valid Jinja: only rendering a row finds that it reaches Python internals
    task.write_text(task.read_text().replace("prompts: [qa/extractive]", "prompts: [{name: evil, kind: qa, "
                                             "input: '{{ question.__class__ }}', target: '{{ answer }}'}]"))
    bad = CliRunner().invoke(cli, ["tasks", "validate", str(task)])
    assert bad.exit_code == 2
    assert "prompt 'evil': input: access to attribute '__class__' of 'str' object is unsafe. (example 'qa-train-0')" in bad.output  # a demonstration


@pytest.mark.parametrize("path", ["../outside/rows.jsonl", "/etc/passwd", "inside/../../outside/rows.jsonl"])
def test_data_dir_paths_stay_inside_the_data_directory(path: str, tmp_path: Path) -> None:
    from promptkit.errors import DatasetError
    from promptkit.tasks import load_task

    data_dir, outside = tmp_path / "data", tmp_path / "outside"
    data_dir.mkdir()
    outside.mkdir()
    (outside / "rows.jsonl").write_text('{"id": "x", "context": "c", "question": "q", "answers": ["a"]}\n')
    task = tmp_path / "t.yaml"
    spec = f"dataset: {{kind: files, relative_to: data_dir, splits: {{test: '{path}'}}}}"
    text = ("name: t\n" + spec + "\nadapter: {kind: qa, fields: {context: context, question: question, answers: answers}}\n"
            "train_split: null\nprompts: [qa/extractive]\nmetrics: [exact_match]\n")
    task.write_text(text)
    with pytest.raises(DatasetError) as exc:
        load_task(task).examples("test", data_dir)
    assert f"split 'test': {path!r} points outside {data_dir}; this task may read only inside that folder; " \
           "set allow_outside: true in its source if that is meant" in str(exc.value)
    task.write_text(text.replace("relative_to: data_dir,", "relative_to: data_dir, allow_outside: true,"))
    if path != "/etc/passwd":
        assert [ex.id for ex in load_task(task).examples("test", data_dir)] == ["x"]


def test_a_users_own_task_may_point_anywhere(tmp_path: Path) -> None:
    from promptkit.tasks import load_task

    (tmp_path / "rows.jsonl").write_text('{"id": "x", "context": "c", "question": "q", "answers": ["a"]}\n')
    (tmp_path / "tasks").mkdir()
    task = tmp_path / "tasks" / "t.yaml"
    task.write_text("name: t\ndataset: {kind: files, splits: {test: ../rows.jsonl}}\n"
                    "adapter: {kind: qa, fields: {context: context, question: question, answers: answers}}\n"
                    "train_split: null\nprompts: [qa/extractive]\nmetrics: [exact_match]\n")
    assert [ex.id for ex in load_task(task).examples("test")] == ["x"]


def test_data_file_size_and_row_limits_have_clear_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from promptkit.errors import DatasetError
    from promptkit.tasks import sources

    path = tmp_path / "rows.jsonl"
    path.write_text("".join(f'{{"id": {i}}}\n' for i in range(5)))
    monkeypatch.setattr(sources, "MAX_ROWS", 4)
    with pytest.raises(DatasetError, match=r"rows.jsonl: 5 rows; a data file may have at most 4: split it into several files"):
        sources.read_file(path, "auto")
    monkeypatch.setattr(sources, "MAX_DATA_BYTES", 10)
    with pytest.raises(DatasetError, match=r"rows.jsonl: 50 bytes; promptkit reads a data file whole, at most 10 bytes: split it"):
        sources.read_file(path, "auto")
