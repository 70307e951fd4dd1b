"""The ``Source`` protocol: where the rows of a data set live, hidden behind one interface.

Every algorithm that reads rows (the linear fit's TSQR, Newton's method for logistic, full-batch
descent, SGD) is written once over a :class:`Source`; :func:`gdlab.data.open_source` decides
which one the data are. A block is a dict of float64 columns with a mask of the real rows; a
source applies a function to each of its blocks where they live (in this process, as Parquet is
read, or on the workers of a cluster) and merges the results in a fixed order, so the same rows
give the same numbers whatever the order the work finished in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from gdlab._checks import InputError

__all__ = ["Batches", "Block", "ClusterError", "Source", "check_kept_rows", "check_some_kept"]


class ClusterError(RuntimeError):
    """The cluster lost what a fit needs (a worker holding data that cannot be recomputed).

    Raised by :func:`gdlab.fit`, :func:`gdlab.descend` and :func:`gdlab.sgd` on Dask data. A
    worker lost mid-fit is recomputed by Dask from the collection's graph, and the fit goes on
    with the same numbers; rows scattered from the client's memory have no graph to recompute
    them from, so the fit stops with this error rather than continue on part of the rows. It is
    a ``RuntimeError``, not an :class:`InputError`: the input was right, the cluster failed.
    """


class Block(NamedTuple):
    """One block of rows.

    Attributes:
        columns: name -> float64 array (contiguous). A streamed block has a fixed length,
            its real rows first and then padding that evaluates like a real row.
        mask: 1.0 for the ``rows`` real rows and 0.0 for the padding, or ``None`` when every
            row is real (a chunk on a cluster, a table in memory).
        rows: the real rows.
        start: the row of the data this block starts at (counting only the rows kept, when
            rows with missing values are dropped).
    """

    columns: dict[str, np.ndarray]
    mask: np.ndarray | None
    rows: int
    start: int


# Runs ``fn(batch_columns, *args)`` where one minibatch lives, and returns what it returns.
OnBatch = Callable[..., Any]


class Batches(NamedTuple):
    """A run's minibatches, checked before any row is read.

    Attributes:
        steps: the minibatches of the whole run (every epoch).
        each: a fresh iterator over them: each item runs a function on its batch's columns
            where they live (``item(fn, *args)``).
        words: the batches described for a message ("of 20 batches of 10 rows streamed from ...").
    """

    steps: int
    each: Callable[[], Iterator[OnBatch]]
    words: str


@runtime_checkable
class Source(Protocol):
    """Rows of named float64 columns, wherever they live.

    Attributes:
        n: the rows known before any pass: a source that drops rows with a missing value as it
            reads them (Parquet with ``dropna``) counts them here, and a reduction counts the
            rows it kept.
        names: the columns.
        dropped: the rows dropped for a missing value before any pass (in memory, on a
            cluster); 0 where they are dropped as they are read.
        where: where the rows are, in words ("d.parquet", "5 chunks on the cluster").
    """

    @property
    def n(self) -> int: ...

    @property
    def names(self) -> tuple[str, ...]: ...

    @property
    def dropped(self) -> int: ...

    @property
    def where(self) -> str: ...

    def reduce(self, fn: Callable[..., Any], merge: Callable[[Any, Any], Any], *args: Any) -> Any:
        """``fn(block, *args)`` on every block where it lives, merged two at a time in a fixed order
        (``None`` when no block holds a row: every row dropped)."""
        ...

    def send(self, f: Callable[..., Any]) -> tuple[Any, ...]:
        """``f`` made ready for the blocks: the arguments that carry it (sent once to a cluster's
        workers, with a token its compiled form is kept under there)."""
        ...

    def batches(self, size: int, *, epochs: int, seed: int, shuffle: bool, buffer: int | None) -> Batches:
        """The minibatches of ``size`` rows of ``epochs`` passes, cut from ``seed``."""
        ...

    def table(self) -> Any:
        """The :class:`gdlab.Table` in memory, or ``None`` where the rows are elsewhere."""
        ...


def check_some_kept(kept: int, rows: int, source: str) -> None:
    """Refuse data whose every row had a missing value (and was dropped)."""
    if not kept:
        raise InputError(
            f"{source}: every one of its {rows:,} rows has a missing value in the columns used; "
            "fill them, or choose other columns"
        )


def check_kept_rows(source: Source, kept: int) -> None:
    """Refuse a pass over ``source`` that kept none of its rows, naming its file when it has one."""
    check_some_kept(kept, source.n, str(getattr(source, "path", None) or source.where))
