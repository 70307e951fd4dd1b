"""Where the rows live, decided once for every algorithm: in memory, streamed from Parquet, or on
a Dask cluster.

:func:`open_source` is the only code that knows pandas/NumPy from Parquet from Dask: ``gdlab.fit``,
``gdlab.sgd`` and ``gdlab.descend`` call it once, so the same data and options go to the same
place whichever is called, with the same refusals. A new kind of source (a Polars lazy frame,
Zarr, a database query) is a module holding a :class:`~gdlab.data.Source` and a branch here.
"""

from __future__ import annotations

import dataclasses
import enum
import sys
from typing import Any

from gdlab._categories import Levels
from gdlab._checks import InputError
from gdlab._data import NamesLike, as_table, is_tabular, levels_in, names
from gdlab.data._derived import DerivedSource
from gdlab.data._memory import MemorySource
from gdlab.data._source import Source

__all__ = ["Where", "find_levels", "on_cluster", "open_source", "where"]


class Where(enum.Enum):
    """Where the rows of the data live while an algorithm reads them."""

    MEMORY = "memory"  # a table in this process (arrays, a DataFrame, a CSV or a small Parquet file)
    PARQUET = "parquet"  # streamed from Parquet, a block of rows at a time
    CLUSTER = "cluster"  # on Dask workers: each pass is a task per chunk


def on_cluster(data: Any) -> bool:
    """Whether ``data`` is a Dask collection (or gdlab's view of one): without Dask imported, none is."""
    if "dask" not in sys.modules:
        return False
    from gdlab.data import _dask

    return isinstance(data, _dask.DaskData) or _dask.is_dask_collection(data)


def where(data: Any, *, client: Any = None, stream: bool | None = None) -> Where:
    """Where ``data``'s rows live: on a cluster with ``client=`` or Dask data; streamed from a
    directory of Parquet files, a Parquet file too large for a table, or with ``stream=True``;
    in memory otherwise.

    Raises:
        InputError: ``stream=True`` with data on a cluster (nothing is streamed from here), or for
            data that are not Parquet.

    Example:
        >>> where("cafe").value
        'memory'
    """
    from gdlab.data import _parquet

    if isinstance(data, DerivedSource):
        return where(data.source, client=client, stream=stream)
    if isinstance(data, _parquet.ParquetSource):
        return Where.PARQUET
    if client is not None or on_cluster(data):
        if stream:
            raise InputError(
                lambda s: (
                    f"{s.setting('stream', True)} reads a Parquet file here in blocks; with client= "
                    f"or Dask data the rows stay on the cluster: leave {s.name('stream')} unset, or drop "
                    "client= to stream the file"
                ),
                parameter="stream",
            )
        return Where.CLUSTER
    return Where.PARQUET if _parquet.should_stream(data, stream) else Where.MEMORY


def open_source(
    data: Any,
    *,
    columns: NamesLike | None = None,
    dropna: bool = False,
    client: Any = None,
    stream: bool | None = None,
    dtype: Any = None,
    batch_rows: int | None = None,
    cluster: bool = False,
    categories: dict[str, Levels] | None = None,
) -> Source:
    """``data`` as a :class:`~gdlab.data.Source`, wherever its rows live (see :func:`where`).

    Args:
        data: arrays, a dict, a DataFrame, a CSV or Parquet path, a data set's name, a directory
            of Parquet files, a Dask DataFrame or array, or a source already opened.
        columns: the columns to read (default all).
        dropna: drop the rows with a missing value in a column read (in memory, as they are
            streamed, or on the workers); otherwise the first is an error naming its column and row.
        client: a ``dask.distributed.Client``: the rows go to (or are on) its cluster.
        stream: stream a Parquet file in blocks (default: a directory, or a file too large for a
            table); ``False`` reads it into memory.
        dtype: the floating type of rows in memory (elsewhere rows are float64).
        batch_rows: rows per block streamed from Parquet.
        cluster: send the rows to a cluster (``client``'s, or the current one) even when they
            are in memory here.
        categories: columns read as categories, with their levels (:func:`find_levels`): each
            row holds its value's index among them, in every block alike.

    Example:
        >>> source = open_source("cafe", columns="x,y")
        >>> source.n, source.names, source.where
        (10, ('x', 'y'), 'the rows in memory')
    """
    if isinstance(data, DerivedSource):
        return data
    wanted = None if columns is None else names(columns, "columns")
    place = Where.CLUSTER if cluster else where(data, client=client, stream=stream)
    if place is Where.PARQUET:
        from gdlab.data import _parquet

        if isinstance(data, _parquet.ParquetSource):
            return data if data.dropna == bool(dropna) else dataclasses.replace(data, dropna=bool(dropna))
        rows = _parquet.BATCH_ROWS if batch_rows is None else batch_rows
        return _parquet.open_parquet(
            data, wanted, batch_rows=rows, dropna=bool(dropna), categories=categories
        )
    if place is Where.CLUSTER:
        from gdlab.data import _dask

        if isinstance(data, _dask.DaskData):
            return data
        return _dask.as_dask_data(
            data, client=client, columns=wanted, dropna=bool(dropna), categories=categories
        )
    if isinstance(data, MemorySource):
        return data
    if not (is_tabular(data) or wanted is not None or dropna or categories):
        return MemorySource(data)  # arrays (any pytree) the loss reads as they are
    table = as_table(data, columns=wanted, dtype=dtype, dropna=bool(dropna), categories=categories)
    return MemorySource({name: table[name] for name in table.names}, table)


def find_levels(
    data: Any,
    columns: tuple[str, ...],
    text_only: tuple[str, ...] = (),
    *,
    client: Any = None,
    stream: bool | None = None,
) -> dict[str, Levels]:
    """Each of ``columns``' levels, and those of ``text_only`` that hold text, found once over all
    the rows wherever they live (a pass over the Parquet files' category columns, a task per chunk
    on a cluster), so that every block is coded alike (see :mod:`gdlab._categories`).

    Example:
        >>> find_levels({"g": ["b", "a"], "x": [1.0, 2.0]}, ("g",), ("x",))
        {'g': ('a', 'b')}
    """
    if (not columns and not text_only) or isinstance(data, Source):
        return {}  # an opened source's columns were coded when it was opened
    place = where(data, client=client, stream=stream)
    if place is Where.PARQUET:
        from gdlab.data import _parquet

        return _parquet.levels(data, columns, text_only)
    if place is Where.CLUSTER:
        from gdlab.data import _dask

        return _dask.levels(data, columns, text_only, client=client)
    return levels_in(data, columns, text_only)
