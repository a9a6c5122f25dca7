"""The declared decision of a task: which method to use, from one family of comparisons.

The rule, fixed before any number is seen (a statistician's first question):

1. **One metric decides**: ``verdict.metric``, else the task's first metric. Other metrics and
   other pairs are reported as secondary, with their own adjustment, and never move the verdict.
2. **Only methods that ran compete**: a method whose evaluated rows were mostly skipped by the
   context-length policy (more than ``MAX_SKIPPED_SHARE``) is excluded, with the reason; one with
   some skipped or truncated rows competes and its line says how many.
3. **The family is the comparisons with the best**: per prompt template, the competing method
   with the highest value is the best, and each other competing method is compared with it
   (``k - 1`` comparisons). With several templates the family spans all of them (one verdict per
   template, adjusted together). The adjustment is Bonferroni over the family: its simultaneous
   intervals at ``1 - alpha / family_size`` and its adjusted p-values say the same thing, so an
   interval and a p in the report never disagree (Holm's step-down has no such intervals).
4. **Three outcomes** for each other method, from the adjusted interval of ``best - method``:
   *equivalent* when it lies within ``±margin`` (the loss from choosing it is shown to be
   smaller than the margin, whether or not it excludes 0), else *worse* when the adjusted test
   rejects equality, else *inconclusive*. "Not significant" alone is never read as "as good".
5. **Cost decides among the equivalent only**: the recommendation is the cheapest of the best
   and the methods equivalent to it, ordered by trainable parameters, then saved size, then
   tokens processed in training, then prompt tokens per example (few-shot pays for its
   demonstrations at every call). Training wall time counts only when both methods ran several
   seeds and the difference of their means exceeds twice its standard error (run-to-run noise);
   otherwise it is never a reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from promptkit.metrics.paired import PairTest
from promptkit.report.results import CellResult, MethodOutcome, Outcome, Verdict

DEFAULT_ALPHA = 0.05
# Points of the selection metric within which a method counts as equivalent to the best.
DEFAULT_MARGIN = 2.0
POWER = 0.8
# A method whose evaluated rows were skipped more than this often did not really run.
MAX_SKIPPED_SHARE = 0.5


@dataclass(frozen=True)
class VerdictSettings:
    metric: str
    margin: float
    alpha: float
    margin_source: str  # "default", "task" or "run"


def resolve_settings(run_verdict: Mapping[str, object] | None, task_verdict: Mapping[str, object] | None,
                     metrics: Sequence[str]) -> VerdictSettings:
    """The run's ``verdict`` settings over the task's, over the defaults."""
    run_v, task_v = dict(run_verdict or {}), dict(task_verdict or {})

    def pick(key: str) -> tuple[object, str]:
        for source, values in (("run", run_v), ("task", task_v)):
            if values.get(key) is not None:
                return values[key], source
        return None, "default"

    # a run-wide metric applies to the tasks that score it; the others keep their own choice
    chosen = next((str(v["metric"]) for v in (run_v, task_v) if v.get("metric") in metrics), metrics[0])
    margin, source = pick("margin")
    alpha, _ = pick("alpha")
    return VerdictSettings(chosen, float(margin) if margin is not None else DEFAULT_MARGIN,  # type: ignore[arg-type]
                           float(alpha) if alpha is not None else DEFAULT_ALPHA, source)  # type: ignore[arg-type]


def skipped_rows(cells: Sequence[CellResult]) -> tuple[int, int]:
    """Evaluated rows the context policy skipped and truncated (the most of any seed)."""
    skipped = max((int((c.context or {}).get("skipped", 0) or 0) for c in cells), default=0)
    truncated = max((int((c.context or {}).get("truncated", 0) or 0) for c in cells), default=0)
    return skipped, truncated


def excluded_reason(cells: Sequence[CellResult]) -> str:
    """Why a method cannot compete ("" when it can)."""
    skipped, _ = skipped_rows(cells)
    n = max((c.n for c in cells), default=0)
    if n and skipped > MAX_SKIPPED_SHARE * n:
        return (f"{skipped} of {n} evaluated rows skipped (prompt longer than the model's context): it did not run "
                f"on most rows (more than {MAX_SKIPPED_SHARE:.0%})")
    return ""


def cost_key(cells: Sequence[CellResult]) -> tuple[float, float, float, float]:
    """What a method costs, cheapest first: trainable parameters, saved bytes, training tokens,
    prompt tokens per example. Stable from run to run, unlike wall time."""
    c = cells[0]
    cost = c.cost
    params = cost.trainable_params if cost else 0.0
    size = float(cost.adapter_bytes or 0.0) if cost else 0.0
    tokens = float(np.mean([x.cost.train_s * x.cost.train_tokens_per_s for x in cells if x.cost])) if cost else 0.0
    prompt = float(np.mean([x.throughput.get("prompt_tokens", 0.0) / max(x.n, 1) for x in cells]))
    return (params, size, round(tokens), round(prompt, 1))


def wall_time_difference(a: Sequence[CellResult], b: Sequence[CellResult]) -> tuple[float, float] | None:
    """``(mean train time of a - of b, twice its standard error)`` when both ran several seeds;
    None when run-to-run noise cannot be estimated."""
    ta, tb = [c.train_s for c in a], [c.train_s for c in b]
    if len(ta) < 2 or len(tb) < 2:
        return None
    noise = 2.0 * math.sqrt(np.var(ta, ddof=1) / len(ta) + np.var(tb, ddof=1) / len(tb))
    return float(np.mean(ta) - np.mean(tb)), noise


def _cost_words(cells: Sequence[CellResult]) -> str:
    params, size, tokens, prompt = cost_key(cells)
    if not cells[0].cost:
        return f"no training, {prompt:.0f} prompt tokens per example"
    return f"{int(params):,} trainable parameters, {tokens:,.0f} training tokens"


@dataclass(frozen=True)
class PromptEvidence:
    """What the decision for one prompt template reads: the methods in run order, their cells,
    values on the selection metric, the best, and its tests against every other competing method
    (``a`` = best, ``b`` = the method)."""

    prompt: str
    labels: Sequence[str]
    cells: Mapping[str, Sequence[CellResult]]
    values: Mapping[str, float]
    best: str
    tests: Mapping[str, PairTest | None]
    excluded: Mapping[str, str]


def choose_best(labels: Sequence[str], values: Mapping[str, float], excluded: Mapping[str, str]) -> str:
    competing = [m for m in labels if not excluded.get(m)] or list(labels)
    return max(competing, key=lambda m: (values[m], -competing.index(m)))  # first listed wins an exact tie


def decide(task: str, evidence: Sequence[PromptEvidence], settings: VerdictSettings) -> list[Verdict]:
    """One verdict per prompt template, the family spanning them all (module docstring)."""
    family_size = max(1, sum(1 for e in evidence for m, t in e.tests.items() if t is not None))
    level = settings.alpha / family_size
    templates = len(evidence)
    family = (f"comparisons of each competing method with the best on {settings.metric}"
              + (f", per prompt template, across the task's {templates} templates" if templates > 1 else "")
              + f" ({family_size} comparison{'s' if family_size != 1 else ''})")
    verdicts = []
    for e in evidence:
        outcomes = [_outcome(m, e, settings, level, family_size) for m in e.labels]
        recommended, why = _recommend(e, outcomes, settings)
        reason = _reason(e, outcomes, recommended, why, settings, family_size)
        verdicts.append(Verdict(task, e.prompt, settings.metric, settings.alpha, settings.margin, family, family_size,
                                "bonferroni", e.best, round(e.values[e.best], 4), tuple(outcomes), recommended, reason))
    return verdicts


def _outcome(m: str, e: PromptEvidence, settings: VerdictSettings, level: float, family_size: int) -> MethodOutcome:
    skipped, truncated = skipped_rows(e.cells[m])
    value = round(e.values[m], 4)
    if m == e.best:
        return MethodOutcome(m, value, "best", skipped=skipped, truncated=truncated)
    if e.excluded.get(m):
        return MethodOutcome(m, value, "excluded", loss=round(e.values[e.best] - e.values[m], 4), skipped=skipped,
                             truncated=truncated, note=e.excluded[m])
    test = e.tests.get(m)
    if test is None:
        return MethodOutcome(m, value, "inconclusive", loss=round(e.values[e.best] - e.values[m], 4), skipped=skipped,
                             truncated=truncated, note="not tested: bootstrap_samples is 0 and this metric needs resampling")
    low, high = test.interval(level)
    p_adj = min(1.0, test.p * family_size)
    note = ""
    outcome: Outcome
    if -settings.margin < low and high < settings.margin:
        outcome = "equivalent"
    elif p_adj < settings.alpha and test.settled:
        outcome = "worse"
    else:
        outcome = "inconclusive"
        if not test.settled:
            note = (f"p stayed within Monte Carlo error of the threshold after {test.resamples:,} draws; "
                    "not decided on it")
    sep = eq = None
    if outcome == "inconclusive":
        sep = test.size_needed(abs(test.estimate), level, POWER) if test.estimate else None
        eq = test.size_needed(settings.margin - abs(test.estimate), level, POWER)
    return MethodOutcome(
        m, value, outcome, loss=round(test.estimate, 4), ci_low=round(low, 4), ci_high=round(high, 4),
        p_value=test.p, p_adjusted=p_adj, test=test.test, resamples=test.resamples, mdd=round(test.mdd(level, POWER), 4),
        groups_to_separate=sep.groups if sep else None, rows_to_separate=sep.rows if sep else None,
        groups_for_equivalence=eq.groups if eq else None, rows_for_equivalence=eq.rows if eq else None,
        skipped=skipped, truncated=truncated, note=note)


def _recommend(e: PromptEvidence, outcomes: Sequence[MethodOutcome], settings: VerdictSettings) -> tuple[str, str]:
    """The cheapest of the best and its equivalents, and why in words."""
    pool = [o.method for o in outcomes if o.outcome in ("best", "equivalent")]
    ranked = sorted(pool, key=lambda m: (cost_key(e.cells[m]), e.labels.index(m)))
    choice = ranked[0]
    if len(ranked) > 1 and cost_key(e.cells[ranked[0]]) == cost_key(e.cells[ranked[1]]):
        # equal on every stable cost: wall time only when it is beyond its run-to-run noise
        other = ranked[1]
        wall = wall_time_difference(e.cells[choice], e.cells[other])
        if wall is not None and abs(wall[0]) > wall[1] and wall[0] > 0:
            choice = other
        text = ("equal cost in parameters, size and training tokens; " +
                (f"training time differs by {abs(wall[0]):.0f} s (noise ±{wall[1]:.0f} s)" if wall is not None else
                 "training time not compared (one seed each: run-to-run noise unknown)") + ", so the first listed")
        return choice, text
    if choice == e.best:
        return choice, ""
    best_cost = _cost_words(e.cells[e.best])
    return choice, f"cheaper: {_cost_words(e.cells[choice])} against {best_cost}"


def about(count: int) -> str:
    """A projected size as it should be read, to two significant digits: ``~2,800`` for 2,810."""
    if count < 100:
        return f"~{count:,}"
    digits = 10 ** (len(str(count)) - 2)
    return f"~{round(count / digits) * digits:,}"


def _fmt_loss(o: MethodOutcome) -> str:
    return f"{o.loss:.1f} points lower (adjusted CI {o.ci_low:.1f} to {o.ci_high:.1f})"


def outcome_phrase(o: MethodOutcome, margin: float, rows_word: str = "rows", groups_word: str = "groups") -> str:
    """One method's line of the verdict, e.g. "prompt-tuning is 10.0 points lower (...): inconclusive ..."."""
    rows_note = ""
    if o.skipped or o.truncated:
        rows_note = " [" + ", ".join(f"{k} {w}" for k, w in ((o.skipped, "rows skipped"), (o.truncated, "truncated")) if k) + "]"
    if o.outcome == "best":
        return f"{o.method} ({o.value:.1f}) scores highest{rows_note}"
    if o.outcome == "excluded":
        return f"{o.method} excluded: {o.note}"
    if o.note.startswith("not tested"):
        return f"{o.method} is {o.loss:.1f} points lower: {o.note}{rows_note}"
    text = f"{o.method} is {_fmt_loss(o)}{rows_note}: "
    if o.outcome == "worse":
        return text + "worse"
    if o.outcome == "equivalent":
        return text + f"equivalent within {margin:g} points"
    text += f"inconclusive, not shown equivalent within {margin:g} points"
    def size(rows: int, groups: int | None) -> str:
        extra = f" ({about(groups)} {groups_word})" if groups is not None and groups != rows else ""
        return f"{about(rows)} {rows_word}{extra}"

    if o.rows_to_separate is not None:
        text += f"; {size(o.rows_to_separate, o.groups_to_separate)} would separate them at this difference"
    if o.rows_for_equivalence is not None:
        text += (f"; {size(o.rows_for_equivalence, o.groups_for_equivalence)} would show equivalence within the "
                 "margin at this difference")
    if o.note:
        text += f" ({o.note})"
    return text


def _reason(e: PromptEvidence, outcomes: Sequence[MethodOutcome], recommended: str, why: str,
            settings: VerdictSettings, family_size: int) -> str:
    lines = [outcome_phrase(o, settings.margin) for o in outcomes if o.outcome == "best"]
    lines += [outcome_phrase(o, settings.margin) for o in outcomes if o.outcome != "best"]
    head = f"{recommended}" + (f" ({why})" if why else "")
    level = 100.0 * (1.0 - settings.alpha / family_size)
    return (f"{head}. On {settings.metric}: " + "; ".join(lines)
            + f". Intervals are simultaneous ({level:.1f}% each, {family_size} comparison"
            + f"{'s' if family_size != 1 else ''} with the best, family-wise {100 * (1 - settings.alpha):.0f}%).")
