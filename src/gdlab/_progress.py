"""A progress bar for long work: shown on a terminal after a second, silent otherwise.

It imports nothing heavy (rich is loaded only once a bar shows), so code that
computes can use it without importing matplotlib: ``gdlab.render`` loads its
drawing modules lazily.

Two forms: :func:`progress` wraps an iterable (frames being encoded);
:func:`tracker` is a context manager giving a function to call with the work
done so far (chunks of a compiled sweep)::

    with tracker(total=runs * steps, label="sweeping") as advance:
        for chunk in chunks:
            run(chunk)
            advance(done)
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

T = TypeVar("T")
DELAY = 1.0


class _Bar:
    """Shows a rich bar on stderr once :data:`DELAY` seconds have passed, if stderr is a terminal."""

    def __init__(self, total: float, label: str) -> None:
        self.total, self.label = total, label
        self.start = time.perf_counter()
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def advance(self, done: float) -> None:
        """Record that ``done`` of ``total`` is finished."""
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, completed=done)
        elif time.perf_counter() - self.start > DELAY and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress

            self.bar = Progress(console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=self.total, completed=int(done))

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()

    @property
    def shown(self) -> bool:
        return self.bar is not None


@contextlib.contextmanager
def tracker(total: float, label: str) -> Iterator[Callable[[float], None]]:
    """A function ``advance(done)`` to call as work finishes; the bar goes when the block ends.

    Args:
        total: the amount of work (steps, runs, frames: any unit).
        label: a few words said beside the bar ("sweeping 1,000 rates").

    Example:
        >>> with tracker(3, "counting") as advance:
        ...     for done in range(1, 4):
        ...         advance(done)
    """
    bar = _Bar(total, label)
    try:
        yield bar.advance
    finally:
        bar.stop()


def progress(items: Iterable[T], total: int, label: str) -> Iterator[T]:
    """Yield ``items``; past :data:`DELAY` seconds on a terminal, show a bar on stderr."""
    with tracker(total, label) as advance:
        for done, item in enumerate(items):
            yield item
            advance(done + 1)
