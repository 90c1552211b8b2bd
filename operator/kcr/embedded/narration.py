"""What a person watching ``kcr demo`` or ``kcr dev`` reads: chapters, steps, and waits.

Every wait has a deadline and shows progress while it lasts (a spinner, or a bar when
its length is known); the run's elapsed time leads each finished line, so the slow parts
are visible.
"""

import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.rule import Rule

ARGUMENT_CHARS = 160
PIPE_WIDTH = 110
LINE_WITH_BAR = 48
LINE_WITHOUT_BAR = 31
"""Columns a progress line spends on its spinner, bar, elapsed time and deadline."""
SHA256 = re.compile(r"\b([0-9a-f]{12})[0-9a-f]{52}\b")


def shorten_hashes(text: str) -> str:
    """A sha256 reads as its first 12 hex digits, as ``git`` shows commits."""
    return SHA256.sub(r"\1…", text)


class WaitTimeoutError(TimeoutError):
    """A bounded wait ran out; the message says what was awaited and what was last seen."""


@dataclass
class Wait:
    """One bounded wait: ``check`` raises once the deadline passed; ``show`` updates the line."""

    label: str
    timeout: float
    progress: Progress | None = field(repr=False)
    task: TaskID | None
    started: float = field(default_factory=time.monotonic)
    last: str = ""
    width: int = 80
    """Characters the progress line's text may take; longer text ends in an ellipsis."""

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def show(self, detail: str = "", *, completed: float | None = None) -> None:
        self.last = detail or self.last
        if self.progress is None or self.task is None:
            return
        text = f"{self.label}: {detail}" if detail else self.label
        if len(text) > self.width:
            text = text[: self.width - 1] + "…"
        self.progress.update(self.task, description=escape(text), completed=completed)

    def check(self) -> None:
        if self.elapsed > self.timeout:
            seen = f"; last seen: {self.last}" if self.last else ""
            raise WaitTimeoutError(f"{self.label}: not done within {self.timeout:.0f}s{seen}")


class Narrator:
    """Readable output on a rich console, each finished step stamped with the elapsed time."""

    def __init__(self, console: Console | None = None) -> None:
        if console is None:
            console = Console(highlight=False)
            if not console.is_terminal and "COLUMNS" not in os.environ:
                console = Console(highlight=False, width=PIPE_WIDTH)
        self.console = console
        self.started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def title(self, text: str) -> None:
        self.console.print(Rule(f"[bold]{escape(text)}[/]", style="cyan"))

    def chapter(self, text: str) -> None:
        self.console.print()
        self.console.print(Rule(f"[bold cyan]{escape(text)}[/]", align="left", style="cyan"))

    def say(self, text: str) -> None:
        self.console.print(f"  {escape(shorten_hashes(text))}")

    def done(self, text: str) -> None:
        self._stamped("[green]✓[/]", text)

    def warn(self, text: str) -> None:
        self._stamped("[yellow]![/]", text)

    def failed(self, text: str) -> None:
        self._stamped("[bold red]✗[/]", text)

    def _stamped(self, mark: str, text: str) -> None:
        self.console.print(f"[dim]{self.elapsed:6.1f}s[/] {mark} {escape(shorten_hashes(text))}")

    def verbatim(self, text: str) -> None:
        """Another program's output as it printed it: whole lines, never re-wrapped."""
        self.console.print(escape(text), soft_wrap=True)

    def person(self, who: str, text: str) -> None:
        self.console.print(f"  [bold magenta]{escape(who)}[/] {escape(text)}")

    def tool_call(self, who: str, tool: str, arguments: dict[str, Any]) -> None:
        shown = json.dumps(arguments, ensure_ascii=False)
        if len(shown) > ARGUMENT_CHARS:
            shown = shown[: ARGUMENT_CHARS - 1] + "…"
        self.console.print(
            f"  [bold blue]{escape(who)}[/] → MCP [bold]{escape(tool)}[/] {escape(shown)}"
        )

    def show(self, renderable: RenderableType) -> None:
        self.console.print(renderable)

    @contextmanager
    def waiting(self, label: str, timeout: float, total: float | None = None) -> Iterator[Wait]:
        """A transient progress line for the length of the block; a bar when ``total`` is
        known. The caller prints the outcome (``done``) after it. Without a terminal (a
        pipe, a CI log) the wait is announced on a line of its own instead."""
        if not self.console.is_terminal:
            self.console.print(f"[dim]{self.elapsed:6.1f}s … {escape(label)}[/]")
            yield Wait(label=label, timeout=timeout, progress=None, task=None)
            return
        columns = [
            SpinnerColumn(),
            TextColumn("{task.description}"),
            *([BarColumn(bar_width=16)] if total is not None else []),
            TimeElapsedColumn(),
            TextColumn(f"[dim](at most {timeout:.0f}s)[/]"),
        ]
        room = self.console.width - (LINE_WITH_BAR if total is not None else LINE_WITHOUT_BAR)
        with Progress(*columns, console=self.console, transient=True) as progress:
            task = progress.add_task(escape(label), total=total)
            yield Wait(
                label=label, timeout=timeout, progress=progress, task=task, width=max(20, room)
            )
