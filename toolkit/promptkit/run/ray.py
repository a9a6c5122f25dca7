"""``--launcher ray``: the independent cells of a run as Ray tasks, one run directory at the end.

A comparison is a grid of cells that do not depend on each other: every cell's examples, few-shot
draws, training batches and bootstrap come from the run seed and its own identity, never from
the other cells. The driver (this process) checks the run as a local run does (tasks, data,
leakage, the run directory) and never loads the model. It groups the plan into Ray tasks:

- one task per task x method entry x training seed (all the task's prompt templates);
- a tuned method keeps its seeds in one task, since every seed trains the settings chosen with
  the first seed;

each asking ``ray.num_cpus`` / ``ray.num_gpus``. A Ray task runs an ordinary local run of its
cells in ``<run>/ray/<group>/`` (a worker on another machine needs the run directory on a shared
filesystem, as any multi-node job does), with ``--resume`` when that directory holds a previous
attempt, so a killed cluster job loses at most the unsaved chunk of each cell. A task that fails
as a whole (a worker lost, a model that does not load) fails its cells only: they are recorded
with the error, as a local run records a failed cell, and ``--resume`` runs them again. The
driver then writes the run as a local run would: cells in plan order, their samples rows in one
file per method, the adapters moved under ``<run>/adapters/``, each cell logged to the
``--report-to`` trackers, and the same finish (comparisons, verdicts, reports). A cell already
in ``results.json`` is not submitted again.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from promptkit.config import dump, slug
from promptkit.errors import ConfigError, PromptkitError
from promptkit.records.results import CellResult, RunResult
from promptkit.records.samples import SampleRow, cell_rows, inside
from promptkit.run.cell import new_cell
from promptkit.run.options import RunOptions
from promptkit.run.plan import CellSpec, Plan
from promptkit.run.store import RunStore, run_in_store

RAY_DIR = "ray"


def execute(plan: Plan, options: RunOptions) -> RunResult:
    """Run ``plan``'s cells as Ray tasks; the driver never loads the model."""
    from promptkit.distributed import current

    if current().distributed:
        raise ConfigError("--launcher ray starts its own workers; run it as one process, not under "
                          "accelerate launch / torchrun")
    return run_in_store(plan, options, run_on_ray)


def _run_group(config: dict[str, Any], resume: bool) -> str:
    """A Ray task: an ordinary local run of some cells of the parent run; returns its directory."""
    from promptkit.config.run import RunConfig
    from promptkit.run.local import execute
    from promptkit.run.plan import prepare

    cfg = RunConfig.model_validate(config)
    execute(prepare(cfg), RunOptions(resume=resume))
    return str(Path(cfg.out_dir) / str(cfg.run_id))


def _groups(plan: Plan, specs: Sequence[CellSpec]) -> list[tuple[str, list[CellSpec]]]:
    """The plan's cells as Ray tasks, in plan order (see the module docstring)."""
    groups: dict[tuple[Any, ...], list[CellSpec]] = {}
    for spec in specs:
        key = (spec.task.name, spec.method.label) + (() if plan.is_tuned(spec) else (spec.seed,))
        groups.setdefault(key, []).append(spec)
    return [("-".join(slug(str(k)) for k in key if k is not None), members) for key, members in groups.items()]


def _sub_config(plan: Plan, members: Sequence[CellSpec], out_dir: Path, name: str) -> dict[str, Any]:
    """The parent's settings restricted to one group's task, method and seeds. The dev slice
    held out of train is the parent's (it depends on whether any method of the run is tuned)."""
    first = members[0]
    seeds = sorted({m.seed for m in members if m.seed is not None})
    data = dump(plan.config)
    data.update(tasks=[plan.refs[first.task.name]], methods=[dump(first.method)], out_dir=str(out_dir), run_id=name,
                launcher="local", report_to=[])
    data["model"] = {**data["model"], "chat_template": plan.chat_mode}  # as the parent resolved it for all its tasks
    data["training"] = {**data["training"], "dev_size": plan.dev_size, **({"seeds": seeds} if seeds else {})}
    return data


def ray_address(address: str | None) -> str | None:
    """The cluster to join: ``ray.address``, else ``RAY_ADDRESS``, else None (a local instance).

    Raises:
        ConfigError: an address that is set but empty or not ``auto``, ``local``, ``ray://host:port``
            or ``host:port``.
    """
    given, where = (address, "ray.address") if address is not None else (os.environ.get("RAY_ADDRESS"), "RAY_ADDRESS")
    if given is None:
        return None
    text = given.strip()
    if text in ("auto", "local"):
        return text
    hostport = text.removeprefix("ray://")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536 or any(c.isspace() for c in hostport):
        raise ConfigError(f"{where} {given!r} is not a Ray address; accepted: auto, local, ray://HOST:PORT or HOST:PORT "
                          f"(unset it to start a local Ray instance)")
    return text


def run_on_ray(plan: Plan, store: RunStore, trackers: Any, options: RunOptions, started: float) -> RunResult:
    """Run ``plan``'s cells as Ray tasks and write the run in ``store``."""
    address = ray_address(plan.config.ray.address)  # a bad address is refused before anything is made
    try:
        import ray
    except ImportError:
        raise PromptkitError("--launcher ray needs ray: pip install 'promptkit[ray]'") from None

    cfg = plan.config
    store.claim()  # before the first write: one writer per run directory
    previous = store.load() if options.resume and store.has_run() else None
    done = {c.key: c for c in (previous.cells if previous else []) if c.error is None}
    order = {spec.key: i for i, spec in enumerate(plan.cells)}
    todo = [(name, members) for name, members in _groups(plan, plan.cells) if any(m.key not in done for m in members)]
    if not ray.is_initialized():
        init: dict[str, Any] = {} if address else {"num_cpus": os.cpu_count() or 1}  # a local instance: this machine
        ray.init(address=address, include_dashboard=False, log_to_driver=False, **init)
    sub_root = store.within(store.run_dir / RAY_DIR)
    sub_root.mkdir(parents=True, exist_ok=True)
    task = ray.remote(num_cpus=cfg.ray.num_cpus, num_gpus=cfg.ray.num_gpus)(_run_group)
    futures = [task.remote(_sub_config(plan, members, sub_root, name), (sub_root / name / "results.json").is_file())
               for name, members in todo]

    result = previous or RunResult(run_id=store.run_id, created=time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                                   config=dump(cfg))
    result.cells = list(done.values())
    # the driver's view of each task (a sub-run reads only the splits its method needs)
    result.tasks = {p.name: p.info() for p in plan.tasks}
    if options.command:
        result.commands.append(options.command)
    rows: list[tuple[int, Path, SampleRow]] = [(order.get(c.key, len(order)), Path(c.samples), r)
                                               for c in done.values() for r in store.rows(c)]
    for (name, members), future in zip(todo, futures, strict=True):
        try:
            sub_dir = Path(ray.get(future))
        except Exception as exc:  # the task's own error, without Ray's traceback around it
            _fail_group(result, trackers, cfg, name, members, done, exc, store)
            continue
        rows += _collect(result, trackers, cfg, store, sub_dir, members, done, order)
    result.cells.sort(key=lambda c: order.get(c.key, len(order)))
    _write_rows(store, rows)
    result.timings["total_s"] = round(time.perf_counter() - started, 3)
    store.save(result)
    if all(c.error is None for c in result.cells):
        shutil.rmtree(sub_root, ignore_errors=True)  # nothing left to resume
    return result


def _fail_group(result: RunResult, trackers: Any, cfg: Any, name: str, members: Sequence[CellSpec],
                done: dict[Any, CellResult], exc: Exception, store: RunStore) -> None:
    """A Ray task that failed as a whole: each of its cells not finished before gets its error."""
    cause = getattr(exc, "cause", None) or exc
    text = str(cause).strip().splitlines()[0][:300] if str(cause).strip() else type(cause).__name__
    error = (f"--launcher ray: the Ray task {name} failed ({type(cause).__name__}: {text}); "
             f"continue with --resume {store.run_dir}")
    for spec in members:
        if spec.key not in done:
            cell = new_cell(spec, spec.method)
            cell.error = error
            result.cells.append(cell)
            _log(trackers, spec, cell, cfg)


def _collect(result: RunResult, trackers: Any, cfg: Any, store: RunStore, sub_dir: Path, members: Sequence[CellSpec],
             done: dict[Any, CellResult], order: dict[Any, int]) -> list[tuple[int, Path, SampleRow]]:
    """A finished Ray task's cells into the run (adapters moved, cells logged); their rows."""
    sub = RunResult.load(sub_dir)
    if not result.model:
        result.model, result.environment, result.chat_template = sub.model, sub.environment, sub.chat_template
        result.timings["model_load_s"] = sub.timings.get("model_load_s", 0.0)
    specs = {spec.key: spec for spec in members}
    rows: list[tuple[int, Path, SampleRow]] = []
    for c in sub.cells:
        if c.key in done:
            continue
        rows += [(order.get(c.key, len(order)), Path(c.samples), r)
                 for r in (cell_rows(inside(sub_dir, c.samples, "cells[].samples"), [c]) if c.samples else [])]
        if c.adapter and inside(sub_dir, c.adapter, "cells[].adapter").exists():
            target = inside(store.run_dir, c.adapter, "cells[].adapter")
            shutil.rmtree(target, ignore_errors=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(sub_dir / c.adapter), str(target))
        result.cells.append(c)
        if c.key in specs:
            _log(trackers, specs[c.key], c, cfg)
    return rows


def _write_rows(store: RunStore, rows: list[tuple[int, Path, SampleRow]]) -> None:
    """One samples file per task x method entry, its rows in plan order (a cell's rows keep theirs)."""
    rows.sort(key=lambda kr: kr[0])  # stable
    files: dict[Path, list[SampleRow]] = {}
    for _, rel, r in rows:
        files.setdefault(rel, []).append(r)
    for rel, file_rows in files.items():
        store.write_rows(rel, file_rows)


def _log(trackers: Any, spec: CellSpec, cell: CellResult, cfg: Any) -> None:
    """A cell computed on a worker, logged to the run's trackers as a local run logs it: its
    settings, its training losses and dev evaluations by step, then its final figures."""
    name = "/".join([cell.task, cell.prompt, cell.method, *([f"seed-{cell.seed}"] if cell.seed is not None else [])])
    tracker = trackers.cell(name, {"task": cell.task, "prompt": cell.prompt, "method": cell.method_config,
                                   "seed": cell.seed, "model": dump(cfg.model)})
    if tracker is None:
        return
    if cell.training is not None:
        for step, loss in enumerate(cell.training.losses, start=1):
            tracker.log(step, {"train/loss": loss})
        for point in cell.training.curve:
            dev = {"dev/" + k.removeprefix("dev_"): v for k, v in point.items() if k.startswith("dev_")}
            if dev:
                tracker.log(int(point.get("step", 0)), dev)
    tracker.finish(cell)
