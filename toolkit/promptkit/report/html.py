"""Self-contained HTML report: the Markdown tables plus SVG plots (metric bars with confidence
intervals, training loss curves). No plotting library: a few SVG primitives are enough."""

from __future__ import annotations

import html
from collections.abc import Sequence

from promptkit.report.results import CellResult, RunResult, TaskInfo
from promptkit.report.tables import (
    TableData,
    context_lines,
    cost_table,
    examples_phrase,
    metric_names,
    pairs_table,
    results_table,
    seeds_table,
    tuning_table,
    verdict_lines,
)

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f")
STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
th{background:#f4f4f4}.verdict{background:#eef6ee;border-left:4px solid #59a14f;padding:.6rem 1rem}.plots{display:flex;flex-wrap:wrap;gap:1.5rem}.err{color:#b00}
figure{margin:0}figcaption{font-size:.85rem;color:#555}
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def bar_chart(title: str, cells: Sequence[CellResult], metric: str, width: int = 360, height: int = 220) -> str:
    """Horizontal bars, one per method/prompt cell, with the 95% CI as a whisker."""
    rows = [c for c in cells if metric in c.metrics]
    if not rows:
        return ""
    top = max(max(c.metrics[metric].ci_high for c in rows), 1e-9)
    label_w, pad, bar_h = 150, 10, max(14, min(28, (height - 40) // max(len(rows), 1) - 6))
    height = 30 + len(rows) * (bar_h + 6)
    scale = (width - label_w - 2 * pad - 34) / top  # room right of the whisker for the value
    parts = [f'<svg width="{width}" height="{height}" role="img" aria-label="{_e(title)}">',
             f'<text x="{pad}" y="16" font-size="13" font-weight="bold">{_e(title)}</text>']
    for i, c in enumerate(rows):
        s = c.metrics[metric]
        y = 26 + i * (bar_h + 6)
        color = PALETTE[i % len(PALETTE)]
        x0 = label_w
        several = sum(1 for x in rows if x.method == c.method and x.prompt == c.prompt) > 1
        label = f"{c.method} s{c.seed}" if several else c.method
        parts.append(f'<text x="{pad}" y="{y + bar_h * 0.7:.1f}" font-size="11">{_e(label)}</text>')
        parts.append(f'<rect x="{x0}" y="{y}" width="{s.value * scale:.1f}" height="{bar_h}" fill="{color}"/>')
        lo, hi = x0 + s.ci_low * scale, x0 + s.ci_high * scale
        mid = y + bar_h / 2
        parts.append(f'<line x1="{lo:.1f}" y1="{mid}" x2="{hi:.1f}" y2="{mid}" stroke="#222"/>')
        for x in (lo, hi):
            parts.append(f'<line x1="{x:.1f}" y1="{y + 3}" x2="{x:.1f}" y2="{y + bar_h - 3}" stroke="#222"/>')
        parts.append(f'<text x="{hi + 4:.1f}" y="{y + bar_h * 0.7:.1f}" font-size="11">{s.value:.1f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def line_chart(title: str, series: Sequence[tuple[str, Sequence[tuple[float, float]]]], width: int = 420, height: int = 220) -> str:
    """Lines of (x, y) points with a legend; used for training loss against step."""
    series = [(name, pts) for name, pts in series if pts]
    if not series:
        return ""
    xs = [x for _, pts in series for x, _ in pts]
    ys = [y for _, pts in series for _, y in pts]
    x_lo, x_hi = min(xs), max(max(xs), min(xs) + 1)
    y_lo, y_hi = min(0.0, min(ys)), max(max(ys), 1e-9)
    left, right, top, bottom = 40, 10, 24, 28
    sx = (width - left - right) / (x_hi - x_lo)
    sy = (height - top - bottom) / (y_hi - y_lo)
    parts = [f'<svg width="{width}" height="{height}" role="img" aria-label="{_e(title)}">',
             f'<text x="{left}" y="16" font-size="13" font-weight="bold">{_e(title)}</text>',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#888"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#888"/>',
             f'<text x="4" y="{top + 8}" font-size="10">{y_hi:.2f}</text>',
             f'<text x="4" y="{height - bottom}" font-size="10">{y_lo:.2f}</text>',
             f'<text x="{width - right - 30}" y="{height - 8}" font-size="10">step {x_hi:.0f}</text>']
    for i, (name, pts) in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        path = " ".join(f"{left + (x - x_lo) * sx:.1f},{height - bottom - (y - y_lo) * sy:.1f}" for x, y in pts)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{path}"/>')
        parts.append(f'<text x="{width - right - 130}" y="{top + 12 + 13 * i}" font-size="11" fill="{color}">{_e(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _data(table: TableData | None, caption: str) -> str:
    return "" if table is None else f"<p>{_e(caption)}</p>" + _table(table.header, table.rows)


def render_html(result: RunResult) -> str:
    """The report of one run as a standalone HTML page."""
    m = result.model
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>promptkit {_e(result.run_id)}</title>",
           f"<style>{STYLE}</style></head><body>",
           f"<h1>promptkit run <code>{_e(result.run_id)}</code></h1>",
           f"<p>model <code>{_e(m.get('name', '?'))}</code> ({_e(m.get('architecture', '?'))}, "
           f"{m.get('parameters', 0) / 1e6:.1f}M parameters, {_e(m.get('dtype', '?'))} on {_e(m.get('device', '?'))}); "
           f"chat template {'on' if result.chat_template else 'off'}; seed {_e(result.config.get('seed'))}; "
           f"total {result.timings.get('total_s', 0):.0f} s. Values 0-100 with 95% bootstrap confidence intervals (mean ± sd and a seeds + test-sample interval for methods trained with several seeds).</p>"]
    for task in dict.fromkeys(c.task for c in result.cells):
        cells = [c for c in result.cells if c.task == task]
        info = result.tasks.get(task, TaskInfo())
        out.append(f"<h2>{_e(task)}</h2><p>split <code>{_e(info.eval_split or '?')}</code>, "
                   f"{_e(examples_phrase(info))}, source {_e(info.source or '?')}</p>")
        metrics = metric_names(cells)
        out += [f"<p class='verdict'>{_e(text)}</p>" for text in verdict_lines(result, task)]
        out += [f"<p class='err'>overlap allowed by --allow-overlap: {_e(o)}</p>" for o in info.overlaps]
        out += [f"<p class='err'>{_e(text)}</p>" for text in context_lines(result, task)]
        table = results_table(result, task)
        out.append(_table(table.header, table.rows))
        out.append(_data(tuning_table(result, task), "Tuning candidates, scored on the dev split (never test)"))
        out.append(_data(seeds_table(result, task), "Scores per training seed"))
        out.append(_data(pairs_table(result, task), "Every pair of methods on the same examples; p-values Holm-adjusted "
                                                    "across all pairs and metrics of the task and prompt"))
        out.append(_data(cost_table(result, task), "Cost of the trainable methods"))
        plots = [bar_chart(k, [c for c in cells if not c.error], k) for k in metrics]
        trained = [c for c in cells if c.training and c.training.losses]

        def name(c: CellResult, trained: Sequence[CellResult] = trained) -> str:  # seed only where there are several
            several = sum(1 for x in trained if x.method == c.method) > 1
            return f"{c.method} s{c.seed}" if several else c.method

        loss = line_chart("training loss", [(name(c), list(enumerate(c.training.losses, 1)) if c.training else []) for c in trained])
        plots.append(loss)
        dev = [(name(c), [(p["step"], v) for p in (c.training.curve if c.training else []) for k, v in p.items() if k.startswith("dev_") and k != "dev_loss"])
               for c in trained]
        plots.append(line_chart("dev metric", dev))
        out.append("<div class='plots'>" + "".join(f"<figure>{p}</figure>" for p in plots if p) + "</div>")
    out.append("</body></html>")
    return "\n".join(out)
