"""Task code of an lm-evaluation-harness task file, run only when the user passes
``--trust-task-code``: ``process_docs`` and the ``!function`` hooks that compute a row's prompt
text, target or choices (``doc_to_text`` / ``doc_to_target`` / ``doc_to_choice``, and
``fewshot_config``'s own ``process_docs`` / ``doc_to_text`` / ``doc_to_target``).

A hook is imported as lm-eval 0.4.13 imports it (``!function utils.process_docs``: ``utils.py``
in the folder of the YAML file that wrote the tag, else an installed module ``utils``) and runs
where lm-eval runs it: ``process_docs`` on each split as a ``datasets.Dataset`` (the few-shot
pool's with ``fewshot_config.process_docs`` when it sets one), then each row hook on each
processed row, its value kept in a column the converted task's templates read
(:data:`COLUMNS`). Everything after that is the declarative task: prompts, demonstrations and
scores are built as for any promptkit task.

A promptkit task file holds no code (house style: code is reached by registry name), so the
hooks live beside the converted task, never in it: ``promptkit tasks convert`` refuses a task
that needs them.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from promptkit.errors import ConfigError, Problem, PromptkitError
from promptkit.tasks.lmeval.reader import FunctionRef

FLAG = "--trust-task-code"
# The column each row hook's value is kept in; the converted templates read these names.
COLUMNS = {
    "doc_to_text": "lm_eval_doc_to_text",
    "doc_to_target": "lm_eval_doc_to_target",
    "doc_to_choice": "lm_eval_doc_to_choice",
    "fewshot_config.doc_to_text": "lm_eval_fewshot_doc_to_text",
    "fewshot_config.doc_to_target": "lm_eval_fewshot_doc_to_target",
}
# What each hook must return, as lm-eval uses it.
RETURNS = {
    "doc_to_text": "text or index",
    "doc_to_target": "target",
    "doc_to_choice": "choices",
    "fewshot_config.doc_to_text": "text",
    "fewshot_config.doc_to_target": "target",
}
Row = dict[str, Any]


class TaskCodeError(PromptkitError):
    """Task code could not be imported, raised an error, or returned what lm-eval would not use."""

    exit_code = 2


class TaskCodeImportError(TaskCodeError):
    """A hook's module failed to import (its other hooks are then not tried)."""


@dataclass(frozen=True)
class Hook:
    """One ``!function`` of the task file, with the key that names it."""

    key: str  # process_docs, doc_to_text, fewshot_config.doc_to_text ...
    ref: FunctionRef
    returns: str = ""  # what its value must be ("text", ...); "": RETURNS[key]

    def describe(self) -> str:
        where = f" ({self.ref.file.name}:{self.ref.line})" if self.ref.file is not None else ""
        return f"{self.key}: !function {self.ref.ref}{where}"


@dataclass
class TaskCode:
    """The hooks a converted lm-eval task runs; nothing is imported until :meth:`load`."""

    process_docs: Hook | None = None
    fewshot_process_docs: Hook | None = None  # None: process_docs, as lm-eval inherits it
    columns: dict[str, Hook] = field(default_factory=dict)  # column -> the row hook computing it
    # process_results, !function metrics and aggregations (promptkit.tasks.lmeval.results)
    results: list[Hook] = field(default_factory=list)

    def hooks(self) -> list[Hook]:
        found = (self.process_docs, self.fewshot_process_docs, *self.columns.values(), *self.results)
        return [h for h in found if h is not None]

    def describe(self) -> list[str]:
        """One line per hook, for results.json and the report."""
        return [h.describe() for h in self.hooks()]

    def load(self) -> LoadedCode:
        """Import every hook (the modules' top-level code runs now).

        Raises:
            ConfigError: each hook that cannot be imported, naming the file and line of its ``!function``.
        """
        functions: dict[str, Callable[..., Any]] = {}
        problems: list[Problem] = []
        failed: set[str] = set()  # modules that did not import: reported once, run once
        for hook in self.hooks():
            module = _module_source(hook)
            if module in failed:
                continue
            try:
                functions[hook.key] = import_hook(hook)
            except TaskCodeError as exc:
                if isinstance(exc, TaskCodeImportError):
                    failed.add(module)
                file = str(hook.ref.file) if hook.ref.file is not None else None
                problems.append(Problem(str(exc), file, hook.ref.line, hook.key))
        if problems:
            raise ConfigError(problems)
        return LoadedCode(self, functions)


class LoadedCode:
    """Imported hooks, applied to the rows a task reads."""

    def __init__(self, code: TaskCode, functions: Mapping[str, Callable[..., Any]]):
        self.code = code
        self.functions = dict(functions)

    @property
    def pool_processed(self) -> bool:
        """The few-shot pool is processed its own way (so it is not the training rows)."""
        return self.code.fewshot_process_docs is not None

    def rows(self, rows: list[Row], split: str, where: str, pool: bool = False) -> list[Row]:
        """``rows`` of ``split`` after ``process_docs`` (the pool's own when ``pool``), with the
        row hooks' columns added.

        Raises:
            TaskCodeError: a hook that raised or returned what lm-eval could not use, naming the
                split, the row and the hook.
        """
        hook = self.code.fewshot_process_docs if pool and self.code.fewshot_process_docs else self.code.process_docs
        if hook is not None:
            rows = self._process_docs(hook, rows, f"{where}: split {split!r}")
        return self.computed(rows, f"{where}: split {split!r}", pool)

    def computed(self, rows: Sequence[Row], where: str, pool: bool = True) -> list[Row]:
        """Each row with the row hooks' columns added (each hook sees the row as read). The
        demonstrations' own hooks (``fewshot_config``'s) run on the pool's rows only, as lm-eval
        calls them on the demonstrations alone; other rows get an empty text there, never shown."""
        out = []
        for i, row in enumerate(rows):
            if not isinstance(row, Mapping):
                raise TaskCodeError(f"{where} row {i}: a row is {type(row).__name__}, not a mapping of columns")
            values = {}
            for column, hook in self.code.columns.items():
                if column in row:
                    raise TaskCodeError(f"{where} row {i}: the data has a column {column!r}, which promptkit keeps "
                                        f"{hook.key}'s value in; rename that column")
                if hook.key.startswith("fewshot_config.") and not pool:
                    values[column] = ""
                    continue
                values[column] = _checked(hook, self._call(hook, where, i, dict(row)), where, i)
            out.append({**row, **values})
        return out

    def _call(self, hook: Hook, where: str, i: int | None, *args: Any) -> Any:
        try:
            return self.functions[hook.key](*args)
        except Exception as exc:  # the task's own code: any error is the task's, reported with its row
            at = f" row {i}" if i is not None else ""
            raise TaskCodeError(f"{where}{at}: task code {hook.describe()} raised {type(exc).__name__}: "
                                f"{_one_line(str(exc))}") from exc

    def _process_docs(self, hook: Hook, rows: list[Row], where: str) -> list[Row]:
        try:
            import datasets
        except ImportError:
            raise TaskCodeError(f"{where}: {hook.describe()} takes a datasets.Dataset: pip install datasets") from None
        try:
            dataset = datasets.Dataset.from_list(rows)
        except Exception as exc:  # pyarrow cannot type a column (mixed types across rows)
            raise TaskCodeError(f"{where}: the rows cannot be made the datasets.Dataset that {hook.describe()} takes: "
                                f"{type(exc).__name__}: {_one_line(str(exc))}") from exc
        shown = datasets.is_progress_bar_enabled()
        datasets.disable_progress_bars()  # a bar per map() or filter() of the hook is noise in promptkit's display
        try:
            result = self._call(hook, where, None, dataset)
        finally:
            if shown:
                datasets.enable_progress_bars()
        if isinstance(result, datasets.Dataset):
            return list(result.to_list())
        if isinstance(result, list) and all(isinstance(r, Mapping) for r in result):
            return [dict(r) for r in result]
        raise TaskCodeError(f"{where}: task code {hook.describe()} returned {type(result).__name__}; lm-eval expects a "
                            "datasets.Dataset (or a list of rows)")


    def filter_runner(self, doc: Mapping[str, Any], where: str) -> Callable[[Any, Any], list[str]]:
        """Runs the task's code filters (``TaskCodeStep``) on one row, as lm-eval's FilterEnsemble
        runs a step: ``Filter(**options).apply(resps, docs)`` (``custom``: ``filter_fn(resps, docs)``)
        on this row alone, ``resps`` holding its responses (the one response once take_first took it).

        Raises:
            TaskCodeError: the filter raised, or gave no text for the row.
        """
        hooks = {h.key: h for h in self.code.hooks()}

        def run(step: Any, responses: Any) -> list[str]:
            hook = hooks[step.hook]
            function = self.functions[step.hook]
            try:
                result = function([responses], [doc]) if step.custom else function(**step.options).apply([responses], [doc])
                row = next(iter(result))
            except Exception as exc:  # the task's own code
                raise TaskCodeError(f"{where}: task code {hook.describe()} raised {type(exc).__name__}: "
                                    f"{_one_line(str(exc))}") from exc
            values = [row] if isinstance(row, str) else list(row) if isinstance(row, (list, tuple)) else None
            if values is None or not all(isinstance(v, str) for v in values):
                raise TaskCodeError(f"{where}: task code {hook.describe()} gave {_one_line(repr(row))[:80]}, not the row's "
                                    "answers as text")
            return values

        return run


def _checked(hook: Hook, value: Any, where: str, i: int) -> Any:
    """``value`` if lm-eval could use it as what ``hook`` computes."""
    kind = hook.returns or RETURNS[hook.key]
    bad = ""
    if kind.startswith("text") and not isinstance(value, str):
        # an index is lm-eval's multiple-input form (Winogrande): the gold one of the choices, each a context
        index = kind == "text or index" and isinstance(value, int) and not isinstance(value, bool)
        bad = "" if index else "not text" + (" or an index (lm-eval's multiple-input form)" if kind != "text" else "")
    elif kind == "choices" and not (isinstance(value, (list, tuple)) and value and all(isinstance(c, str) for c in value)):
        bad = "not a list of choices, each text"
    elif kind == "target" and not isinstance(value, (str, int, list, tuple)):
        bad = "neither text, an index nor a list of them"
    if bad:
        raise TaskCodeError(f"{where} row {i}: task code {hook.describe()} returned {type(value).__name__} "
                            f"{_one_line(repr(value))[:80]}: {bad}")
    return list(value) if isinstance(value, tuple) else value


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


# Modules imported from task folders, by resolved path: each runs once per process, as in lm-eval.
_MODULES: dict[Path, ModuleType] = {}


def import_hook(hook: Hook) -> Callable[..., Any]:
    """The function a ``!function module.name`` tag names: ``module.py`` (dots: folders) in the
    folder of the YAML file that wrote the tag, else the installed module, as lm-eval 0.4.13 finds it.

    Raises:
        TaskCodeError: a malformed name, a module that is not found or fails to import, a name
            that is not a function of it.
    """
    ref = hook.ref.ref
    module_path, _, name = ref.rpartition(".")
    if not module_path or not all(part.isidentifier() for part in ref.split(".")):
        raise TaskCodeError(f"!function {ref!r} is not module.function (e.g. utils.process_docs)")
    folder = hook.ref.file.parent if hook.ref.file is not None else Path.cwd()
    file = Path(_module_source(hook))
    try:
        if file.is_file():
            module = _MODULES.get(file) or _load(file)
            shown = str(file)
        else:
            module = importlib.import_module(module_path)
            shown = module_path
    except Exception as exc:  # the module's top-level code failed (a missing package, a syntax error)
        missing = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
        where = str(file) if file.is_file() else f"{module_path} (no {file.name} in {folder}, nor an installed module)"
        hint = f"; install the package {missing!r} it imports" if missing and missing != module_path else ""
        raise TaskCodeImportError(f"!function {ref}: importing {where} failed: {type(exc).__name__}: "
                                  f"{_one_line(str(exc))}{hint}") from exc
    function = getattr(module, name, None)
    if not callable(function):
        raise TaskCodeError(f"!function {ref}: {shown} has no function {name!r}")
    return function


def _module_source(hook: Hook) -> str:
    """The file a hook's module would be read from (``module.py`` beside the YAML that names it)."""
    module_path = hook.ref.ref.rpartition(".")[0]
    folder = hook.ref.file.parent if hook.ref.file is not None else Path.cwd()
    return str((folder / f"{module_path.replace('.', '/')}.py").resolve())


def _load(file: Path) -> ModuleType:
    # A private name per file: two tasks' utils.py never replace each other in sys.modules.
    name = f"_promptkit_task_code_{hashlib.sha256(str(file).encode()).hexdigest()[:12]}_{file.stem}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    _MODULES[file] = module
    return module
