"""Named kill points, for testing crash safety with a real SIGKILL.

``PROMPTKIT_KILL_AT=<point>:<n>`` makes the process kill itself with SIGKILL (no cleanup, no
``finally``, no flush: what a power cut or the OOM killer does) the ``n``-th time it passes
``point`` (``a:1,b:3``: whichever comes first). Unset (always, outside tests) it costs one environment lookup per call. The points:

- ``chunk-saved``: a chunk of a cell's predictions was appended to its progress file;
- ``checkpoint-saved``: a training checkpoint was written;
- ``adapter-saved``: a trained adapter was written, before its cell is evaluated;
- ``cell-saved``: results.json was written with one more finished cell;
- ``report``: between two of the report files the run ends with.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

ENV = "PROMPTKIT_KILL_AT"
_passed: Counter[str] = Counter()


def kill_point(name: str) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    for item in spec.split(","):  # several points: whichever is reached first
        point, _, nth = item.strip().partition(":")
        if point == name:
            _passed[name] += 1
            if _passed[name] == int(nth or 1):
                os.kill(os.getpid(), signal.SIGKILL)
