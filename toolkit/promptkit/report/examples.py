"""The example browser's data: per task and prompt, the examples where methods disagree most.

Read from the run's samples files (``samples/<task>/<method>.jsonl``), so a report made later
with ``promptkit report`` shows the same examples. Disagreement on an example is the spread of
the per-sample headline scores across the method cells (max - min), ties broken by file order;
the page carries at most ``limit`` examples per task/prompt and says how many there are.
Prompts are long (few-shot demonstrations, contexts): each is cut to ``PROMPT_CHARS`` around the
middle, and a method's prompt is kept only where it differs from the first method's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from promptkit.records.results import CellResult, RunResult
from promptkit.records.samples import SampleFiles, SampleRow

LIMIT = 200
PROMPT_CHARS = 2400


def _cut(text: str, limit: int = PROMPT_CHARS) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[… {len(text) - limit:,} characters left out …]\n{text[-half:]}"


def cell_label(cell: CellResult, cells: Sequence[CellResult]) -> str:
    """The method, with its seed where the method has several cells."""
    several = sum(1 for c in cells if c.method == cell.method and c.prompt == cell.prompt) > 1
    return f"{cell.method} (seed {cell.seed})" if several else cell.method


def browser_data(result: RunResult, run_dir: str | Path | None, task: str, prompt: str, metric: str,
                 binary: bool, limit: int = LIMIT) -> dict[str, Any] | None:
    """The browser payload of one task/prompt, or None without samples (or with one method).

    Returns:
        ``{"metric", "binary", "cells": [label...], "total": n, "shown": k, "examples": [{"id",
        "prompt", "references", "group", "outputs": {label: {"prediction", "score", "prompt"?}},
        "spread"}]}``, examples ordered by disagreement, most first.
    """
    if run_dir is None:
        return None
    cells = [c for c in result.cells if c.task == task and c.prompt == prompt and c.error is None and c.samples]
    if len(cells) < 2:
        return None
    files = SampleFiles(Path(run_dir))
    by_cell: list[tuple[str, dict[str, SampleRow]]] = []
    for c in cells:
        rows = {r.example_id: r for r in files.rows(c)}
        by_cell.append((cell_label(c, cells), rows))
    ids = [i for i in by_cell[0][1] if all(i in rows for _, rows in by_cell)]
    if not ids:
        return None
    examples = []
    for order, ex_id in enumerate(ids):
        first = by_cell[0][1][ex_id]
        outputs: dict[str, dict[str, Any]] = {}
        for label, rows in by_cell:
            row = rows[ex_id]
            out: dict[str, Any] = {"prediction": row.prediction, "score": row.scores.get(metric)}
            if row.prompt != first.prompt:
                out["prompt"] = _cut(row.prompt)
            outputs[label] = out
        scores = [o["score"] for o in outputs.values() if isinstance(o["score"], (int, float))]
        spread = (max(scores) - min(scores)) if scores else 0.0
        examples.append((-spread, order, {"id": ex_id, "prompt": _cut(first.prompt),
                                          "references": list(first.references), "group": first.group,
                                          "outputs": outputs, "spread": round(spread, 2)}))
    examples.sort(key=lambda e: (e[0], e[1]))
    shown = [e[2] for e in examples[:limit]]
    return {"metric": metric, "binary": binary, "cells": [label for label, _ in by_cell], "total": len(ids),
            "shown": len(shown), "examples": shown}


def script_json(data: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``</script>``, no ``<!--``."""
    return (json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
