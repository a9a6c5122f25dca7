"""Executing a plan where ``launcher`` says: ``local`` runs the cells in this process
(``promptkit.run.local``), ``ray`` as Ray tasks (``promptkit.run.ray``).

Each launcher opens the run directory (``promptkit.run.store.open_run``), returns the run's
record and ends in :meth:`~promptkit.run.store.RunStore.finish`, which writes the reports and
hands them to the trackers. A launcher module is imported only when a run uses it.
"""

from __future__ import annotations

from collections.abc import Callable

from promptkit.records.results import RunResult
from promptkit.run.options import RunOptions
from promptkit.run.plan import Plan


def _local(plan: Plan, options: RunOptions) -> RunResult:
    from promptkit.run.local import execute

    return execute(plan, options)


def _ray(plan: Plan, options: RunOptions) -> RunResult:
    from promptkit.run.ray import execute

    return execute(plan, options)


# RunConfig.launcher's values (a test checks that the two agree).
LAUNCHERS: dict[str, Callable[[Plan, RunOptions], RunResult]] = {"local": _local, "ray": _ray}


def execute(plan: Plan, options: RunOptions | None = None) -> RunResult:
    """Run ``plan``'s cells (those a resumed run lacks) and write the run directory."""
    return LAUNCHERS[plan.config.launcher](plan, options or RunOptions())
