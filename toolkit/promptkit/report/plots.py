"""The report's figures, drawn with matplotlib and returned as inline SVG.

Each figure is one function from plain values to an ``<svg>`` string, so the HTML page only
places them. Choices that make them readable in a report rather than a notebook:

- one colour per method for the whole page (:func:`method_colors`), so a method is the same
  colour in the summary, the cost plot and the learning curves;
- text stays text (``svg.fonttype: none``): labels are selectable, searchable and measured by
  the browser test, and the file is a few KB instead of glyph outlines;
- ``bbox_inches="tight"`` sizes each figure around everything drawn, value labels and legends
  outside the axes included, so nothing is clipped; the root element gets a ``viewBox`` and
  no fixed size, so CSS scales it to the column (1280 px screens and phones alike);
- ids inside each SVG (clip paths) get a per-figure prefix: several inline SVGs share one
  document, and a clash would clip one figure with another's path.

matplotlib is imported inside the functions (``import promptkit`` stays light) with the
non-interactive Agg backend.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from promptkit.metrics.lmeval import is_lm_eval_column, places

# Tableau 10, in method order; methods past ten reuse the palette with another marker.
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")
MARKERS = ("o", "s", "D", "^")
LINESTYLES = ("-", "--", ":", "-.")
FONT = "DejaVu Sans"  # matplotlib's own font: the browser gets it first in the font list, then sans-serif


def method_colors(methods: Sequence[str]) -> dict[str, str]:
    """One colour per method label, in the run's method order."""
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(dict.fromkeys(methods))}


def _marker(methods: Sequence[str], method: str) -> str:
    order = list(dict.fromkeys(methods))
    return MARKERS[(order.index(method) // len(PALETTE)) % len(MARKERS)] if method in order else "o"


@dataclass(frozen=True)
class Estimate:
    """One method's value with its interval (a row of the summary plot)."""

    label: str
    method: str
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class CostPoint:
    """One method's quality and cost (the cost-vs-quality plot)."""

    label: str
    method: str
    value: float
    params: float  # trainable parameters (0: prompting)
    train_s: float


@dataclass(frozen=True)
class Curve:
    """A learning curve of one method and seed."""

    method: str
    seed: int | None
    points: Sequence[tuple[float, float]]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _style() -> dict[str, Any]:
    return {"svg.fonttype": "none", "svg.hashsalt": "promptkit", "font.family": "sans-serif",
            "font.sans-serif": [FONT, "Arial", "Helvetica"], "font.size": 10, "axes.spines.top": False,
            "axes.spines.right": False, "axes.titlesize": 11, "axes.titleweight": "bold", "axes.titlelocation": "left",
            # labels are method and metric names: "$...$" in one is text, not mathtext to parse
            # (a name like "a$\\frac{$b" made the whole report fail)
            "text.parse_math": False}


_counter = {"n": 0}


def to_svg(fig: Any, alt: str) -> str:
    """The figure as an inline ``<svg>``: scalable, with unique ids and an accessible label."""
    plt = _pyplot()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", pad_inches=0.08, metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    _counter["n"] += 1
    prefix = f"f{_counter['n']}-"
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(r'url\(#([^)]+)\)', lambda m: f"url(#{prefix}{m.group(1)})", text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', text)
    # drop the fixed size (the viewBox stays): CSS scales the figure to its column
    head, rest = text.split(">", 1)
    head = re.sub(r'\s(width|height)="[^"]*"', "", head)
    box = re.search(r'viewBox="[\d.]+ [\d.]+ ([\d.]+) [\d.]+"', head)
    # at most its natural size (points -> CSS pixels), so a one-panel figure is not blown up, and
    # at least 55% of it, so text stays readable on a phone (the figure scrolls sideways instead)
    width = float(box.group(1)) * 4 / 3 if box else 0.0
    limit = f' style="max-width:{width:.0f}px;min-width:{0.55 * width:.0f}px"' if box else ""
    alt_attr = alt.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return f'{head} class="plot"{limit} role="img" aria-label="{alt_attr}">{rest}'.strip()


def summary_plot(rows: Sequence[Estimate], metric: str, colors: Mapping[str, str], best: str | None = None,
                 filled: Sequence[str] = ()) -> str:
    """Each method's headline value with its 95% interval; the best and the methods shown
    equivalent to it filled, the others hollow."""
    rows = [r for r in rows if math.isfinite(r.value)]
    if not rows:
        return ""
    # no interval (bootstrap_samples: 0): a point without whiskers
    rows = [Estimate(r.label, r.method, r.value, r.low if math.isfinite(r.low) else r.value,
                     r.high if math.isfinite(r.high) else r.value) for r in rows]
    plt = _pyplot()
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(6.4, 0.9 + 0.42 * len(rows)))
        methods = [r.method for r in rows]
        for y, r in enumerate(rows):
            color = colors.get(r.method, PALETTE[0])
            in_group = r.method in filled or r.method == best
            ax.errorbar([r.value], [y], xerr=[[r.value - r.low], [r.high - r.value]], fmt=_marker(methods, r.method),
                        color=color, ecolor=color, elinewidth=2, capsize=4, markersize=8,
                        markerfacecolor=color if in_group else "white", markeredgewidth=1.8)
            note = "  best" if r.method == best else ("  equivalent to best" if in_group and best is not None else "")
            ax.annotate(f"{r.value:.{places(metric)}f}{note}", (r.high, y), xytext=(6, 0), textcoords="offset points",
                        va="center", fontsize=9, color="#222")
        ax.set_yticks(range(len(rows)), [r.label for r in rows])
        ax.invert_yaxis()
        top = max(r.high for r in rows)
        if is_lm_eval_column(metric):  # lm-eval's own scale (0-1 accuracies, perplexities...): the data's range
            ax.set_xlabel(f"{metric} (lm-eval's scale, 95% CI)")
        else:
            ax.set_xlim(0, min(100.0, max(10.0, top * 1.1)) if top <= 100 else top * 1.1)
            ax.set_xlabel(f"{metric} (0-100, 95% CI)")
        ax.grid(axis="x", color="#e5e5e5")
        ax.set_axisbelow(True)
        ax.set_title(f"{metric}: filled = the best and the methods equivalent to it" if best else metric, fontsize=10)
        return to_svg(fig, f"{metric} of every method with 95% confidence intervals")


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats: cheaper or as cheap, and better (cost, value)."""
    front = []
    for i, (cost, value) in enumerate(points):
        dominated = any((c <= cost and v > value) or (c < cost and v >= value) for j, (c, v) in enumerate(points) if j != i)
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: points[i][0])


def cost_plot(points: Sequence[CostPoint], metric: str, colors: Mapping[str, str]) -> str:
    """Quality against trainable parameters (log scale) and against training time, with the
    Pareto front (the methods nothing cheaper beats) drawn as a step line."""
    points = [p for p in points if math.isfinite(p.value)]
    if not points:
        return ""
    plt = _pyplot()
    with plt.rc_context(_style()):
        fig, axes = plt.subplots(1, 2, figsize=(9.6, 3.6))
        methods = [p.method for p in points]
        nonzero = [p.params for p in points if p.params > 0]
        zero_at = 10 ** math.floor(math.log10(min(nonzero)) - 1) if nonzero else 1.0
        for ax, cost_of, label, log in ((axes[0], lambda p: p.params if p.params > 0 else zero_at, "trainable parameters (log scale)", True),
                                        (axes[1], lambda p: p.train_s, "training time (s)", False)):
            xy = [(float(cost_of(p)), p.value) for p in points]
            front = pareto_front(xy)
            fx, fy = [xy[i][0] for i in front], [xy[i][1] for i in front]
            ax.step(fx, fy, where="post", color="#999", linewidth=1.2, zorder=1, label="Pareto front")
            span = max(max(v for _, v in xy) - min(v for _, v in xy), 1.0)
            for i, (p, (x, y)) in enumerate(zip(points, xy, strict=True)):
                color = colors.get(p.method, PALETTE[0])
                ax.scatter([x], [y], s=60, marker=_marker(methods, p.method), color=color if i in front else "white",
                           edgecolors=color, linewidths=1.8, zorder=2)
                # labels of points at (nearly) one place are stacked instead of printed over each other
                near = sum(1 for x2, y2 in xy[:i] if x2 == x and abs(y2 - y) < 0.06 * span)
                ax.annotate(p.label, (x, y), xytext=(6, 5 + 11 * near), textcoords="offset points", fontsize=8.5, color="#222")
            if log:
                ax.set_xscale("log")
                if not nonzero:
                    ax.set_xlim(zero_at / 10, zero_at * 10)
                ticks = [t for t in ax.get_xticks() if t > zero_at]
                ax.set_xticks([zero_at, *ticks], ["0 (prompting)", *(_params_label(t) for t in ticks)])
                ax.set_xlim(zero_at / 3, max(x for x, _ in xy) * 5 if nonzero else zero_at * 10)
            else:
                ax.set_xlim(left=-0.05 * max(max(x for x, _ in xy), 1.0), right=max(max(x for x, _ in xy), 1.0) * 1.25)
            ax.set_xlabel(label)
            ax.set_ylabel(f"{metric} (0-100)")
            ax.grid(color="#eee")
            ax.set_axisbelow(True)
        top = max(p.value for p in points)
        for ax in axes:
            ax.set_ylim(0, min(100.0, max(10.0, top * 1.2)))
        axes[0].set_title("quality vs trainable parameters")
        axes[1].set_title("quality vs training time")
        axes[1].legend(loc="lower right", fontsize=8, frameon=False)
        fig.tight_layout()
        return to_svg(fig, f"{metric} against trainable parameters and training time, Pareto front marked")


def _params_label(n: float) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:g}{unit}"
    return f"{n:g}"


def curves_plot(loss: Sequence[Curve], dev: Sequence[Curve], dev_name: str, colors: Mapping[str, str]) -> str:
    """Training loss and the dev metric against the step, one colour per method and one line
    style per seed."""
    loss = [c for c in loss if c.points]
    dev = [c for c in dev if c.points]
    if not loss and not dev:
        return ""
    plt = _pyplot()
    with plt.rc_context(_style()):
        panels = [(loss, "training loss (per target token)", "train loss"), (dev, dev_name, dev_name)]
        panels = [p for p in panels if p[0]]
        fig, axes = plt.subplots(1, len(panels), figsize=(4.9 * len(panels), 3.4), squeeze=False)
        seeds = sorted({c.seed for c, in ((c,) for p in panels for c in p[0])}, key=lambda s: (s is None, s or 0))
        for ax, (curves, ylabel, title) in zip(axes[0], panels, strict=True):
            for c in curves:
                xs, ys = zip(*c.points, strict=True)
                style = LINESTYLES[seeds.index(c.seed) % len(LINESTYLES)]
                several = len({x.seed for x in curves if x.method == c.method}) > 1
                ax.plot(xs, ys, linestyle=style, color=colors.get(c.method, PALETTE[0]), linewidth=1.6,
                        marker="o" if len(xs) <= 12 else None, markersize=3,
                        label=f"{c.method} (seed {c.seed})" if several else c.method)
            ax.set_xlabel("optimizer step")
            ax.set_ylabel(ylabel)
            ax.set_title(title)
            ax.grid(color="#eee")
            ax.set_axisbelow(True)
        axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
        fig.tight_layout()
        return to_svg(fig, "learning curves: training loss and dev metric by step")
