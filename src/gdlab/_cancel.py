"""Stopping work from outside: a deadline or a cancel flag, checked between chunks of work.

Long work (a descent, a sweep, a fit's passes) runs in chunks sized by time, and
calls :func:`checkpoint` between them: inside a :func:`scope` whose time ran out,
or whose event was set (the client that asked for it left), the work raises
:class:`Cancelled` there and frees what it holds. Outside any scope,
:func:`checkpoint` costs one context-variable read. Ctrl-C needs no scope: Python
delivers it between chunks, so a chunk's length bounds how long it waits.

Example:
    >>> with scope(timeout=10.0) as s:
    ...     checkpoint()  # within its time: nothing happens
    ...     s.cancel("the client left")
    ...     checkpoint()
    Traceback (most recent call last):
    ...
    gdlab._cancel.Cancelled: stopped: the client left
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# How long one chunk of compiled work should take: Ctrl-C and a cancelled request wait
# at most about this long (plus one chunk's compile on a first call).
CHUNK_SECONDS = 0.25


class Cancelled(Exception):
    """The work was stopped from outside: its time ran out, or whoever asked for it left."""


@dataclass
class Scope:
    """A deadline and a cancel flag that :func:`checkpoint` reads.

    Attributes:
        deadline: ``time.monotonic()`` past which the work stops, or ``None``.
        event: set to stop the work now (from any thread).
        reason: what :class:`Cancelled` says once the event is set.
    """

    deadline: float | None = None
    event: threading.Event = field(default_factory=threading.Event)
    reason: str = "cancelled"

    def cancel(self, reason: str = "cancelled") -> None:
        """Stop the work at its next checkpoint (safe from any thread)."""
        self.reason = reason
        self.event.set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the event is set or the deadline passed."""
        if self.event.is_set():
            raise Cancelled(f"stopped: {self.reason}")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise Cancelled("stopped: the time limit ran out")


_SCOPE: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("gdlab_cancel_scope", default=None)


@contextmanager
def scope(timeout: float | None = None, existing: Scope | None = None) -> Iterator[Scope]:
    """Run the body under a deadline ``timeout`` seconds away and a cancel flag.

    ``existing`` enters a scope made elsewhere (a server makes one per request
    and sets its event when the client disconnects).
    """
    current = existing or Scope()
    if timeout is not None:
        current.deadline = time.monotonic() + timeout
    token = _SCOPE.set(current)
    try:
        yield current
    finally:
        _SCOPE.reset(token)


def checkpoint() -> None:
    """Raise :class:`Cancelled` when the enclosing :func:`scope` was cancelled or ran out of time."""
    current = _SCOPE.get()
    if current is not None:
        current.check()


def current() -> Scope | None:
    """The enclosing scope, if any (work started on another thread must carry it there)."""
    return _SCOPE.get()


__all__ = ["CHUNK_SECONDS", "Cancelled", "Scope", "checkpoint", "current", "scope"]
