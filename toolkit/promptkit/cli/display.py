"""Terminal display for the CLI (rich): progress bars, per-cell lines, summary tables."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from promptkit.prompting.context import context_phrase
from promptkit.records.results import CellResult, RunResult
from promptkit.report.tables import context_lines, results_table, verdict_lines, verdict_table

console = Console(stderr=True)
out = Console()


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class LiveDisplay:
    """Progress bars for the running cell plus a line per finished cell.

    When stderr is not a terminal (a log file, CI, ``nohup``), bars would show nothing: each
    progress label prints a plain line instead, when it starts, at most every ``every_s``
    seconds and when it ends, with its count, share and elapsed time.
    """

    def __init__(self, every_s: float = 30.0) -> None:
        self.plain = not console.is_terminal
        self.every_s = every_s
        self._lines: dict[str, tuple[float, float]] = {}  # label: (started, last line)
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> LiveDisplay:
        self.bar.__enter__()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.bar.__exit__(et, ev, tb)

    def phase(self, text: str) -> None:
        console.print(f"[dim]{text}[/dim]")

    def progress(self, label: str, done: int, total: int) -> None:
        if self.plain:
            self._plain_progress(label, done, total)
            return
        if label not in self._tasks:
            self._tasks[label] = self.bar.add_task(label, total=total)
        self.bar.update(self._tasks[label], completed=done, total=total)
        if done >= total:  # the next call with this label starts a new bar
            self.bar.remove_task(self._tasks.pop(label))

    def _plain_progress(self, label: str, done: int, total: int) -> None:
        now = time.monotonic()
        started, last = self._lines.get(label, (now, -float("inf")))
        if done >= total or now - last >= self.every_s:
            share = f" ({100 * done / total:.0f}%)" if total else ""
            console.print(f"{escape(label)}: {done}/{total}{share}, {_clock(now - started)} elapsed",
                          highlight=False, soft_wrap=True)
            last = now
        if done >= total:
            self._lines.pop(label, None)
        else:
            self._lines[label] = (started, last)

    def cell_done(self, cell: CellResult) -> None:
        for tid in self._tasks.values():
            self.bar.remove_task(tid)
        self._tasks.clear()
        if cell.error:
            # one line per cell whatever the width, so logs can be grepped
            where = escape(f"{cell.task} / {cell.prompt} / {cell.method}: {cell.error}")
            console.print(f"[red]✗[/red] {where}", soft_wrap=True, highlight=False)
            return
        self._lines.clear()
        metrics = ", ".join(f"{m} {s.value:.1f}" for m, s in cell.metrics.items())
        seed = f" seed {cell.seed}" if cell.seed is not None else ""
        spent = [f"{cell.n} ex"]
        if cell.tuning is not None:
            spent.append(f"tuning {sum(c.train_s for c in cell.tuning.candidates):.1f} s")
        if cell.training is not None:
            spent.append(f"training {cell.timings.get('fit_s', 0):.1f} s")
        spent.append(f"evaluation {cell.timings.get('predict_s', 0):.1f} s")
        spent += [f"{phrase} for context length" for phrase in context_phrase(cell.context.evaluation if cell.context else None)]
        console.print(f"[green]✓[/green] {escape(f'{cell.task} / {cell.prompt} / {cell.method}{seed}')}: {metrics} "
                      f"[dim]({', '.join(spent)})[/dim]", soft_wrap=True)

    def summary(self, result: RunResult, run_dir: Path) -> None:
        for task in dict.fromkeys(c.task for c in result.cells):
            data = results_table(result, task)
            keep = [i for i, h in enumerate(data.header) if h not in ("shots", "n")]  # the last column holds errors
            table = Table(title=f"{task} (n={next(c.n for c in result.cells if c.task == task)})", title_justify="left")
            for i in keep:
                table.add_column(data.header[i])
            for row in data.rows:
                table.add_row(*(escape(row[i]) for i in keep))
            out.print(table)
            pairs = verdict_table(result, task)
            if pairs is not None:
                ptable = Table(title="each method against the best (simultaneous intervals)", title_justify="left")
                names: tuple[str, ...] = ("prompt", "method", "value", "outcome", "loss vs best", "adjusted CI",
                                          "p (adjusted)")
                if len({c.prompt for c in result.cells if c.task == task}) == 1:
                    names = tuple(n for n in names if n != "prompt")
                cols = [pairs.header.index(h) for h in names]
                for i in cols:
                    ptable.add_column(pairs.header[i])
                for row in pairs.rows:
                    ptable.add_row(*(escape(row[i]) for i in cols))
                out.print(ptable)
            for text in verdict_lines(result, task):
                out.print(f"[bold]{escape(text)}[/bold]", soft_wrap=True)
            for text in context_lines(result, task):
                out.print(escape(text), soft_wrap=True, highlight=False)
        out.print(escape(f"results: {run_dir / 'results.json'}\nreport:  {run_dir / 'report.md'} (and report.html)"), soft_wrap=True)


def print_task_list(rows: Sequence[tuple[str, str, str, str]]) -> None:
    table = Table()
    for col in ("task", "adapter", "source", "description"):
        table.add_column(col)
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))  # descriptions are user text, not markup
    out.print(table)


def print_rendered(task: str, path: str, chat: bool, blocks: Sequence[tuple[str, str, str, str, list[str], int]]) -> None:
    # soft_wrap: a rendered prompt is shown exactly as the model sees it, never re-wrapped to the
    # terminal width (a wrapped line would read as a newline in the prompt)
    out.print(f"[bold]{escape(task)}[/bold] ({escape(path)}), chat template {'on' if chat else 'off'}", soft_wrap=True)
    for prompt_name, ex_id, text, target, refs, n_tokens in blocks:
        out.rule(f"{prompt_name} · {ex_id} · {n_tokens} tokens")
        out.print(text, markup=False, highlight=False, soft_wrap=True)
        out.print(f"[dim]target:[/dim] {escape(repr(target))}   [dim]references:[/dim] {escape(repr(refs))}", highlight=False, soft_wrap=True)
