"""Exception hierarchy.

Every error a user can cause derives from :class:`PromptkitError`; the CLI turns those into a
one-line message and a non-zero exit code. Messages say what went wrong, where (file, line, key
path, split, row), the offending value and what would be accepted.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class PromptkitError(Exception):
    """Root of all errors promptkit raises on bad input or environment."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One problem found while validating a config file."""

    message: str
    file: str | None = None
    line: int | None = None
    key: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        key = f"{self.key}: " if self.key else ""
        return f"{where}{key}{self.message}"


class ConfigError(PromptkitError):
    """A config file (task, prompt, run) is invalid. Collects every problem found."""

    exit_code = 2

    def __init__(self, problems: Sequence[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def suggest(value: str, allowed: Iterable[str]) -> str:
    """Return a "did you mean" hint (or the accepted list) for an unknown name."""
    allowed = sorted(set(allowed))
    close = difflib.get_close_matches(value, allowed, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    shown = ", ".join(repr(a) for a in allowed[:20])
    more = f" (and {len(allowed) - 20} more)" if len(allowed) > 20 else ""
    return f"accepted: {shown}{more}" if allowed else "none are registered"


class UnknownNameError(PromptkitError, KeyError):
    """A name (task, metric, method, adapter, prompt) is not registered."""

    exit_code = 2

    def __init__(self, kind: str, name: str, allowed: Iterable[str], where: str = ""):
        self.kind = kind
        self.name = name
        self.allowed = sorted(set(allowed))
        prefix = f"{where}: " if where else ""
        self.message = f"{prefix}unknown {kind} {name!r}; {suggest(name, self.allowed)}"
        super().__init__(self.message)

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class TemplateError(PromptkitError):
    """A prompt template is malformed or refers to a field the example does not have."""

    exit_code = 2


class DatasetError(PromptkitError):
    """A dataset could not be read: missing file or split, bad row, missing column."""

    exit_code = 2


class LeakageError(PromptkitError):
    """Evaluation rows also occur in the split the run trains on or draws demonstrations from.

    ``problems`` holds one line per problem (task file, splits, a few row ids); the message adds
    a last line saying how to run anyway.
    """

    exit_code = 2

    def __init__(self, problems: Sequence[str]):
        self.problems: list[str] = list(problems)
        hint = "--allow-overlap (allow_overlap: true in a run YAML) runs anyway and records these overlaps in results.json"
        super().__init__("\n".join([*self.problems, hint]))


class ModelError(PromptkitError):
    """A model could not be resolved or loaded."""

    exit_code = 2


class TrainingError(PromptkitError):
    """Training cannot continue (non-finite loss, empty training set, an unreadable checkpoint)."""
