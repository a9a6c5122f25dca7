"""What ``promptkit.analysis`` concludes from a run: every pair of methods compared
(:class:`PairComparison`), the declared decision per task and prompt (:class:`Verdict`, one
:class:`MethodOutcome` per method) and the seed summaries of multi-seed methods
(:class:`SeedSummary`). Saved in results.json with the run (``promptkit.records.results``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class GroupScore:
    """An lm-eval group's aggregate for one method (promptkit.analysis.groups): the weighted mean
    of its tasks' rows with its stratified 95% interval, and against the group's best method the
    difference on the same rows, its interval and two-sided p-value (Holm over the methods
    compared with the best); None for the best itself.

    Attributes:
        metric / lm_eval_metric: the promptkit column aggregated, and the name the group file gives.
        weight_by_size: every row counts the same (True) or every member (False), as lm-eval.
        n / tasks: rows and member tasks pooled.
    """

    group: str
    alias: str | None
    metric: str
    lm_eval_metric: str
    weight_by_size: bool
    method: str
    value: float
    ci_low: float
    ci_high: float
    n: int
    tasks: int
    best: str | None = None
    difference: float | None = None
    diff_low: float | None = None
    diff_high: float | None = None
    p_value: float | None = None
    p_holm: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GroupScore:
        return cls(**dict(data))


@dataclass(frozen=True)
class PairComparison:
    """Method ``a`` against method ``b`` on one metric, on the same examples.

    Attributes:
        delta: ``metric(a) - metric(b)`` (means over seeds for multi-seed methods).
        p_value: two-sided p-value of the test named by ``test``.
        p_adjusted: ``p_value`` adjusted over its family: Bonferroni over the confirmatory
            comparisons with the best, Holm over every secondary pair and metric of the task.
        test: ``paired-t`` / ``cluster-t-cr2`` (means of per-row scores; ``+seeds`` with the
            training-seed variance added), ``paired-sign-flip[-exact]`` / ``cluster-sign-flip[-exact]``
            or ``...-two-level-bootstrap`` (corpus metrics); see promptkit.metrics.paired.
        resamples: number of resamples for a resampling test (its p cannot go below
            ``1 / (resamples + 1)``); None for an analytic or exactly enumerated test.
        mdd: the smallest true difference this test detects with 80% power at the family's
            adjusted level (Bonferroni's bound ``alpha / family size``), from the test's own
            standard error; for right/wrong outcomes never below what an exact test can reject.
        family: ``confirmatory`` (a comparison with the best on the selection metric, adjusted
            over that family) or ``secondary`` (every pair on every metric, Holm over them all:
            ``p_adjusted``).
        ci_low / ci_high: the 95% interval of ``delta`` (unadjusted; the verdict holds the
            adjusted ones).
    """

    task: str
    prompt: str
    metric: str
    a: str
    b: str
    delta: float
    p_value: float
    p_adjusted: float
    test: str
    n: int
    resamples: int | None
    mdd: float
    family: str = "secondary"
    ci_low: float = float("nan")
    ci_high: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PairComparison:
        return cls(**dict(data))


Outcome = Literal["best", "worse", "equivalent", "inconclusive", "excluded"]


@dataclass(frozen=True)
class MethodOutcome:
    """One method in a verdict: how it compares with the best method on the selection metric.

    Attributes:
        value: its (seed-averaged) value on the selection metric.
        outcome: ``best``; ``worse`` (the family-adjusted test rejects equality); ``equivalent``
            (the adjusted interval of best - method lies within the margin, whether or not it
            excludes 0); ``inconclusive`` (neither); ``excluded`` (too many rows skipped to compete).
        loss: ``best - method`` (0 for the best).
        ci_low / ci_high: the family-adjusted interval of ``loss`` (level ``1 - alpha / family_size``).
        p_value / p_adjusted: the test's p and its Bonferroni adjustment over the family.
        test / resamples: which test (``paired-t``, ``cluster-t-cr2``, ``...-sign-flip-exact``...) and
            its draws (None: analytic or exact).
        mdd: the smallest loss the test detects with 80% power at the adjusted level.
        groups_to_separate / rows_to_separate: test-set size at which the observed loss would be
            detected with 80% power (inconclusive methods; None: not reachable with rows alone).
        groups_for_equivalence / rows_for_equivalence: the same for showing equivalence within the
            margin at the observed loss.
        skipped / truncated: evaluated rows the context-length policy skipped or truncated.
        note: why a method was excluded, or why its p could not be settled.
        tested: False when no test could be run (``bootstrap_samples: 0`` for a corpus metric).
        why_not_separate / why_not_equivalent: why a size is None (inconclusive methods).
    """

    method: str
    value: float
    outcome: Outcome
    loss: float = 0.0
    ci_low: float = float("nan")
    ci_high: float = float("nan")
    p_value: float = float("nan")
    p_adjusted: float = float("nan")
    test: str = ""
    resamples: int | None = None
    mdd: float = float("nan")
    groups_to_separate: int | None = None
    rows_to_separate: int | None = None
    groups_for_equivalence: int | None = None
    rows_for_equivalence: int | None = None
    skipped: int = 0
    truncated: int = 0
    note: str = ""
    tested: bool = True
    why_not_separate: str = ""
    why_not_equivalent: str = ""


@dataclass(frozen=True)
class Verdict:
    """The declared decision for one task/prompt: the best method on the selection metric, every
    other method's outcome against it, and the recommendation.

    Attributes:
        metric: the selection metric (``verdict.metric``, else the task's first metric).
        alpha / margin: the family-wise level and the equivalence margin (points of ``metric``);
            ``margin_source`` says where the margin was set (``default``, ``task`` or ``run``).
        best: the best competing method ("" when every method was excluded; then ``recommended``
            is "" too).
        family: the confirmatory family in words; ``family_size`` its number of comparisons and
            ``adjustment`` how they are adjusted. Everything else in ``comparisons`` is secondary.
        outcomes: one per method, in run order.
        recommended: the cheapest of the best and the methods shown equivalent to it.
        reason: the one-line recommendation with its evidence.
        max_forgetting: ``verdict.max_forgetting`` when set: adapted methods forgetting more
            (bits per byte of the forgetting probe) were excluded before the best was chosen.
    """

    task: str
    prompt: str
    metric: str
    alpha: float
    margin: float
    family: str
    family_size: int
    adjustment: str
    best: str
    best_value: float
    outcomes: tuple[MethodOutcome, ...]
    recommended: str
    reason: str
    margin_source: str = "default"
    max_forgetting: float | None = None

    @property
    def equivalent(self) -> tuple[str, ...]:
        return tuple(o.method for o in self.outcomes if o.outcome == "equivalent")

    def outcome(self, method: str) -> MethodOutcome | None:
        return next((o for o in self.outcomes if o.method == method), None)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcomes"] = [asdict(o) for o in self.outcomes]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        data = dict(data)
        data["outcomes"] = tuple(MethodOutcome(**o) for o in data["outcomes"])
        return cls(**data)


@dataclass(frozen=True)
class SeedSummary:
    """A method trained with several seeds, on one metric: the spread across seeds.

    Attributes:
        values: the metric of each seed, in ``seeds`` order.
        sd: sample standard deviation across seeds (ddof 1).
        ci_sample: 95% interval of the seed mean with the seeds held fixed (test-sample
            variance only: what a single-seed report shows).
        ci_seed_sample: 95% two-level bootstrap interval, resampling seeds and test examples
            (the uncertainty of "this method, trained again").
    """

    task: str
    prompt: str
    method: str
    metric: str
    seeds: tuple[int, ...]
    values: tuple[float, ...]
    mean: float
    sd: float
    ci_sample: tuple[float, float]
    ci_seed_sample: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("seeds", "values", "ci_sample", "ci_seed_sample"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SeedSummary:
        data = dict(data)
        for key in ("seeds", "values", "ci_sample", "ci_seed_sample"):
            data[key] = tuple(data[key])
        return cls(**data)
