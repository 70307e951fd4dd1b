"""Compiled code: JAX's persistent cache on disk, and bounded caches of compiled code per loss."""

from __future__ import annotations

import functools
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from gdlab._checks import InputError

T = TypeVar("T")


def enable_compilation_cache() -> Path | None:
    """Keep compiled code between runs, so a repeated command starts faster; return the folder.

    It lives in ``$XDG_CACHE_HOME/gdlab/jax`` (default ``~/.cache/gdlab/jax``) and is kept under
    :data:`CACHE_BYTES` (:func:`prune_compilation_cache`); ``GDLAB_NO_CACHE=1`` turns it off, and
    an unwritable home runs without it.
    """
    if os.environ.get("GDLAB_NO_CACHE"):
        return None
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "gdlab" / "jax"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    prune_compilation_cache(folder)
    import jax

    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    return folder


CACHE_BYTES = 100 * 2**20
"""The most the persistent compilation cache keeps on disk (bytes); past it the programs used
longest ago are removed, down to three quarters of it."""

PRUNE_EVERY = 24 * 3600.0
"""Seconds between two looks at the cache's size (a command that looks lists every file)."""

_STAMP = ".gdlab-pruned"  # its modification time says when the cache was last looked at


def prune_compilation_cache(folder: Path, limit: int = CACHE_BYTES, *, now: float | None = None) -> int:
    """Keep JAX's persistent compilation cache in ``folder`` under ``limit`` bytes; return the
    bytes removed.

    Every new loss (and shape) a command compiles adds a file that nothing removes, so without a
    bound the cache grows for ever (one grew past 120 MB). When the total passes ``limit``, the
    programs used longest ago go first (last use: a file's access or modification time, whichever
    is later), until three quarters of ``limit`` remain, so that the next few compilations do not
    each trigger another pass. Listing thousands of files takes tens of milliseconds, so the
    folder is looked at once in :data:`PRUNE_EVERY` seconds (a stamp file in it says when it last
    was); between looks a command pays for one ``stat``. A file another process removes first, or
    one this process may not remove, is skipped.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> for i in range(4):
        ...     _ = (folder / f"jit_f-{i}-cache").write_bytes(bytes(1000))
        ...     os.utime(folder / f"jit_f-{i}-cache", (i, i))  # used at time i: 0 is the oldest
        >>> prune_compilation_cache(folder, limit=3000)
        2000
        >>> sorted(p.name for p in folder.glob("*-cache"))
        ['jit_f-2-cache', 'jit_f-3-cache']
    """
    import time

    now = time.time() if now is None else now
    stamp = folder / _STAMP
    try:
        if now - stamp.stat().st_mtime < PRUNE_EVERY:
            return 0
    except OSError:
        pass  # never looked at yet
    found: list[tuple[float, int, Path]] = []
    total = 0
    try:
        stamp.touch()
        os.utime(stamp, (now, now))
        with os.scandir(folder) as entries:
            for entry in entries:
                if not entry.name.endswith("-cache") or not entry.is_file(follow_symlinks=False):
                    continue
                info = entry.stat(follow_symlinks=False)
                found.append((max(info.st_atime, info.st_mtime), info.st_size, Path(entry.path)))
                total += info.st_size
    except OSError:
        return 0
    removed = 0
    if total <= limit:
        return 0
    for _, size, path in sorted(found, key=lambda item: item[0]):
        if total - removed <= limit * 3 // 4:
            break
        try:
            path.unlink()
        except OSError:
            continue
        removed += size
    return removed


# --- compiled code per loss, bounded ------------------------------------------------------------
#
# ``jax.jit`` with the loss as a static argument keeps every loss it has seen, the data the loss
# closes over and its executable, in the jitted function's own cache, for the life of the process
# (a server that sees a new loss per keystroke grew by 2.4 to 4.6 MB a loss), and ``jax.clear_caches()``
# gives none of it back. A jitted function made for one loss holds only that loss: drop it, and JAX
# drops its traces and executables with it. So each loss gets its own jitted functions, kept in
# bounded caches that drop the least recently used.
#
# One rule bounds them all: compiled code is kept for the :data:`KEPT_LOSSES` most recently used
# losses, whichever driver compiled it. A loss's code is spread over several caches (a descent's
# chunk and probe, a sweep's program, its Hessian: about 11 MB a loss on the CPU), so separate
# bounds per cache would add up to many times what one loss costs; a loss pushed out of the ring
# takes its code out of every cache at once.

KEPT_LOSSES = 16
"""The number of losses whose compiled code is kept at first (:func:`keep_compiled` changes it)."""

_LOCK = threading.RLock()  # the caches are shared by the web lab's worker threads


class _Ring:
    """The losses whose compiled code is kept, the most recently used last."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.order: OrderedDict[Hashable, None] = OrderedDict()

    def touch(self, loss: Hashable) -> list[Hashable]:
        """Mark ``loss`` used; return the losses pushed out (their code is to be dropped)."""
        order = self.order
        if loss in order:
            order.move_to_end(loss)
            return []
        order[loss] = None
        return self.trim()

    def trim(self) -> list[Hashable]:
        """Push out the least recently used losses past ``size``; return them."""
        return [self.order.popitem(last=False)[0] for _ in range(len(self.order) - self.size)]


_RING = _Ring(KEPT_LOSSES)


def keep_compiled(losses: int) -> int:
    """Keep compiled code for the ``losses`` most recently used losses (default 16); return the
    previous number. Lower it for a long-lived process that sees many losses (each costs about
    11 MB on the CPU); raise it to switch among more losses without compiling again.

    Args:
        losses: how many losses keep their compiled code (a whole number, at least 1); those
            used longest ago are forgotten at once when it shrinks.

    Returns:
        The number kept before this call.

    Raises:
        InputError: ``losses`` is not a whole number of at least 1.

    Example:
        >>> before = keep_compiled(8)
        >>> keep_compiled(before)
        8
    """
    if isinstance(losses, bool) or not isinstance(losses, int) or losses < 1:
        raise InputError(f"keep_compiled takes a whole number of losses, at least 1 (got {losses!r})")
    with _LOCK:
        before, _RING.size = _RING.size, losses
        _forget(_RING.trim())
    return before


def _forget(losses: list[Hashable]) -> None:
    """Drop every cache's entries for ``losses``."""
    for loss in losses:
        for cache in list(_ALL):
            cache.drop_loss(loss)


class Compiled(Generic[T]):
    """Values built per key (compiled functions), the least recently used dropped past ``size``.

    Keys are compared as dict keys: a function or an :class:`~gdlab.Expression` by identity (the
    same text gives the same Expression, see :func:`gdlab._loss.as_loss`). A key that cannot be
    hashed is built each time and never kept. With ``per_loss``, keys are tuples whose first item
    is the loss, and the entry is also dropped when its loss leaves the ring of the
    :data:`KEPT_LOSSES` most recently used losses (in every cache at once).
    """

    def __init__(self, size: int, on_drop: Callable[[T], None] | None = None, per_loss: bool = False) -> None:
        self.size = size
        self.per_loss = per_loss
        self._entries: OrderedDict[Hashable, T] = OrderedDict()
        self._on_drop = on_drop
        _ALL.add(self)

    def get(self, key: Hashable, build: Callable[[Any], T]) -> T:
        """The value for ``key``, ``build(key)`` on a miss (and the least recently used one dropped).
        ``build`` takes the key, so that a hit allocates nothing (this is on every call's path)."""
        entries = self._entries
        try:
            with _LOCK:
                if self.per_loss:
                    _forget(_RING.touch(key[0]))  # type: ignore[index]
                value = entries[key]
                entries.move_to_end(key)
                return value
        except KeyError:
            pass
        except TypeError:  # an unhashable loss: compiled for this call only
            return build(key)
        value = build(key)  # outside the lock: building may trace and compile
        with _LOCK:
            value = entries.setdefault(key, value)
            while len(entries) > self.size:  # more than one when the size was lowered
                self._drop(entries.popitem(last=False)[1])
        return value

    def drop_loss(self, loss: Hashable) -> None:
        """Drop the entries whose key starts with ``loss`` (per-loss caches only)."""
        if not self.per_loss:
            return
        with _LOCK:
            for key in [k for k in self._entries if k[0] is loss]:  # type: ignore[index]
                self._drop(self._entries.pop(key))

    def _drop(self, value: T) -> None:
        if self._on_drop is not None:
            self._on_drop(value)

    def clear(self) -> None:
        """Drop every entry (and with them their compiled code)."""
        with _LOCK:
            for value in self._entries.values():
                self._drop(value)
            self._entries.clear()

    def values(self) -> list[T]:
        return list(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)


_ALL: weakref.WeakSet[Compiled[Any]] = weakref.WeakSet()


def clear_compiled() -> None:
    """Drop the compiled code every :class:`Compiled` cache holds (what ``jax.clear_caches()`` cannot
    free, since these caches own it)."""
    with _LOCK:
        for cache in list(_ALL):
            cache.clear()
        _RING.order.clear()


@dataclass
class Entry:
    """One key's compiled function and what the drivers learnt running it.

    Attributes:
        jitted: the ``jax.jit`` of the function with the key's arguments bound.
        seconds: measured seconds per step, by whatever the driver says sets the cost (the shapes
            of the parameters and data): how a long run sizes its first chunk (:class:`gdlab._cancel.Pace`).
        traces: how many times JAX traced it (once per new shape or static argument: a compile).
    """

    jitted: Any
    seconds: dict[Hashable, float] = field(default_factory=dict)
    traces: list[int] = field(default_factory=lambda: [0])


class PerKey:
    """``jax.jit(fn, static_argnames=...)`` whose first ``leading`` arguments (the loss, the method)
    choose a separate jitted function, held in a :class:`Compiled` cache of ``size`` entries.

    Called like ``fn``. Where ``jax.jit`` with those arguments static would keep every loss ever
    passed, this keeps the ``size`` most recently used and frees the rest.
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        leading: int,
        size: int,
        static_argnames: tuple[str, ...] = (),
        per_loss: bool = False,
    ) -> None:
        self.fn, self.leading, self.static_argnames = fn, leading, static_argnames
        self._dropped = 0  # traces of entries since dropped (for _cache_size)
        self.cache: Compiled[Entry] = Compiled(size, on_drop=self._count, per_loss=per_loss)
        functools.update_wrapper(self, fn)

    def entry(self, *key: Any) -> Entry:
        """The entry of ``key`` (the leading arguments), made (not yet compiled) on a miss."""
        return self.cache.get(key, self._build)

    def _build(self, key: tuple[Any, ...]) -> Entry:
        import jax  # here, so that the CLI's start-up (which imports this module) does not wait for it

        bound = functools.partial(self.fn, *key)
        traces = [0]  # the closure holds this, not the entry: no cycle through the jitted function

        @functools.wraps(bound)  # its signature, so that static_argnames name the right arguments
        def traced(*args: Any, **kwargs: Any) -> Any:
            traces[0] += 1  # runs only while JAX traces
            return bound(*args, **kwargs)

        return Entry(jax.jit(traced, static_argnames=self.static_argnames), traces=traces)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        n = self.leading
        return self.cache.get(args[:n], self._build).jitted(*args[n:], **kwargs)

    def _count(self, entry: Entry) -> None:
        self._dropped += entry.traces[0]

    def _cache_size(self) -> int:
        """Traces (compiles) since the last :meth:`_clear_cache`, those of dropped entries too: a
        count that grows only when a call compiles."""
        return self._dropped + sum(e.traces[0] for e in self.cache.values())

    def _clear_cache(self) -> None:
        self.cache.clear()
        self._dropped = 0


def per_key(
    leading: int, size: int, static_argnames: tuple[str, ...] = (), per_loss: bool = False
) -> Callable[[Callable[..., Any]], PerKey]:
    """Decorator: :class:`PerKey` of the function (a bounded ``jax.jit`` per loss and method).
    ``per_loss``: the first leading argument is the loss, whose code leaves with it from the ring
    of :data:`KEPT_LOSSES` as well as by ``size``."""
    return lambda fn: PerKey(fn, leading, size, static_argnames, per_loss)
