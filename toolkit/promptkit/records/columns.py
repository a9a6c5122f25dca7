"""Score columns: a metric scored on the output of one filter pipeline is the column
``metric[pipeline]`` (lm-evaluation-harness writes ``exact_match,strict-match``).

A task without filters has one column per metric, named by the metric, as always. A pipeline
name is one segment of letters, digits, ``_``, ``.``, ``@`` and ``-``, so a column is one word in
results.json, the report tables and the command line (``promptkit report RUN --metric
'exact_match[strict-match]'``: quote it, since some shells expand brackets).
"""

from __future__ import annotations

import re

# A filter pipeline's name (lm-eval's are strict-match, flexible-extract, maj@64, ...).
PIPELINE_NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9_.@\-]*$"
MAX_PIPELINE_NAME = 64
_COLUMN = re.compile(r"^(?P<metric>.+)\[(?P<pipeline>[A-Za-z0-9][A-Za-z0-9_.@\-]*)\]$")


def column_name(metric: str, pipeline: str | None) -> str:
    """The column of ``metric`` on ``pipeline``'s outputs (``None``: the unfiltered output)."""
    return metric if pipeline is None else f"{metric}[{pipeline}]"


def split_column(column: str) -> tuple[str, str | None]:
    """``"exact_match[strict-match]"`` -> ``("exact_match", "strict-match")``; a bare metric name
    -> ``(name, None)``."""
    match = _COLUMN.match(column)
    if match is None:
        return column, None
    return match["metric"], match["pipeline"]
