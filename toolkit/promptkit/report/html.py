"""The self-contained HTML report: one page per run, opened offline, no CDN.

Per task, in the order a reader asks: which method to use and why (the verdict), how each
method scores with its interval (summary plot, every metric one click away), what quality
costs (score against trainable parameters and training time, Pareto front, the cost table),
which differences are real (the pairwise significance matrix), how training went (learning
curves), how much the template matters (prompt sensitivity, with several templates), and where
methods disagree (the example browser). Run metadata closes the page.

Every piece of dataset or user text is escaped (``html.escape`` in markup; the browser's data
travels as JSON in a ``<script type="application/json">`` and is put on the page with
``textContent`` only), so a ``<script>`` in a question renders as text. It is also isolated for
the Unicode bidi algorithm: each name, value or message sits in a ``<bdi>`` of its own (the page
title, which holds text only, between FSI and PDI), and the embeddings, overrides and isolates it
opens are closed where it ends (:func:`balance_bidi`), so a U+202E in a method name reverses that
name at most, never the sentence or table around it.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from promptkit.config.run import RunSettings
from promptkit.records.comparisons import Verdict
from promptkit.records.results import CellResult, RunResult, TaskInfo
from promptkit.report.examples import browser_data, script_json
from promptkit.report.plots import CostPoint, Curve, Estimate, cost_plot, curves_plot, method_colors, summary_plot
from promptkit.report.tables import (
    GROUPS_CAPTION,
    TableData,
    context_lines,
    cost_table,
    examples_phrase,
    fmt_p_adjusted,
    forgetting_mean,
    forgetting_note,
    group_table,
    lm_eval_scale_line,
    method_groups,
    metric_names,
    pairs_table,
    results_table,
    seeds_table,
    sensitivity_table,
    significance_matrix,
    tuning_table,
    verdict_header,
    verdict_text,
)

STYLE = """
:root{--fg:#1d1d1f;--muted:#5f6368;--line:#d9d9de;--ok:#2e7d32;--bad:#c62828}
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;padding:1.2rem 2rem;
max-width:1200px;color:var(--fg);line-height:1.45}h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.3rem;margin-top:2.2rem;
border-bottom:2px solid var(--line);padding-bottom:.2rem}h3{font-size:1.05rem;margin:1.4rem 0 .4rem}
nav{font-size:.9rem;color:var(--muted)}nav a{margin-right:.8rem}.meta{color:var(--muted);font-size:.92rem}
table{border-collapse:collapse;margin:.4rem 0 1rem;font-size:.88rem}td,th{border:1px solid var(--line);padding:.25rem .5rem;
text-align:left;vertical-align:top}th{background:#f5f5f7}.scroll{overflow-x:auto;max-width:100%}
.verdict{background:#eef6ee;border-left:4px solid var(--ok);padding:.6rem 1rem;margin:.6rem 0}
.warn{background:#fff4e5;border-left:4px solid #ef6c00;padding:.4rem 1rem;margin:.4rem 0}
.plot{width:100%;height:auto;display:block}figure{margin:.4rem 0;overflow-x:auto}figcaption{font-size:.85rem;color:var(--muted)}
details>summary{cursor:pointer;color:#1a5fb4;margin:.3rem 0}.swatch{display:inline-block;width:.8em;height:.8em;
border-radius:2px;margin-right:.35em;vertical-align:baseline}
.matrix td{text-align:center;min-width:6.5rem}.matrix .sig-better{background:#dcefdc}.matrix .sig-worse{background:#f8dcdc}
.matrix .tie{background:#f3f3f3}.matrix .self{background:#fff}.best{font-weight:600}
.browser .controls{display:flex;flex-wrap:wrap;gap:.6rem;align-items:center;margin:.4rem 0}.browser select{font-size:.9rem}
.ex{border:1px solid var(--line);border-radius:6px;padding:.5rem .8rem;margin:.5rem 0}.ex h4{margin:.1rem 0 .3rem;font-size:.9rem}
.ex pre{white-space:pre-wrap;word-break:break-word;background:#f7f7f9;padding:.4rem;font-size:.8rem;max-height:16rem;overflow:auto}
.right{color:var(--ok);font-weight:600}.wrong{color:var(--bad)}
@media (max-width:700px){body{padding:.6rem}table{font-size:.8rem}h2{font-size:1.15rem}}
"""

# The example browser: filters by a pair of method cells; every value is set with textContent,
# each piece of data in a <bdi> (or an element of its own).
SCRIPT = """
(function(){
function el(tag, cls, text){var e=document.createElement(tag);if(cls)e.className=cls;if(text!==undefined)e.textContent=text;return e;}
document.querySelectorAll('.browser').forEach(function(root){
  var data=JSON.parse(document.getElementById(root.dataset.source).textContent);
  var a=root.querySelector('.sel-a'), b=root.querySelector('.sel-b'), mode=root.querySelector('.mode');
  var list=root.querySelector('.list'), count=root.querySelector('.count');
  data.cells.forEach(function(c){a.appendChild(el('option','',c));b.appendChild(el('option','',c));});
  a.selectedIndex=data.cells.length-1; b.selectedIndex=0;
  mode.value=data.examples.some(function(ex){return ex.spread>0;})?'differ':'all';
  function score(ex,c){var s=ex.outputs[c].score;return typeof s==='number'?s:null;}
  function keep(ex){
    var sa=score(ex,a.value), sb=score(ex,b.value);
    if(mode.value==='a-over-b')return sa!==null&&sb!==null&&sa>sb;
    if(mode.value==='b-over-a')return sa!==null&&sb!==null&&sb>sa;
    if(mode.value==='differ')return ex.spread>0;
    return true;}
  function render(){
    list.textContent=''; var shown=0;
    data.examples.forEach(function(ex){
      if(!keep(ex))return; shown+=1; if(shown>100)return;
      var card=el('article','ex');
      var head=el('h4'); head.appendChild(el('bdi','',ex.id));
      if(ex.group){head.appendChild(document.createTextNode('  ('));head.appendChild(el('bdi','',ex.group));head.appendChild(document.createTextNode(')'));}
      head.appendChild(document.createTextNode('  spread '+ex.spread)); card.appendChild(head);
      var d=el('details'); d.appendChild(el('summary','','prompt')); d.appendChild(el('pre','',ex.prompt)); card.appendChild(d);
      var refs=el('div','','references: ');
      ex.references.forEach(function(r,i){if(i)refs.appendChild(document.createTextNode(' | '));refs.appendChild(el('bdi','',r));});
      card.appendChild(refs);
      var t=el('table'), h=el('tr'); ['method','prediction',data.metric].forEach(function(x){h.appendChild(el('th','',x));}); t.appendChild(h);
      data.cells.forEach(function(c){
        var o=ex.outputs[c], r=el('tr'); r.appendChild(el('td','',c));
        var p=el('td'); p.appendChild(el('bdi','',o.prediction));
        if(o.prompt){var pd=el('details');pd.appendChild(el('summary','','its prompt'));pd.appendChild(el('pre','',o.prompt));p.appendChild(pd);}
        r.appendChild(p);
        var s=score(ex,c); r.appendChild(el('td', s===null?'':(s>=50?'right':'wrong'), s===null?'–':s.toFixed(1)));
        t.appendChild(r);});
      card.appendChild(t); list.appendChild(card);});
    count.textContent=shown+' of the '+data.shown+' examples carried match'+(shown>100?' (first 100 shown)':'')+
      '; the page carries the '+data.shown+' of '+data.total+' test examples where the methods disagree most.';
  }
  [a,b,mode].forEach(function(x){x.addEventListener('change',render);}); render();
});
})();
"""


_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_EMBEDDINGS = "\u202a\u202b\u202d\u202e"  # LRE, RLE, LRO, RLO: closed by PDF
_ISOLATES = "\u2066\u2067\u2068"  # LRI, RLI, FSI: closed by PDI
PDF, FSI, PDI = "\u202c", "\u2068", "\u2069"


def balance_bidi(text: str) -> str:
    """``text`` with its explicit bidi formatting self-contained: a PDF or PDI that closes nothing
    opened in ``text`` is dropped (it would close the isolate ``text`` sits in), and every
    embedding, override or isolate left open is closed at the end."""
    if not _BIDI.search(text):
        return text
    out: list[str] = []
    opened: list[str] = []
    for ch in text:
        if ch == PDF:
            if not opened or opened[-1] not in _EMBEDDINGS:
                continue
            opened.pop()
        elif ch == PDI:
            if not any(c in _ISOLATES for c in opened):
                continue
            while opened.pop() not in _ISOLATES:  # a PDI also closes the embeddings opened inside its isolate
                pass
        elif ch in _EMBEDDINGS or ch in _ISOLATES:
            opened.append(ch)
        out.append(ch)
    return "".join(out) + "".join(PDF if c in _EMBEDDINGS else PDI for c in reversed(opened))


def _e(text: object) -> str:
    """Text escaped for HTML, its bidi formatting balanced."""
    return html.escape(balance_bidi(str(text)))


def _u(text: object) -> str:
    """User or dataset text (a name, a value, a message) escaped and isolated in a ``<bdi>``."""
    return f"<bdi>{_e(text)}</bdi>"


def _balanced(data: Any) -> Any:
    """The browser's JSON with every string balanced (:func:`balance_bidi`)."""
    if isinstance(data, str):
        return balance_bidi(data)
    if isinstance(data, dict):
        return {balance_bidi(str(k)): _balanced(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_balanced(v) for v in data]
    return data


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    head = "".join(f"<th>{_u(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_u(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f"<div class='scroll'><table class='{cls}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def _data(table: TableData | None, caption: str, name: str = "") -> str:
    """A caption (``name``, user text, first) and its table; nothing without a table."""
    lead = f"{_u(name)} " if name else ""
    return "" if table is None else f"<p class='meta'>{lead}{_e(caption)}</p>" + _table(table.header, table.rows)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text).strip("-").lower() or "x"


def _estimates(result: RunResult, task: str, prompt: str, metric: str) -> list[Estimate]:
    """The headline value per method: the seed mean and its seeds + sample interval for methods
    trained with several seeds, the cell's value and interval otherwise."""
    rows = []
    for p, method, cells in method_groups(result, task):
        ok = [c for c in cells if p == prompt and c.error is None and metric in c.metrics]
        if not ok:
            continue
        summary = next((s for s in result.seed_summaries if (s.task, s.prompt, s.method, s.metric) == (task, prompt, method, metric)), None)
        if summary is not None:
            rows.append(Estimate(method, method, summary.mean, *summary.ci_seed_sample))
        else:
            s = ok[0].metrics[metric]
            rows.append(Estimate(method, method, s.value, s.ci_low, s.ci_high))
    return rows


def _verdict_box(v: Verdict) -> str:
    by_outcome = {k: [o.method for o in v.outcomes if o.outcome == k] for k in ("equivalent", "worse", "inconclusive", "excluded")}
    parts = [f"{k}: {', '.join(_u(m) for m in ms)}" for k, ms in by_outcome.items() if ms]
    group = ("; " + "; ".join(parts)) if parts else ""
    head = (f"<strong>Use {_u(v.recommended)}</strong> for {_u(v.prompt)} (on {_u(v.metric)}, margin ±{v.margin:g}). "
            f"Best: {_u(v.best)} ({v.best_value:.1f}){group}." if v.recommended else
            f"<strong>No recommendation</strong> for {_u(v.prompt)}{group}.")
    return (f"<div class='verdict'><p>{head}</p>"
            f"<p class='meta'>{_u(verdict_text(v))}</p><p class='meta'>{_u(verdict_header(v))}</p></div>")


def _summary(result: RunResult, task: str, prompts: Sequence[str], metric: str, colors: dict[str, str]) -> str:
    out = ["<section class='summary'><h3>Summary</h3>"]
    for prompt in prompts:
        v = next((x for x in result.verdicts if (x.task, x.prompt) == (task, prompt)), None)
        rows = _estimates(result, task, prompt, metric)
        if len(prompts) > 1:
            out.append(f"<p class='meta'>prompt {_u(prompt)}</p>")
        out.append(f"<figure>{summary_plot(rows, metric, colors, v.best if v else None, v.equivalent if v else ())}"
                   f"<figcaption>{_u(metric)} per method, 95% interval (seeds + test sample for methods trained with "
                   "several seeds).</figcaption></figure>")
    table = results_table(result, task)
    out.append("<details><summary>All metrics</summary>" + _table(table.header, table.rows) + "</details></section>")
    return "".join(out)


def _cost(result: RunResult, task: str, prompt: str, metric: str, colors: dict[str, str]) -> str:
    points = []
    for p, method, cells in method_groups(result, task):
        ok = [c for c in cells if p == prompt and c.error is None and metric in c.metrics]
        if ok:
            forgets = forgetting_mean(ok)
            label = method if forgets is None else f"{method} (forgets {forgets:+.4f} bits/byte)"
            points.append(CostPoint(label, method, float(np.mean([c.metrics[metric].value for c in ok])),
                                    float(ok[0].cost.trainable_params) if ok[0].cost else 0.0,
                                    float(np.mean([c.train_s for c in ok]))))
    table = cost_table(result, task)
    body = f"<figure>{cost_plot(points, metric, colors)}<figcaption>Filled: on the Pareto front (nothing cheaper " \
           "scores higher). Prompting methods sit at 0 parameters and 0 s.</figcaption></figure>" if points else ""
    body += _data(table, "Cost per method (training on this machine; eval throughput includes generation)")
    note = forgetting_note(result, task)
    if note:
        body += f"<p class='meta'>{_u(note)}</p>"
    return f"<section class='cost'><h3>Cost vs quality</h3>{body or '<p>No cost recorded.</p>'}</section>"


def _matrix(result: RunResult, task: str, prompt: str, metric: str, colors: dict[str, str]) -> str:
    methods, cells = significance_matrix(result, task, prompt, metric)
    if len(methods) < 2:
        return ""
    alpha = next((v.alpha for v in result.verdicts if v.task == task), 0.05)
    head = "".join(f"<th>{_swatch(colors, m)}{_u(m)}</th>" for m in methods)
    rows = []
    for a in methods:
        tds = []
        for b in methods:
            p = cells.get((a, b))
            if a == b or p is None:
                tds.append("<td class='self'>–</td>")
                continue
            significant = p.p_adjusted == p.p_adjusted and p.p_adjusted < alpha
            cls = ("sig-better" if p.delta > 0 else "sig-worse") if significant else "tie"
            tds.append(f"<td class='{cls}' title='{_e(p.test)}'>{p.delta:+.1f}<br><small>{_e(fmt_p_adjusted(p))}</small></td>")
        rows.append(f"<tr><th>{_swatch(colors, a)}{_u(a)}</th>{''.join(tds)}</tr>")
    return (f"<p class='meta'>{_u(metric)}, prompt {_u(prompt)}: row minus column, Holm-adjusted p; green: the row "
            f"method is better at alpha {alpha}, red: worse, grey: no significant difference. These are the secondary "
            "comparisons (every pair and metric, Holm-adjusted over all of them); the verdict is decided from its own "
            "family, each method against the best, in the box above.</p>"
            f"<div class='scroll'><table class='matrix'><thead><tr><th></th>{head}</tr></thead><tbody>{''.join(rows)}"
            "</tbody></table></div>")


def _swatch(colors: dict[str, str], method: str) -> str:
    return f"<span class='swatch' style='background:{colors.get(method, '#999')}'></span>"


def _curves(cells: Sequence[CellResult], colors: dict[str, str]) -> str:
    trained = [c for c in cells if c.training and (c.training.losses or c.training.curve)]
    if not trained:
        return "<section class='curves'><h3>Learning curves</h3><p>No method was trained in this run.</p></section>"
    loss = [Curve(c.method, c.seed, list(enumerate(c.training.losses, 1)) if c.training else []) for c in trained]
    keys = [k for c in trained for p in (c.training.curve if c.training else []) for k in p if k.startswith("dev_") and k != "dev_loss"]
    key = keys[0] if keys else "dev_loss"
    dev = [Curve(c.method, c.seed, [(p["step"], p[key]) for p in (c.training.curve if c.training else []) if key in p]) for c in trained]
    plot = curves_plot(loss, dev, key.removeprefix("dev_") + " on the dev slice", colors)
    return (f"<section class='curves'><h3>Learning curves</h3><figure>{plot}<figcaption>Training loss at every optimizer "
            "step and the dev-slice score at each evaluation, per method and seed.</figcaption></figure></section>")


def _browser(result: RunResult, run_dir: str | Path | None, task: str, prompts: Sequence[str], metric: str) -> str:
    from promptkit.metrics import get_metric

    binary = bool(getattr(get_metric(metric), "binary", False))
    parts = []
    for prompt in prompts:
        data = browser_data(result, run_dir, task, prompt, metric, binary)
        if data is None:
            continue
        source = f"examples-{_slug(task)}-{_slug(prompt)}"
        over, under = ("A right, B wrong", "A wrong, B right") if binary else ("A scores higher than B", "B scores higher than A")
        parts.append(
            f"<div class='browser' data-source='{source}'><p class='meta'>prompt {_u(prompt)}, per-sample {_u(metric)}</p>"
            "<div class='controls'><label>A <select class='sel-a'></select></label><label>B <select class='sel-b'></select></label>"
            f"<label>show <select class='mode'><option value='a-over-b'>{_e(over)}</option><option value='b-over-a'>{_e(under)}</option>"
            "<option value='differ'>methods disagree</option><option value='all'>all carried</option></select></label></div>"
            "<p class='count meta'></p><div class='list'></div>"
            f"<script type='application/json' id='{source}'>{script_json(_balanced(data))}</script></div>")
    body = "".join(parts) or "<p>No saved samples to browse (or only one method).</p>"
    return f"<section class='examples'><h3>Examples where methods disagree</h3>{body}</section>"


def _metadata(result: RunResult) -> str:
    m = result.model
    settings = RunSettings.of(result.config)
    rows = [["run id", result.run_id], ["created", result.created],
            ["model", f"{m.get('name', '?')} ({m.get('architecture', '?')}, {m.get('parameters', 0) / 1e6:.1f}M parameters, "
                      f"{m.get('dtype', '?')} on {m.get('device', '?')})"],
            ["chat template", "on" if result.chat_template else "off"],
            ["seed", str(settings.seed)], ["training seeds", str(list(settings.training_seeds))],
            ["bootstrap resamples", str(settings.bootstrap_samples)],
            ["total time", f"{result.timings.get('total_s', 0):.1f} s (model load {result.timings.get('model_load_s', 0):.1f} s)"],
            ["python", str(result.environment.get("python", "?"))], ["platform", str(result.environment.get("platform", "?"))]]
    rows += [["command", c] for c in result.commands]
    tasks = [[name, str(info.version), info.path, info.eval_split, str(info.n),
              ", ".join(f"{p} v{v}" for p, v in info.prompts.items()) or "–", info.fingerprint[:12] or "–"]
             for name, info in result.tasks.items()]
    packages = [[k, str(v)] for k, v in sorted((result.environment.get("packages") or {}).items())]
    return ("<section class='metadata' id='metadata'><h2>Run metadata</h2>" + _table(["", ""], rows)
            + _table(["task", "version", "file", "split", "n", "prompt versions", "data fingerprint"], tasks)
            + "<details><summary>Package versions</summary>" + _table(["package", "version"], packages) + "</details>"
            + "<details><summary>Resolved configuration</summary><pre>" + _e(json.dumps(result.config, indent=2)) + "</pre></details>"
            + "</section>")


def render_html(result: RunResult, run_dir: str | Path | None = None) -> str:
    """The report of one run as a standalone HTML page (``run_dir``: where its samples are, for
    the example browser)."""
    from promptkit.analysis.compare import method_order

    colors = method_colors(method_order(result))
    tasks = list(dict.fromkeys(c.task for c in result.cells))
    m = result.model
    out = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width, initial-scale=1'>"
           f"<title>promptkit {FSI}{_e(result.run_id)}{PDI}</title><style>{STYLE}</style></head><body>",
           f"<h1>promptkit run <code>{_u(result.run_id)}</code></h1>",
           f"<p class='meta'>{_u(m.get('name', '?'))}, {len(tasks)} task(s), {len(result.cells)} cell(s), seed "
           f"{_e(RunSettings.of(result.config).seed)}, {result.timings.get('total_s', 0):.0f} s. Values are on a 0-100 scale with 95% "
           "confidence intervals (Wilson with the design effect for right/wrong metrics, cluster-robust t for other "
           "means, bootstrap for corpus metrics).</p>",
           "<nav>" + "".join(f"<a href='#task-{_slug(t)}'>{_u(t)}</a>" for t in tasks) + "<a href='#metadata'>run metadata</a></nav>"]
    out.append(_data(group_table(result.group_scores), GROUPS_CAPTION))
    for task in tasks:
        cells = [c for c in result.cells if c.task == task]
        info = result.tasks.get(task, TaskInfo())
        metrics = [x for x in info.metrics if x in metric_names(cells)] or metric_names(cells)
        prompts = list(dict.fromkeys(c.prompt for c in cells))
        out.append(f"<section class='task' id='task-{_slug(task)}'><h2>{_u(task)}</h2><p class='meta'>version {_u(info.version or '?')}, "
                   f"split {_u(info.eval_split or '?')}, {_u(examples_phrase(info))}, source {_u(info.source or '?')}</p>")
        out += [_verdict_box(v) for v in result.verdicts if v.task == task]
        out += [f"<p class='warn'>overlap allowed by --allow-overlap: {_u(o)}</p>" for o in info.overlaps]
        out += [f"<p class='warn'>task code ran (--trust-task-code): {_u(h)}</p>" for h in info.task_code]
        scale = lm_eval_scale_line(info)
        out += [f"<p class='meta'>{_u(scale)}</p>"] if scale else []
        out += [f"<p class='warn'>{_u(text)}</p>" for text in context_lines(result, task)]
        errors = [c for c in cells if c.error]
        out += [f"<p class='warn'>{_u(c.method)} failed: {_u(c.error)}</p>" for c in errors]
        if not metrics:
            out.append("</section>")
            continue
        # the metric the verdict was decided on, so that filled markers and the plotted values agree
        headline = next((v.metric for v in result.verdicts if v.task == task and v.metric in metrics), metrics[0])
        out.append(_summary(result, task, prompts, headline, colors))
        out.append(_cost(result, task, prompts[0], headline, colors))
        matrices = "".join(_matrix(result, task, p, headline, colors) for p in prompts)
        out.append("<section class='significance'><h3>Which differences are real</h3>"
                   + (matrices or "<p>Fewer than two methods to compare.</p>")
                   + "<details><summary>Every pair and metric (tests, p-values, minimum detectable differences)</summary>"
                   + _data(pairs_table(result, task), "Confirmatory: the verdict's comparisons with the best, Bonferroni-adjusted; "
                           "secondary: every pair and metric, Holm-adjusted, never used by the verdict")
                   + "</details></section>")
        seeds = seeds_table(result, task)
        if seeds is not None:
            out.append("<section class='seeds'><h3>Seeds</h3>" + _data(seeds, "Scores per training seed") + "</section>")
        tuning = tuning_table(result, task)
        if tuning is not None:
            out.append("<section class='tuning'><h3>Tuning</h3>"
                       + _data(tuning, "Candidates scored on the dev split (never test); the chosen one trained with every seed")
                       + "</section>")
        out.append(_curves(cells, colors))
        sensitivity = sensitivity_table(result, task, headline)
        if sensitivity is not None:
            out.append("<section class='sensitivity'><h3>Prompt sensitivity</h3>"
                       + _data(sensitivity, "per method across the task's templates", name=headline) + "</section>")
        out.append(_browser(result, run_dir, task, prompts, headline))
        out.append("</section>")
    out.append(_metadata(result))
    out.append(f"<script>{SCRIPT}</script></body></html>")
    return "\n".join(out)

