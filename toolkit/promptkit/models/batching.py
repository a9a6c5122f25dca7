"""Runtime settings shared by inference and batching helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

# (description, completed, total): the CLI turns these into progress bars.
ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Runtime:
    """How inference runs (not what it computes: results must not depend on these).

    Attributes:
        batch_size: prompts per forward pass.
        chat: whether prompts go through the tokenizer's chat template.
        progress: optional progress callback.
    """

    batch_size: int = 8
    chat: bool = False
    progress: ProgressFn | None = None

    def report(self, label: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(label, done, total)


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[list[int]]:
    """Indices grouped into batches of similar length, longest first.

    Similar lengths keep padding (wasted compute) small; longest first makes an out-of-memory
    error happen at once rather than at the end of a long run.
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]
