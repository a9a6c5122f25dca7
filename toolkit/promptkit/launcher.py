"""``--launcher ray``: the independent cells of a run as Ray tasks, one run directory at the end.

A comparison is a grid of cells that do not depend on each other: every cell's examples, few-shot
draws, training batches and bootstrap come from the run seed and its own identity, never from
the other cells. The driver (this process) checks the run as a local run does (tasks, data,
leakage, the run directory) and never loads the model. It groups the plan into Ray tasks:

- one task per task x method entry x training seed (all the task's prompt templates);
- a tuned method keeps its seeds in one task, since every seed trains the settings chosen with
  the first seed;

each asking ``ray.num_cpus`` / ``ray.num_gpus``. A Ray task runs an ordinary promptkit run of its
cells in ``<run>/ray/<group>/`` (a worker on another machine needs the run directory on a shared
filesystem, as any multi-node job does), with ``--resume`` when that directory holds a previous
attempt, so a killed cluster job loses at most the unsaved chunk of each cell. The driver then
writes the run as a local run would: cells in plan order, their samples rows in one file per
method, the adapters moved under ``<run>/adapters/``, comparisons, verdicts and reports. A cell
already in ``results.json`` is not submitted again.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from promptkit.config import dump, slug
from promptkit.errors import PromptkitError
from promptkit.report.results import CellResult, RunResult, write_atomic

RAY_DIR = "ray"


def _run_group(config: dict[str, Any], resume: bool) -> str:
    """A Ray task: an ordinary run of some cells of the parent run; returns its directory."""
    from promptkit.runconfig import RunConfig
    from promptkit.runner import Runner

    cfg = RunConfig.model_validate(config)
    Runner(cfg, resume=resume).run()
    return str(Path(cfg.out_dir) / str(cfg.run_id))


def _groups(runner: Any, specs: Sequence[Any]) -> list[tuple[str, list[Any]]]:
    """The plan's cells as Ray tasks, in plan order (see the module docstring)."""
    tuned = runner.tuned_spaces()
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for spec in specs:
        key = (spec.task.name, spec.method.label) + (() if spec.method.label in tuned else (spec.seed,))
        groups.setdefault(key, []).append(spec)
    named = []
    for key, members in groups.items():
        name = "-".join(slug(str(k)) for k in key if k is not None)
        named.append((name, members))
    return named


def _sub_config(runner: Any, refs: dict[str, str], members: Sequence[Any], out_dir: Path, name: str) -> dict[str, Any]:
    """The parent's settings restricted to one group's task, method and seeds. The dev slice
    held out of train is the parent's (it depends on whether any method of the run is tuned)."""
    cfg = runner.config
    first = members[0]
    seeds = sorted({m.seed for m in members if m.seed is not None})
    data = dump(cfg)
    data.update(tasks=[refs[first.task.name]], methods=[dump(first.method)], out_dir=str(out_dir), run_id=name,
                launcher="local", report_to=[])
    data["training"] = {**data["training"], "dev_size": runner._dev_size(), **({"seeds": seeds} if seeds else {})}
    return data


def run_on_ray(runner: Any, prepared: Sequence[Any], run_id: str, started: float) -> RunResult:
    """Run ``runner``'s plan as Ray tasks and write the run in ``runner.run_dir``."""
    try:
        import ray
    except ImportError:
        raise PromptkitError("--launcher ray needs ray: pip install 'promptkit[ray]'") from None
    from promptkit.report.outputs import write_outputs
    from promptkit.runner import default_tasks, task_info

    cfg = runner.config
    run_dir: Path = runner.run_dir
    refs = {p.name: ref for p, ref in zip(prepared, cfg.tasks or default_tasks(), strict=True)}
    previous = RunResult.load(run_dir) if runner.resume and (run_dir / "results.json").is_file() else None
    done = {c.key: c for c in (previous.cells if previous else []) if c.error is None}
    plan = runner.plan(prepared)
    order = {spec.key: i for i, spec in enumerate(plan)}
    todo = [(name, members) for name, members in _groups(runner, plan) if any(m.key not in done for m in members)]
    sub_root = run_dir / RAY_DIR
    sub_root.mkdir(parents=True, exist_ok=True)
    if not ray.is_initialized():
        address = cfg.ray.address or os.environ.get("RAY_ADDRESS")
        options: dict[str, Any] = {} if address else {"num_cpus": os.cpu_count() or 1}  # a local instance: this machine
        ray.init(address=address, include_dashboard=False, log_to_driver=False, **options)
    task = ray.remote(num_cpus=cfg.ray.num_cpus, num_gpus=cfg.ray.num_gpus)(_run_group)
    futures = [task.remote(_sub_config(runner, refs, members, sub_root, name), (sub_root / name / "results.json").is_file())
               for name, members in todo]
    finished = []
    for (name, _), future in zip(todo, futures, strict=True):
        try:
            finished.append(Path(ray.get(future)))
        except Exception as exc:  # the task's own error, without Ray's traceback around it
            cause = getattr(exc, "cause", None) or exc
            text = str(cause).strip().splitlines()[0][:300] if str(cause).strip() else type(cause).__name__
            raise PromptkitError(f"--launcher ray: the cells of {name} failed ({type(cause).__name__}: {text}); "
                                 f"finished cells are kept, continue with --resume {run_dir}") from None

    result = previous or RunResult(run_id=run_id, created=time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()), config=dump(cfg))
    result.cells = list(done.values())
    # the driver's view of each task (a sub-run reads only the splits its method needs)
    result.tasks = {p.name: task_info(p) for p in prepared}
    samples: dict[Path, list[tuple[int, dict[str, Any]]]] = {}
    for sub_dir in finished:
        sub = RunResult.load(sub_dir)
        if not result.model:
            result.model, result.environment, result.chat_template = sub.model, sub.environment, sub.chat_template
            result.timings["model_load_s"] = sub.timings.get("model_load_s", 0.0)
        rows = {}
        for c in sub.cells:
            if c.key in done:
                continue
            rows[c.key] = _cell_rows(sub_dir, c)
            if c.adapter and (sub_dir / c.adapter).exists():
                target = run_dir / c.adapter
                shutil.rmtree(target, ignore_errors=True)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(sub_dir / c.adapter), str(target))
            result.cells.append(c)
        for key, cell_rows in rows.items():
            samples.setdefault(Path(next(c.samples for c in sub.cells if c.key == key)), []).extend(
                (order.get(key, len(order)), r) for r in cell_rows)
    for c in done.values():  # rows of cells finished before this attempt stay as they were
        for r in _cell_rows(run_dir, c):
            samples.setdefault(Path(c.samples), []).append((order.get(c.key, len(order)), r))
    result.cells.sort(key=lambda c: order.get(c.key, len(order)))
    for rel, keyed in samples.items():
        keyed.sort(key=lambda kr: kr[0])  # stable: a cell's rows keep their order
        path = run_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for _, r in keyed))
    if runner.command:
        result.commands.append(runner.command)
    result.timings["total_s"] = round(time.perf_counter() - started, 3)
    result.save(run_dir)
    if all(c.error is None for c in result.cells):
        shutil.rmtree(sub_root, ignore_errors=True)  # nothing left to resume
    write_outputs(result, run_dir)
    return result


def _cell_rows(run_dir: Path, cell: CellResult) -> list[dict[str, Any]]:
    path = run_dir / cell.samples
    if not cell.samples or not path.is_file():
        return []
    return [r for r in map(json.loads, path.open(encoding="utf-8"))
            if r.get("prompt_name") == cell.prompt and r.get("method") == cell.method and r.get("seed") == cell.seed]
