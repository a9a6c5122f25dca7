"""The ``promptkit`` command line: builds a config and calls the library; nothing more.

Library errors (:class:`PromptkitError`) become one line on stderr and a non-zero exit code;
tracebacks appear only with ``--debug``. Heavy imports happen inside the commands.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from promptkit import __version__
from promptkit.errors import ConfigError, LeakageError, PromptkitError


class LazyChoice(click.Choice):
    """Choices computed when first needed, from the one place that defines them (a registry or a
    config ``Literal``), never restated here; ``promptkit --help`` builds no config class."""

    def __init__(self, source: Callable[[], Sequence[str]]) -> None:
        self._source = source
        super().__init__([])

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(self._source())

    @choices.setter
    def choices(self, value: object) -> None:
        pass  # click.Choice.__init__ assigns; the source is the source


def literal(field: str) -> Callable[[], list[str]]:
    """The values of a config field's ``Literal`` (``"model.dtype"``, ``"run.launcher"``)."""

    def values() -> list[str]:
        from promptkit.config import ModelConfig
        from promptkit.config.documents import literal_values
        from promptkit.config.run import RunConfig

        owner, name = field.split(".")
        owners: dict[str, Any] = {"model": ModelConfig, "run": RunConfig}
        return literal_values(owners[owner].model_fields[name].annotation)

    return values


def method_choices() -> list[str]:
    from promptkit.methods import cli_kinds

    return cli_kinds()


def backend_choices() -> list[str]:
    from promptkit.models.loading import BACKENDS

    return list(BACKENDS)


def tracker_choices() -> list[str]:
    from promptkit.run.tracking import tracker_names

    return tracker_names()


class Context:
    debug = False


def _fail(exc: PromptkitError) -> None:
    if isinstance(exc, ConfigError) and len(exc.problems) > 1:
        for p in exc.problems:
            click.echo(f"error: {p}", err=True)
    elif isinstance(exc, LeakageError):  # one line per problem, then how to go on anyway
        for line in str(exc).splitlines():
            click.echo(f"error: {line}", err=True)
    else:
        click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


class Group(click.Group):
    """Maps library errors to one-line messages unless ``--debug``."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PromptkitError as exc:
            if Context.debug:
                raise
            _fail(exc)
        except KeyboardInterrupt:
            click.echo("interrupted; results saved so far are kept", err=True)
            sys.exit(130)
        except OSError as exc:  # a full disk, a directory made read-only during the run
            if Context.debug:
                raise
            where = f": {exc.filename}" if exc.filename else ""
            click.echo(f"error: {exc.strerror or exc}{where}; results saved so far are kept", err=True)
            sys.exit(1)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="promptkit")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
def cli(debug: bool) -> None:
    """promptkit: compare prompting, soft prompts and LoRA on your task and model."""
    Context.debug = debug


def _quiet_libraries() -> None:
    # Our own progress bars replace transformers' per-load bars; errors still propagate.
    import os
    import warnings

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Deprecation notices from the libraries are for their API users, not for promptkit's users.
    for module in ("transformers", "peft", "torch", "accelerate"):
        warnings.filterwarnings("ignore", category=FutureWarning, module=module)
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=module)
    warnings.filterwarnings("ignore", message="Position ids are not supported for parameter efficient tuning")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def adapter_entries(paths: Sequence[str]) -> list[dict[str, Any]]:
    """``--adapter`` methods. Several get distinct names from their directories
    (``.../lora/adapter`` -> ``adapter-lora``) so each has its own column in the report."""
    from promptkit.config import slug

    if len(paths) <= 1:
        return [{"kind": "adapter", "path": p} for p in paths]
    entries: list[dict[str, Any]] = []
    taken: set[str] = set()
    for p in paths:
        # A promptkit run saves adapters as .../<method>/seed-<k>/adapter: name them by method
        # (and by seed, for the runs trained with several)
        parts = [part for part in Path(p).parts if part not in ("adapter", "/")]
        base = parts[-1] if parts else "adapter"
        if base.startswith("seed-") and len(parts) > 1:
            base = parts[-2] if base == "seed-0" else f"{parts[-2]}-{base}"
        name = "adapter-" + slug(base).replace(".", "-")  # names have no dots: --set splits on them
        unique, n = name, 2
        while unique in taken:
            unique, n = f"{name}-{n}", n + 1
        taken.add(unique)
        entries.append({"kind": "adapter", "path": p, "name": unique})
    return entries


@cli.command("eval")
@click.option("--task", "tasks", multiple=True, help="Task name or YAML path (repeatable). Default: the demo tasks.")
@click.option("--method", "methods", multiple=True, type=LazyChoice(method_choices), help="Method (repeatable).")
@click.option("--model", default=None, help="Hub id, local directory, .gguf file or embedded alias. Default: smollm2-135m-instruct.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Evaluate N examples of each task: a sample seeded by --seed, stratified by the split's group_by.")
@click.option("--shots", type=click.IntRange(min=0, max=64), default=None, help="Demonstrations for few-shot.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None)
@click.option("--device", default=None, help="auto, cpu, cuda, cuda:N, mps.")
@click.option("--dtype", type=LazyChoice(literal("model.dtype")), default=None)
@click.option("--chat-template", type=LazyChoice(literal("model.chat_template")), default=None)
@click.option("--data-dir", default=None, help="Local copies of datasets (or PROMPTKIT_DATA_DIR).")
@click.option("--tasks-dir", multiple=True, help="Extra directory of task YAML files.")
@click.option("--out", "out_dir", default=None, help="Parent directory of run directories. Default: reports/.")
@click.option("--run-id", default=None, help="Run directory name. Default: timestamp + random suffix.")
@click.option("--seed", type=int, default=None)
@click.option("--tune", is_flag=True, default=None,
              help="Select each trained method's settings on a dev split (built-in spaces unless an entry declares `tune`).")
@click.option("--seeds", "n_seeds", type=click.IntRange(min=1, max=32), default=None,
              help="Train every trainable method with N seeds (seed, seed+1, ...); reports mean, sd and seed+sample intervals.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None, help="Run YAML (CLI flags override it).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override any run setting, e.g. --set lora.rank=16, --set training.steps=100.")
@click.option("--adapter", "adapters", multiple=True, type=click.Path(file_okay=False),
              help="Evaluate a saved PEFT adapter directory, no training (repeatable).")
@click.option("--backend", type=LazyChoice(backend_choices), default=None,
              help="Evaluate with transformers (hf, default) or a vLLM engine (vllm: GPU, pip install 'promptkit[vllm]').")
@click.option("--launcher", type=LazyChoice(literal("run.launcher")), default=None,
              help="Run the cells here (local) or as Ray tasks on a cluster (ray: RAY_ADDRESS or a local instance; "
                   "pip install 'promptkit[ray]'; --set ray.num_gpus=1 per cell).")
@click.option("--report-to", "report_to", multiple=True, type=LazyChoice(tracker_choices),
              help="Log every cell to an experiment tracker (repeatable; optional extras promptkit[tensorboard] etc.).")
@click.option("--resume", "resume_dir", type=click.Path(file_okay=False), default=None,
              help="Continue an interrupted run directory: finished cells are kept, training resumes from its checkpoint.")
@click.option("--allow-overlap", is_flag=True, default=None,
              help="Run although evaluated rows also occur in the train split or few-shot pool (recorded in results.json).")
def eval_cmd(tasks: Sequence[str], methods: Sequence[str], model: str | None, limit: int | None, shots: int | None,
             batch_size: int | None, device: str | None, dtype: str | None, chat_template: str | None,
             data_dir: str | None, tasks_dir: Sequence[str], out_dir: str | None, run_id: str | None,
             seed: int | None, tune: bool | None, n_seeds: int | None, config_file: str | None, sets: Sequence[str], adapters: Sequence[str],
             backend: str | None, launcher: str | None, report_to: Sequence[str], resume_dir: str | None, allow_overlap: bool | None) -> None:
    """Evaluate methods on tasks and write reports/<run-id>/ (results.json, samples/, report.md).

    With no arguments: the built-in demo tasks on the embedded default model, comparing
    zero-shot prompting, prompt tuning and LoRA.
    """
    method_list: list[Any] = list(methods) + adapter_entries(adapters)
    options = {
        "tasks": tuple(tasks), "methods": tuple(method_list), "model.name": model, "limit": limit,
        "shots": shots, "batch_size": batch_size, "model.device": device, "model.dtype": dtype,
        "model.chat_template": chat_template, "data_dir": data_dir, "tasks_dir": tuple(tasks_dir),
        "out_dir": out_dir, "run_id": run_id, "seed": seed, "allow_overlap": allow_overlap,
        "tuning.builtin": tune, "report_to": tuple(report_to), "model.backend": backend, "launcher": launcher,
    }
    config = _eval_config(options, config_file, sets, n_seeds, resume_dir)
    from promptkit.cli.display import LiveDisplay
    from promptkit.distributed import current
    from promptkit.run import execute, prepare
    from promptkit.run.options import RunOptions

    run_options = RunOptions(resume=resume_dir is not None, debug=Context.debug, command=command_line())
    if not current().is_main:
        # `accelerate launch` with several processes: the main process shows and writes everything
        _quiet_libraries()
        result = execute(prepare(config), run_options)
        sys.exit(1 if any(c.error for c in result.cells) else 0)
    from promptkit.interrupt import stop_at_safe_points

    run_dirs: list[Path] = []
    with LiveDisplay() as display:
        run_options = dataclasses.replace(run_options, progress=display.progress, on_cell=display.cell_done, on_start=run_dirs.append)
        display.phase("checking tasks and loading data")
        plan = prepare(config)  # bad tasks or data fail here, before heavy imports
        _quiet_libraries()
        display.phase("running the cells as Ray tasks" if config.launcher == "ray" else "loading the model")
        try:
            with stop_at_safe_points():
                result = execute(plan, run_options)
        except KeyboardInterrupt as exc:
            where = f" ({exc})" if str(exc) else ""
            again = f"; continue with: promptkit eval --resume {run_dirs[0]}" if run_dirs else ""
            click.echo(f"interrupted{where}; results saved so far are kept{again}", err=True)
            sys.exit(130)
    display.summary(result, run_dirs[0])
    if any(c.error for c in result.cells):
        click.echo("error: some cells failed (see above); finished cells are saved", err=True)
        sys.exit(1)


def _eval_config(options: dict[str, Any], config_file: str | None, sets: Sequence[str], n_seeds: int | None,
                 resume_dir: str | None) -> Any:
    """The run config of ``promptkit eval``: defaults, the run YAML, the flags, ``--set``; or,
    with ``--resume``, the config of the run being continued (flags must agree with it)."""
    from promptkit.config import dump
    from promptkit.config.run import build_run_config, check_resume_settings, resume_run_config
    from promptkit.run.plan import default_methods, default_tasks

    if resume_dir is not None:
        config = resume_run_config(resume_dir)
        if config_file is not None or sets or n_seeds is not None or any(v not in (None, ()) for v in options.values()):
            # Flags given with --resume must describe the run being continued (or only move its data).
            asked = build_run_config(config_file, options, sets, base=dump(config))
            if n_seeds is not None:
                asked = asked.model_copy(update={"training": asked.training.model_copy(
                    update={"seeds": list(range(asked.seed, asked.seed + n_seeds))})})
            return check_resume_settings(config, asked, resume_dir)
        return config
    config = build_run_config(config_file, options, sets, default_methods=[m.kind for m in default_methods()])
    if not config.tasks and not config_file:
        config = config.model_copy(update={"tasks": default_tasks()})
    if n_seeds is not None:
        seeds = list(range(config.seed, config.seed + n_seeds))
        config = config.model_copy(update={"training": config.training.model_copy(update={"seeds": seeds})})
    return config


@cli.group()
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
@click.option("--chat-template", type=LazyChoice(literal("model.chat_template")), default="auto")
@click.option("-n", "count", type=click.IntRange(min=1), default=2, help="Examples to render.")
def tasks_show(name: str, data_dir: str | None, tasks_dir: Sequence[str], model: str | None, shots: int,
               chat_template: str, count: int) -> None:
    """Render real examples of a task with every prompt template, with token counts."""
    from promptkit.cli.display import print_rendered
    from promptkit.models.loading import resolve_reference
    from promptkit.prompting import FewShotSampler
    from promptkit.prompting.chat import format_prompt, use_chat_template
    from promptkit.tasks import load_task
    from promptkit.tasks.catalog import default_data_dir, resolve_task

    task = load_task(resolve_task(name, tasks_dir))
    ddir = default_data_dir(data_dir)
    examples = task.examples(task.config.eval_split, ddir, count)
    pool = task.examples(task.config.fewshot.split, ddir) if shots else []
    _quiet_libraries()
    from transformers import AutoTokenizer

    _, source, _ = resolve_reference(model)
    tokenizer = AutoTokenizer.from_pretrained(source)
    chat = use_chat_template(tokenizer, chat_template)  # type: ignore[arg-type]
    sampler = FewShotSampler(pool, shots)
    blocks = []
    for template in task.prompts:
        for ex in examples:
            prompt = template.render(ex, sampler.sample(ex))
            text = format_prompt(prompt, tokenizer, chat)
            n_tokens = len(tokenizer(text, add_special_tokens=not chat)["input_ids"])
            blocks.append((template.name, ex.id, text, prompt.target, list(ex.references), n_tokens))
    print_rendered(task.name, str(task.path), chat, blocks)


@tasks.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--data-dir", default=None, help="Local copies of datasets (or PROMPTKIT_DATA_DIR): render their rows too.")
def tasks_validate(paths: Sequence[str], data_dir: str | None) -> None:
    """Validate task and prompt YAML files (directories are searched recursively).

    A task whose rows are readable here (its own files, or its offline copy under --data-dir) has
    every evaluated row rendered with every prompt, so template errors show now rather than in
    `eval`. Reports every problem in every file; exits 2 if any file is invalid.
    """
    from promptkit.config.documents import iter_yaml_files
    from promptkit.tasks import validate_files
    from promptkit.tasks.catalog import default_data_dir

    files = list(iter_yaml_files(paths))
    if not files:
        raise PromptkitError(f"no YAML files found in {', '.join(paths)}")
    rendered: dict[Path, int] = {}
    results = validate_files(files, default_data_dir(data_dir), rendered)
    bad = 0
    for path, problems in results.items():
        if problems:
            bad += 1
            for p in problems:
                click.echo(f"error: {p}", err=True)
        else:
            click.echo(f"ok: {path}" + (f" ({rendered[path]:,} prompts rendered)" if path in rendered else ""))
    click.echo(f"{len(files) - bad} valid, {bad} invalid", err=bad > 0)
    if bad:
        sys.exit(2)


@tasks.command("convert")
@click.argument("path")
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="Write the promptkit task YAML here (data paths relative to it). Default: print it.")
def tasks_convert(path: str, out: str | None) -> None:
    """Convert an lm-evaluation-harness task YAML (PATH, or lm-eval:PATH) into a promptkit task.

    The task builds the prompts lm-eval builds (docs/lm-eval.md) and is loaded with promptkit's
    own loader before this exits. Code hooks (!function, process_docs, filter_list...) are
    reported with file and line, never run.
    """
    from promptkit.records.results import write_atomic
    from promptkit.tasks import load_task
    from promptkit.tasks.catalog import LM_EVAL_PREFIX
    from promptkit.tasks.lmeval import convert_file
    from promptkit.tasks.lmeval.export import task_yaml

    source = Path(path.removeprefix(LM_EVAL_PREFIX))
    if not source.is_file():
        raise PromptkitError(f"lm-eval task file not found: {str(source)!r}")
    conversion = convert_file(source)
    for note in conversion.notes:
        click.echo(f"note: {note}", err=True)
    if out is None:
        click.echo(task_yaml(conversion, Path.cwd(), "Data paths are relative to the folder it was printed in "
                                                     "(--out FILE writes them relative to FILE)."), nl=False)
        return
    target = Path(out)
    text = task_yaml(conversion, target.parent, "Data paths are relative to this file's folder.")
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, text)
    task = load_task(target)  # what was written loads with promptkit's own loader
    click.echo(f"wrote {target} (task {task.name!r}, adapter {task.config.adapter.kind}, "
               f"{len(task.config.metrics)} metric(s): {', '.join(task.config.metrics)})")


@cli.command("report")
@click.argument("runs", nargs=-1, required=True, type=click.Path())
@click.option("--out", "out", type=click.Path(), default=None,
              help="A directory: one merged report of all RUNS (report.html, report.md, results.json, samples/). "
                   "A .md file: the Markdown only. Default: the run's own report, or compare.md beside the first run.")
@click.option("--metric", "metrics", multiple=True,
              help="Add a metric scored from the saved samples (repeatable), without loading a model.")
@click.option("--bootstrap-seed", "bootstrap_seed", type=click.IntRange(min=0), default=None,
              help="Seed of the resampling streams behind the comparisons (default: the run's own). Reports "
                   "written with different seeds must give the same verdict.")
def report_cmd(runs: Sequence[str], out: str | None, metrics: Sequence[str], bootstrap_seed: int | None) -> None:
    """Re-render a run's report (adding metrics), or merge several runs into one report."""
    from promptkit.analysis.merge import merge_runs, rescore
    from promptkit.records.results import write_atomic
    from promptkit.report import RunResult, render_comparison
    from promptkit.report.outputs import write_outputs

    results = [RunResult.load(r) for r in runs]
    dirs = [Path(r).parent if Path(r).is_file() else Path(r) for r in runs]
    markdown_only = out is not None and Path(out).suffix == ".md"
    if len(results) == 1 and out is None:
        # Recomputes the comparisons (also upgrades a schema-1 run) and rewrites its reports.
        for path in rescore(results[0], dirs[0], metrics) if metrics else []:
            click.echo(f"wrote {path}")
        write_outputs(results[0], dirs[0], bootstrap_seed)
        for name in ("results.json", "report.md", "report.html"):
            click.echo(f"wrote {dirs[0] / name}")
        return
    if out is not None and not markdown_only:
        target_dir = Path(out)
        merged = merge_runs(results, dirs, target_dir)
        if metrics:
            rescore(merged, target_dir, metrics)
        write_outputs(merged, target_dir, bootstrap_seed)
        for name in ("results.json", "report.md", "report.html"):
            click.echo(f"wrote {target_dir / name}")
        return
    if metrics:
        raise click.UsageError("--metric needs one run, or --out DIR for a merged report")
    if len(results) == 1:
        from promptkit.report.html import render_html
        from promptkit.report.markdown import render_markdown
        from promptkit.report.outputs import analyse

        analyse(results[0], dirs[0], bootstrap_seed)
        text = render_markdown(results[0])
        target = Path(out)  # type: ignore[arg-type]
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target.with_suffix(".html"), render_html(results[0], dirs[0]))
        click.echo(f"wrote {target.with_suffix('.html')}")
    else:
        text = render_comparison(results)
        target = Path(out) if out else dirs[0].parent / "compare.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, text)
    click.echo(f"wrote {target}")


_invocation: dict[str, list[str]] = {}  # the arguments main() was called with


def command_line() -> str:
    """This invocation as a shell command (``promptkit eval ...``) for results.json; "" when the
    CLI is driven without :func:`main` (click's test runner, a notebook)."""
    import shlex

    args = _invocation.get("args")
    return shlex.join(["promptkit", *args]) if args is not None else ""


def main(argv: Sequence[str] | None = None) -> None:
    _invocation["args"] = list(argv) if argv is not None else sys.argv[1:]
    cli.main(args=list(argv) if argv is not None else None, prog_name="promptkit")


if __name__ == "__main__":
    main()
