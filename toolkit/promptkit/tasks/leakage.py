"""Train/test leakage: evaluation rows that the run also trains on or shows as demonstrations.

Split *names* do not keep a model from being scored on what it learnt: a task naming one file
as both ``train`` and ``test`` used to run, and LoRA scored EM 100 on rows it had trained on.
So before the model loads, the run (``promptkit.run.plan``) compares each evaluated split with the splits the run
actually uses (the train split for a trainable method, the few-shot pool for few-shot; the dev
slice is carved from train, so it is covered) in two ways:

* from the task config alone: splits whose files resolve to the same rows (the same file under
  two spellings, overlapping or incomparable ``part`` ranges) or, on the hub, the same split
  expression or overlapping slices of one hub split;
* from the data: evaluation examples whose normalised *input* (the adapter's input fields, never
  the references) also occurs in the other split.

Every problem is one line naming the task file, the splits and a few row ids.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promptkit.config import FilesSource, HubSource, SplitFiles
from promptkit.records import Example
from promptkit.tasks import Task
from promptkit.tasks.catalog import display_path

# Row ids quoted per problem: enough to find the rows, short enough for one line.
SHOWN_IDS = 3


@dataclass(frozen=True)
class ComparedSplit:
    """A split the run uses besides the evaluated one, and what for."""

    split: str
    role: str  # "training", "few-shot pool"
    examples: Sequence[Example]


class _Punctuation(dict[int, int | None]):
    """``str.translate`` table deleting Unicode punctuation (categories P*), filled as
    characters are met: 4x faster than testing each character, which matters on a 67k-row
    train split."""

    def __missing__(self, codepoint: int) -> int | None:
        value = None if unicodedata.category(chr(codepoint)).startswith("P") else codepoint
        self[codepoint] = value
        return value


_PUNCTUATION = _Punctuation()


def normalise(text: str) -> str:
    """Unicode NFKC, casefold, punctuation removed, whitespace collapsed.

    ``"The  Cat, sat!"`` and ``"the cat sat"`` are one input: copies of a row that differ only
    in case, spacing or punctuation leak as much as exact copies do.
    """
    return " ".join(unicodedata.normalize("NFKC", text).casefold().translate(_PUNCTUATION).split())


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return " ".join(_as_text(v) for v in value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def input_key(example: Example, fields: Sequence[str]) -> str:
    """The normalised input of ``example``: its input fields, each normalised, in order; in
    lm-eval's multiple-input form (Winogrande) its choices and continuation, which its input is
    (its input field holds the gold index there)."""
    # A separator the normalisation never leaves in, so ("a b", "c") differs from ("a", "b c").
    if example.continuation is not None:
        return "\x1f".join(normalise(text) for text in (*example.choices, example.continuation))
    return "\x1f".join(normalise(_as_text(example.fields.get(name))) for name in fields)


# Columns filled on the few-shot pool's rows only (promptkit.tasks.lmeval.code.COLUMNS).
POOL_ONLY_PREFIX = "lm_eval_fewshot_"
# The name a run gives the few-shot pool written inline in a task (``fewshot.rows``).
INLINE_POOL = "fewshot.rows"


def find_overlaps(task: Task, data_dir: Path | None, examples: Sequence[Example], compared: Sequence[ComparedSplit]) -> list[str]:
    """Every way the evaluated ``examples`` leak into the ``compared`` splits, one line each.

    Args:
        task: the task; its eval split produced ``examples``.
        data_dir: the data directory in use (selects the ``offline`` source like the loader).
        examples: the evaluated examples (after ``--limit``).
        compared: the other splits the run uses; one split named twice (train and few-shot
            pool) is checked once.
    """
    where = display_path(task.path)
    source, _ = task.source(data_dir)
    eval_split = task.config.eval_split
    problems: list[str] = []
    # the demonstrations' own columns (lm-eval's fewshot_config hooks) hold nothing on other rows
    fields = [f for f in task.adapter(data_dir, eval_split).input_fields() if not f.startswith(POOL_ONLY_PREFIX)]
    for split, role, other in _merge_roles(compared):
        label = f"{split!r} ({role})"
        if split == INLINE_POOL:  # rows written in the task file: compared by content only
            problem = None
        elif isinstance(source, FilesSource):
            base = task.path.parent if source.relative_to == "task" else data_dir
            problem = _files_overlap(source, base, eval_split, split, label)
        else:
            problem = _hub_overlap(source, eval_split, split, label)
        if problem:
            problems.append(f"{where}: {problem}")
        pairs = duplicate_inputs(examples, other, fields)
        if pairs:
            shown = ", ".join(f"{eval_split} {a!r} = {split} {b!r}" for a, b in pairs[:SHOWN_IDS])
            more = f" and {len(pairs) - SHOWN_IDS} more" if len(pairs) > SHOWN_IDS else ""
            problems.append(
                f"{where}: {len(pairs)} of {len(examples)} {eval_split!r} rows have the same input "
                f"({', '.join(fields)}; normalised) as a row of {label}: {shown}{more}"
            )
    return problems


def _merge_roles(compared: Sequence[ComparedSplit]) -> list[tuple[str, str, Sequence[Example]]]:
    merged: dict[str, tuple[list[str], Sequence[Example]]] = {}
    for c in compared:
        roles, examples = merged.setdefault(c.split, ([], c.examples))
        roles.append(c.role)
    return [(split, " and ".join(roles), examples) for split, (roles, examples) in merged.items()]


def duplicate_inputs(examples: Sequence[Example], other: Sequence[Example], fields: Sequence[str]) -> list[tuple[str, str]]:
    """``(evaluated id, other id)`` for each evaluated example whose input occurs in ``other``.

    An empty input (every input field blank) is not counted: it carries nothing to leak.
    """
    seen: dict[str, str] = {}
    for ex in other:
        seen.setdefault(input_key(ex, fields), ex.id)
    empty = input_key(Example(id="", fields={}, references=()), fields)
    pairs = []
    for ex in examples:
        key = input_key(ex, fields)
        if key != empty and key in seen:
            pairs.append((ex.id, seen[key]))
    return pairs


# ----------------------------------------------------------------------------- local files
def _resolved(spec: SplitFiles, base: Path | None) -> dict[Path, str]:
    """Resolved absolute path -> the spelling the task used."""
    paths = spec.path if isinstance(spec.path, list) else [spec.path]
    root = base if base is not None else Path.cwd()  # no data dir: the loader has failed already
    return {(root / p).resolve(): p for p in paths}


def _files_overlap(source: FilesSource, base: Path | None, eval_split: str, split: str, label: str) -> str | None:
    a, b = source.split_files(eval_split), source.split_files(split)
    files_a, files_b = _resolved(a, base), _resolved(b, base)
    shared = [p for p in files_a if p in files_b]
    if not shared:
        return None
    spelled = files_a[shared[0]]
    other_spelling = files_b[shared[0]]
    file = repr(spelled) + (f" (written {other_spelling!r} in {split!r})" if other_spelling != spelled else "")
    if a.part is not None and b.part is not None:
        if a.group_by != b.group_by:
            return (
                f"splits {eval_split!r} and {label} both read {file}, grouped by different columns "
                f"({a.group_by!r} and {b.group_by!r}), so their parts may share rows; group both by one column"
            )
        (lo_a, hi_a), (lo_b, hi_b) = a.part, b.part
        if lo_a < hi_b and lo_b < hi_a:
            return (
                f"overlapping part ranges [{lo_a}, {hi_a}) of {eval_split!r} and [{lo_b}, {hi_b}) of {label} "
                f"on {file} (group_by {a.group_by!r})"
            )
        return None  # same column, disjoint ranges: disjoint groups, hence disjoint rows
    whole = [name for name, spec in ((eval_split, a), (split, b)) if spec.part is None]
    return f"splits {eval_split!r} and {label} resolve to the same rows: both read {file}" + (
        f" ({' and '.join(map(repr, whole))} all of it)" if len(whole) == 1 else ""
    )


# ----------------------------------------------------------------------------- hub splits
# `train`, `train[:1000]`, `train[10%:20%]`; anything else (negative indices, rounding options)
# is not compared: its rows depend on the split's size, unknown before download.
_SLICE = re.compile(r"^(?P<split>[\w.-]+)(?:\[(?P<lo>\d+%?)?:(?P<hi>\d+%?)?\])?$")


@dataclass(frozen=True)
class _Slice:
    split: str
    lo: float
    hi: float
    unit: str  # "rows", "%" or "" (the whole split, comparable with either)


def _parse_hub(expression: str) -> list[_Slice] | None:
    slices = []
    for part in expression.split("+"):
        m = _SLICE.match(part)
        if m is None:
            return None
        lo, hi = m["lo"], m["hi"]
        if "[" not in part:
            slices.append(_Slice(m["split"], 0, float("inf"), ""))
            continue
        units = {s.endswith("%") for s in (lo, hi) if s}
        if len(units) > 1:
            return None  # `train[10:50%]`: mixed units
        unit = "%" if units == {True} else "rows"
        slices.append(_Slice(m["split"], float(lo.rstrip("%")) if lo else 0, float(hi.rstrip("%")) if hi else float("inf"), unit))
    return slices


def _hub_overlap(source: HubSource, eval_split: str, split: str, label: str) -> str | None:
    expr_a, expr_b = ("".join(source.splits[s].split()) for s in (eval_split, split))
    if expr_a == expr_b:
        return f"splits {eval_split!r} and {label} resolve to the same rows: both read hub split {expr_a!r} of {source.path!r}"
    slices_a, slices_b = _parse_hub(expr_a), _parse_hub(expr_b)
    if slices_a is None or slices_b is None:
        return None
    for x in slices_a:
        for y in slices_b:
            if x.split != y.split:
                continue
            if x.unit and y.unit and x.unit != y.unit:
                continue  # rows vs percent: depends on the split's size
            if x.lo < y.hi and y.lo < x.hi:
                return (
                    f"splits {eval_split!r} ({expr_a!r}) and {label} ({expr_b!r}) read overlapping slices of "
                    f"hub split {x.split!r} of {source.path!r}"
                )
    return None
