"""lm-eval's dataset keys (``dataset_path``, ``dataset_name``, ``dataset_kwargs``) as a promptkit
source: local ``data_files`` of the json / csv / parquet builders, or a dataset on the hub (remote
``data_files`` alone, ``hf://`` or ``https://``, are read the hub's way too: by
``datasets.load_dataset``, online).

Relative data files are read from the lm-eval file's folder, as every promptkit task's are
(``datasets.load_dataset`` reads them from the working directory: the two agree when lm-eval is
run from the task's folder). No loading script ever runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from promptkit.config import HUB_OPTIONS
from promptkit.tasks.lmeval.reader import plain_data

# datasets' file builders -> promptkit's format for files whose extension does not say it.
FILE_BUILDERS = {"json": "jsonl", "csv": "csv", "parquet": "parquet"}


def dataset_source(data: Mapping[str, Any], folder: Path, splits: Sequence[str],
                   fail: Callable[..., None], note: Callable[[str], None] = lambda _: None,
                   ) -> tuple[dict[str, Any] | None, set[str] | None]:
    """The promptkit source (the data of ``dataset:``) for lm-eval's dataset keys, and the column
    names of the data when a local file can be read here (None otherwise). ``fail(message, *key)``
    records a problem, ``note(text)`` a key read past; the source is None when there is none to give.
    """
    path = data.get("dataset_path")
    kwargs = data.get("dataset_kwargs") or {}
    if not isinstance(path, str) or not path:
        fail("required: a hub dataset id, or json / csv / parquet with dataset_kwargs.data_files", "dataset_path")
        return None, None
    if not isinstance(kwargs, Mapping):
        fail(f"expected a mapping, got {type(kwargs).__name__}", "dataset_kwargs")
        return None, None
    name = data.get("dataset_name")
    if path in FILE_BUILDERS:
        return _files_source(data, folder, path, kwargs, name, splits, fail)
    if path in ("text", "arrow", "pandas", "imagefolder", "audiofolder", "webdataset"):
        fail(f"the {path!r} builder is not read; use json, csv or parquet data_files", "dataset_path")
        return None, None
    for key in kwargs:
        if key == "trust_remote_code":
            # datasets >= 4 runs no loading script either: lm-eval 0.4.13 on it reads the hub
            # dataset's data files, as promptkit does (a dataset that is only a script fails to load)
            note("not used: dataset_kwargs.trust_remote_code (promptkit never runs a dataset's loading script, nor does "
                 "datasets >= 4 for lm-eval: the hub dataset's data files are read)")
        elif key != "revision" and key not in HUB_OPTIONS:
            fail(f"not supported for a hub dataset; accepted: revision, {', '.join(HUB_OPTIONS)} (or dataset_path: json "
                 "with data_files)", "dataset_kwargs", key)
        elif key in HUB_OPTIONS and not plain_data(kwargs[key]):
            fail(f"expected text, a number, null, or lists and mappings of them, got {type(kwargs[key]).__name__}",
                 "dataset_kwargs", key)
    source: dict[str, Any] = {"kind": "hub", "path": path, "splits": {s: s for s in dict.fromkeys(splits)}}
    options = {k: kwargs[k] for k in HUB_OPTIONS if k in kwargs}
    if options:  # the hub dataset's own files (data_files relative to it) and the builder's settings
        source["options"] = options
    if name is not None:
        source["name"] = str(name)
    if kwargs.get("revision") is not None:
        source["revision"] = str(kwargs["revision"])
    return source, None  # no columns at hand for a hub dataset

def _files_source(data: Mapping[str, Any], folder: Path, builder: str, kwargs: Mapping[str, Any], name: Any,
                  splits: Sequence[str], fail: Callable[..., None]) -> tuple[dict[str, Any] | None, set[str] | None]:
    if name is not None:
        fail(f"dataset_name {name!r} means nothing to the {builder!r} builder; remove it", "dataset_name")
    for key in kwargs:
        # trust_remote_code lets a hub dataset's loading script run; local files have none, so
        # it means nothing here (the converter notes it was read past)
        if key not in ("data_files", "trust_remote_code"):
            fail("not supported with local files; accepted: data_files", "dataset_kwargs", key)
    files = kwargs.get("data_files")
    if files is None:
        fail(f"dataset_path {builder!r} reads local files: set dataset_kwargs.data_files "
                  "(e.g. {test: data/test.jsonl})", "dataset_path")
        return None, None
    # A bare path or list is the 'train' split, as in datasets.load_dataset.
    by_split = files if isinstance(files, Mapping) else {"train": files}
    every = [p for paths in by_split.values() for p in (paths if isinstance(paths, list) else [paths])]
    if every and all(isinstance(p, str) and "://" in p for p in every):
        # hf://datasets/... or https://: read as lm-eval reads them, by datasets.load_dataset (online)
        return {"kind": "hub", "path": builder, "splits": {s: s for s in dict.fromkeys(splits)},
                "options": {"data_files": dict(by_split)}}, None
    out: dict[str, Any] = {}
    for split, paths in by_split.items():
        items = paths if isinstance(paths, list) else [paths]
        if not items or not all(isinstance(p, str) and p for p in items):
            fail(f"expected a file path or a list of them, got {paths!r}", "dataset_kwargs", "data_files", str(split))
            continue
        remote = [p for p in items if "://" in p]
        if remote:  # hf://datasets/..., https://... beside local files: not a path relative to the task file
            fail(f"{remote[0]!r} is a remote file among local ones; download it and give its local path (remote files "
                 "alone are read by datasets.load_dataset)", "dataset_kwargs", "data_files", str(split))
            continue
        globbed = [p for p in items if any(c in p for c in "*?[")]
        if globbed:
            fail(f"{globbed[0]!r}: patterns are not expanded; list the files", "dataset_kwargs", "data_files", str(split))
            continue
        out[str(split)] = items[0] if len(items) == 1 else list(items)
    for split in dict.fromkeys(splits):
        if split not in out and split not in by_split:
            key = next((k for k in ("test_split", "validation_split", "training_split", "fewshot_split")
                        if data.get(k) == split), "test_split")
            fail(f"split {split!r} is not among data_files ({', '.join(map(repr, by_split))})", key)
    known = all(Path(p).suffix.lower() in (".json", ".jsonl", ".ndjson", ".csv", ".parquet", ".gz")
                for v in out.values() for p in (v if isinstance(v, list) else [v]))
    source = {"kind": "files", "format": "auto" if known else FILE_BUILDERS[builder], "splits": out}
    return source, _columns(folder, out, FILE_BUILDERS[builder])


def _columns(base: Path, splits: Mapping[str, Any], fmt: str) -> set[str] | None:
    """The column names of the first row of the first readable data file (lm-eval's ``features``),
    or None when no file can be read here (the columns are then checked when rows are read)."""
    for value in splits.values():
        for p in value if isinstance(value, list) else [value]:
            path = (base / p) if not Path(p).is_absolute() else Path(p)
            if not path.is_file() or path.suffix == ".gz":
                continue
            try:
                if path.suffix.lower() == ".csv" or fmt == "csv":
                    import csv

                    with path.open(encoding="utf-8", newline="") as fh:
                        return set(next(csv.reader(fh), []))
                if path.suffix.lower() == ".parquet" or fmt == "parquet":
                    import pyarrow.parquet as pq

                    return set(pq.read_schema(path).names)
                with path.open(encoding="utf-8") as fh:
                    head = fh.read(1)
                    fh.seek(0)
                    if head == "[":  # a JSON list of rows
                        rows = json.load(fh)
                        return set(rows[0]) if rows and isinstance(rows[0], dict) else None
                    for line in fh:
                        if line.strip():
                            row = json.loads(line)
                            return set(row) if isinstance(row, dict) else None
            except (OSError, ValueError, ImportError, UnicodeDecodeError):
                return None  # the task's own reading reports the file's problem
    return None
