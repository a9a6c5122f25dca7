"""The ``promptkit`` command line: builds a config and calls the library; nothing more.

Library errors (:class:`PromptkitError`) become one line on stderr and a non-zero exit code;
tracebacks appear only with ``--debug``. Heavy imports happen inside the commands.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from promptkit import __version__
from promptkit.cli.options import (
    LazyChoice,
    backend_choices,
    command_line,
    invocation,
    literal,
    method_choices,
    quiet_libraries,
    tracker_choices,
)
from promptkit.errors import ConfigError, LeakageError, PromptkitError


class Context:
    debug = False


def _fail(exc: PromptkitError) -> None:
    from promptkit.cli.display import echo_errors

    if isinstance(exc, ConfigError) and len(exc.problems) > 1:
        echo_errors([str(p) for p in exc.problems])
    elif isinstance(exc, LeakageError):  # one line per problem, then how to go on anyway
        *lines, last = str(exc).splitlines()
        echo_errors(lines, last)
    else:
        echo_errors([str(exc)])
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
            from promptkit.cli.display import echo_errors

            where = f": {exc.filename}" if exc.filename else ""  # a path holds any character: shown escaped
            echo_errors([f"{exc.strerror or exc}{where}; results saved so far are kept"])
            sys.exit(1)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="promptkit")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
def cli(debug: bool) -> None:
    """promptkit: compare prompting, soft prompts and LoRA on your task and model."""
    Context.debug = debug


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
@click.option("--trust-task-code", is_flag=True, default=None,
              help="Run an lm-eval task's own code (process_docs, !function doc_to_text/doc_to_target/doc_to_choice) "
                   "from its folder, as lm-eval does; recorded in results.json and the report.")
@click.option("--no-forgetting", "no_forgetting", is_flag=True, default=None,
              help="Skip the forgetting probe (each adapted method's loss on general text minus the base model's).")
def eval_cmd(tasks: Sequence[str], methods: Sequence[str], model: str | None, limit: int | None, shots: int | None,
             batch_size: int | None, device: str | None, dtype: str | None, chat_template: str | None,
             data_dir: str | None, tasks_dir: Sequence[str], out_dir: str | None, run_id: str | None,
             seed: int | None, tune: bool | None, n_seeds: int | None, config_file: str | None, sets: Sequence[str], adapters: Sequence[str],
             backend: str | None, launcher: str | None, report_to: Sequence[str], resume_dir: str | None, allow_overlap: bool | None,
             trust_task_code: bool | None, no_forgetting: bool | None) -> None:
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
        "trust_task_code": trust_task_code, "forgetting.enabled": False if no_forgetting else None,
        "tuning.builtin": tune, "report_to": tuple(report_to), "model.backend": backend, "launcher": launcher,
    }
    config = _eval_config(options, config_file, sets, n_seeds, resume_dir)
    if config.trust_task_code and not trust_task_code:
        # task code runs only when this command line says so: not from a shared run YAML, --set or
        # the saved config of a run being resumed
        by_set = any(s.replace(" ", "").startswith("trust_task_code=") for s in sets)
        where = "--set" if by_set else "the run being resumed" if resume_dir else f"run YAML {config_file}"
        raise ConfigError(f"trust_task_code is true in {where}: an lm-eval task's own code runs only with "
                          "--trust-task-code on the command line; add the flag to run it")
    from promptkit.cli.display import LiveDisplay
    from promptkit.distributed import current
    from promptkit.run import execute, prepare
    from promptkit.run.options import RunOptions

    run_options = RunOptions(resume=resume_dir is not None, debug=Context.debug, command=command_line())
    if not current().is_main:
        # `accelerate launch` with several processes: the main process shows and writes everything
        quiet_libraries()
        result = execute(prepare(config), run_options)
        sys.exit(1 if any(c.error for c in result.cells) else 0)
    from promptkit.interrupt import stop_at_safe_points

    run_dirs: list[Path] = []
    with LiveDisplay() as display:
        run_options = dataclasses.replace(run_options, progress=display.progress, on_cell=display.cell_done, on_start=run_dirs.append)
        display.phase("checking tasks and loading data")
        plan = prepare(config)  # bad tasks or data fail here, before heavy imports
        quiet_libraries()
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


from promptkit.cli.report import report_cmd  # noqa: E402  (commands register on the group above)
from promptkit.cli.tasks import tasks  # noqa: E402

cli.add_command(tasks)
cli.add_command(report_cmd)


def main(argv: Sequence[str] | None = None) -> None:
    invocation["args"] = list(argv) if argv is not None else sys.argv[1:]
    cli.main(args=list(argv) if argv is not None else None, prog_name="promptkit")


if __name__ == "__main__":
    main()
