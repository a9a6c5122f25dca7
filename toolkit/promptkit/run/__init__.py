"""A run: tasks x prompt templates x methods x training seeds, evaluated into one run directory.

In execution order:

- ``plan``: tasks read and checked, the cells listed, the seeds derived (no model);
- ``launch``: the cells executed by a launcher, ``local`` (this process) or ``ray`` (Ray tasks),
  each opening the run directory (``store``) and ending in the same finish;
- ``local``: the loop; ``tuning`` selects a tuned method's settings once; ``cell`` runs one cell
  (fit -> predict -> score -> record) on prompts fitted to the model by ``prompts``;
- ``store``: everything written (results.json, samples, adapters, progress in ``progress``);
- ``tracking``: the ``--report-to`` trackers; ``search``: search spaces and samplers.

From a notebook: ``promptkit.run.run(config)``, or ``execute(prepare(config), RunOptions(...))``.
Nothing heavy is imported until a function is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from promptkit.config.run import RunConfig
    from promptkit.models.batching import ProgressFn
    from promptkit.records.results import RunResult
    from promptkit.run.options import RunOptions
    from promptkit.run.plan import Plan


def prepare(config: RunConfig) -> Plan:
    """Read and check every task of ``config`` and plan its cells (``promptkit.run.plan.prepare``)."""
    from promptkit.run.plan import prepare as _prepare

    return _prepare(config)


def execute(plan: Plan, options: RunOptions | None = None) -> RunResult:
    """Run a plan (``promptkit.run.launch.execute``)."""
    from promptkit.run.launch import execute as _execute
    from promptkit.run.options import RunOptions

    return _execute(plan, options or RunOptions())


def run(config: RunConfig, progress: ProgressFn | None = None, resume: bool = False, **options: Any) -> RunResult:
    """Plan and run ``config`` (the notebook entry point); ``options``: the other RunOptions fields."""
    from promptkit.run.options import RunOptions

    return execute(prepare(config), RunOptions(progress=progress, resume=resume, **options))


__all__ = ["execute", "prepare", "run"]
