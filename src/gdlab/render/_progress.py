"""A progress bar for long renders: shown on a terminal after a second, silent otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
DELAY = 1.0


def progress(items: Iterable[T], total: int, label: str) -> Iterator[T]:
    """Yield ``items``; past :data:`DELAY` seconds on a terminal, show a bar on stderr."""
    start = time.perf_counter()
    bar = task = None
    try:
        for done, item in enumerate(items):
            yield item
            if bar is None and time.perf_counter() - start > DELAY and sys.stderr.isatty():
                from rich.console import Console
                from rich.progress import Progress

                bar = Progress(console=Console(stderr=True), transient=True)
                bar.start()
                task = bar.add_task(label, total=total, completed=done + 1)
            elif bar is not None and task is not None:
                bar.update(task, completed=done + 1)
    finally:
        if bar is not None:
            bar.stop()
