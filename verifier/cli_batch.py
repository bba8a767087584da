"""What ``vc-verify batch`` shows on a terminal: a progress bar (documents done of all, rate,
time left) on stderr and the summary as tables on stdout, drawn with ``rich``. Neither is
drawn when the stream is not a terminal (piped, redirected, in tests): the progress is then
not shown at all and the summary is the plain text of :meth:`BatchSummary.table`, which stays
the same for scripts. ``rich`` honours ``NO_COLOR`` and ``TERM=dumb``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Callable

from rich.console import Console
from rich.progress import (
    BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn, TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from tradevc.vc.jsontext import escape_hidden

from .batch import BatchSummary

__all__ = ["print_summary", "progress"]


class _Rate(ProgressColumn):
    """Documents per second, once there is a rate to show."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} docs/s", style="progress.data.speed")


@contextmanager
def progress(total: int) -> Iterator[Callable[[int], None]]:
    """A function to call with the number of documents just verified; it draws a progress
    bar on stderr if stderr is a terminal, and does nothing otherwise."""
    console = Console(stderr=True)
    if not console.is_terminal or total == 0:
        yield lambda n: None
        return
    columns = (
        TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), _Rate(), TimeElapsedColumn(),
        TextColumn("ETA"), TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("verifying", total=total)
        yield lambda n: bar.advance(task, n)


def print_summary(summary: BatchSummary, echo: Callable[[str], None]) -> None:
    """Print the summary: as tables if stdout is a terminal, else as plain text (``echo``).
    What came from the documents (file names, messages) is printed as text, never as markup,
    with its hidden characters escaped."""
    console = Console(highlight=False)
    if not console.is_terminal:
        echo(escape_hidden(summary.table()))
        return
    counts = Table(title="vc-verify batch", title_justify="left")
    counts.add_column("outcome")
    counts.add_column("reason")
    counts.add_column("documents", justify="right")
    style = {"verified": "green", "not verified": "red", "could not verify": "yellow"}
    for outcome, reason, n in summary.rows():
        counts.add_row(Text(outcome, style=style.get(outcome, "")), Text(escape_hidden(reason)), str(n))
    console.print(counts)
    if summary.interrupted:
        console.print(f"[bold]interrupted:[/] {summary.total} of {summary.planned} documents verified before the "
                      "interruption")
    problems = [d for d in summary.documents if d["status"] != "verified"]
    if not problems and not summary.skipped:
        return
    files = Table(title="files that did not verify or were skipped", title_justify="left")
    files.add_column("file", overflow="fold")
    files.add_column("outcome")
    files.add_column("reason", overflow="fold")
    for d in problems:
        why = d["reason"] + (f" ({d['message']})" if d.get("message") else "")
        files.add_row(Text(escape_hidden(d["source"])), Text(d["status"], style=style.get(d["status"], "")),
                      Text(escape_hidden(why)))
    for s in summary.skipped:
        files.add_row(Text(escape_hidden(s.source)), Text(f"skipped ({s.kind})"), Text(escape_hidden(s.reason)))
    console.print(files)
