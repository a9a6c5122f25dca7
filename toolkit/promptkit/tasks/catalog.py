"""Where task and prompt YAML files live, and name -> file lookup.

Built-in catalogues are the repository's ``tasks/`` and ``prompts/`` (editable install) or their
copies inside the wheel (``promptkit/_builtin``). Lookup is by file name, which is cheap: no
YAML is parsed until a task is actually used (no slow global discovery at import).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path, PosixPath, WindowsPath

from promptkit.errors import PromptkitError, UnknownNameError

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the promptkit package
DATA_DIR_ENV = "PROMPTKIT_DATA_DIR"
# ``--task lm-eval:PATH.yaml``: a task file written for lm-evaluation-harness (promptkit.tasks.lmeval).
LM_EVAL_PREFIX = "lm-eval:"
_ConcretePath = WindowsPath if os.name == "nt" else PosixPath


class LmEvalTaskFile(_ConcretePath):  # type: ignore[valid-type,misc]
    """The path of an lm-evaluation-harness task file: what :func:`resolve_task` returns for an
    ``lm-eval:`` reference, so that ``load_task(resolve_task(ref))`` converts it (a path of its
    own type rather than a flag, because every caller passes the path on as it is)."""


def builtin_dir(kind: str) -> Path:
    """The built-in ``tasks`` or ``prompts`` directory."""
    for candidate in (PACKAGE_DIR / "_builtin" / kind, PACKAGE_DIR.parent.parent / kind):
        if candidate.is_dir():
            return candidate
    raise PromptkitError(f"built-in {kind}/ directory not found (looked in {PACKAGE_DIR / '_builtin'} and the source tree)")


def _yaml_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def task_files(extra_dirs: Sequence[str | Path] = ()) -> dict[str, Path]:
    """Task name (file stem) -> file, user directories first so they can shadow built-ins."""
    found: dict[str, Path] = {}
    for root in [*map(Path, extra_dirs), builtin_dir("tasks")]:
        if not root.is_dir():
            raise PromptkitError(f"--tasks-dir {str(root)!r} is not a directory")
        for path in _yaml_files(root):
            found.setdefault(path.stem, path)
    return found


def is_builtin(path: Path) -> bool:
    try:
        path.resolve().relative_to(builtin_dir("tasks").resolve())
        return True
    except ValueError:
        return False


def resolve_task(ref: str, extra_dirs: Sequence[str | Path] = ()) -> Path:
    """A task reference (file path or name) -> the task file.

    ``lm-eval:PATH`` names a task file written for lm-evaluation-harness (an
    :class:`LmEvalTaskFile`, converted when loaded).

    Raises:
        UnknownNameError: not a file and no task of that name (with "did you mean").
    """
    if ref.startswith(LM_EVAL_PREFIX):
        target = ref[len(LM_EVAL_PREFIX):]
        if not Path(target).is_file():
            raise PromptkitError(f"lm-eval task file not found: {target!r} (--task lm-eval:PATH names an "
                                 "lm-evaluation-harness task YAML file)")
        return LmEvalTaskFile(target)
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or os.sep in ref:
        if path.is_file():
            return path
        raise PromptkitError(f"task file not found: {ref}")
    files = task_files(extra_dirs)
    if ref in files:
        return files[ref]
    raise UnknownNameError("task", ref, files)


def prompt_files() -> dict[str, Path]:
    """Prompt name (path under ``prompts/`` without extension, e.g. ``qa/short``) -> file."""
    root = builtin_dir("prompts")
    return {p.relative_to(root).with_suffix("").as_posix(): p for p in _yaml_files(root)}


def default_data_dir(explicit: str | None) -> Path | None:
    """``--data-dir`` if given, else ``PROMPTKIT_DATA_DIR``, else None (use the hub)."""
    value = explicit or os.environ.get(DATA_DIR_ENV)
    return Path(value).expanduser() if value else None


def display_path(path: str | Path) -> str:
    """A path as results should record it: machine-independent where possible.

    Built-in files become ``tasks/...`` / ``prompts/...``; files under the working directory
    are relative to it; files under the home directory start with ``~``.
    """
    resolved = Path(path).expanduser().resolve()
    for kind in ("tasks", "prompts"):
        try:
            return f"{kind}/{resolved.relative_to(builtin_dir(kind).resolve()).as_posix()}"
        except (ValueError, PromptkitError):
            pass
    for base, prefix in ((Path.cwd().resolve(), ""), (Path.home().resolve(), "~/")):
        try:
            return prefix + resolved.relative_to(base).as_posix()
        except ValueError:
            pass
    return str(path)
