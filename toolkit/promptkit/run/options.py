"""How a run is driven (callbacks, resume, debug), as opposed to what it computes (RunConfig)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from promptkit.models.batching import ProgressFn
from promptkit.records.results import CellResult


@dataclass(frozen=True)
class RunOptions:
    """How a run is driven (not what it computes).

    Args:
        progress: optional callback ``(label, done, total)`` for progress bars.
        on_cell: optional callback called with each finished :class:`CellResult`.
        on_start: optional callback called with the run directory once it is known.
        resume: continue the run in ``out_dir/run_id``: finished cells are kept, an interrupted
            cell continues from its saved chunks and last checkpoint.
        debug: let exceptions that are not promptkit's propagate with their traceback instead
            of failing the cell they happened in.
        command: the command line that started this invocation (results.json ``commands``).
    """

    progress: ProgressFn | None = None
    on_cell: Callable[[CellResult], None] | None = None
    on_start: Callable[[Path], None] | None = None
    resume: bool = False
    debug: bool = False
    command: str = ""
