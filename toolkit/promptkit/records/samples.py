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


@dataclass
class SampleRow:
    """One evaluated example of one cell: a line of ``samples/<task>/<method>.jsonl`` (a file holds
    every prompt template and seed of one task x method entry).

    Attributes:
        scores: the per-example score of every metric that has one (corpus metrics have none).
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
        if self.group is None:
            del data["group"]
        if self.choices is None:
            for key in ("choices", "choice_logprobs", "label", "predicted_label"):
                del data[key]
        return {**data, **extra}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SampleRow:
        known = {f.name for f in fields(cls)} - {"extra"}
        return cls(**{k: v for k, v in data.items() if k in known},
                   extra={k: v for k, v in data.items() if k not in known})


def sample_lines(rows: Iterable[SampleRow]) -> str:
    """A samples file's text (one JSON line per row)."""
    return "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in rows)


# Rows hold prompts and outputs: a run of 100,000 long prompts is about a gigabyte.
MAX_SAMPLES_BYTES = 2048 * MB


def read_samples(path: Path) -> list[SampleRow]:
    """Every row of a samples file, read within a bound (lines end at ``\\n`` only: text may
    hold U+2028, and JSON escapes every other line break)."""
    text = read_text(path, "a samples file", MAX_SAMPLES_BYTES)
    return [SampleRow.from_json(json.loads(line)) for line in text.split("\n") if line]


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
        return [r for r in self.file(cell.samples) if r.key == key]
