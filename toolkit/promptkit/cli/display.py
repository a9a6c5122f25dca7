"""Terminal display for the CLI (rich): progress bars, per-cell lines, summary tables.

Names and rows come from task files, datasets and results.json: every piece of them passes
:func:`printable` (and rich's ``escape`` where the text is read as markup) before it reaches the
terminal, so a row holding ``ESC ] 0 ; title BEL`` shows those characters instead of retitling
the window, recolouring the screen or writing to the clipboard.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import click
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

if TYPE_CHECKING:  # the report and prompting modules load on first use: _fail imports this module to print one error
    from promptkit.records.results import CellResult, RunResult

# C0 controls but newline and tab, DEL, and the C1 controls. ESC (0x1b) and its one-byte form
# CSI (0x9b) start the sequences that move the cursor, recolour, clear the screen, set the window
# title (OSC) or write the clipboard (OSC 52); CR overwrites a line, BS and DEL erase characters.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with every control character but newline and tab written as its escape
    (``"\\x1b"`` for ESC): data shown in a terminal is read, never obeyed."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _markup(text: str) -> str:
    """User text inside rich markup: control characters made visible, brackets not tags."""
    return escape(printable(text))


def cut_middle(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: its middle replaced by ``... [N characters cut] ...``,
    so that the start (the file, line and key a message names) and the end (what is accepted) stay."""
    if len(text) <= limit:
        return text
    # the marker is sized for the largest count it could show, so the result never exceeds limit
    keep = max(limit - len(f" ... [{len(text):,} characters cut] ... "), 0)
    head, tail = keep - keep // 2, keep // 2
    return f"{text[:head]} ... [{len(text) - head - tail:,} characters cut] ... {text[len(text) - tail:]}"


console = Console(stderr=True)
out = Console()


# An error prints at most this many problems, each in at most this many characters: a config
# with 90,000 bad rows, or a message quoting a 1.5-million-character value, stays readable.
MAX_PROBLEMS = 50
MAX_LINE = 2000


def echo_errors(lines: Sequence[str], hint: str | None = None) -> None:
    """``error:`` lines on stderr: at most :data:`MAX_PROBLEMS` of them (then how many more), each
    cut to :data:`MAX_LINE` characters, control characters shown as escapes (messages quote data
    values), and ``hint`` (how to go on) last, always."""
    shown = list(lines[:MAX_PROBLEMS])
    if len(lines) > MAX_PROBLEMS:
        shown.append(f"... and {len(lines) - MAX_PROBLEMS:,} more problems")
    for line in [*shown, *([hint] if hint is not None else [])]:
        click.echo(cut_middle(f"error: {printable(line)}", MAX_LINE), err=True)


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
            self._tasks[label] = self.bar.add_task(_markup(label), total=total)
        self.bar.update(self._tasks[label], completed=done, total=total)
        if done >= total:  # the next call with this label starts a new bar
            self.bar.remove_task(self._tasks.pop(label))

    def _plain_progress(self, label: str, done: int, total: int) -> None:
        now = time.monotonic()
        started, last = self._lines.get(label, (now, -float("inf")))
        if done >= total or now - last >= self.every_s:
            share = f" ({100 * done / total:.0f}%)" if total else ""
            console.print(f"{_markup(label)}: {done}/{total}{share}, {_clock(now - started)} elapsed",
                          highlight=False, soft_wrap=True)
            last = now
        if done >= total:
            self._lines.pop(label, None)
        else:
            self._lines[label] = (started, last)

    def cell_done(self, cell: CellResult) -> None:
        from promptkit.prompting.context import context_phrase

        for tid in self._tasks.values():
            self.bar.remove_task(tid)
        self._tasks.clear()
        if cell.error:
            # one line per cell whatever the width, so logs can be grepped
            where = _markup(f"{cell.task} / {cell.prompt} / {cell.method}: {cell.error}")
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
        console.print(f"[green]✓[/green] {_markup(f'{cell.task} / {cell.prompt} / {cell.method}{seed}')}: {_markup(metrics)} "
                      f"[dim]({', '.join(spent)})[/dim]", soft_wrap=True)

    def summary(self, result: RunResult, run_dir: Path) -> None:
        from promptkit.report.tables import context_lines, results_table, verdict_lines, verdict_table

        for task in dict.fromkeys(c.task for c in result.cells):
            data = results_table(result, task)
            keep = [i for i, h in enumerate(data.header) if h not in ("shots", "n")]  # the last column holds errors
            table = Table(title=_markup(f"{task} (n={next(c.n for c in result.cells if c.task == task)})"), title_justify="left")
            for i in keep:
                table.add_column(_markup(data.header[i]))
            for row in data.rows:
                table.add_row(*(_markup(row[i]) for i in keep))
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
                    ptable.add_row(*(_markup(row[i]) for i in cols))
                out.print(ptable)
            for text in verdict_lines(result, task):
                out.print(f"[bold]{_markup(text)}[/bold]", soft_wrap=True)
            for text in context_lines(result, task):
                out.print(_markup(text), soft_wrap=True, highlight=False)
        out.print(_markup(f"results: {run_dir / 'results.json'}\nreport:  {run_dir / 'report.md'} (and report.html)"), soft_wrap=True)


def print_task_list(rows: Sequence[tuple[str, str, str, str]]) -> None:
    table = Table()
    for col in ("task", "adapter", "source", "description"):
        table.add_column(col)
    for row in rows:
        table.add_row(*(_markup(cell) for cell in row))  # descriptions are user text, not markup
    out.print(table)


def print_rendered(task: str, path: str, chat: bool, blocks: Sequence[tuple[str, str, str, str, list[str], int]],
                   why: str = "") -> None:
    # soft_wrap: a rendered prompt is shown exactly as the model sees it, never re-wrapped to the
    # terminal width (a wrapped line would read as a newline in the prompt)
    reason = f" ({_markup(why)})" if why else ""
    out.print(f"[bold]{_markup(task)}[/bold] ({_markup(path)}), chat template {'on' if chat else 'off'}{reason}", soft_wrap=True)
    for prompt_name, ex_id, text, target, refs, n_tokens in blocks:
        out.rule(_markup(f"{prompt_name} · {ex_id} · {n_tokens} tokens"))
        out.print(printable(text), markup=False, highlight=False, soft_wrap=True)
        out.print(f"[dim]target:[/dim] {_markup(repr(target))}   [dim]references:[/dim] {_markup(repr(refs))}", highlight=False, soft_wrap=True)
