"""Ctrl-C during a run: the first press stops at the next safe point, the second at once.

Safe points are where nothing computed is lost: a chunk of predictions saved to the cell's
progress file, a training step written to a checkpoint. Either way the run directory can be
continued with ``promptkit eval --resume``.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator

_state = {"requested": False}


class Interrupted(KeyboardInterrupt):
    """The run stopped at a safe point because Ctrl-C was pressed."""


@contextlib.contextmanager
def stop_at_safe_points() -> Iterator[None]:
    """Within the block, a first SIGINT only asks the run to stop (see :func:`check`)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if _state["requested"]:
            raise KeyboardInterrupt
        _state["requested"] = True
        print("\nstopping after the current batch (its work is saved); Ctrl-C again to stop now", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _state["requested"] = False


def requested() -> bool:
    return _state["requested"]


def check(where: str) -> None:
    """Raise :class:`Interrupted` if a stop was asked for; call where the work so far is saved."""
    if _state["requested"]:
        raise Interrupted(where)
