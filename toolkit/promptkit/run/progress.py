"""Per-example progress of a cell: predictions are saved as they are made, so a killed run
loses at most the chunk of examples it was predicting.

A cell predicts its examples in fixed chunks (``RunConfig.save_every`` examples, the same with
or without interruptions, so a resumed cell computes every chunk exactly as an uninterrupted
one does). After each chunk its predictions are appended to ``partial/<cell>.jsonl`` in the run
directory, one JSON line per example with the cell's fingerprint, flushed and fsync'd. On
``--resume`` the complete chunks whose lines carry the same fingerprint are reused; a line cut
by the kill, a chunk missing rows or lines of another configuration are dropped and computed
again. The file is deleted once the finished cell is in results.json.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from promptkit.records import Prediction

PARTIAL_DIR = "partial"
_TUPLES = {f.name for f in fields(Prediction) if str(f.type).startswith("tuple")}  # JSON gives lists back


def fingerprint(payload: Mapping[str, Any]) -> str:
    """A short digest of everything a cell's predictions depend on (canonical JSON)."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def chunks(n: int, size: int) -> list[range]:
    """The fixed chunks of a cell's ``n`` examples."""
    return [range(start, min(n, start + size)) for start in range(0, n, max(size, 1))]


def prediction_row(index: int, pred: Prediction, cell_hash: str) -> str:
    return json.dumps({"i": index, "cell": cell_hash, "prediction": asdict(pred)}, ensure_ascii=False) + "\n"


def prediction_from(data: Mapping[str, Any]) -> Prediction:
    values: dict[str, Any] = {k: (tuple(v) if k in _TUPLES else v) for k, v in data.items()}
    return Prediction(**values)


class PartialCell:
    """The progress file of one cell (see the module docstring)."""

    def __init__(self, path: Path, cell_hash: str):
        self.path = path
        self.cell_hash = cell_hash

    def load(self, spans: Sequence[range], rewrite: bool = True) -> dict[int, Prediction]:
        """The predictions of every complete chunk saved under this fingerprint; with ``rewrite``
        (the writing process) the file is rewritten with those lines only, so later appends
        follow a whole line."""
        if not self.path.is_file():
            return {}
        found: dict[int, Prediction] = {}
        with self.path.open("rb") as fh:
            for raw in fh:
                try:
                    row = json.loads(raw.decode("utf-8"))
                    if row.get("cell") == self.cell_hash:
                        found[int(row["i"])] = prediction_from(row["prediction"])
                except (ValueError, KeyError, TypeError):  # the line the kill cut, or not ours
                    continue
        kept = {i: found[i] for span in spans if all(i in found for i in span) for i in span}
        if rewrite:
            self._rewrite((i, kept[i]) for i in sorted(kept))
        return kept

    def append(self, rows: Iterable[tuple[int, Prediction]]) -> None:
        text = "".join(prediction_row(i, p, self.cell_hash) for i, p in rows)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())

    def _rewrite(self, rows: Iterable[tuple[int, Prediction]]) -> None:
        from promptkit.records.results import write_atomic

        write_atomic(self.path, "".join(prediction_row(i, p, self.cell_hash) for i, p in rows))

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
        try:
            self.path.parent.rmdir()  # the last cell's file: no empty folder left behind
        except OSError:
            pass


class SavedCandidates:
    """The tuning candidates of one method finished so far (one JSON line each, fsync'd), keyed
    by a digest of their settings; lines of another configuration are ignored."""

    def __init__(self, path: Path, digest: str):
        self.path = path
        self.digest = digest

    def load(self, rewrite: bool = True) -> dict[str, Any]:
        from promptkit.records.results import Candidate

        found: dict[str, Any] = {}
        if not self.path.is_file():
            return found
        with self.path.open("rb") as fh:
            for raw in fh:
                try:
                    row = json.loads(raw.decode("utf-8"))
                    if row.get("digest") == self.digest:
                        c = row["candidate"]
                        found[row["key"]] = Candidate(dict(c["params"]), float(c["dev_score"]), float(c["train_s"]), c.get("error"))
                except (ValueError, KeyError, TypeError):  # the line the kill cut
                    continue
        if rewrite:  # whole lines only, so later appends follow a whole line
            from promptkit.records.results import write_atomic

            write_atomic(self.path, "".join(self._line(k, c) for k, c in found.items()))
        return found

    def _line(self, key: str, candidate: Any) -> str:
        return json.dumps({"digest": self.digest, "key": key, "candidate": asdict(candidate)}, ensure_ascii=False) + "\n"

    def append(self, key: str, candidate: Any) -> None:
        line = self._line(key, candidate)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
