"""``promptkit report``: re-render a run's report (adding metrics), or merge several runs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from promptkit.errors import PromptkitError


@click.command("report")
@click.argument("runs", nargs=-1, required=True, type=click.Path())
@click.option("--out", "out", type=click.Path(), default=None,
              help="A directory: one merged report of all RUNS (report.html, report.md, results.json, samples/). "
                   "A .md file: the Markdown only. Default: the run's own report, or compare.md beside the first run.")
@click.option("--metric", "metrics", multiple=True,
              help="Add a metric scored from the saved samples (repeatable), without loading a model.")
@click.option("--bootstrap-seed", "bootstrap_seed", type=click.IntRange(min=0), default=None,
              help="Seed of the resampling streams behind the comparisons (default: the run's own). Reports "
                   "written with different seeds must give the same verdict.")
@click.option("--force", is_flag=True, help="Let --out replace a run or report already there.")
def report_cmd(runs: Sequence[str], out: str | None, metrics: Sequence[str], bootstrap_seed: int | None, force: bool) -> None:
    """Re-render a run's report (adding metrics), or merge several runs into one report."""
    from promptkit.analysis.merge import merge_runs, rescore
    from promptkit.config.run import RunSettings
    from promptkit.records.results import write_atomic
    from promptkit.report import RunResult, render_comparison
    from promptkit.report.outputs import write_outputs

    results = [RunResult.load(r) for r in runs]
    dirs = [Path(r).parent if Path(r).is_file() else Path(r) for r in runs]
    for result, run_dir in zip(results, dirs, strict=True):
        RunSettings.of(result.config, f"{run_dir / 'results.json'}: config")  # one line naming a bad setting, not a traceback later
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
        if (target_dir / "results.json").exists() and not force and target_dir.resolve() not in [d.resolve() for d in dirs]:
            raise PromptkitError(f"--out {out}: {target_dir} already holds a run (results.json); give another directory, "
                                 "or --force to replace it")
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
