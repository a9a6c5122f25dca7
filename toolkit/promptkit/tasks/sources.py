"""Dataset sources: local json/jsonl/csv/parquet files and the Hugging Face hub -> rows.

Rows are plain dicts. Task adapters turn them into :class:`~promptkit.records.Example`.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from promptkit.config import FieldPaths, FilesSource, HubSource, SplitFiles
from promptkit.errors import DatasetError

Row = dict[str, Any]
FORMATS = ("json", "jsonl", "csv", "parquet")


def detect_format(path: Path, declared: str) -> str:
    if declared != "auto":
        return declared
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    ext = suffixes[-1].lstrip(".") if suffixes else ""
    if ext in ("jsonl", "ndjson"):
        return "jsonl"
    if ext in FORMATS:
        return ext
    raise DatasetError(
        f"{path}: cannot tell the file format from the extension {ext!r}; use .json, .jsonl, "
        ".csv or .parquet (optionally .gz for json/jsonl), or set format: in the source"
    )


# What one data file may hold: rows are read into memory whole (every row is hashed for the
# leakage checks), so a larger file is refused with a message rather than exhausting memory.
MAX_DATA_BYTES = 4 * 2**30
MAX_ROWS = 20_000_000


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n:,} bytes"


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")  # noqa: SIM115 - caller closes


def read_file(path: Path, fmt: str) -> list[Row]:
    """Read every row of one file.

    Raises:
        DatasetError: missing file, malformed line (with its number), rows that are not objects,
            text that is not UTF-8 (with the line of the first bad byte), an unreadable file.
    """
    if not path.is_file():
        raise DatasetError(f"data file not found: {path}")
    fmt = detect_format(path, fmt)
    size = path.stat().st_size
    if size > MAX_DATA_BYTES:
        raise DatasetError(f"{path}: {_size(size)}; promptkit reads a data file whole, at most "
                           f"{_size(MAX_DATA_BYTES)}: split it into several files (a split may list several paths)")
    try:
        rows = _read_file(path, fmt)
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}:{_line_of_bad_byte(path)}: not UTF-8 text ({exc.reason}, byte 0x{exc.object[exc.start]:02x}); "
                           "re-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)") from None
    except (OSError, csv.Error) as exc:
        raise DatasetError(f"{path}: cannot read this file: {exc}") from None
    if len(rows) > MAX_ROWS:
        raise DatasetError(f"{path}: {len(rows):,} rows; a data file may have at most {MAX_ROWS:,}: split it into "
                           "several files (a split may list several paths)")
    return rows


def _line_of_bad_byte(path: Path) -> int:
    data = gzip.open(path, "rb").read() if path.suffix == ".gz" else path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data[: exc.start].count(b"\n") + 1
    return 1


def _read_file(path: Path, fmt: str) -> list[Row]:
    if fmt == "jsonl":
        rows: list[Row] = []
        with _open_text(path) as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DatasetError(f"{path}:{lineno}: invalid JSON line: {exc.msg}") from exc
                if not isinstance(row, dict):
                    raise DatasetError(f"{path}:{lineno}: expected a JSON object per line, got {type(row).__name__}")
                rows.append(row)
        return rows
    if fmt == "json":
        with _open_text(path) as fh:
            try:
                data = json.load(fh)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
        # Accept a list of rows or {"data": [...]} (a common wrapper).
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            data = data["data"]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise DatasetError(f"{path}: expected a JSON list of objects (or {{'data': [...]}})")
        return data
    if fmt == "csv":
        with _open_text(path) as fh:
            return [dict(r) for r in csv.DictReader(fh)]
    if fmt == "parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError as exc:  # pyarrow comes with `datasets`
            raise DatasetError(f"{path}: reading parquet needs pyarrow (pip install pyarrow)") from exc
        return list(pq.read_table(path).to_pylist())
    raise DatasetError(f"{path}: unsupported format {fmt!r}; accepted: {', '.join(FORMATS)}")


def get_path(row: Mapping[str, Any], path: str) -> Any:
    """Follow a dotted path (``answers.text``); over a list of objects it maps the key."""
    value: Any = row
    for key in path.split("."):
        if isinstance(value, Mapping):
            if key not in value:
                raise KeyError(key)
            value = value[key]
        elif isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
            value = [v[key] for v in value]
        elif isinstance(value, list) and key.isdigit():
            value = value[int(key)]
        else:
            raise KeyError(key)
    return value


def extract(row: Mapping[str, Any], spec: FieldPaths, *, where: str) -> Any:
    """Value of a field spec: one path, or several paths whose values are concatenated.

    Raises:
        DatasetError: a path is missing; the message lists the row's columns.
    """
    if isinstance(spec, list):
        out: list[Any] = []
        for path in spec:
            value = extract(row, path, where=where)
            if value is None:
                continue
            out.extend(value if isinstance(value, list) else [value])
        return out
    try:
        return get_path(row, spec)
    except (KeyError, IndexError, TypeError):
        raise DatasetError(
            f"{where}: column {spec!r} not found; the row has: {', '.join(sorted(map(str, row)))}"
        ) from None


def in_part(value: Any, part: tuple[float, float]) -> bool:
    """Whether a group value hashes into ``[start, end)`` of [0, 1) (stable across runs)."""
    digest = hashlib.sha256(str(value).encode("utf-8")).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    return part[0] <= u < part[1]


def read_split_files(source: FilesSource, split: str, base: Path, where: str, confined: bool = False) -> list[Row]:
    """Rows of a split's files; ``confined``: every path must stay inside ``base`` (lexically:
    no ``..`` out of it, no absolute path; symbolic links inside it are the user's own)."""
    if split not in source.splits:
        raise DatasetError(f"{where}: no split {split!r}; defined: {sorted(source.splits)}")
    spec: SplitFiles = source.split_files(split)
    paths = spec.path if isinstance(spec.path, list) else [spec.path]
    rows: list[Row] = []
    for p in paths:
        if confined and not source.allow_outside:
            inside = os.path.normpath(os.path.join(os.path.abspath(base), p))
            if os.path.commonpath([inside, os.path.abspath(base)]) != os.path.abspath(base):
                raise DatasetError(f"{where}: split {split!r}: {p!r} points outside {base}; this task may read only "
                                   "inside that folder; set allow_outside: true in its source if that is meant")
        try:
            rows.extend(read_file((base / p).resolve(), source.format))
        except DatasetError as exc:
            raise DatasetError(f"{where}: split {split!r}: {exc}") from exc
    if spec.group_by and spec.part:
        kept = []
        for i, row in enumerate(rows):
            group = extract(row, spec.group_by, where=f"{where}: split {split!r} row {i}")
            if in_part(group, spec.part):
                kept.append(row)
        rows = kept
    return rows


def read_hub_split(source: HubSource, split: str, where: str) -> list[Row]:
    """Load one split from the hub with ``datasets`` (needs network or a warm HF cache)."""
    if split not in source.splits:
        raise DatasetError(f"{where}: no split {split!r}; defined: {sorted(source.splits)}")
    try:
        import datasets
    except ImportError as exc:
        raise DatasetError("loading hub datasets needs the 'datasets' package") from exc
    try:
        ds = datasets.load_dataset(source.path, source.name, split=source.splits[split], revision=source.revision,
                                   **source.options)
    except Exception as exc:  # network, auth, missing config: all surface as one clear error
        raise DatasetError(
            f"{where}: could not load {source.path!r} (config {source.name!r}, split "
            f"{source.splits[split]!r}) from the Hugging Face hub: {type(exc).__name__}: {exc}. "
            "Offline? Pass --data-dir with a local copy (tasks with an 'offline' source) or point "
            "the task at local files"
        ) from exc
    return [dict(r) for r in ds]


def read_rows(source: FilesSource | HubSource, split: str, *, task_dir: Path, data_dir: Path | None, where: str,
              packaged: bool = False) -> list[Row]:
    """Rows of ``split`` from ``source``. Files relative to the data directory, and every file
    of a ``packaged`` task (shipped with promptkit), must lie inside their base folder."""
    if isinstance(source, HubSource):
        return read_hub_split(source, split, where)
    if source.relative_to == "data_dir":
        if data_dir is None:
            raise DatasetError(
                f"{where}: this source reads files relative to the data directory; pass "
                "--data-dir DIR or set PROMPTKIT_DATA_DIR"
            )
        base = data_dir
    else:
        base = task_dir
    confined = packaged or source.relative_to == "data_dir"
    return read_split_files(source, split, base, where, confined)


def sequence_of_str(value: Any, where: str, field: str) -> tuple[str, ...]:
    """Normalise a reference/answer field to a tuple of strings."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence):
        return tuple(str(v) for v in value if v is not None)
    return (str(value),)
