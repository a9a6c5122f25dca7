"""Several runs (other models, seeds, budgets) merged into one report, and metrics added later.

:func:`merge_runs` writes a run directory of its own (``results.json`` + ``samples/``) in which
every cell of every run is a column labelled ``method @ run``. Runs that evaluated a task on the
same examples (same task version and split, same example ids) share one section, and their
methods are compared pairwise like the methods of one run: model A's zero-shot against model B's
LoRA is then a paired test on the same questions. Runs that evaluated other examples or another
task version get a section each (``task [run]``), side by side: scores over different
examples are never averaged or tested against each other.

:func:`rescore` adds metrics to a run from its saved samples (predictions and references),
intervals included, without loading a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from promptkit.config import slug
from promptkit.config.run import RunSettings
from promptkit.errors import PromptkitError
from promptkit.records.results import RunResult, TaskInfo, write_atomic
from promptkit.records.samples import SampleFiles, SampleRow, inside, sample_lines


def _labels(results: Sequence[RunResult]) -> list[str]:
    """One short label per run: its run id, numbered where two runs share one."""
    labels: list[str] = []
    for r in results:
        label = r.run_id
        if label in labels:
            label = f"{label}-{len(labels) + 1}"
        labels.append(label)
    return labels


def merge_runs(results: Sequence[RunResult], run_dirs: Sequence[str | Path], out_dir: str | Path) -> RunResult:
    """Merge ``results`` (read from ``run_dirs``) into a run written at ``out_dir``.

    Returns:
        The merged run, its samples written under ``out_dir/samples``; comparisons and reports
        are left to :func:`promptkit.report.outputs.write_outputs`.

    Raises:
        PromptkitError: ``out_dir`` is one of the merged runs.
    """
    out = Path(out_dir)
    dirs = [Path(d) for d in run_dirs]
    if any(out.resolve() == d.resolve() for d in dirs):
        raise PromptkitError(f"--out {out}: is one of the runs being merged; choose a new directory")
    labels = _labels(results)
    files = [SampleFiles(d) for d in dirs]
    first = results[0]
    settings = RunSettings.of(first.config)
    merged = RunResult(
        run_id=out.name, created=first.created,
        config={"merged_from": [{"run_id": r.run_id, "dir": str(d), "model": r.model.get("name", "?")} for r, d in zip(results, dirs, strict=True)],
                "seed": settings.seed, "bootstrap_samples": settings.bootstrap_samples, "methods": []},
        model={**first.model, "name": " + ".join(dict.fromkeys(str(r.model.get("name", "?")) for r in results))},
        chat_template=first.chat_template, environment=first.environment,
        commands=[c for r in results for c in r.commands],
        timings={"total_s": sum(r.timings.get("total_s", 0.0) for r in results)},
    )
    rows_out: dict[Path, list[SampleRow]] = {}
    for task in dict.fromkeys(c.task for r in results for c in r.cells):
        # runs that evaluated this task on the same examples form one group
        groups: dict[Any, list[int]] = {}
        for i, r in enumerate(results):
            cells = [c for c in r.cells if c.task == task]
            if not cells:
                continue
            info = r.tasks.get(task, TaskInfo())
            ids = frozenset(row.example_id for c in cells for row in files[i].rows(c))
            key = (info.version, info.eval_split, ids or info.fingerprint or (info.n, info.selection, r.run_id))
            groups.setdefault(key, []).append(i)
        for members in groups.values():
            name = task if len(groups) == 1 else f"{task} [{', '.join(labels[i] for i in members)}]"
            merged.tasks[name] = replace(results[members[0]].tasks.get(task, TaskInfo()))
            for i in members:
                for c in (c for c in results[i].cells if c.task == task):
                    method = f"{c.method} @ {labels[i]}" if len(results) > 1 else c.method
                    rel = Path("samples") / slug(name) / f"{slug(method)}.jsonl"
                    rows = [replace(row, method=method) for row in files[i].rows(c)]
                    rows_out.setdefault(rel, []).extend(rows)
                    merged.cells.append(replace(c, task=name, method=method, samples=rel.as_posix() if rows else "",
                                                adapter=str(dirs[i] / c.adapter) if c.adapter else ""))
    for rel, rows in rows_out.items():
        path = inside(out, rel.as_posix(), "samples")  # a planted link in --out DIR is not followed out of it
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, sample_lines(rows))
    return merged


def rescore(result: RunResult, run_dir: str | Path, names: Sequence[str]) -> list[Path]:
    """Add metrics ``names`` to every finished cell, scored from its saved samples. A name
    ``metric[filter]`` scores the results of the task's filter pipeline ``filter`` saved in the
    rows (``promptkit.records.columns``); a bare name, the unfiltered outputs.

    Values, intervals (the run's bootstrap settings and stream, cluster bootstrap when the rows
    carry groups) and per-sample scores are computed exactly as the run would have; the samples
    files get the new per-sample scores.

    Returns:
        The samples files rewritten.

    Raises:
        UnknownNameError: an unknown metric name.
        MetricError: a filter the rows have no results of.
        PromptkitError: a cell whose samples file is missing.
    """
    from promptkit.metrics import MetricContext, get_metric, score
    from promptkit.records import Prediction
    from promptkit.seeding import derive

    for name in names:
        get_metric(name)  # unknown names fail before anything is written
    run_dir = Path(run_dir)
    files = SampleFiles(run_dir)
    n_boot = RunSettings.of(result.config).bootstrap_samples
    seed = derive(RunSettings.of(result.config).seed, "bootstrap")
    for c in result.cells:
        if c.error is not None:
            continue
        rows = files.rows(c)
        if not rows:
            raise PromptkitError(f"{run_dir / (c.samples or 'samples')}: no saved samples for {c.task} / {c.method}; "
                                 "metrics can only be added from a run's samples files")
        info = result.tasks.get(c.task, TaskInfo())
        ctx = MetricContext.of_task(info, c.task)
        preds = [Prediction(example_id=r.example_id, prompt=r.prompt, output=r.prediction, references=tuple(r.references))
                 for r in rows]
        groups = [r.group for r in rows]
        # a column metric[filter] scores the filter's results saved in the rows
        scores = score(list(names), preds, ctx, n_boot=n_boot, seed=seed,
                       groups=None if any(g is None for g in groups) else [str(g) for g in groups],
                       filtered=[r.filtered for r in rows])
        c.metrics.update(scores)
        for i, r in enumerate(rows):  # the dicts are the file's own rows: updated in place
            r.scores = {**r.scores, **{k: s.per_sample[i] for k, s in scores.items()}}
        result.tasks[c.task] = replace(info, metrics=tuple(dict.fromkeys([*info.metrics, *names])))
    loaded = files.loaded()
    for path, rows in loaded.items():
        write_atomic(path, sample_lines(rows))
    return list(loaded)
