"""Paired significance of each method against the run's baseline, from the saved samples.

The baseline of a task/prompt is the run's first method (zero-shot by default). Rows are
aligned by example id; every method saw the same evaluation examples, so the comparison is
paired: a paired bootstrap over examples gives the p-value of the metric difference.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from promptkit.config import entry_label
from promptkit.report.results import CellResult, RunResult


def _rows(run_dir: Path, cell: CellResult) -> dict[str, dict[str, Any]]:
    path = run_dir / cell.samples
    if not cell.samples or not path.is_file():
        return {}
    out = {}
    for line in path.open(encoding="utf-8"):
        row = json.loads(line)
        if row.get("prompt_name") == cell.prompt and row.get("method") == cell.method:
            out[row["example_id"]] = row
    return out


def baseline_method(result: RunResult) -> str | None:
    methods = [entry_label(m) for m in result.config.get("methods", [])]
    return methods[0] if methods else (result.cells[0].method if result.cells else None)


def add_comparisons(result: RunResult, run_dir: str | Path, n_boot: int = 1000, seed: int = 0) -> None:
    """Fill ``cell.comparison`` (delta and p-value per metric vs the baseline) in place."""
    from promptkit.metrics import MetricContext, get_metric, paired_bootstrap_test

    run_dir = Path(run_dir)
    base_kind = baseline_method(result)
    cells = {c.key: c for c in result.cells if c.error is None}
    for cell in cells.values():
        cell.comparison = {}
        base = cells.get((cell.task, cell.prompt, base_kind or ""))
        if base is None or base is cell:
            continue
        a_rows, b_rows = _rows(run_dir, cell), _rows(run_dir, base)
        ids = [i for i in a_rows if i in b_rows]
        if len(ids) < 2:
            continue
        info = result.tasks.get(cell.task, {})
        ctx = MetricContext(language=info.get("language"), labels=tuple(info.get("labels", ())))
        refs = [a_rows[i]["references"] for i in ids]
        for name in cell.metrics:
            metric = get_metric(name)
            a = metric.stats([a_rows[i]["prediction"] for i in ids], refs, ctx)
            b = metric.stats([b_rows[i]["prediction"] for i in ids], refs, ctx)
            delta = float(metric.aggregate(a) - metric.aggregate(b))
            p = float(paired_bootstrap_test(metric, a, b, n_boot=n_boot, seed=seed)) if n_boot else float("nan")
            cell.comparison[name] = {"baseline": base.method, "delta": round(delta, 4), "p_value": round(p, 5), "n": len(ids)}
