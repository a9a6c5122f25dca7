"""The report's tables as plain rows of strings, built once for Markdown, HTML and the terminal.

Each renderer only lays out what these functions return, so the three views of a run cannot
disagree about a column, a number's rounding or how a p-value at the resampling floor is
written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from promptkit.analysis.verdict import size_text
from promptkit.metrics.lmeval import is_lm_eval_column, places
from promptkit.metrics.significance import format_p, format_p_bound
from promptkit.prompting.context import context_phrase
from promptkit.records.comparisons import GroupScore, PairComparison, SeedSummary, Verdict
from promptkit.records.results import CellResult, RunResult, TaskInfo


@dataclass(frozen=True)
class TableData:
    header: list[str]
    rows: list[list[str]]


# What the groups table says of its numbers (Markdown and HTML alike).
GROUPS_CAPTION = ("lm-eval groups: each group's aggregate over its tasks' rows (weighted by size: every row counts "
                  "the same; else every member), with its stratified 95% interval (tasks as strata); against the "
                  "group's best method, the difference on the same rows, its interval and p-value (paired, pooled "
                  "over the tasks; Holm over the methods compared). Analytic: no resampling seed changes them.")


def group_table(scores: Sequence[GroupScore]) -> TableData | None:
    """One row per group, metric and method (None without groups)."""
    if not scores:
        return None
    def known(*values: float | None) -> bool:
        return all(v is not None and np.isfinite(v) for v in values)

    rows = []
    for g in scores:
        interval = f" [{g.ci_low:.1f}, {g.ci_high:.1f}]" if known(g.ci_low, g.ci_high) else " (no interval: a task of one row)"
        against = "best" if g.best is None else (
            f"{g.difference:+.1f} [{g.diff_low:+.1f}, {g.diff_high:+.1f}] vs {g.best}, p = {format_p(g.p_holm or 0.0)}"
            if known(g.diff_low, g.diff_high, g.p_holm) else f"{(g.difference or 0.0):+.1f} vs {g.best} (no test)")
        rows.append([g.alias or g.group, f"{g.metric} ({g.lm_eval_metric}, {'by size' if g.weight_by_size else 'by task'})",
                     g.method, f"{g.value:.1f}{interval}", f"{g.n:,} rows, {g.tasks} tasks", against])
    return TableData(["group", "metric", "method", "aggregate", "pooled", "against the best"], rows)


def metric_names(cells: Sequence[CellResult]) -> list[str]:
    names: list[str] = []
    for c in cells:
        names += [m for m in c.metrics if m not in names]
    return names


def fmt_score(cell: CellResult, metric: str) -> str:
    score = cell.metrics.get(metric)
    if score is None:
        return "–"
    d = places(metric)
    return f"{score.value:.{d}f} [{score.ci_low:.{d}f}, {score.ci_high:.{d}f}]"


def lm_eval_scale_line(info: TaskInfo) -> str | None:
    """What a task's lm-eval: columns are (None: it has none)."""
    if not any(is_lm_eval_column(m) for m in info.metrics):
        return None
    lower = f"; lower is better on {', '.join(info.lower_is_better)}" if info.lower_is_better else ""
    return ("lm-eval: columns are computed and aggregated as lm-evaluation-harness computes them, on its scale "
            f"(accuracies in 0-1, three decimals){lower}.")


def fmt_p(p: float, resamples: int | None = None) -> str:
    return format_p(p, resamples)


def fmt_p_adjusted(pair: PairComparison) -> str:
    """The adjusted p (Bonferroni or Holm, by family); when the raw p sat at the resampling floor it
    is only an upper bound, written with the number of draws it came from."""
    return _fmt_adjusted(pair.p_adjusted, pair.p_value, pair.resamples)


def fmt_bytes(n: float | None) -> str:
    if not n:
        return "–"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def steps_text(c: CellResult) -> str:
    t = c.training
    if t is None:
        return "–"
    text = f"{t.steps}/{t.planned_steps}"
    if t.stopped_early:
        text += " (early stop)"
    if t.resumed_from:
        text += f" (resumed at {t.resumed_from})"
    return text


def method_groups(result: RunResult, task: str) -> list[tuple[str, str, list[CellResult]]]:
    """``(prompt, method, cells)`` in run order; a method trained with several seeds has one
    cell per seed."""
    groups: dict[tuple[str, str], list[CellResult]] = {}
    for c in result.cells:
        if c.task == task:
            groups.setdefault((c.prompt, c.method), []).append(c)
    return [(p, m, cs) for (p, m), cs in groups.items()]


def _summary(result: RunResult, task: str, prompt: str, method: str, metric: str) -> SeedSummary | None:
    return next((s for s in result.seed_summaries
                 if (s.task, s.prompt, s.method, s.metric) == (task, prompt, method, metric)), None)


def _score_text(result: RunResult, task: str, prompt: str, method: str, cells: Sequence[CellResult], metric: str) -> str:
    ok = [c for c in cells if c.error is None and metric in c.metrics]
    if not ok:
        return "–"
    if len(ok) == 1:
        return fmt_score(ok[0], metric)
    s = _summary(result, task, prompt, method, metric)
    d = places(metric)
    if s is None:
        values = [c.metrics[metric].value for c in ok]
        return f"{np.mean(values):.{d}f} ± {np.std(values, ddof=1):.{d}f}"
    return f"{s.mean:.{d}f} ± {s.sd:.{d}f} [{s.ci_seed_sample[0]:.{d}f}, {s.ci_seed_sample[1]:.{d}f}]"


def results_table(result: RunResult, task: str) -> TableData:
    """One row per prompt x method (seeds pooled: mean ± sd with the seed+sample interval)."""
    cells = [c for c in result.cells if c.task == task]
    metrics = metric_names(cells)
    header = ["method", "prompt", "shots", "seeds", *metrics, "n", "trainable", "train time", "eval ex/s"]
    rows = []
    for prompt, method, group in method_groups(result, task):
        ok = [c for c in group if c.error is None]
        errors = [c for c in group if c.error is not None]
        seeds = ", ".join(str(c.seed) for c in group) if group[0].seed is not None else "–"
        first = (ok or group)[0]
        cost = first.cost
        row = [method, prompt, str(first.shots), seeds,
               *(_score_text(result, task, prompt, method, ok, m) for m in metrics), str(first.n),
               f"{cost.trainable_pct:.3f}%" if cost else "–",
               f"{np.mean([c.train_s for c in ok]):.0f} s" if cost and ok else "–",
               f"{np.mean([c.throughput.get('examples_per_s', 0) for c in ok]):.2f}" if ok else "–"]
        if errors:
            row[-1] = "; ".join(f"error{'' if c.seed is None else f' (seed {c.seed})'}: {c.error}" for c in errors)
        rows.append(row)
    return TableData(header, rows)


def seeds_table(result: RunResult, task: str) -> TableData | None:
    """Per-seed scores of the methods trained with several seeds, with both intervals."""
    summaries = [s for s in result.seed_summaries if s.task == task]
    if not summaries:
        return None
    header = ["method", "prompt", "metric", "per seed", "mean ± sd", "95% CI, test sample only", "95% CI, seeds + test sample"]
    rows = [[s.method, s.prompt, s.metric, ", ".join(f"{seed}: {v:.1f}" for seed, v in zip(s.seeds, s.values, strict=True)),
             f"{s.mean:.1f} ± {s.sd:.1f}", f"[{s.ci_sample[0]:.1f}, {s.ci_sample[1]:.1f}]",
             f"[{s.ci_seed_sample[0]:.1f}, {s.ci_seed_sample[1]:.1f}]"] for s in summaries]
    return TableData(header, rows)


def pairs_table(result: RunResult, task: str) -> TableData | None:
    """Every comparison: the confirmatory ones (each method against the best on the selection
    metric, Bonferroni over that family) first, then every pair on every metric (secondary, Holm)."""
    pairs = [p for p in result.comparisons if p.task == task]
    if not pairs:
        return None
    pairs = sorted(pairs, key=lambda p: p.family != "confirmatory")
    header = ["family", "comparison", "prompt", "metric", "Δ", "95% CI", "test", "p", "p (adjusted)", "significant",
              "MDD (80% power)"]
    alpha = next((v.alpha for v in result.verdicts if v.task == task), 0.05)
    rows = [[p.family + (" (Bonferroni)" if p.family == "confirmatory" else " (Holm)"), f"{p.a} vs {p.b}", p.prompt,
             p.metric, f"{p.delta:+.{places(p.metric)}f}",
             f"[{p.ci_low:.{places(p.metric)}f}, {p.ci_high:.{places(p.metric)}f}]" if p.ci_low == p.ci_low else "–",
             p.test, fmt_p(p.p_value, p.resamples), fmt_p_adjusted(p),
             ("yes" if p.p_adjusted < alpha else "no") if p.p_adjusted == p.p_adjusted else "–",
             f"{p.mdd:.{places(p.metric)}f}" if p.mdd == p.mdd else "–"] for p in pairs]
    return TableData(header, rows)


def verdict_table(result: RunResult, task: str) -> TableData | None:
    """Each method's outcome against the best, per prompt: the declared decision's evidence."""
    verdicts = [v for v in result.verdicts if v.task == task]
    if not verdicts:
        return None
    header = ["prompt", "method", "value", "outcome", "loss vs best", "adjusted CI", "test", "p (adjusted)", "MDD",
              "to separate", "to show equivalence"]
    rows = []
    for v in verdicts:
        for o in v.outcomes:
            tested = o.ci_low == o.ci_low
            rows.append([v.prompt, o.method, f"{o.value:.1f}", o.outcome + (f" ({o.note})" if o.outcome == "excluded" else ""),
                         f"{o.loss:+.1f}" if o.outcome != "best" else "–",
                         f"[{o.ci_low:.1f}, {o.ci_high:.1f}]" if tested else "–", o.test or "–",
                         _fmt_adjusted(o.p_adjusted, o.p_value, o.resamples) if tested else "–",
                         f"{o.mdd:.1f}" if o.mdd == o.mdd else "–",
                         size_text(o.rows_to_separate, o.groups_to_separate, o.why_not_separate)
                         if o.outcome == "inconclusive" and o.tested else "",
                         size_text(o.rows_for_equivalence, o.groups_for_equivalence, o.why_not_equivalent)
                         if o.outcome == "inconclusive" and o.tested else ""])
    return TableData(header, rows)


def _fmt_adjusted(p_adjusted: float, p_value: float, resamples: int | None) -> str:
    if resamples and p_value <= 1.0 / (resamples + 1) * (1 + 1e-9):
        return format_p_bound(p_adjusted) + f" (B = {resamples:,})"
    return fmt_p(p_adjusted)


def verdict_header(v: Verdict) -> str:
    """The decision rule of a verdict in one sentence: metric, family, adjustment, margin."""
    source = {"default": "the default; set verdict.margin in the task or --set verdict.margin=M",
              "task": "set by the task", "run": "set for the run"}.get(v.margin_source, v.margin_source)
    return (f"Declared decision for {v.prompt}: on {v.metric}, {v.family}, Bonferroni-adjusted at family-wise alpha "
            f"{v.alpha:g}; equivalence margin ±{v.margin:g} points ({source}). Outcomes: worse (the adjusted test rejects "
            "equality), equivalent (the adjusted interval of the loss lies within the margin), inconclusive "
            "(neither); only the best and its equivalents may be recommended on cost."
            + (f" Adapted methods forgetting more than {v.max_forgetting:g} bits/byte of general text (verdict.max_forgetting) "
               "are excluded before the best is chosen." if v.max_forgetting is not None else ""))


def cost_table(result: RunResult, task: str) -> TableData | None:
    """What each method costs: trainable parameters, adapter size, training time and speed, peak
    memory, evaluation throughput; prompting methods show their prompt length instead."""
    groups = [(p, m, [c for c in cs if c.error is None]) for p, m, cs in method_groups(result, task)]
    groups = [g for g in groups if g[2]]
    if not any(c.cost for _, _, cs in groups for c in cs):
        return None
    header = ["method", "prompt", "trainable params", "% of model", "adapter size", "train time", "train tokens/s",
              "peak memory", "steps", "eval ex/s", "prompt tokens/ex"]
    probed = any(c.forgetting for _, _, cs in groups for c in cs)
    if probed:
        header.append("forgetting (bits/byte)")
    rows = []
    for prompt, method, cs in groups:
        costs = [x.cost for x in cs if x.cost is not None]
        evals = [f"{np.mean([x.throughput.get('examples_per_s', 0) for x in cs]):.2f}",
                 f"{np.mean([x.throughput.get('prompt_tokens', 0) / max(x.n, 1) for x in cs]):.0f}"]
        if probed:
            evals.append(forgetting_text(cs) if costs else "0")  # a prompting method changes no weight
        if not costs:
            rows.append([method, prompt, "0", "0%", "–", "–", "–", "–", "–", *evals])
            continue
        c, kind = costs[0], cs[0].training.peak_memory_kind if cs[0].training else ""
        rows.append([method, prompt, f"{int(c.trainable_params):,}", f"{c.trainable_pct:.3f}%",
                     fmt_bytes(c.adapter_bytes),
                     f"{np.mean([x.train_s for x in costs]):.1f} s" + (f" (mean of {len(cs)})" if len(cs) > 1 else ""),
                     f"{np.mean([x.train_tokens_per_s for x in costs]):.0f}",
                     f"{max(x.peak_memory_mb for x in costs):.0f} MB ({kind})",
                     ", ".join(steps_text(x) for x in cs), *evals])
    return TableData(header, rows)


def forgetting_mean(cells: Sequence[CellResult]) -> float | None:
    """A method's forgetting in bits per byte, the mean over its seeds (None: not measured)."""
    values = [c.forgetting.delta_bits_per_byte for c in cells if c.forgetting is not None]
    return float(np.mean(values)) if values else None


def forgetting_text(cells: Sequence[CellResult]) -> str:
    """A method's forgetting figure (its seeds' cells): the change in bits per byte of the probe
    with its interval; several seeds: their mean and range."""
    figures = [c.forgetting for c in cells if c.forgetting is not None]
    if not figures:
        return "–"
    if len(figures) == 1:
        f = figures[0]
        return f"{f.delta_bits_per_byte:+.4f} [{f.ci_low:+.4f}, {f.ci_high:+.4f}]"
    values = [f.delta_bits_per_byte for f in figures]
    return f"{forgetting_mean(cells):+.4f} (mean of {len(values)} seeds; {min(values):+.4f} to {max(values):+.4f})"


def forgetting_note(result: RunResult, task: str) -> str | None:
    """What the forgetting column measures, when the task's cells have it."""
    figures = [c.forgetting for c in result.cells if c.task == task and c.forgetting is not None]
    if not figures:
        return None
    f = figures[0]
    times = sorted(x.seconds for x in figures if x.seconds)
    took = "" if not times else (f"; scoring it took {times[0]:.0f} s per adapted cell" if round(times[0]) == round(times[-1])
                                 else f"; scoring it took {times[0]:.0f} to {times[-1]:.0f} s per adapted cell")
    return (f"Forgetting: the adapted model's negative log-likelihood of general text minus the base model's, in bits "
            f"per byte (positive: worse than the base model), with a {f.confidence:.0%} paired interval over the "
            f"probe's documents. Probe: {f.probe}, {f.documents} documents, {f.bytes:,} bytes; the base model reads it at "
            f"{f.base_bits_per_byte:.4f} bits/byte{took}. Prompting methods change no weight: 0 by construction.")


def sensitivity_table(result: RunResult, task: str, metric: str) -> TableData | None:
    """Per method, across the task's prompt templates (only when it has several): mean, best,
    worst and spread of ``metric`` (seeds averaged within a template)."""
    by_method: dict[str, dict[str, list[float]]] = {}
    for prompt, method, cs in method_groups(result, task):
        values = [c.metrics[metric].value for c in cs if c.error is None and metric in c.metrics]
        if values:
            by_method.setdefault(method, {})[prompt] = values
    if not any(len(prompts) > 1 for prompts in by_method.values()):
        return None
    rows = []
    for method, prompts in by_method.items():
        means = {p: float(np.mean(v)) for p, v in prompts.items()}
        best, worst = max(means, key=lambda p: means[p]), min(means, key=lambda p: means[p])
        rows.append([method, str(len(means)), f"{np.mean(list(means.values())):.1f}", f"{means[best]:.1f} ({best})",
                     f"{means[worst]:.1f} ({worst})", f"{means[best] - means[worst]:.1f}"])
    return TableData(["method", "templates", f"mean {metric}", "best", "worst", "spread (best - worst)"], rows)


def significance_matrix(result: RunResult, task: str, prompt: str, metric: str) -> tuple[list[str], dict[tuple[str, str], PairComparison]]:
    """The methods of a task/prompt and their pairwise (secondary family) comparisons on ``metric``, keyed both
    ways: ``(a, b)`` holds the comparison with ``delta`` as ``a - b`` (sign flipped for the
    reversed key)."""
    from dataclasses import replace

    pairs = [p for p in result.comparisons
             if (p.task, p.prompt, p.metric) == (task, prompt, metric) and p.family == "secondary"]
    methods: list[str] = []
    for _, method, _ in method_groups(result, task):
        if method not in methods and any(method in (p.a, p.b) for p in pairs):
            methods.append(method)
    cells: dict[tuple[str, str], PairComparison] = {}
    for p in pairs:
        cells[(p.a, p.b)] = p
        cells[(p.b, p.a)] = replace(p, a=p.b, b=p.a, delta=-p.delta)
    return methods, cells


def tuning_table(result: RunResult, task: str) -> TableData | None:
    """Every tuning candidate of every tuned method, with its dev score; the chosen one marked."""
    rows = []
    for prompt, method, cells in method_groups(result, task):
        tuning = next((c.tuning for c in cells if c.tuning is not None), None)
        if tuning is None:
            continue
        for cand in tuning.candidates:
            settings = ", ".join(f"{k}={v}" for k, v in cand.params.items())
            score = "failed: " + (cand.error or "?") if cand.error else f"{cand.dev_score:.1f}"
            rows.append([method, prompt, settings, f"{tuning.metric} on {tuning.split} (n={tuning.n_dev})", score,
                         f"{cand.train_s:.0f} s", "chosen" if cand.params == tuning.chosen else ""])
    if not rows:
        return None
    return TableData(["method", "prompt", "candidate", "selection", "dev score", "time", ""], rows)


def verdict_lines(result: RunResult, task: str) -> list[str]:
    """The verdict of each prompt of the task, as plain sentences."""
    return [verdict_text(v) for v in result.verdicts if v.task == task]


def verdict_text(v: Verdict) -> str:
    return f"Recommendation for {v.prompt}: {v.reason}"


def examples_phrase(info: TaskInfo) -> str:
    """How many examples a task was evaluated on, how they were chosen and how its intervals
    resample them: "80 examples (...) from 16 groups of 'title'; intervals and paired tests
    resample whole groups"."""
    text = f"{info.n} examples" + (f" ({info.selection})" if info.selection else "")
    if info.groups:
        text += (f" from {info.groups} groups of {info.group_by!r}; intervals and paired tests are cluster-robust "
                 "(whole groups), since examples of one group are not independent")
    return text


def context_lines(result: RunResult, task: str) -> list[str]:
    """One sentence per cell whose prompts the context-length policy truncated or skipped
    (evaluation, training or dev prompts); none when every prompt fit."""
    lines = []
    for c in result.cells:
        ctx = c.context
        if c.task != task or ctx is None:
            continue
        parts = []
        for label, report in (("evaluated", ctx.evaluation), ("training", ctx.training), ("dev", ctx.dev)):
            done = context_phrase(report)
            if report is not None and done:
                parts.append(f"{label} prompts: {' and '.join(done)} (policy {report.policy}, "
                             f"at most {report.budget:,} tokens, longest {report.longest_prompt_tokens:,})")
        if parts:
            seed = "" if c.seed is None else f" seed {c.seed}"
            lines.append(f"Context length, {c.method}{seed} / {c.prompt}: " + "; ".join(parts) + ".")
    return lines
