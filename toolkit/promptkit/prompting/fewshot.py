"""Seeded selection of few-shot demonstrations: promptkit's own draw per example id, and
lm-evaluation-harness's ``default`` and ``first_n`` samplers for tasks that ask for them
(``FewShotSettings.sampler``)."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

from promptkit.config import FewShotSettings
from promptkit.records import Example


class FewShotSampler:
    """Draws ``k`` demonstrations for each evaluated example from a pool (the train split).

    The draw for an example depends only on the seed and the example's id, so it is the same
    whatever the batch size, order or ``--limit``; the example itself is never its own shot.

    Args:
        pool: candidate demonstrations (never the evaluated split: the task schema forbids it).
        k: shots per example.
        seed: run seed.
    """

    def __init__(self, pool: Sequence[Example], k: int, seed: int = 0):
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        self.pool = list(pool)
        self.k = k
        self.seed = seed

    def sample(self, example: Example) -> list[Example]:
        if self.k == 0 or not self.pool:
            return []
        digest = hashlib.sha256(f"{self.seed}:{example.id}".encode()).digest()
        rng = random.Random(int.from_bytes(digest[:8], "big"))
        # Draw k+1 and drop the example itself if it is there: O(k) rather than O(pool) per
        # example, which matters for large train splits (SST-2: 67k rows).
        picks = rng.sample(self.pool, min(self.k + 1, len(self.pool)))
        return [ex for ex in picks if ex.id != example.id][: self.k]


def _same_row(a: Example, b: Example) -> bool:
    """Whether a demonstration is the evaluated row (lm-eval compares the documents' contents)."""
    return (a.fields, a.references, a.choices, a.label) == (b.fields, b.references, b.choices, b.label)


class LmEvalSampler:
    """lm-evaluation-harness's ``default`` few-shot sampler (0.4.x ``ContextSampler``): one
    ``random.Random(seed)`` stream for the task, drawn once per evaluated document in split
    order. Evaluated row r gets the r-th draw, so its demonstrations are lm-eval's whatever
    ``--limit`` keeps (draws for the rows before it are made and kept, in order).

    With ``exclude_evaluated`` each draw takes ``k + 1`` rows and drops the evaluated row, as
    lm-eval does when its few-shot split is its test split (or neither is set).

    Raises:
        ValueError: an example with no ``row`` (not read from a split).
    """

    def __init__(self, pool: Sequence[Example], k: int, seed: int, exclude_evaluated: bool = False):
        self.pool = list(pool)
        self.k = k
        self.exclude = exclude_evaluated
        self._rnd = random.Random(seed)
        self._draws: list[list[Example]] = []

    def sample(self, example: Example) -> list[Example]:
        if self.k == 0 or not self.pool:
            return []
        if example.row is None:
            raise ValueError(f"example {example.id!r} has no row index; lm-eval's sampler draws by row")
        size = self.k + 1 if self.exclude else self.k
        while len(self._draws) <= example.row:
            self._draws.append(self._rnd.sample(self.pool, min(size, len(self.pool))))
        picks = self._draws[example.row]
        return [ex for ex in picks if not _same_row(ex, example)][: self.k] if self.exclude else list(picks)


class FirstNSampler:
    """lm-evaluation-harness's ``first_n``: the first ``k`` rows of the pool in order (MMLU's
    dev examples), the evaluated row left out under ``exclude_evaluated``."""

    def __init__(self, pool: Sequence[Example], k: int, exclude_evaluated: bool = False):
        self.pool = list(pool)
        self.k = k
        self.exclude = exclude_evaluated

    def sample(self, example: Example) -> list[Example]:
        if self.k == 0:
            return []
        rows = [ex for ex in self.pool if not _same_row(ex, example)] if self.exclude else self.pool
        return rows[: self.k]


Sampler = FewShotSampler | LmEvalSampler | FirstNSampler


def make_sampler(settings: FewShotSettings, pool: Sequence[Example], k: int, seed: int) -> Sampler:
    """The sampler a task's ``fewshot`` settings name (``seed``: the run's few-shot stream, for
    promptkit's own sampler; lm-eval's sampler has its own seed in the settings)."""
    if settings.sampler == "lm-eval":
        return LmEvalSampler(pool, k, settings.seed, settings.exclude_evaluated)
    if settings.sampler == "first-n":
        return FirstNSampler(pool, k, settings.exclude_evaluated)
    return FewShotSampler(pool, k, seed=seed)
