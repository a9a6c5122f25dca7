"""Markdown reports: one run (tables per task) and several runs side by side."""

from __future__ import annotations

from collections.abc import Sequence

from promptkit.config.run import RunSettings
from promptkit.records.results import RunResult, TaskInfo
from promptkit.report.tables import (
    TableData,
    context_lines,
    cost_table,
    examples_phrase,
    fmt_score,
    metric_names,
    pairs_table,
    results_table,
    seeds_table,
    tuning_table,
    verdict_header,
    verdict_lines,
    verdict_table,
)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _data(table: TableData | None, intro: str) -> list[str]:
    if table is None:
        return []
    return [intro, "", *_table(table.header, table.rows), ""]


def _limit(limit: object) -> str:
    """The run's --limit; without one, each task's own limit applies (each task line says what
    it evaluated)."""
    return "each task's own" if limit is None else str(limit)


def render_markdown(result: RunResult) -> str:
    """The report of one run: setup, then per task the verdict and its evidence."""
    model = result.model
    settings = RunSettings.of(result.config)
    lines = [
        f"# promptkit run `{result.run_id}`",
        "",
        f"- created: {result.created}",
        f"- model: `{model.get('name', '?')}` ({model.get('architecture', '?')}, "
        f"{model.get('parameters', 0) / 1e6:.1f}M parameters, {model.get('dtype', '?')} on {model.get('device', '?')})",
        f"- chat template: {'on' if result.chat_template else 'off'}",
        f"- seed: {settings.seed}, training seeds: {list(settings.training_seeds)}, "
        f"batch size: {settings.batch_size}, limit: {_limit(settings.limit)}",
        f"- total time: {result.timings.get('total_s', 0):.1f} s (model load {result.timings.get('model_load_s', 0):.1f} s)",
        *(f"- command: `{c}`" for c in result.commands),
        *(f"- merged from: `{m['run_id']}` ({m['model']}, {m['dir']})" for m in settings.merged_from),
        "",
        "Values are on a 0-100 scale with 95% confidence intervals in brackets (test-sample variance): Wilson "
        "with the design effect for right/wrong metrics, cluster-robust t for other means of per-example "
        "scores, bootstrap for corpus metrics. A method trained with several seeds shows mean ± sd across "
        "seeds and a two-level (seeds + test sample) bootstrap interval.",
        "",
    ]
    for task in dict.fromkeys(c.task for c in result.cells):
        info = result.tasks.get(task, TaskInfo())
        lines += [f"## {task}", ""]
        lines += [f"version {info.version or '?'}, split `{info.eval_split or '?'}`, "
                  f"{examples_phrase(info)}, source: {info.source or '?'}", ""]
        for text in verdict_lines(result, task):
            lines += [f"**{text}**", ""]
        for v in (v for v in result.verdicts if v.task == task):
            lines += [verdict_header(v), ""]
        lines += _data(verdict_table(result, task), "Each method against the best (loss = best minus method, "
                       "simultaneous intervals of the family; sizes: test-set size at which the observed loss would be "
                       "detected, or equivalence shown, with 80% power at the observed spread):")
        for overlap in info.overlaps:
            lines += [f"- overlap allowed by --allow-overlap: {overlap}"]
        if info.overlaps:
            lines.append("")
        for text in context_lines(result, task):
            lines += [f"- {text}"]
        if context_lines(result, task):
            lines.append("")
        table = results_table(result, task)
        lines += [*_table(table.header, table.rows), ""]
        lines += _data(tuning_table(result, task),
                       "Settings chosen on the dev split (never test): every candidate of a tuned method, trained with "
                       "the same steps and the first training seed; the chosen one was then trained with every seed:")
        lines += _data(seeds_table(result, task), "Scores per training seed:")
        lines += _data(pairs_table(result, task),
                       "Comparisons on the same examples (Δ = first minus second, 95% CI unadjusted). Confirmatory: "
                       "the verdict's family, Bonferroni-adjusted. Secondary: every pair on every metric, "
                       "Holm-adjusted across all of them, reported but never used by the verdict. Tests: paired t "
                       "(cluster-robust CR2 with Bell-McCaffrey degrees of freedom on grouped rows; training-seed "
                       "variance added when a method has several seeds) for means of per-example scores; paired "
                       "sign-flip over groups (exact when they are few) or two-level bootstrap for corpus metrics. "
                       "MDD: the smallest difference the test detects with 80% power at its family's adjusted level, "
                       "from its own standard error; for right/wrong metrics never below what an exact test on these "
                       "rows can reject.")
        lines += _data(cost_table(result, task), "Cost per method (prompting methods: prompt length and evaluation speed):")
        for c in (c for c in result.cells if c.task == task and c.cost and not c.error):
            curve = c.training.curve if c.training else []
            if curve:
                keys = [k for k in curve[0] if k != "step"]
                seed = "" if c.seed is None else f" (seed {c.seed})"
                lines += [f"Learning curve, {c.method}{seed} / {c.prompt}:", ""]
                lines += _table(["step", *keys], [[str(int(p["step"])), *(f"{p.get(k, float('nan')):.3f}" for k in keys)] for p in curve])
                lines.append("")
    return "\n".join(lines)


def render_comparison(results: Sequence[RunResult]) -> str:
    """Several runs side by side: for every task/prompt/method cell, each run's metrics."""
    lines = ["# promptkit comparison", ""]
    header_runs = [f"`{r.run_id}` ({r.model.get('name', '?')})" for r in results]
    lines += [f"- run {i + 1}: {h}" for i, h in enumerate(header_runs)]
    lines.append("")
    keys: list[tuple[str, str, str, int | None]] = []
    for r in results:
        for c in r.cells:
            if c.key not in keys:
                keys.append(c.key)
    by_run = [{c.key: c for c in r.cells} for r in results]
    for task in dict.fromkeys(k[0] for k in keys):
        lines += [f"## {task}", ""]
        task_cells = [c for r in by_run for k, c in r.items() if k[0] == task]
        metrics = metric_names(task_cells)
        header = ["method", "prompt", "metric", *(f"run {i + 1}" for i in range(len(results)))]
        rows = []
        for key in (k for k in keys if k[0] == task):
            for m in metrics:
                label = key[2] if key[3] is None else f"{key[2]} (seed {key[3]})"
                rows.append([label, key[1], m, *(fmt_score(r[key], m) if key in r else "–" for r in by_run)])
        lines += _table(header, rows)
        lines.append("")
    return "\n".join(lines)
