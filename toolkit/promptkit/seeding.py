"""Named random streams derived from the run seed.

One integer seeds a run, but the run draws from several independent streams: the train/dev
split (``split``), the few-shot demonstrations (``fewshot``), the bootstrap resamples
(``bootstrap``), the tuning sampler (``tuning``), and per training seed its batch order and
dropout (``training``) and, derived from that, its adapter initialisation (``init``). Deriving each stream from ``(seed, name)`` keeps them
apart, so adding training seeds, or a second tuning candidate, moves neither the few-shot draws
nor the confidence intervals.
"""

from __future__ import annotations

import hashlib


def derive(seed: int, stream: str) -> int:
    """A 32-bit seed for the random stream ``stream`` of a run seeded with ``seed``.

    Args:
        seed: the run (or training) seed.
        stream: the stream's name, e.g. ``"bootstrap"``, ``"fewshot"``, ``"split"``.

    Returns:
        An integer in ``[0, 2**32)``, the same for the same arguments on every machine.
    """
    digest = hashlib.sha256(f"promptkit:{seed}:{stream}".encode()).digest()
    return int.from_bytes(digest[:4], "big")
