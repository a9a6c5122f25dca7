"""Running a plan in this process (and, under ``accelerate launch``, in each of its processes).

Read top to bottom, this is the run: load the model, start or reopen the record, then for each
task x prompt x method entry tune it once if it is tuned, run each of its seeds as a cell, save
the record after every cell, and finish (reports, trackers) as every launcher does.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import platform
import time
from collections.abc import Sequence
from typing import Any

from promptkit.config import dump
from promptkit.errors import ModelError
from promptkit.faults import kill_point
from promptkit.harness import Runtime
from promptkit.records.results import RunResult, TuningResult
from promptkit.run.cell import Session, new_cell, run_cell
from promptkit.run.options import RunOptions
from promptkit.run.plan import CellSpec, Plan, PreparedTask
from promptkit.run.prompts import PromptFitter
from promptkit.run.store import RunStore, run_in_store
from promptkit.run.tuning import tune, tuned
from promptkit.tasks.adapters import ADAPTERS

PACKAGES = ("promptkit", "torch", "transformers", "peft", "accelerate", "datasets", "sacrebleu", "rouge-score", "numpy")


def execute(plan: Plan, options: RunOptions) -> RunResult:
    """Every cell of ``plan`` not yet in its run directory, on a model loaded here (each process
    of an ``accelerate launch`` computes; the main one writes)."""
    from promptkit.distributed import current

    result = run_in_store(plan, options, run_cells)
    current().barrier()
    return result


def run_cells(plan: Plan, store: RunStore, trackers: Any, options: RunOptions, started: float) -> RunResult:
    """Load the model, start or reopen the record, run every cell it lacks."""
    from promptkit.analysis.forgetting import probe_run
    from promptkit.models import load_model
    from promptkit.prompting.chat import use_chat_template

    cfg = plan.config
    t0 = time.perf_counter()
    lm = load_model(cfg.model)
    load_s = time.perf_counter() - t0
    check_model_fits(lm, plan.tasks)
    chat = use_chat_template(lm.tokenizer, plan.chat_mode)  # type: ignore[arg-type]
    session = Session(plan, store, lm, Runtime(batch_size=cfg.batch_size, chat=chat, progress=options.progress),
                      PromptFitter(cfg, plan.seeds, plan.dev_size, lm, chat), trackers, options,
                      probe_run(plan.probe, lm, max((s.method_cls.virtual_tokens(s.method) for s in plan.cells), default=0)))
    store.claim()  # before the first write: one writer per run directory
    result = start_record(plan, store, options, lm.describe(), chat, load_s)
    store.save(result)
    done = {c.key for c in result.cells}
    rows = store.finished_rows(result)
    for spec in plan.cells:
        if spec.key in done:  # killed after results.json listed the cell, before this cleanup
            store.forget_progress(spec)
    for specs in plan.entries([spec for spec in plan.cells if spec.key not in done]):
        tuning, failure = _tuning(session, result, specs[0])
        for spec in specs:  # the seeds of one task x prompt x method entry
            if failure is not None:
                cell = new_cell(spec, spec.method)
                cell.error = failure
            else:
                cell = run_cell(session, spec, rows, tuning)
            result.cells.append(cell)
            result.timings["total_s"] = round(time.perf_counter() - started, 3)
            store.save(result)
            kill_point("cell-saved")
            if cell.error is None:  # a failed cell keeps its progress for the next try
                store.forget_progress(spec)
            if options.on_cell:
                options.on_cell(cell)
    result.timings["total_s"] = round(time.perf_counter() - started, 3)
    return result


def check_model_fits(lm: Any, prepared: Sequence[PreparedTask]) -> None:
    """Refuse, before anything runs, a task the model cannot do: generation on a model that only
    scores (a masked LM), a cloze prompt (``{{ mask }}``) on a model that does not fill masks.

    Raises:
        ModelError: naming the task, the prompt and what would work.
    """
    from promptkit.harness.predict import check_cloze

    for p in prepared:
        kind = p.task.config.adapter.kind
        if not ADAPTERS.get(kind).scores_choices and not lm.can_generate:
            raise ModelError(
                f"task {p.name!r} ({kind}) needs text generation, which {lm.name!r} "
                f"({type(lm.model).__name__}, a masked LM) cannot do; masked LMs run classification "
                "tasks with cloze prompts ({{ mask }})"
            )
        for template in p.task.prompts:
            if template.cloze:
                check_cloze(lm, template.name, f"task {p.name!r}: ")


def _tuning(session: Session, result: RunResult, spec: CellSpec) -> tuple[TuningResult | None, str | None]:
    """A tuned entry's selection (made once, for all its seeds; kept from before an
    interruption), or the error that failed it."""
    if not session.plan.is_tuned(spec):
        return None, None
    try:
        return tuned(result, spec) or tune(session, spec), None
    except Exception as exc:
        return None, session.failure(exc)


def start_record(plan: Plan, store: RunStore, options: RunOptions, model: dict[str, Any], chat: bool,
                 load_s: float) -> RunResult:
    """The run's record: reopened when resuming (finished cells kept; failed or unfinished ones
    run again), else new."""
    if store.resume and store.has_run():
        result = store.load()
        result.cells = [c for c in result.cells if c.error is None]
        result.timings["model_load_s"] = round(load_s, 3)
        if options.command:
            result.commands.append(options.command)
        return result
    return RunResult(
        run_id=store.run_id,
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        config=dump(plan.config),
        model=model,
        chat_template=chat,
        environment={"python": platform.python_version(), "platform": platform.platform(), "packages": package_versions()},
        timings={"model_load_s": round(load_s, 3)},
        commands=[options.command] if options.command else [],
        tasks={p.name: p.info() for p in plan.tasks},
    )


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
