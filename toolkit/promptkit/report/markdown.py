"""Markdown reports: one run (tables per task) and several runs side by side."""

from __future__ import annotations

from collections.abc import Sequence

from promptkit.report.results import CellResult, RunResult


def fmt_score(cell: CellResult, metric: str) -> str:
    score = cell.metrics.get(metric)
    if score is None:
        return "–"
    return f"{score.value:.1f} [{score.ci_low:.1f}, {score.ci_high:.1f}]"


def _metric_names(cells: Sequence[CellResult]) -> list[str]:
    names: list[str] = []
    for c in cells:
        for m in c.metrics:
            if m not in names:
                names.append(m)
    return names


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def render_markdown(result: RunResult) -> str:
    """The report of one run: setup, then a table per task (method x prompt rows)."""
    model = result.model
    lines = [
        f"# promptkit run `{result.run_id}`",
        "",
        f"- created: {result.created}",
        f"- model: `{model.get('name', '?')}` ({model.get('architecture', '?')}, "
        f"{model.get('parameters', 0) / 1e6:.1f}M parameters, {model.get('dtype', '?')} on {model.get('device', '?')})",
        f"- chat template: {'on' if result.chat_template else 'off'}",
        f"- seed: {result.config.get('seed')}, batch size: {result.config.get('batch_size')}, "
        f"limit: {result.config.get('limit')}",
        f"- total time: {result.timings.get('total_s', 0):.1f} s (model load {result.timings.get('model_load_s', 0):.1f} s)",
        "",
        "Values are on a 0-100 scale with 95% bootstrap confidence intervals in brackets.",
        "",
    ]
    for task in dict.fromkeys(c.task for c in result.cells):
        cells = [c for c in result.cells if c.task == task]
        info = result.tasks.get(task, {})
        lines.append(f"## {task}")
        lines.append("")
        lines.append(
            f"version {info.get('version', '?')}, split `{info.get('eval_split', '?')}`, "
            f"{info.get('n', '?')} examples, source: {info.get('source', '?')}"
        )
        lines.append("")
        metrics = _metric_names(cells)
        header = ["method", "prompt", "shots", *metrics, "n", "eval ex/s"]
        rows = []
        for c in cells:
            if c.error:
                rows.append([c.method, c.prompt, str(c.shots), *(["–"] * len(metrics)), str(c.n), f"error: {c.error}"])
                continue
            rows.append(
                [
                    c.method,
                    c.prompt,
                    str(c.shots),
                    *(fmt_score(c, m) + fmt_delta(c, m) for m in metrics),
                    str(c.n),
                    f"{c.throughput.get('examples_per_s', 0):.2f}",
                ]
            )
        lines += _table(header, rows)
        lines.append("")
        if any(c.comparison for c in cells):
            base = next(iter(next(c for c in cells if c.comparison).comparison.values()))["baseline"]
            lines += [f"Δ: difference to `{base}` on the same examples; p: paired bootstrap p-value.", ""]
        trained = [c for c in cells if c.cost and not c.error]
        if trained:
            lines += ["Cost of the trainable methods:", ""]
            lines += _table(
                ["method", "prompt", "trainable params", "% of model", "adapter size", "train time", "train tokens/s", "peak memory", "steps"],
                [
                    [
                        c.method,
                        c.prompt,
                        f"{int(c.cost.get('trainable_params', 0)):,}",
                        f"{c.cost.get('trainable_pct', 0):.3f}%",
                        fmt_bytes(c.cost.get("adapter_bytes")),
                        f"{c.cost.get('train_s', 0):.1f} s",
                        f"{c.cost.get('train_tokens_per_s', 0):.0f}",
                        f"{c.cost.get('peak_memory_mb', 0):.0f} MB ({c.training.get('peak_memory_kind', '')})",
                        _steps(c),
                    ]
                    for c in trained
                ],
            )
            lines.append("")
        for c in trained:
            curve = c.training.get("curve") or []
            if curve:
                keys = [k for k in curve[0] if k != "step"]
                lines += [f"Learning curve, {c.method} / {c.prompt}:", ""]
                lines += _table(["step", *keys], [[str(int(p["step"])), *(f"{p.get(k, float('nan')):.3f}" for k in keys)] for p in curve])
                lines.append("")
    return "\n".join(lines)


def fmt_delta(cell: CellResult, metric: str) -> str:
    comp = cell.comparison.get(metric)
    if not comp:
        return ""
    return f" (Δ {comp['delta']:+.1f}, p={comp['p_value']:.3f})"


def fmt_bytes(n: float | None) -> str:
    if not n:
        return "–"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def _steps(c: CellResult) -> str:
    t = c.training
    text = f"{t.get('steps', 0)}/{t.get('planned_steps', 0)}"
    if t.get("stopped_early"):
        text += " (early stop)"
    if t.get("resumed_from"):
        text += f" (resumed at {t['resumed_from']})"
    return text


def render_comparison(results: Sequence[RunResult]) -> str:
    """Several runs side by side: for every task/prompt/method cell, each run's metrics."""
    lines = ["# promptkit comparison", ""]
    header_runs = [f"`{r.run_id}` ({r.model.get('name', '?')})" for r in results]
    lines += [f"- run {i + 1}: {h}" for i, h in enumerate(header_runs)]
    lines.append("")
    keys: list[tuple[str, str, str]] = []
    for r in results:
        for c in r.cells:
            if c.key not in keys:
                keys.append(c.key)
    by_run = [{c.key: c for c in r.cells} for r in results]
    for task in dict.fromkeys(k[0] for k in keys):
        lines += [f"## {task}", ""]
        task_cells = [c for r in by_run for k, c in r.items() if k[0] == task]
        metrics = _metric_names(task_cells)
        header = ["method", "prompt", "metric", *(f"run {i + 1}" for i in range(len(results)))]
        rows = []
        for key in (k for k in keys if k[0] == task):
            for m in metrics:
                rows.append([key[2], key[1], m, *(fmt_score(r[key], m) if key in r else "–" for r in by_run)])
        lines += _table(header, rows)
        lines.append("")
    return "\n".join(lines)
