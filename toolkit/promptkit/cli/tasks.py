"""``promptkit tasks``: list, show, validate and convert task definitions."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from promptkit.cli.options import LazyChoice, literal, quiet_libraries
from promptkit.errors import ConfigError, Problem, PromptkitError


@click.group("tasks")
def tasks() -> None:
    """List, show and validate task definitions."""


@tasks.command("list")
@click.option("--tasks-dir", multiple=True, help="Extra directory of task YAML files.")
def tasks_list(tasks_dir: Sequence[str]) -> None:
    """List built-in and user tasks."""
    from promptkit.cli.display import print_task_list
    from promptkit.config.documents import read_yaml
    from promptkit.tasks.catalog import is_builtin, task_files

    rows = []
    for name, path in sorted(task_files(tasks_dir).items()):
        try:
            data = read_yaml(path).data
        except ConfigError:
            data = {}
        adapter = data.get("adapter", {}).get("kind", "?") if isinstance(data.get("adapter"), dict) else "?"
        rows.append((name, adapter, "built-in" if is_builtin(path) else str(path), str(data.get("description", "")).strip()))
    print_task_list(rows)


@tasks.command("show")
@click.argument("name")
@click.option("--data-dir", default=None, help="Local copies of datasets (or PROMPTKIT_DATA_DIR).")
@click.option("--tasks-dir", multiple=True)
@click.option("--model", default=None, help="Tokenizer used for token counts and chat formatting.")
@click.option("--shots", type=click.IntRange(min=0, max=64), default=0, help="Demonstrations to include.")
@click.option("--chat-template", type=LazyChoice(literal("model.chat_template")), default=None,
              help="Default: auto (the model's, when it has one); off for an lm-eval task, as lm-eval prompts.")
@click.option("-n", "count", type=click.IntRange(min=1), default=2, help="Examples to render.")
@click.option("--trust-task-code", is_flag=True,
              help="Run an lm-eval task's own code (process_docs, !function hooks) from its folder, as lm-eval does.")
def tasks_show(name: str, data_dir: str | None, tasks_dir: Sequence[str], model: str | None, shots: int,
               chat_template: str | None, count: int, trust_task_code: bool) -> None:
    """Render real examples of a task with every prompt template, with token counts."""
    from promptkit.cli.display import print_rendered
    from promptkit.models.loading import resolve_reference
    from promptkit.prompting.chat import format_prompt, use_chat_template
    from promptkit.prompting.fewshot import make_sampler
    from promptkit.seeding import derive
    from promptkit.tasks import load_task
    from promptkit.tasks.catalog import default_data_dir, resolve_task

    task = load_task(resolve_task(name, tasks_dir), trust_task_code)
    ddir = default_data_dir(data_dir)
    examples = task.examples(task.config.eval_split, ddir, count)
    pool = task.fewshot_pool(ddir) if shots else []
    quiet_libraries()
    from transformers import AutoTokenizer

    _, source, _ = resolve_reference(model)
    tokenizer = AutoTokenizer.from_pretrained(source)
    mode = chat_template or ("off" if task.from_lm_eval else "auto")
    chat = use_chat_template(tokenizer, mode)  # type: ignore[arg-type]
    sampler = make_sampler(task.config.fewshot, pool, shots, derive(0, "fewshot"))
    blocks = []
    for template in task.prompts:
        for ex in examples:
            prompt = template.render(ex, sampler.sample(ex))
            text = format_prompt(prompt, tokenizer, chat)
            n_tokens = len(tokenizer(text, add_special_tokens=not chat)["input_ids"])
            blocks.append((template.name, ex.id, text, prompt.target, list(ex.references), n_tokens))
    why = "lm-eval's default for its tasks; --chat-template auto for the model's" if chat_template is None and task.from_lm_eval else ""
    print_rendered(task.name, str(task.path), chat, blocks, why)


@tasks.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--data-dir", default=None, help="Local copies of datasets (or PROMPTKIT_DATA_DIR): render their rows too.")
@click.option("--trust-task-code", is_flag=True,
              help="Run an lm-eval task's own code (process_docs, !function hooks) from its folder, as lm-eval does.")
def tasks_validate(paths: Sequence[str], data_dir: str | None, trust_task_code: bool) -> None:
    """Validate task and prompt YAML files (directories are searched recursively).

    A task whose rows are readable here (its own files, or its offline copy under --data-dir) has
    every evaluated row rendered with every prompt, so template errors show now rather than in
    `eval`. Reports every problem in every file; exits 2 if any file is invalid.
    """
    from promptkit.cli.display import LiveDisplay, echo_errors, printable
    from promptkit.config.documents import iter_yaml_files
    from promptkit.tasks import validate_files
    from promptkit.tasks.catalog import default_data_dir
    from promptkit.tasks.lmeval.groups import expand_groups

    # an lm-eval group file (lm-eval:GROUP.yaml) is validated as its tasks, as eval runs them
    files = [Path(ref) for ref in expand_groups([str(f) for f in iter_yaml_files(paths)])[0]]
    if not files:
        raise PromptkitError(f"no YAML files found in {', '.join(paths)}")
    rendered: dict[Path, int] = {}
    with LiveDisplay(every_s=10) as live:  # rendering a large split takes minutes: say how far it is
        results = validate_files(files, default_data_dir(data_dir), rendered, progress=live.progress,
                                 trust_code=trust_task_code)
    bad = 0
    for path, problems in results.items():
        if problems:
            bad += 1
            echo_errors([str(p) for p in problems])
        else:
            click.echo(f"ok: {printable(str(path))}" + (f" ({rendered[path]:,} prompts rendered)" if path in rendered else ""))
    click.echo(f"{len(files) - bad} valid, {bad} invalid", err=bad > 0)
    if bad:
        sys.exit(2)


@tasks.command("convert")
@click.argument("path")
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="Write the promptkit task YAML here (data paths relative to it). Default: print it.")
@click.option("--force", is_flag=True, help="Let --out replace a file already there (never the lm-eval source).")
def tasks_convert(path: str, out: str | None, force: bool) -> None:
    """Convert an lm-evaluation-harness task YAML (PATH, or lm-eval:PATH) into a promptkit task.

    The task builds the prompts lm-eval builds (docs/lm-eval.md) and is loaded with promptkit's
    own loader before this exits. Code hooks (!function, process_docs...) are reported with
    file and line, never run: a promptkit task file holds no code (run such a task as
    --task lm-eval:PATH --trust-task-code).
    """
    from promptkit.cli.display import printable
    from promptkit.records.results import write_atomic
    from promptkit.tasks import load_task
    from promptkit.tasks.catalog import LM_EVAL_PREFIX
    from promptkit.tasks.lmeval import convert_file
    from promptkit.tasks.lmeval.export import task_yaml

    source = Path(path.removeprefix(LM_EVAL_PREFIX))
    if not source.is_file():
        raise PromptkitError(f"lm-eval task file not found: {str(source)!r}")
    conversion = convert_file(source, trust_code=True)  # to name every hook, not to run one
    if conversion.code is not None:
        hooks = "; ".join(conversion.code.describe())
        raise ConfigError([Problem(f"this task runs task code ({hooks}); a promptkit task file holds no code: run it as "
                                   f"--task lm-eval:{source} --trust-task-code, or rewrite the data so that no hook is "
                                   "needed", str(source))])
    if conversion.scoring is not None:
        columns = ", ".join(c.metric for c in conversion.scoring.columns)
        raise ConfigError([Problem(f"this task is scored the lm-eval way ({columns}), which a promptkit task file cannot "
                                   f"name: run it as --task lm-eval:{source}", str(source))])
    for note in conversion.notes:
        click.echo(f"note: {printable(note)}", err=True)
    if out is None:
        click.echo(task_yaml(conversion, Path.cwd(), "Data paths are relative to the folder it was printed in "
                                                     "(--out FILE writes them relative to FILE)."), nl=False)
        return
    target = Path(out)
    if target.exists() and target.resolve() == source.resolve():
        raise PromptkitError(f"--out {out} is the lm-eval task file being converted; write the promptkit task elsewhere")
    if target.exists() and not force:
        raise PromptkitError(f"--out {out}: the file already exists; give another path, or --force to replace it")
    text = task_yaml(conversion, target.parent, "Data paths are relative to this file's folder.")
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, text)
    task = load_task(target)  # what was written loads with promptkit's own loader
    click.echo(f"wrote {target} (task {task.name!r}, adapter {task.config.adapter.kind}, "
               f"{len(task.config.metrics)} metric(s): {', '.join(task.config.metrics)})")
