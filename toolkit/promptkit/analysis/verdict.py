"""The declared decision of a task: which method to use, from one family of comparisons.

The rule, fixed before any number is seen (a statistician's first question):

1. **One metric decides**: ``verdict.metric``, else the task's first metric. Other metrics and
   other pairs are reported as secondary, with their own adjustment, and never move the verdict.
2. **Only methods that ran compete**: a method whose evaluated rows were mostly skipped by the
   context-length policy (more than ``MAX_SKIPPED_SHARE``) is excluded, with the reason; one with
   some skipped or truncated rows competes and its line says how many.
3. **The family**: per prompt template, the competing method with the highest value is the best,
   and each other competing method is compared with it. Because the best is picked from the same
   data, adjusting only those ``k - 1`` comparisons is not enough: under a global null the
   largest of ``k`` means beats the smallest more often than any fixed pair (about 7.7% false
   claims at a nominal 5% for ``k = 4`` with 16 groups). So the adjustment is Bonferroni over
   every pair of competing methods, ``k (k - 1) / 2`` (with several templates, over all of them
   together, one verdict per template): the intervals are then simultaneous for every pair, the
   data-chosen ones included. For means of per-row scores an interval and its adjusted p come
   from one t distribution and cannot disagree; for corpus metrics the p is the sign-flip test's
   and the interval a bootstrap standard error's (see promptkit.metrics.paired).
4. **Three outcomes** for each other method, from the adjusted interval of ``best - method``:
   *equivalent* when it lies within ``±margin`` (the loss from choosing it is shown to be
   smaller than the margin, whether or not it excludes 0), else *worse* when the adjusted test
   rejects equality, else *inconclusive*. "Not significant" alone is never read as "as good".
5. **Cost decides among the equivalent only**: the recommendation is the cheapest of the best
   and the methods equivalent to it, ordered by trainable parameters, then saved size, then
   tokens processed in training (counted, not derived from a rate), then prompt tokens per
   example (few-shot pays for its demonstrations at every call). Training wall time counts only
   when both methods ran several seeds and the difference of their means exceeds twice its
   standard error (run-to-run noise); otherwise it is never a reason. When no method ran on
   most of its rows there is no recommendation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from promptkit.metrics.paired import PairTest
from promptkit.records.comparisons import MethodOutcome, Outcome, Verdict
from promptkit.records.results import CellResult

DEFAULT_ALPHA = 0.05
# Points of the selection metric within which a method counts as equivalent to the best.
DEFAULT_MARGIN = 2.0
POWER = 0.8
# A method whose evaluated rows were skipped more than this often did not really run.
MAX_SKIPPED_SHARE = 0.5


@dataclass(frozen=True)
class ResolvedVerdict:
    """The verdict settings in force for one task (run over task over defaults)."""

    metric: str
    margin: float
    alpha: float
    margin_source: str  # "default", "task" or "run"
    max_forgetting: float | None = None  # bits per byte; None: forgetting never excludes


def resolve_settings(run_verdict: Mapping[str, object] | None, task_verdict: Mapping[str, object] | None,
                     metrics: Sequence[str]) -> ResolvedVerdict:
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
    most, _ = pick("max_forgetting")
    return ResolvedVerdict(chosen, float(margin) if margin is not None else DEFAULT_MARGIN,  # type: ignore[arg-type]
                           float(alpha) if alpha is not None else DEFAULT_ALPHA, source,  # type: ignore[arg-type]
                           float(most) if most is not None else None)  # type: ignore[arg-type]


def skipped_rows(cells: Sequence[CellResult]) -> tuple[int, int]:
    """Evaluated rows the context policy skipped and truncated (the most of any seed)."""
    evaluated = [c.context.evaluation for c in cells if c.context is not None and c.context.evaluation is not None]
    skipped = max((e.skipped for e in evaluated), default=0)
    truncated = max((e.truncated for e in evaluated), default=0)
    return skipped, truncated


def excluded_reason(cells: Sequence[CellResult], max_forgetting: float | None = None) -> str:
    """Why a method cannot compete ("" when it can): most rows skipped, or (``verdict.max_forgetting``)
    an adapted method forgetting more than allowed, or not measured."""
    skipped, _ = skipped_rows(cells)
    n = max((c.n for c in cells), default=0)
    if n and skipped > MAX_SKIPPED_SHARE * n:
        return (f"{skipped} of {n} evaluated rows skipped (prompt longer than the model's context): it did not run "
                f"on most rows (more than {MAX_SKIPPED_SHARE:.0%})")
    if max_forgetting is None or not any(c.cost for c in cells):
        return ""  # a prompting method changes no weight: it forgets nothing
    figures = [c.forgetting.delta_bits_per_byte for c in cells
               if c.forgetting is not None and math.isfinite(c.forgetting.delta_bits_per_byte)]
    if len(figures) < len(cells):  # off, not measurable, or not a number (a diverged adapter)
        return f"no forgetting figure to hold against verdict.max_forgetting {max_forgetting:g} (the probe was off or not measurable)"
    mean = float(np.mean(figures))
    if mean > max_forgetting:
        seeds = f" (mean of {len(figures)} seeds)" if len(figures) > 1 else ""
        return f"forgets {mean:+.4f} bits/byte of general text{seeds}, over verdict.max_forgetting {max_forgetting:g}"
    return ""


def cost_key(cells: Sequence[CellResult]) -> tuple[float, float, float, float]:
    """What a method costs, cheapest first: trainable parameters, saved bytes, training tokens,
    prompt tokens per example. Stable from run to run, unlike wall time."""
    c = cells[0]
    cost = c.cost
    params = cost.trainable_params if cost else 0.0
    size = float(cost.adapter_bytes or 0.0) if cost else 0.0
    tokens = float(np.mean([x.training.tokens if x.training else 0 for x in cells])) if cost else 0.0
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
    best: str | None
    tests: Mapping[str, PairTest | None]
    excluded: Mapping[str, str]


def choose_best(labels: Sequence[str], values: Mapping[str, float], excluded: Mapping[str, str]) -> str | None:
    """The competing method with the highest value (the first listed on an exact tie); None when
    every method was excluded."""
    competing = [m for m in labels if not excluded.get(m)]
    if not competing:
        return None
    return max(competing, key=lambda m: (values[m], -competing.index(m)))


def family_size(competing_per_template: Sequence[int]) -> int:
    """Comparisons the confirmatory adjustment counts: every pair of competing methods of every
    template (module docstring, rule 3)."""
    return max(1, sum(k * (k - 1) // 2 for k in competing_per_template))


def decide(task: str, evidence: Sequence[PromptEvidence], settings: ResolvedVerdict, size: int) -> list[Verdict]:
    """One verdict per prompt template; ``size`` comparisons in the family (:func:`family_size`)."""
    level = settings.alpha / size
    templates = len(evidence)
    family = (f"every pair of competing methods on {settings.metric}"
              + (f", across the task's {templates} prompt templates" if templates > 1 else "")
              + f" ({size} comparison{'s' if size != 1 else ''}; the verdict reads those with the best)")
    verdicts = []
    for e in evidence:
        outcomes = [_outcome(m, e, settings, level, size) for m in e.labels]
        recommended, why = _recommend(e, outcomes)
        reason = _reason(e, outcomes, recommended, why, settings, size)
        best_value = round(e.values[e.best], 4) if e.best else float("nan")
        verdicts.append(Verdict(task, e.prompt, settings.metric, settings.alpha, settings.margin, family, size,
                                "bonferroni", e.best or "", best_value, tuple(outcomes), recommended, reason,
                                margin_source=settings.margin_source, max_forgetting=settings.max_forgetting))
    return verdicts


def _outcome(m: str, e: PromptEvidence, settings: ResolvedVerdict, level: float, size: int) -> MethodOutcome:
    skipped, truncated = skipped_rows(e.cells[m])
    value = round(e.values[m], 4)
    loss = round(e.values[e.best] - e.values[m], 4) if e.best else float("nan")
    if m == e.best:
        return MethodOutcome(m, value, "best", skipped=skipped, truncated=truncated)
    if e.excluded.get(m):
        return MethodOutcome(m, value, "excluded", loss=loss, skipped=skipped, truncated=truncated, note=e.excluded[m])
    test = e.tests.get(m)
    if test is None:
        return MethodOutcome(m, value, "inconclusive", loss=loss, skipped=skipped, truncated=truncated, tested=False,
                             note="not tested: bootstrap_samples is 0 and this metric needs resampling")
    low, high = test.interval(level)
    p_adj = min(1.0, test.p * size)
    note = ""
    outcome: Outcome
    if test.within(settings.margin, level):
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
        sep = test.size_needed(abs(test.estimate), level, POWER, separate=True) if test.estimate else None
        eq = test.size_needed(settings.margin - abs(test.estimate), level, POWER)
    return MethodOutcome(
        m, value, outcome, loss=round(test.estimate, 4), ci_low=round(low, 4), ci_high=round(high, 4),
        p_value=test.p, p_adjusted=p_adj, test=test.test, resamples=test.resamples, mdd=round(test.mdd(level, POWER), 4),
        groups_to_separate=sep.groups if sep else None, rows_to_separate=sep.rows if sep else None,
        groups_for_equivalence=eq.groups if eq else None, rows_for_equivalence=eq.rows if eq else None,
        skipped=skipped, truncated=truncated, note=note,
        why_not_separate=(sep.why if sep else "no difference observed") if outcome == "inconclusive" else "",
        why_not_equivalent=eq.why if eq else "")


def _recommend(e: PromptEvidence, outcomes: Sequence[MethodOutcome]) -> tuple[str, str]:
    """The cheapest of the best and its equivalents, and why in words ("" with no best)."""
    if not e.best:
        return "", "no method ran on most of its rows"
    pool = [o.method for o in outcomes if o.outcome in ("best", "equivalent")]
    ranked = sorted(pool, key=lambda m: (cost_key(e.cells[m]), e.labels.index(m)))
    choice = ranked[0]
    if len(ranked) > 1 and cost_key(e.cells[ranked[0]]) == cost_key(e.cells[ranked[1]]):
        # equal on every stable cost: wall time only when it is beyond its run-to-run noise
        first, other = ranked[0], ranked[1]
        wall = wall_time_difference(e.cells[first], e.cells[other])
        same = "equal cost in parameters, size and training tokens; "
        if wall is None:
            return first, same + "training time not compared (one seed each: run-to-run noise unknown), so the first listed"
        if abs(wall[0]) > wall[1]:
            faster = other if wall[0] > 0 else first
            return faster, same + f"{faster} trains faster by {abs(wall[0]):.0f} s, beyond its noise (±{wall[1]:.0f} s)"
        return first, same + f"training time differs by {abs(wall[0]):.0f} s, within its noise (±{wall[1]:.0f} s), so the first listed"
    if choice == e.best:
        return choice, ""
    return choice, f"cheaper: {_cost_words(e.cells[choice])} against {_cost_words(e.cells[e.best])}"


def about(count: int) -> str:
    """A projected size as it should be read, to two significant digits: ``~2,800`` for 2,810."""
    if count < 100:
        return f"~{count:,}"
    digits = 10 ** (len(str(count)) - 2)
    return f"~{round(count / digits) * digits:,}"


def size_text(rows: int | None, groups: int | None, why: str, rows_word: str = "rows", groups_word: str = "groups") -> str:
    """``"~150 rows (~30 groups)"``, or why no size can be given."""
    if rows is None:
        return why
    extra = f" ({about(groups)} {groups_word})" if groups is not None and groups != rows else ""
    return f"{about(rows)} {rows_word}{extra}"


def outcome_phrase(o: MethodOutcome, margin: float) -> str:
    """One method's line of the verdict, e.g. "prompt-tuning is 10.0 points lower (...): inconclusive ..."."""
    rows_note = ""
    if o.skipped or o.truncated:
        rows_note = " [" + ", ".join(f"{k} {w}" for k, w in ((o.skipped, "rows skipped"), (o.truncated, "truncated")) if k) + "]"
    if o.outcome == "best":
        return f"{o.method} ({o.value:.1f}) scores highest{rows_note}"
    if o.outcome == "excluded":
        return f"{o.method} excluded: {o.note}"
    if not o.tested:
        return f"{o.method} is {o.loss:.1f} points lower: {o.note}{rows_note}"
    text = f"{o.method} is {o.loss:.1f} points lower (adjusted CI {o.ci_low:.1f} to {o.ci_high:.1f}){rows_note}: "
    if o.outcome == "worse":
        return text + "worse"
    if o.outcome == "equivalent":
        return text + f"equivalent within {margin:g} points"
    text += f"inconclusive, not shown equivalent within {margin:g} points"
    if o.rows_to_separate is not None:
        text += f"; {size_text(o.rows_to_separate, o.groups_to_separate, '')} would separate them at this difference"
    if o.rows_for_equivalence is not None:
        text += (f"; {size_text(o.rows_for_equivalence, o.groups_for_equivalence, '')} would show equivalence within the "
                 "margin at this difference")
    if o.note:
        text += f" ({o.note})"
    return text


def _reason(e: PromptEvidence, outcomes: Sequence[MethodOutcome], recommended: str, why: str,
            settings: ResolvedVerdict, size: int) -> str:
    lines = [outcome_phrase(o, settings.margin) for o in outcomes if o.outcome == "best"]
    lines += [outcome_phrase(o, settings.margin) for o in outcomes if o.outcome != "best"]
    if not recommended:
        return f"no recommendation ({why}). On {settings.metric}: " + "; ".join(lines) + "."
    head = f"{recommended}" + (f" ({why})" if why else "")
    level = 100.0 * (1.0 - settings.alpha / size)
    return (f"{head}. On {settings.metric}: " + "; ".join(lines)
            + f". Intervals are simultaneous ({level:.1f}% each, Bonferroni over {size} comparison"
            + f"{'s' if size != 1 else ''}, family-wise {100 * (1 - settings.alpha):.0f}%).")
