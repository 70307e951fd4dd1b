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
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

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
    """Raise :class:`Cancelled` when the enclosing :func:`scope` was cancelled or ran out of time, and
    ``KeyboardInterrupt`` when a Ctrl-C was swallowed on its way (see :func:`ctrl_c_remembered`)."""
    if _CTRL_C.is_set():
        raise KeyboardInterrupt
    current = _SCOPE.get()
    if current is not None:
        current.check()


# Set by the handler ctrl_c_remembered installs: a Ctrl-C seen, whether or not its
# KeyboardInterrupt reached the work.
_CTRL_C = threading.Event()


def _on_ctrl_c(signum: int, frame: object) -> None:
    _CTRL_C.set()
    raise KeyboardInterrupt


@contextmanager
def ctrl_c_remembered() -> Iterator[None]:
    """Within the block, Ctrl-C raises ``KeyboardInterrupt`` as usual and is also remembered, so that
    :func:`checkpoint` raises it again if it was lost.

    Python raises ``KeyboardInterrupt`` in whatever code runs when the signal comes, and where
    that is a garbage-collector callback (JAX has one), a ``__del__`` or a weakref callback, the
    exception is printed as "ignored" and the work runs on. A front end (the command line) wraps
    its work in this, and so does every compiled chunk (:meth:`Pace.timed`), so a script's long
    descent stops at Ctrl-C too. In other threads than the main one, within another such block,
    or where the program has a SIGINT handler of its own, it changes nothing.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):  # another thread, a block within one, or a handler of the program's own: left as it is
        yield
        return
    previous = signal.signal(signal.SIGINT, _on_ctrl_c)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _CTRL_C.clear()


def current() -> Scope | None:
    """The enclosing scope, if any (work started on another thread must carry it there)."""
    return _SCOPE.get()


def power_of_two(n: float) -> int:
    """The largest power of two <= ``n`` (at least 1): chunk sizes that compiled code can reuse."""
    return 1 << max(0, int(n).bit_length() - 1) if n >= 1 else 1


@dataclass
class Pace:
    """How many steps the next chunk of a loop takes, so that each takes about :data:`CHUNK_SECONDS`.

    A step's cost is unknown until measured: a step of a one-parameter loss takes a microsecond, one
    that reads 200,000 rows a millisecond, so a fixed count is either slow to answer Ctrl-C or slow.
    The first chunk takes ``first`` steps (or what ``per_step``, remembered from an earlier run of the
    same compiled code, allows); each later one is sized from the last one's measured time: a power
    of two, at most ``most``.

    Attributes:
        most: the most steps a chunk may take (its buffers' rows).
        first: the steps of the first chunk when no cost is known.
        per_step: the measured seconds a step takes, once known.

    Example:
        >>> pace = Pace(most=1 << 20, first=64)
        >>> pace.steps()
        64
        >>> pace.took(64, 0.001)  # 16 microseconds a step: 16,000 steps in 0.25 s, taken as 2**13
        >>> pace.steps()
        8192
    """

    most: int
    first: int = 64
    per_step: float | None = None

    def steps(self) -> int:
        """The steps the next chunk should take."""
        if self.per_step is None:
            return max(1, min(self.first, self.most))
        return min(self.most, power_of_two(CHUNK_SECONDS / max(self.per_step, 1e-12)))

    def took(self, steps: int, seconds: float) -> None:
        """Record that a chunk of ``steps`` steps took ``seconds`` (a first chunk's compile included:
        it over-estimates, so the next chunk is short and measures again)."""
        if steps > 0:
            self.per_step = seconds / steps

    def timed(self, steps: int, run: Callable[..., T], *args: object) -> T:
        """``run(*args)``, a chunk of ``steps`` steps, after a :func:`checkpoint`, waited for and
        timed into this pace."""
        import jax  # here: this module is imported where JAX is not

        with ctrl_c_remembered():
            checkpoint()
            start = time.perf_counter()
            out = jax.block_until_ready(run(*args))
            self.took(steps, time.perf_counter() - start)
            checkpoint()  # a Ctrl-C swallowed during the chunk (in a garbage-collector callback)
        return out


__all__ = [
    "CHUNK_SECONDS",
    "Cancelled",
    "Pace",
    "Scope",
    "checkpoint",
    "ctrl_c_remembered",
    "current",
    "power_of_two",
    "scope",
]
