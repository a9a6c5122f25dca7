"""The samples files of a run: ``samples/<task>/<method>.jsonl``, one :class:`SampleRow` per
evaluated example of every cell (a file holds every prompt template and seed of one task x
method entry); the run writes them, ``promptkit report`` reads them back."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from promptkit.errors import PromptkitError
from promptkit.files import MB, read_text
from promptkit.records.results import CellResult
from promptkit.records.validation import RecordError, conform


@dataclass
class SampleRow:
    """One evaluated example of one cell: a line of ``samples/<task>/<method>.jsonl`` (a file holds
    every prompt template and seed of one task x method entry).

    Attributes:
        filtered: the result of each of the task's filter pipelines on ``prediction``, by pipeline
            name (written only when the task has ``filters``): the columns ``metric[pipeline]``
            score these, and ``promptkit report --metric`` rescores them without a model.
        scores: the per-example score of every column that has one (corpus metrics have none).
        group: the example's group (``group_by``; written only when the split has one): the
            paired tests of ``promptkit report`` resample by it.
        choices / choice_logprobs / label / predicted_label: tasks that score choices only.
        extra: keys of a hand-edited or newer file, kept as they were.
    """

    example_id: str
    prompt_name: str
    method: str
    seed: int | None
    prompt: str = ""
    prediction: str = ""
    raw_output: str = ""
    filtered: dict[str, str] = field(default_factory=dict)
    references: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    prompt_tokens: int = 0
    output_tokens: int = 0
    group: str | None = None
    choices: list[str] | None = None
    choice_logprobs: list[float] | None = None
    label: int | None = None
    predicted_label: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, int | None]:
        """The cell it belongs to within its file: prompt template, method entry, seed."""
        return (self.prompt_name, self.method, self.seed)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        extra = data.pop("extra")
        if not self.filtered:  # files of tasks without filters read as they always have
            del data["filtered"]
        if self.group is None:
            del data["group"]
        if self.choices is None:
            for key in ("choices", "choice_logprobs", "label", "predicted_label"):
                del data[key]
        return {**data, **extra}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SampleRow:
        """A row as a samples file holds it, checked by field (:class:`RecordError` names it)."""
        if not isinstance(data, dict):
            raise RecordError(f"a row is an object, not {type(data).__name__}")
        known = _ROW_FIELDS
        return cls(**conform(cls, {k: v for k, v in data.items() if k in known}, ""),
                   extra={k: v for k, v in data.items() if k not in known})


_ROW_FIELDS = frozenset(f.name for f in fields(SampleRow)) - {"extra"}


def sample_lines(rows: Iterable[SampleRow]) -> str:
    """A samples file's text (one JSON line per row)."""
    return "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in rows)


# Rows hold prompts and outputs: a run of 100,000 long prompts is about a gigabyte.
MAX_SAMPLES_BYTES = 2048 * MB


def read_samples(path: Path) -> list[SampleRow]:
    """Every row of a samples file, read within a bound (lines end at ``\\n`` only: text may
    hold U+2028, and JSON escapes every other line break)."""
    try:
        text = read_text(path, "a samples file", MAX_SAMPLES_BYTES)
    except UnicodeDecodeError as exc:
        raise RecordError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); not a samples file") from None
    rows = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line:
            continue
        try:
            rows.append(SampleRow.from_json(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise RecordError(f"{path}:{number}: invalid JSON line: {exc.msg}; the file was edited or damaged") from None
        except RecordError as exc:
            raise RecordError(f"{path}:{number}: {exc}; the file was edited or damaged") from None
    return rows


def inside(run_dir: Path, rel: str, field_name: str) -> Path:
    """``run_dir / rel`` when it stays inside the run directory, symlinks resolved: a results.json
    whose paths lead elsewhere (``/etc/...``, ``../``, a planted symlink) must not make promptkit
    read or rewrite another file.

    Raises:
        PromptkitError: naming the field and the path.
    """
    root = Path(run_dir).resolve()
    path = Path(run_dir) / rel
    if Path(rel).is_absolute() or not path.resolve().is_relative_to(root):
        raise PromptkitError(f"{Path(run_dir) / 'results.json'}: {field_name} {rel!r} leads out of the run directory; "
                             "a run's files are read and written inside it only")
    return path


def owned(cell: CellResult, rows: list[SampleRow], path: Path) -> list[SampleRow]:
    """``rows``, a finished cell's rows read from ``path``, if they are the cell's: one per
    evaluated example, none twice, as many as the cell's ``n`` (a tampered file could otherwise
    make ``promptkit report`` score rows the cell never produced).

    Raises:
        RecordError: naming the file, the cell and what is wrong.
    """
    if not rows or cell.error is not None:
        return rows
    where = f"{path}: prompt {cell.prompt!r}, method {cell.method!r}, seed {cell.seed!r}"
    seen: set[str] = set()
    for row in rows:
        if row.example_id in seen:
            raise RecordError(f"{where}: example {row.example_id!r} has two rows; the file was edited or damaged")
        seen.add(row.example_id)
    if len(rows) != cell.n:
        raise RecordError(f"{where}: {len(rows)} rows, but results.json says the cell evaluated n={cell.n}; "
                          "the file was edited or damaged")
    return rows


def cell_rows(path: Path, cells: Iterable[CellResult]) -> list[SampleRow]:
    """The rows of the samples file ``path`` that belong to one of ``cells``, in file order."""
    keys = {(c.prompt, c.method, c.seed) for c in cells}
    return [r for r in read_samples(path) if r.key in keys] if path.is_file() else []


class SampleFiles:
    """The samples files of one run directory, each read once: ``rows(cell)`` is a cell's rows
    in the order they were scored."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self._files: dict[Path, list[SampleRow]] = {}

    def file(self, rel: str) -> list[SampleRow]:
        path = inside(self.run_dir, rel, "cells[].samples")
        if path not in self._files:
            self._files[path] = read_samples(path) if path.is_file() else []
        return self._files[path]

    def loaded(self) -> dict[Path, list[SampleRow]]:
        """The files read so far (their rows are the objects ``rows`` returned)."""
        return dict(self._files)

    def rows(self, cell: CellResult) -> list[SampleRow]:
        if not cell.samples:
            return []
        key = (cell.prompt, cell.method, cell.seed)
        return owned(cell, [r for r in self.file(cell.samples) if r.key == key], self.run_dir / cell.samples)
