"""Markdown reports: one run (tables per task) and several runs side by side.

Task, prompt, method and model names, data values and error messages come from files a user (or
a shared results.json) supplies: each reaches the page through :func:`md_text` or, inside
backticks, :func:`md_code`, so that it renders as the text it is, never as a heading's end, a
link, a table column or raw HTML.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from promptkit.config.run import RunSettings
from promptkit.records.results import RunResult, TaskInfo
from promptkit.report.tables import (
    GROUPS_CAPTION,
    TableData,
    context_lines,
    cost_table,
    examples_phrase,
    fmt_score,
    forgetting_note,
    group_table,
    lm_eval_scale_line,
    metric_names,
    pairs_table,
    results_table,
    seeds_table,
    tuning_table,
    verdict_header,
    verdict_lines,
    verdict_table,
)

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# What CommonMark and GFM tables read as markup in running text, never at a line's start (every
# interpolation follows text of ours): backslash escapes, code spans, emphasis and strikethrough,
# a table cell's end, a heading's closing '#'s; '_' only where it can open or close emphasis (not
# between letters: exact_match stays as written); ']' where a link's destination or label
# follows; '<' where a tag, comment or autolink could start ("p < 0.001" stays); '&' entities.
_MARKUP = re.compile(r"[\\`*~|#]|(?<![^\W_])_|_(?![^\W_])|\](?=[(\[])|<(?!\s)|&")
_ENTITIES = {"<": "&lt;", "&": "&amp;"}


def md_text(value: object) -> str:
    """``value`` as Markdown that renders as its own text, on one line (a newline would end a table
    row, a list item or a heading): markup characters escaped, ``<`` and ``&`` as entities."""
    text = _LINE_BREAK.sub(" ", str(value))
    return _MARKUP.sub(lambda m: _ENTITIES.get(m.group(), "\\" + m.group()), text)


def md_code(value: object) -> str:
    """``value`` as a code span: backslashes do not escape there (CommonMark), so the fence is one
    backtick longer than the longest run inside, padded with a space where the text starts or ends
    with a backtick (one space each side is stripped again)."""
    text = _LINE_BREAK.sub(" ", str(value)) or " "
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text[0] == "`" or text[-1] == "`" or (text[0] == text[-1] == " " and text.strip()) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(md_text(h) for h in header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(md_text(v) for v in r) + " |" for r in rows]
    return out


def _data(table: TableData | None, intro: str) -> list[str]:
    if table is None:
        return []
    return [md_text(intro), "", *_table(table.header, table.rows), ""]


def _limit(limit: object) -> str:
    """The run's --limit; without one, each task's own limit applies (each task line says what
    it evaluated)."""
    return "each task's own" if limit is None else str(limit)


def render_markdown(result: RunResult) -> str:
    """The report of one run: setup, then per task the verdict and its evidence."""
    model = result.model
    settings = RunSettings.of(result.config)
    lines = [
        f"# promptkit run {md_code(result.run_id)}",
        "",
        f"- created: {md_text(result.created)}",
        f"- model: {md_code(model.get('name', '?'))} ({md_text(model.get('architecture', '?'))}, "
        f"{model.get('parameters', 0) / 1e6:.1f}M parameters, {md_text(model.get('dtype', '?'))} on "
        f"{md_text(model.get('device', '?'))})",
        f"- chat template: {'on' if result.chat_template else 'off'}",
        f"- seed: {settings.seed}, training seeds: {list(settings.training_seeds)}, "
        f"batch size: {settings.batch_size}, limit: {_limit(settings.limit)}",
        f"- total time: {result.timings.get('total_s', 0):.1f} s (model load {result.timings.get('model_load_s', 0):.1f} s)",
        *(f"- command: {md_code(c)}" for c in result.commands),
        *(f"- merged from: {md_code(m['run_id'])} ({md_text(m['model'])}, {md_text(m['dir'])})" for m in settings.merged_from),
        "",
        "Values are on a 0-100 scale with 95% confidence intervals in brackets (test-sample variance): Wilson "
        "with the design effect for right/wrong metrics, cluster-robust t for other means of per-example "
        "scores, bootstrap for corpus metrics. A method trained with several seeds shows mean ± sd across "
        "seeds and a two-level (seeds + test sample) bootstrap interval.",
        "",
    ]
    lines += _data(group_table(result.group_scores), GROUPS_CAPTION)
    for task in dict.fromkeys(c.task for c in result.cells):
        info = result.tasks.get(task, TaskInfo())
        lines += [f"## {md_text(task)}", ""]
        lines += [f"version {md_text(info.version or '?')}, split {md_code(info.eval_split or '?')}, "
                  f"{md_text(examples_phrase(info))}, source: {md_text(info.source or '?')}", ""]
        for text in verdict_lines(result, task):
            lines += [f"**{md_text(text)}**", ""]
        for v in (v for v in result.verdicts if v.task == task):
            lines += [md_text(verdict_header(v)), ""]
        lines += _data(verdict_table(result, task), "Each method against the best (loss = best minus method, "
                       "simultaneous intervals of the family; sizes: test-set size at which the observed loss would be "
                       "detected, or equivalence shown, with 80% power at the observed spread):")
        for overlap in info.overlaps:
            lines += [f"- overlap allowed by --allow-overlap: {md_text(overlap)}"]
        for hook in info.task_code:
            lines += [f"- task code ran (--trust-task-code): {md_text(hook)}"]
        scale = lm_eval_scale_line(info)
        lines += [f"- {md_text(scale)}"] if scale else []
        if info.overlaps or info.task_code or scale:
            lines.append("")
        for text in context_lines(result, task):
            lines += [f"- {md_text(text)}"]
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
        note = forgetting_note(result, task)
        if note:
            lines += [md_text(note), ""]
        for c in (c for c in result.cells if c.task == task and c.cost and not c.error):
            curve = c.training.curve if c.training else []
            if curve:
                keys = [k for k in curve[0] if k != "step"]
                seed = "" if c.seed is None else f" (seed {c.seed})"
                lines += [md_text(f"Learning curve, {c.method}{seed} / {c.prompt}:"), ""]
                lines += _table(["step", *keys], [[str(int(p["step"])), *(f"{p.get(k, float('nan')):.3f}" for k in keys)] for p in curve])
                lines.append("")
    return "\n".join(lines)


def render_comparison(results: Sequence[RunResult]) -> str:
    """Several runs side by side: for every task/prompt/method cell, each run's metrics."""
    lines = ["# promptkit comparison", ""]
    header_runs = [f"{md_code(r.run_id)} ({md_text(r.model.get('name', '?'))})" for r in results]
    lines += [f"- run {i + 1}: {h}" for i, h in enumerate(header_runs)]
    lines.append("")
    keys: list[tuple[str, str, str, int | None]] = []
    for r in results:
        for c in r.cells:
            if c.key not in keys:
                keys.append(c.key)
    by_run = [{c.key: c for c in r.cells} for r in results]
    for task in dict.fromkeys(k[0] for k in keys):
        lines += [f"## {md_text(task)}", ""]
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
