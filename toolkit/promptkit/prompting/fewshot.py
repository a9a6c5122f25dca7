"""Seeded selection of few-shot demonstrations."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

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
