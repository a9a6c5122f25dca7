"""``RunResult``: everything a run measured, saved as ``results.json`` (schema-versioned)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from promptkit.errors import PromptkitError
from promptkit.records import MetricScore

SCHEMA_VERSION = 1


@dataclass
class CellResult:
    """One task x prompt template x method evaluation."""

    task: str
    prompt: str
    method: str
    method_config: dict[str, Any]
    task_version: str
    prompt_version: str
    n: int = 0
    shots: int = 0
    metrics: dict[str, MetricScore] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    throughput: dict[str, float] = field(default_factory=dict)
    samples: str = ""  # path of the samples file, relative to the run directory
    error: str | None = None
    # Trainable methods: parameters, adapter size, training time/throughput, peak memory.
    cost: dict[str, float] = field(default_factory=dict)
    # Trainable methods: the training report (losses, learning curve, steps, resumed_from).
    training: dict[str, Any] = field(default_factory=dict)
    adapter: str = ""  # saved adapter directory, relative to the run directory
    chat_template: bool | None = None  # trainable methods: formatting used in training and eval
    # Per metric: difference to the run's baseline method and its paired-bootstrap p-value.
    comparison: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.task, self.prompt, self.method)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["metrics"] = {k: v.to_dict() for k, v in self.metrics.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CellResult:
        data = dict(data)
        data["metrics"] = {k: MetricScore.from_dict(k, v) for k, v in data.get("metrics", {}).items()}
        return cls(**data)


@dataclass
class RunResult:
    """A whole run. ``save`` rewrites ``results.json`` atomically, so it can be called after
    every cell and an interrupted run keeps what it had finished."""

    run_id: str
    created: str
    config: dict[str, Any]
    model: dict[str, Any] = field(default_factory=dict)
    chat_template: bool = False
    environment: dict[str, Any] = field(default_factory=dict)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    cells: list[CellResult] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "run_id": self.run_id,
            "created": self.created,
            "config": self.config,
            "model": self.model,
            "chat_template": self.chat_template,
            "environment": self.environment,
            "tasks": self.tasks,
            "timings": self.timings,
            "cells": [c.to_dict() for c in self.cells],
        }

    def save(self, run_dir: str | Path) -> Path:
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        path = run_dir / "results.json"
        write_atomic(path, json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> RunResult:
        """Load ``results.json`` (or the run directory holding it).

        Raises:
            PromptkitError: missing file, invalid JSON, or an unknown schema version.
        """
        path = Path(path)
        if path.is_dir():
            path = path / "results.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PromptkitError(f"{path}: not found; give a run directory or its results.json") from None
        except json.JSONDecodeError as exc:
            raise PromptkitError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise PromptkitError(f"{path}: schema_version {version!r} is not supported; accepted: {SCHEMA_VERSION}")
        return cls(
            run_id=data["run_id"],
            created=data["created"],
            config=data["config"],
            model=data.get("model", {}),
            chat_template=data.get("chat_template", False),
            environment=data.get("environment", {}),
            tasks=data.get("tasks", {}),
            cells=[CellResult.from_dict(c) for c in data.get("cells", [])],
            timings=data.get("timings", {}),
        )


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so readers never see half a file."""
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
