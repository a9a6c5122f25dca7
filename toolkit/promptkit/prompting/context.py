"""What happens to a prompt longer than the model can read: the context-length policy.

Before a cell runs, every prompt it will feed (evaluation, dev and training) is measured in the
model's tokens against the positions it has: the model's context, less the generation budget
(or the longest choice), less a soft prompt's virtual tokens; training prompts against
``training.max_length`` as well. What is done with one that does not fit is the policy, set
per task (``context_policy``) or per run (``--set context_policy=...``):

- ``truncate-left`` (default): the example's longest text field (a QA context, a document to
  summarise) loses its oldest tokens, from the left, until the prompt fits, as
  lm-evaluation-harness cuts from the left. The template around it, the question and the
  target are never cut. A prompt that cannot fit even with that field emptied is skipped.
- ``skip``: the example is not given to the model; it keeps its place in the cell with an empty
  prediction (scored as wrong), so that every method is still compared on the same examples.
- ``error``: the cell fails, naming the first example that does not fit and by how much.

Under ``truncate-left`` and ``skip`` a few-shot prompt first loses demonstrations, oldest first
(the first in the prompt go first): it keeps the most of its last demonstrations that fit. Only
when it does not fit even with none is the policy applied, to the prompt without demonstrations.
Without this rule a few-shot cell on a short-context model would skip nearly every prompt, run
almost nothing, and look cheap; a prompt with fewer demonstrations is still the example asked.

Every cell records how many examples were truncated or skipped, and how many lost demonstrations
and how many demonstrations went (results.json ``context``; ``context_phrase`` words it).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from promptkit.errors import PromptkitError
from promptkit.records import Example, Prompt
from promptkit.records.results import PolicyReport

ContextPolicy = Literal["truncate-left", "skip", "error"]
DEFAULT_POLICY: ContextPolicy = "truncate-left"
SHOWN_IDS = 10


class ContextLengthError(PromptkitError):
    """A prompt is longer than the model can read and the policy is ``error``."""


@dataclass
class ContextReport:
    """What the policy did to one list of prompts (results.json ``context`` of a cell)."""

    policy: str
    budget: int | None  # tokens a prompt may have; None: the model sets no limit
    truncated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    shots_dropped: list[str] = field(default_factory=list)  # prompts run with fewer demonstrations
    demonstrations_dropped: int = 0  # over all of shots_dropped
    # tokens of the longest prompt measured before the policy: exact whenever a prompt was over
    # the budget (a prompt the byte bound clears is shorter than any that was not)
    longest: int = 0

    def summary(self) -> PolicyReport:
        """What results.json records (counts, and the first ids of each kind)."""
        return PolicyReport(policy=self.policy, budget=self.budget, truncated=len(self.truncated), skipped=len(self.skipped),
                            longest_prompt_tokens=self.longest, truncated_ids=tuple(self.truncated[:SHOWN_IDS]),
                            skipped_ids=tuple(self.skipped[:SHOWN_IDS]), shots_dropped=len(self.shots_dropped),
                            demonstrations_dropped=self.demonstrations_dropped,
                            shots_dropped_ids=tuple(self.shots_dropped[:SHOWN_IDS]))


def context_phrase(report: PolicyReport | None) -> list[str]:
    """What the policy did to one list of prompts, in words, e.g. ``["2 truncated", "3 lost
    demonstrations (12 dropped, oldest first)"]``; empty when every prompt fit as rendered (or
    nothing was recorded)."""
    if report is None:
        return []
    phrases = [f"{n} {k}" for k, n in (("truncated", report.truncated), ("skipped", report.skipped)) if n]
    if report.shots_dropped:
        phrases.append(f"{report.shots_dropped} lost demonstrations ({report.demonstrations_dropped} dropped, oldest first)")
    return phrases


@dataclass(frozen=True)
class Fitted:
    """The prompts to run, and which of them to skip (their indices)."""

    prompts: list[Prompt]
    skip: frozenset[int]
    report: ContextReport


def fit_prompts(examples: Sequence[Example], render: Callable[[Example], Prompt], measure: Callable[[Prompt], int],
                budget: int | None, policy: str, *, encode: Callable[[str], list[int]],
                decode: Callable[[list[int]], str], where: str,
                bound: Callable[[Prompt], int] | None = None) -> Fitted:
    """Render every example and apply ``policy`` to the prompts over ``budget`` tokens.

    Args:
        render: example -> prompt, its demonstrations in ``Prompt.shots`` (those that do not fit
            are dropped from there, oldest first, before ``policy`` applies).
        measure: tokens the model reads for a prompt (chat formatting and special tokens included).
        encode / decode: the tokenizer, without special tokens (field truncation).
        where: names the cell in the error of the ``error`` policy.
        bound: a cheap upper bound of ``measure`` (e.g. UTF-8 bytes plus the special tokens):
            a prompt it puts within the budget is not tokenized here.
    """
    prompts = [render(ex) for ex in examples]
    report = ContextReport(policy, budget)
    if budget is None:
        return Fitted(prompts, frozenset(), report)
    skip: set[int] = set()

    def bare(ex: Example) -> Prompt:
        return dataclasses.replace(render(ex), shots=())

    for i, (ex, prompt) in enumerate(zip(examples, prompts, strict=True)):
        if bound is not None and bound(prompt) <= budget:
            continue  # fits whatever the tokenizer does: no need to tokenize it twice
        n = measure(prompt)
        report.longest = max(report.longest, n)
        if n <= budget:
            continue
        if policy == "error":
            raise ContextLengthError(
                f"{where}example {ex.id!r} has {n:,} prompt tokens, {n - budget:,} more than the {budget:,} the model "
                "can read here; set context_policy: truncate-left (cut the longest field from the left) or skip")
        shown = _drop_shots(prompt, measure, budget)
        if shown is not None:
            prompts[i] = shown
            report.shots_dropped.append(ex.id)
            report.demonstrations_dropped += len(prompt.shots) - len(shown.shots)
            continue
        # Too long even with no demonstrations: the policy applies to the prompt without any.
        cut = _truncate_left(ex, bare, measure, budget, encode, decode) if policy == "truncate-left" else None
        if cut is None:
            skip.add(i)
            report.skipped.append(ex.id)
        else:
            prompts[i] = cut
            report.truncated.append(ex.id)
            if prompt.shots:
                report.shots_dropped.append(ex.id)
                report.demonstrations_dropped += len(prompt.shots)
    return Fitted(prompts, frozenset(skip), report)


def _drop_shots(prompt: Prompt, measure: Callable[[Prompt], int], budget: int) -> Prompt | None:
    """The prompt with its most recent demonstrations that fit (at least one dropped), or None
    when it has none or does not fit even without any."""
    shots = prompt.shots

    def with_last(k: int) -> Prompt:
        # Slicing the rendered turns is the same as rendering fewer demonstrations (each is
        # rendered on its own), and works for whatever ``render`` the caller passed.
        return dataclasses.replace(prompt, shots=shots[len(shots) - k :])

    if not shots or measure(with_last(0)) > budget:
        return None
    # the most kept that fit (all of them do not)
    return with_last(_most_that_fit(lambda k: measure(with_last(k)) <= budget, len(shots) - 1))


def _most_that_fit(fits: Callable[[int], bool], most: int) -> int:
    """The largest ``k`` in ``[0, most]`` with ``fits(k)``, given ``fits(0)`` and that a prompt grows
    with ``k`` (binary search)."""
    lo, hi = 0, most
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _truncate_left(ex: Example, render: Callable[[Example], Prompt], measure: Callable[[Prompt], int], budget: int,
                   encode: Callable[[str], list[int]], decode: Callable[[list[int]], str]) -> Prompt | None:
    """The prompt with the example's longest text field cut from the left to fit, or None."""
    texts = {k: v for k, v in ex.fields.items() if isinstance(v, str) and v}
    if not texts:
        return None
    name = max(texts, key=lambda k: len(texts[k]))
    ids = encode(texts[name])

    def with_last(k: int) -> Prompt:
        kept = decode(ids[len(ids) - k :]).lstrip() if k else ""
        return render(dataclasses.replace(ex, fields={**ex.fields, name: kept}))

    if measure(with_last(0)) > budget:
        return None  # the rest of the prompt alone is too long
    return with_last(_most_that_fit(lambda k: measure(with_last(k)) <= budget, len(ids)))  # the most tokens kept
