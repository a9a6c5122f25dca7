"""Finish a run: comparisons and verdicts from the saved samples, then every output file.

One function, used by a run when it ends (``promptkit.run.store.RunStore.finish``) and by ``promptkit report`` when a run is
re-rendered, so the two can never write different reports of the same run.
"""

from __future__ import annotations

from pathlib import Path

from promptkit.analysis.compare import compare_runs
from promptkit.analysis.groups import group_scores
from promptkit.config.run import RunSettings
from promptkit.faults import kill_point
from promptkit.records.results import RunResult, write_atomic
from promptkit.report.html import render_html
from promptkit.report.markdown import render_markdown
from promptkit.seeding import derive


def analyse(result: RunResult, run_dir: str | Path, bootstrap_seed: int | None = None) -> None:
    """Fill the run's comparisons and verdicts from its samples, in place.

    The resampling settings are the run's own (``bootstrap_samples``, the ``bootstrap`` stream of
    its seed), so re-rendering a run gives the same p-values as the run itself; ``bootstrap_seed``
    replaces that stream (``promptkit report --bootstrap-seed K``), to show that no decision
    depends on it.
    """
    settings = RunSettings.of(result.config)
    n_boot = settings.bootstrap_samples
    seed = derive(settings.seed, "bootstrap") if bootstrap_seed is None else bootstrap_seed
    compare_runs(result, run_dir, n_boot=n_boot, seed=seed)
    result.group_scores = group_scores(result, run_dir)  # analytic: no resampling stream


def write_outputs(result: RunResult, run_dir: str | Path, bootstrap_seed: int | None = None) -> None:
    """:func:`analyse`, then write results.json, report.md and report.html."""
    run_dir = Path(run_dir)
    analyse(result, run_dir, bootstrap_seed)
    result.save(run_dir)
    kill_point("report")
    write_atomic(run_dir / "report.md", render_markdown(result))
    kill_point("report")
    write_atomic(run_dir / "report.html", render_html(result, run_dir))
