"""A :class:`~promptkit.tasks.lmeval.convert.Conversion` as the text of a promptkit task YAML file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from promptkit.config.documents import parse_yaml
from promptkit.errors import PromptkitError
from promptkit.tasks.lmeval.convert import Conversion

# The order of a hand-written promptkit task file (README, tasks/*.yaml).
KEY_ORDER = ("name", "version", "description", "tags", "dataset", "adapter", "eval_split", "train_split",
             "prompts", "metrics", "metric_options", "filters", "generation", "fewshot")


class _Dumper(yaml.SafeDumper):
    """Text with line breaks as one double-quoted line (``"Question: {{q}}\\nAnswer:"``), the way
    lm-eval task files write it, instead of YAML's folded single-quoted blocks."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"' if "\n" in value else None)


_Dumper.add_representer(str, _text)


def relocated(conversion: Conversion, folder: Path) -> dict[str, Any]:
    """The converted task with its data paths relative to ``folder`` (where the task file will
    be), in the usual key order. Absolute paths stay absolute."""
    # every key, in the usual order (a key missing from KEY_ORDER is written last, never dropped)
    task = {k: conversion.task[k] for k in (*KEY_ORDER, *conversion.task) if k in conversion.task}
    source = dict(task["dataset"])
    if source.get("kind") == "files":
        base = conversion.source.parent

        def move(p: str) -> str:
            if Path(p).is_absolute():
                return p
            return Path(os.path.relpath((base / p).resolve(), folder.resolve())).as_posix()

        source["splits"] = {split: [move(p) for p in v] if isinstance(v, list) else move(v)
                            for split, v in source["splits"].items()}
    task["dataset"] = source
    return task


def task_yaml(conversion: Conversion, folder: Path, paths_note: str) -> str:
    """The task file's text: a header naming the lm-eval file and the notes, then the task.

    Raises:
        PromptkitError: the YAML would not read back as the same task (a bug, never expected).
    """
    task = relocated(conversion, folder)
    header = [f"# Converted from the lm-evaluation-harness task {conversion.source.as_posix()} by `promptkit tasks convert`.",
              f"# {paths_note}"]
    header += [f"# note: {n}" for n in conversion.notes]
    body = yaml.dump(task, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120, default_flow_style=False)
    text = "\n".join(header) + "\n" + body
    if parse_yaml(text, "<converted>").data != task:
        raise PromptkitError("the converted task does not read back as written; please report this with the lm-eval file")
    return text
