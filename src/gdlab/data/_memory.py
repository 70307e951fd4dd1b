"""Rows in this process's memory: a :class:`gdlab.Table` (or arrays a loss reads as they are).

Algorithms given rows in memory run their compiled in-memory drivers on :meth:`MemorySource.table`
(gdlab's refined QR, the compiled descent and SGD); the reduction over one block that covers
every row is there for algorithms written only over a :class:`~gdlab.data.Source`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, final

import numpy as np

from gdlab._checks import InputError
from gdlab.data._source import Batches, Block, OnBatch

__all__ = ["MemorySource"]


@final
@dataclass(frozen=True, eq=False)
class MemorySource:
    """Rows held here.

    Attributes:
        rows: what a loss reads: a dict of a table's columns, or arrays (any pytree) as given.
        held: the :class:`gdlab.Table` the rows came from, or ``None`` for arrays as given.
    """

    rows: Any
    held: Any = None

    @property
    def n(self) -> int:
        """The rows (of a table; arrays as given count their leading axis)."""
        if self.held is not None:
            return int(self.held.n)
        import jax

        leaves = jax.tree.leaves(self.rows)
        return int(np.shape(leaves[0])[0]) if leaves and np.ndim(leaves[0]) else 0

    @property
    def names(self) -> tuple[str, ...]:
        """A table's columns (none for arrays as given)."""
        return tuple(self.held.names) if self.held is not None else ()

    @property
    def dropped(self) -> int:
        """The rows the table dropped for a missing value."""
        return int(self.held.dropped) if self.held is not None else 0

    @property
    def where(self) -> str:
        """In words."""
        return "the rows in memory"

    def reduce(self, fn: Callable[..., Any], merge: Callable[[Any, Any], Any], *args: Any) -> Any:
        """``fn`` on one block of every row (``merge`` is never needed)."""
        columns = {c: np.asarray(self.held[c], dtype=np.float64) for c in self.names}
        return fn(Block(columns, None, self.n, 0), *args)

    def send(self, f: Callable[..., Any]) -> tuple[Any, ...]:
        """Rows here: ``f`` as it is."""
        return (None, f)

    def batches(self, size: int, *, epochs: int, seed: int, shuffle: bool, buffer: int | None) -> Batches:
        """In memory, SGD is the compiled run of :func:`gdlab.sgd`, which shuffles on the device:
        these are the same batches in the data's order only (``shuffle=False``)."""
        if shuffle:
            raise InputError("rows in memory are shuffled by gdlab.sgd's compiled run, not batch by batch")
        columns = {c: np.asarray(self.held[c], dtype=np.float64) for c in self.names}
        per_epoch = self.n // size

        def each() -> Iterator[OnBatch]:
            for _ in range(epochs):
                for k in range(per_epoch):
                    batch = {c: v[k * size : (k + 1) * size] for c, v in columns.items()}
                    yield lambda fn, *args, batch=batch: fn(batch, *args)

        return Batches(
            epochs * per_epoch, each, f"{epochs} epoch(s) of {per_epoch:,} batches of {size:,} rows"
        )

    def table(self) -> Any:
        """The table, or ``None`` for arrays given as they are."""
        return self.held
