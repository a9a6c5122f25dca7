"""The run directory: the one place a run writes, and the one gate that decides who writes.

A run directory holds ``results.json`` (the :class:`~promptkit.records.results.RunResult`, saved
after every cell), ``samples/<task>/<method>.jsonl`` (one row per evaluated example),
``adapters/<task>/<prompt>/<method>/seed-<k>/`` (a trained cell's adapter and, while it trains,
its checkpoint), ``partial/`` (progress of unfinished cells, ``promptkit.run.progress``) and the
reports. Under ``accelerate launch`` every process computes, and only the main one writes:
:attr:`RunStore.main` is that gate, checked here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import os
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptkit.config import slug
from promptkit.errors import ConfigError, Problem
from promptkit.records.results import CellResult, RunResult, write_atomic
from promptkit.records.samples import SampleRow, cell_rows, inside, owned, sample_lines
from promptkit.run.options import RunOptions
from promptkit.run.plan import CellSpec, Plan, PreparedTask
from promptkit.run.progress import PARTIAL_DIR, PartialCell, SavedCandidates
from promptkit.tasks.catalog import display_path

if TYPE_CHECKING:
    from promptkit.run.tracking import Trackers

SAMPLES_DIR = "samples"
ADAPTERS_DIR = "adapters"
LOCK_FILE = ".lock"


@dataclass
class RunStore:
    """The directory of one run.

    Args:
        run_dir: ``<out>/<run id>``.
        main: this process writes (the main process of a multi-process launch, or the only one).
        resume: the run continues what the directory holds (saved progress is read back).
    """

    run_dir: Path
    main: bool = True
    resume: bool = False
    _lock: int | None = field(default=None, repr=False, compare=False)

    def claim(self) -> None:
        """Hold the run directory for this process (an OS lock on ``<run>/.lock``, released by
        :meth:`release` or when the process ends, however it ends): a second ``promptkit eval``
        on the same run id, or a ``--resume`` of a run still being written, is refused in one
        line naming the holder instead of both writing and the first being lost."""
        if not self.main or self._lock is not None:
            return
        try:
            import fcntl
        except ImportError:  # no POSIX locks (Windows): one writer is the user's to ensure
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        path = self.run_dir / LOCK_FILE
        for _ in range(5):  # the holder may remove the file as we open it: lock the file that is there
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "another process"
                os.close(fd)
                shown = display_path(self.run_dir)
                raise ConfigError(f"{shown} is being written by {holder}; wait for it to end (then --resume {shown} "
                                  "continues it if it stopped early), or choose another --run-id") from None
            if path.exists() and os.stat(path).st_ino == os.fstat(fd).st_ino:
                break
            os.close(fd)
        else:
            raise ConfigError(f"{display_path(self.run_dir)}: cannot lock the run directory ({LOCK_FILE} keeps changing)")
        os.ftruncate(fd, 0)
        os.write(fd, f"promptkit pid {os.getpid()} on {socket.gethostname()}".encode())
        self._lock = fd

    def release(self) -> None:
        """Let go of the run directory (see :meth:`claim`)."""
        if self._lock is not None:
            (self.run_dir / LOCK_FILE).unlink(missing_ok=True)  # still held: no one else has it
            os.close(self._lock)
            self._lock = None

    @property
    def run_id(self) -> str:
        return self.run_dir.name

    def within(self, path: Path) -> Path:
        """``path`` (under the run directory) if it stays inside it once symbolic links are
        followed: a link planted in a run directory (``adapters/`` or ``samples/`` pointing
        elsewhere) must not make a run delete or overwrite files outside it.

        Raises:
            ConfigError: naming the path and where it leads.
        """
        if not path.resolve().is_relative_to(self.run_dir.resolve()):
            raise ConfigError(f"{display_path(path)} leads out of the run directory {display_path(self.run_dir)} "
                              f"(to {path.resolve()}) through a symbolic link; a run writes inside its directory only: "
                              "remove the link")
        return path

    @property
    def results_file(self) -> Path:
        return self.run_dir / "results.json"

    def has_run(self) -> bool:
        return self.results_file.is_file()

    def load(self) -> RunResult:
        return RunResult.load(self.run_dir)

    def save(self, result: RunResult) -> None:
        if self.main:
            result.save(self.run_dir)

    # ------------------------------------------------------------------ samples
    def finished_rows(self, result: RunResult) -> dict[Path, list[SampleRow]]:
        """Resumed: the samples files' rows of the finished cells. A cell killed after its rows
        were written but before results.json listed it runs again, so its rows are dropped."""
        samples: dict[Path, list[SampleRow]] = {}
        for c in result.cells:
            if c.samples and (self.run_dir / c.samples).is_file() and Path(c.samples) not in samples:
                path = inside(self.run_dir, c.samples, "cells[].samples")
                samples[Path(c.samples)] = cell_rows(path, [x for x in result.cells if x.task == c.task])
            if c.samples and Path(c.samples) in samples:  # each finished cell's rows are its own, as report checks
                owned(c, [r for r in samples[Path(c.samples)] if r.key == (c.prompt, c.method, c.seed)], self.run_dir / c.samples)
        return samples

    def rows(self, cell: CellResult) -> list[SampleRow]:
        """The samples rows of one cell."""
        if not cell.samples:
            return []
        path = inside(self.run_dir, cell.samples, "cells[].samples")
        return owned(cell, cell_rows(path, [cell]), path)

    def write_rows(self, rel: Path, rows: Iterable[SampleRow]) -> None:
        """Replace the samples file ``rel`` with ``rows``."""
        if self.main:
            path = self.within(self.run_dir / rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, sample_lines(rows))

    @staticmethod
    def samples_file(task: str, method: str) -> Path:
        """Where a cell's rows go, relative to the run directory (one file per task x method entry)."""
        return Path(SAMPLES_DIR) / slug(task) / f"{slug(method)}.jsonl"

    # ------------------------------------------------------------------ adapters and progress
    def cell_dir(self, task: str, prompt: str, method: str, seed: int | None) -> Path:
        """Where a trained cell keeps its checkpoint and adapter."""
        return self.within(self.run_dir / ADAPTERS_DIR / slug(task) / slug(prompt) / slug(method) / f"seed-{seed}")

    def progress(self, spec: CellSpec, cell_hash: str) -> PartialCell:
        """The progress file of a cell's predictions."""
        seed = "" if spec.seed is None else f"__seed-{spec.seed}"
        name = f"{slug(spec.task.name)}__{slug(spec.template.name)}__{slug(spec.method.label)}{seed}.jsonl"
        return PartialCell(self.within(self.run_dir / PARTIAL_DIR / name), cell_hash)

    def candidates(self, spec: CellSpec, digest: str) -> SavedCandidates:
        """The progress file of a method's tuning candidates."""
        name = f"tuning__{slug(spec.task.name)}__{slug(spec.template.name)}__{slug(spec.method.label)}.jsonl"
        return SavedCandidates(self.within(self.run_dir / PARTIAL_DIR / name), digest)

    def forget_progress(self, spec: CellSpec) -> None:
        """The cell is in results.json: its progress file and final checkpoint are not needed."""
        if not self.main:
            return
        self.progress(spec, "").discard()
        checkpoint = self.cell_dir(spec.task.name, spec.template.name, spec.method.label, spec.seed) / "checkpoint"
        if checkpoint.is_dir():
            shutil.rmtree(checkpoint, ignore_errors=True)

    def relative(self, path: Path) -> str:
        """``path`` relative to the run directory (as written in results.json)."""
        try:
            return path.resolve().relative_to(self.run_dir.resolve()).as_posix()
        except ValueError:
            return str(path)

    # ------------------------------------------------------------------ the end of a run
    def finish(self, result: RunResult, trackers: Any) -> None:
        """The reports written and handed to the trackers; progress dropped when nothing is left
        to resume. Every launcher ends here."""
        if not self.main:
            return
        from promptkit.report.outputs import write_outputs

        if all(c.error is None for c in result.cells):  # nothing left to resume
            shutil.rmtree(self.within(self.run_dir / PARTIAL_DIR), ignore_errors=True)
        write_outputs(result, self.run_dir)
        trackers.report([self.run_dir / name for name in ("results.json", "report.md", "report.html")])


def run_in_store(plan: Plan, options: RunOptions,
                 run: Callable[[Plan, RunStore, Any, RunOptions, float], RunResult]) -> RunResult:
    """What every launcher does around its cells: open the run directory (:func:`open_run`),
    ``run(plan, store, trackers, options, started)``, finish (reports, trackers), and let go of
    the directory however it ends."""
    started = time.perf_counter()
    store, trackers, options = open_run(plan, options)
    try:
        result = run(plan, store, trackers, options, started)
        store.finish(result, trackers)
    finally:
        store.release()
    return result


def new_run_id() -> str:
    return _dt.datetime.now().strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]


def open_run(plan: Plan, options: RunOptions) -> tuple[RunStore, Trackers, RunOptions]:
    """The run's directory and trackers, checked before the model loads: a new run never
    replaces another one's results, a resumed one continues on the tasks it started with, and
    the directory is writable. Every process of a launch agrees on the run id (the main one's);
    only the main one displays progress, writes and logs to trackers."""
    from promptkit.distributed import current
    from promptkit.run.tracking import Trackers

    cfg = plan.config
    procs = current()
    if not procs.is_main:  # one terminal display, one writer: the main process
        options = dataclasses.replace(options, progress=None, on_cell=None)
    run_id = procs.broadcast(cfg.run_id or new_run_id())
    resume = options.resume
    store = RunStore(Path(cfg.out_dir) / run_id, main=procs.is_main, resume=resume)
    if not resume and store.has_run():
        # a second run under the same id would replace the first one's results
        shown = display_path(store.run_dir)
        raise ConfigError(f"{shown} already holds a run (results.json); pass --resume {shown} to continue it, "
                          "or choose another --run-id")
    if resume and store.has_run():
        check_same_tasks(store.load(), plan.tasks, store.run_dir)
    if store.main:
        check_writable(store.run_dir, cfg.out_dir)
        for name in (SAMPLES_DIR, ADAPTERS_DIR, PARTIAL_DIR):  # refused before the model loads
            store.within(store.run_dir / name)
    if options.on_start is not None:
        options.on_start(store.run_dir)
    return store, Trackers(cfg.report_to if store.main else [], store.run_dir, run_id), options


def check_writable(run_dir: Path, out_dir: str) -> None:
    """The run directory can be made and written, before the model loads.

    Raises:
        ConfigError: ``--out`` is a file, or not writable (with the reason).
    """
    made = [d for d in (run_dir, *run_dir.parents) if not d.exists()]  # left as they were if the run fails early
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / f".write-test-{uuid.uuid4().hex[:8]}"
        probe.write_bytes(b"")
        probe.unlink()
        for d in made:  # innermost first; the run makes them again when it writes
            d.rmdir()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"--out {out_dir}: cannot write the run directory {display_path(run_dir)} ({reason}); "
                          "choose a writable directory") from None


def check_same_tasks(result: RunResult, prepared: Sequence[PreparedTask], run_dir: Path) -> None:
    """A run is resumed on the tasks it started with: finished cells were scored on those rows.

    Raises:
        ConfigError: a task whose version, rows or templates changed since (one line each).
    """
    problems = []
    for p in prepared:
        info = result.tasks.get(p.name)
        if info is None or not info.fingerprint:  # a task the run never had, or an older file
            continue
        if info.version != str(p.task.config.version):
            problems.append(f"task {p.name!r}: version {info.version} when the run started, {p.task.config.version} now")
        elif info.fingerprint != p.fingerprint:
            problems.append(f"task {p.name!r}: its data or prompt templates changed since the run started "
                            f"(fingerprint {info.fingerprint}, now {p.fingerprint})")
    if problems:
        shown = display_path(run_dir)
        raise ConfigError([Problem(f"{line}; --resume {shown} would mix cells scored on different examples; "
                           "restore the files or start a new run") for line in problems])
