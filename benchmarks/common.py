"""Helpers the side-by-side benchmark scripts share (standard library only: the anchor
environments import this too)."""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence

# Every benchmark process runs offline.
OFFLINE_ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def summary(values: Sequence[float]) -> str:
    """``median (min-max)`` of repeated measurements."""
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def markdown_table(header: Sequence[str], rows: Sequence[str]) -> str:
    """A Markdown table from its column names and already formatted ``| ... |`` rows."""
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *rows])
