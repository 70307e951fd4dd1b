"""Rows on a Dask cluster: chunks resident on the workers, one task per chunk, the loop here.

The data are cut into chunks that stay on the workers as NumPy arrays (a dict
of float64 columns per chunk) for as long as a :class:`DaskData` holds them.
A reduction sends its arguments (a few numbers), runs one task per chunk and
merges the results on the workers, :data:`FAN_IN` at a time (a tree, in the
chunks' order); only the total comes back. A loss is sent once: scattered to
every worker, with a token its compiled form is kept under there (tasks carry
the token and a reference to the scattered function, never the function).

A worker lost mid-fit: chunks made from a Dask collection are recomputed by
Dask from their graph, and the fit goes on with the same numbers; chunks
scattered from the client's memory cannot be, and the fit stops with a
:class:`ClusterError` saying so. A lost chunk is never skipped: every
reduction merges exactly one result per chunk.

Pointing the same call at an existing cluster::

    from dask.distributed import Client
    import dask.dataframe as dd

    client = Client("tcp://scheduler:8786")
    frame = dd.read_parquet("s3://bucket/sales/")
    gdlab.fit(frame, y="sales", x="temp,rain", client=client).coefficients
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, final

import numpy as np

from gdlab import _files as files
from gdlab._checks import InputError
from gdlab._data import NamesLike, infinite_value, names, no_column
from gdlab.data._source import Batches, Block, ClusterError, OnBatch, check_some_kept

__all__ = [
    "DaskData",
    "as_dask_data",
    "batch_plan",
    "is_dask_collection",
    "tree_sum",
]

# Rows per chunk when in-memory data are scattered to a cluster.
CHUNK_ROWS = 1_000_000

# Results summed by one task: each level of the tree is a round trip to the scheduler (~10 ms
# here), so a wide tree (two levels up to 64 chunks) beats a binary one.
FAN_IN = 8


@final
@dataclass(frozen=True, eq=False)
class DaskData:
    """Chunks of named float64 columns, resident on a cluster's workers.

    Attributes:
        client: the ``dask.distributed.Client``.
        chunks: one future per chunk, each a dict column -> 1-D array.
        rows: the rows of each chunk.
        columns: the column names.
        recomputable: whether Dask can recompute a lost chunk (made from a Dask
            collection) or not (scattered from memory).
        dropped: the rows dropped for a missing value (``as_dask_data(..., dropna=True)``).
    """

    client: Any
    chunks: tuple[Any, ...]
    rows: tuple[int, ...]
    columns: tuple[str, ...]
    recomputable: bool
    dropped: int = 0

    @property
    def n(self) -> int:
        """The rows of all chunks."""
        return sum(self.rows)

    @property
    def names(self) -> tuple[str, ...]:
        """The columns."""
        return self.columns

    @property
    def where(self) -> str:
        """The chunks, in words."""
        return f"{len(self.chunks)} chunks on the cluster"

    def reduce(self, fn: Callable[..., Any], merge: Callable[[Any, Any], Any], *args: Any) -> Any:
        """``fn(block, *args)`` as one task per chunk, merged on the workers in the chunks' order."""
        starts = np.cumsum([0, *self.rows[:-1]])
        parts = [
            self.client.submit(_on_chunk, fn, chunk, int(start), *args, pure=False)
            for chunk, start in zip(self.chunks, starts, strict=True)
        ]
        return tree_sum(self.client, parts, merge)

    def send(self, f: Callable[..., Any]) -> tuple[Any, ...]:
        """``f`` scattered to every worker once (per client and function), and its token."""
        sent = _send(self.client, f)
        return (sent.token, sent.future)

    def batches(self, size: int, *, epochs: int, seed: int, shuffle: bool, buffer: int | None) -> Batches:
        """Each epoch's minibatches as :func:`batch_plan` cuts them: one task per step, on the
        worker that holds its chunk."""
        if size > max(self.rows):
            raise InputError(
                f"batch_size {size:,} is more than the largest chunk ({max(self.rows):,} rows): batches "
                "do not cross chunks; use smaller batches or larger chunks (repartition)"
            )

        def each() -> Iterator[OnBatch]:
            for epoch in range(epochs):
                for c, rows in batch_plan(self.rows, size, seed, epoch, shuffle):
                    yield functools.partial(self._on_batch, self.chunks[c], rows)

        words = (
            f"{epochs} epoch(s) of batches of {size:,} rows within {len(self.chunks)} chunks on the "
            f"cluster{'' if shuffle else ', in the data order'}"
        )
        return Batches(epochs * sum(r // size for r in self.rows), each, words)

    def _on_batch(self, chunk: Any, rows: np.ndarray, fn: Callable[..., Any], *args: Any) -> Any:
        return gather(self.client, self.client.submit(_on_rows, fn, chunk, rows, *args, pure=False))

    def table(self) -> None:
        """Rows on a cluster have no table here."""
        return None

    def release(self) -> None:
        """Let the workers drop the chunks."""
        self.client.cancel(list(self.chunks))

    def __repr__(self) -> str:
        return f"DaskData({self.n:,} rows in {len(self.chunks)} chunks, columns {', '.join(self.columns)})"


def _on_chunk(fn: Callable[..., Any], chunk: dict[str, np.ndarray], start: int, *args: Any) -> Any:
    """On a worker: ``fn`` on a chunk as a block of real rows."""
    return fn(Block(chunk, None, _rows(chunk), start), *args)


def _on_rows(fn: Callable[..., Any], chunk: Mapping[str, np.ndarray], rows: np.ndarray, *args: Any) -> Any:
    """On a worker: ``fn`` on the columns of some rows of a chunk (a minibatch)."""
    return fn({c: v[rows] for c, v in chunk.items()}, *args)


def is_dask_collection(data: object) -> bool:
    """A Dask array or DataFrame (or anything Dask collects), without importing Dask to ask."""
    import sys

    dask = sys.modules.get("dask")
    return dask is not None and dask.is_dask_collection(data)


def _default_client(client: Any) -> Any:
    if client is not None:
        return client
    try:
        from dask.distributed import default_client
    except ImportError as err:
        raise InputError("data on a cluster needs Dask: pip install 'gdlab[dask]'") from err
    try:
        return default_client()
    except ValueError as err:
        raise InputError(
            "no Dask client: pass client=Client('tcp://scheduler:8786') (or start one with Client())"
        ) from err


def as_dask_data(
    data: Any,
    *,
    client: Any = None,
    columns: NamesLike | None = None,
    chunk_rows: int = CHUNK_ROWS,
    dropna: bool = False,
    categories: dict[str, Any] | None = None,
) -> DaskData:
    """Put ``data`` on the cluster as resident chunks of float64 columns.

    Args:
        data: a Dask DataFrame (a chunk per partition), a 2-D Dask array (columns
            named "0", "1" ...; a chunk per block of rows), or anything
            :func:`gdlab.as_table` reads, scattered from memory in chunks of
            ``chunk_rows`` rows.
        client: the ``dask.distributed.Client`` (default: the current one).
        columns: the columns to keep (default all).
        chunk_rows: rows per chunk for data scattered from memory.
        dropna: drop the rows with a missing value (NaN, null) in a kept column, on the
            workers, and count them in ``dropped``; otherwise a missing value is an error.
        categories: columns read as categories with their levels (see :func:`levels`): each
            row holds its value's index among them, coded on the workers.

    Raises:
        InputError: no client, a missing column, text, infinite values, or missing values
            without ``dropna`` (naming the column, and the row of the data counted from 0
            across the chunks in order, as an in-memory table counts it).
    """
    client = _default_client(client)
    wanted = None if columns is None else names(columns, "columns")
    dropped = 0
    if is_dask_collection(data):
        parts, found = _collection_parts(data, wanted, tuple(categories or ()))
        futures = client.compute([_chunk_of(part, found, categories) for part in parts])
        recomputable = True
        summaries = gather(client, [client.submit(_summary, f, found, pure=False) for f in futures])
        rows = tuple(int(r) for r, _, _ in summaries)
        _check_values(summaries, found, bool(dropna))
        if dropna:
            futures = [
                client.submit(_without_missing, f, found, pure=False) if gaps else f
                for f, (_, gaps, _) in zip(futures, summaries, strict=True)
            ]
            dropped = sum(gaps for _, gaps, _ in summaries)
            rows = tuple(r - gaps for r, gaps, _ in summaries)
            check_some_kept(sum(rows), dropped, "the Dask data")
            futures = [f for f, r in zip(futures, rows, strict=True) if r]
            rows = tuple(r for r in rows if r)
    else:
        from gdlab._data import as_table

        table = as_table(data, columns=wanted, dropna=dropna, categories=categories)
        found = table.names
        dropped = table.dropped
        size = max(1, int(chunk_rows))
        pieces = [
            {c: np.array(table.columns[c][s : s + size]) for c in found} for s in range(0, table.n, size)
        ]
        futures = client.scatter(pieces)
        recomputable = False
        rows = tuple(gather(client, client.map(_rows, futures, pure=False)))
    if not sum(rows):
        raise InputError("the data have no rows")
    return DaskData(client, tuple(futures), rows, found, recomputable, dropped)


def _collection_parts(
    data: Any, wanted: tuple[str, ...] | None, text: tuple[str, ...] = ()
) -> tuple[list[Any], tuple[str, ...]]:
    """The delayed pieces of a Dask DataFrame (its partitions) or 2-D array (its row blocks)."""
    if hasattr(data, "columns") and hasattr(data, "to_delayed"):  # a DataFrame
        # a repeated name would pick several columns at once: refused, as for a pandas DataFrame
        existing = files.unique([str(c) for c in data.columns], "the Dask DataFrame")
        chosen = existing if wanted is None else wanted
        for name in chosen:
            if name not in existing:
                raise InputError(no_column(name, existing, "the Dask DataFrame"))
        _numeric_columns(data, tuple(c for c in chosen if c not in text))
        return list(data[list(chosen)].to_delayed()), chosen
    if getattr(data, "ndim", None) != 2:
        raise InputError(
            "a Dask collection as data must be a DataFrame or a 2-D array (rows x columns); "
            f"got {type(data).__name__} of {getattr(data, 'ndim', '?')} dimensions"
        )
    existing = tuple(str(j) for j in range(data.shape[1]))
    chosen = existing if wanted is None else wanted
    for name in chosen:
        if name not in existing:
            raise InputError(f"the Dask array has columns {', '.join(existing)}; no column {name!r}")
    picked = data[:, [int(c) for c in chosen]].rechunk({1: -1})
    return list(picked.to_delayed()[:, 0]), chosen


def _numeric_columns(frame: Any, chosen: tuple[str, ...]) -> None:
    """Refuse, before any task runs, a column whose dtype (known without computing) is not numbers."""
    import pandas as pd

    by_name = {str(c): c for c in frame.columns}
    for name in chosen:
        dtype = frame[by_name[name]].dtype
        if pd.api.types.is_bool_dtype(dtype) or (
            pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype)
        ):
            continue
        what = (
            "dates or times"
            if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype)
            else "categories"
            if isinstance(dtype, pd.CategoricalDtype)
            else "text"
        )
        raise InputError(
            f"the Dask DataFrame: column {name!r} holds {what} ({dtype}), not numbers; convert it "
            "to numbers, or leave it out of x"
        )


def _chunk_of(part: Any, columns: tuple[str, ...], categories: dict[str, Any] | None = None) -> Any:
    import dask

    return dask.delayed(_columns_of, pure=True)(part, columns, categories)


def _columns_of(
    part: Any, columns: tuple[str, ...], categories: dict[str, Any] | None = None
) -> dict[str, np.ndarray]:
    """On a worker: a partition (DataFrame) or a block (2-D array) as float64 columns (missing
    values as NaN; :func:`_summary` finds them; a category's values as their indices among its
    levels)."""
    if hasattr(part, "columns"):
        from gdlab._categories import codes

        kinds = categories or {}
        return {
            c: codes(f"column {c!r}", part[c].to_numpy(dtype=object), kinds[c])
            if c in kinds
            else part[c].to_numpy(dtype=np.float64, na_value=np.nan)
            for c in columns
        }
    block = np.asarray(part, dtype=np.float64)
    return {c: np.ascontiguousarray(block[:, j]) for j, c in enumerate(columns)}


def _summary(chunk: Mapping[str, np.ndarray], columns: Sequence[str]) -> tuple[int, int, dict[str, tuple]]:
    """On a worker: a chunk's rows, its rows with a missing value, and per column (missing values,
    the first one's row, the first infinite value's row, that value); -1 for none."""
    count = _rows(chunk)
    gaps = np.zeros(count, dtype=bool)
    found: dict[str, tuple] = {}
    for name in columns:
        values = chunk[name]
        nan, inf = np.isnan(values), np.isinf(values)
        gaps |= nan
        first_inf = int(np.argmax(inf)) if inf.any() else -1
        found[name] = (
            int(nan.sum()),
            int(np.argmax(nan)) if nan.any() else -1,
            first_inf,
            float(values[first_inf]) if first_inf >= 0 else 0.0,
        )
    return count, int(gaps.sum()), found


def _check_values(summaries: Sequence[tuple], columns: Sequence[str], dropna: bool) -> None:
    """Refuse infinite values, and missing values unless ``dropna``, as an in-memory table does:
    column by column, naming the first bad row of the data (chunks in order, rows from 0)."""
    starts = np.cumsum([0, *(r for r, _, _ in summaries)])
    for name in columns:
        parts = [(int(starts[c]), s[2][name]) for c, s in enumerate(summaries)]
        total = sum(found[0] for _, found in parts)
        if total and not dropna:
            row = next(start + found[1] for start, found in parts if found[0])
            where = (
                f"column {name!r} has {total:,} missing value(s) (NaN or an empty cell), the first at row "
            )
            raise InputError(
                lambda s: (  # raised at once, so the loop's names cannot change under it
                    f"{where}{row}: fill them, or drop those rows with {s.setting('dropna', True)}"  # noqa: B023
                ),
                parameter="dropna",
            )
        for start, found in parts:
            if found[2] >= 0:
                raise infinite_value(
                    f"column {name!r} has an infinite value ({found[3]}) at row {start + found[2]}"
                )


def _without_missing(chunk: Mapping[str, np.ndarray], columns: Sequence[str]) -> dict[str, np.ndarray]:
    """On a worker: a chunk without its rows that have a missing value in ``columns``."""
    keep = ~np.logical_or.reduce([np.isnan(chunk[c]) for c in columns])
    return {c: np.ascontiguousarray(v[keep]) for c, v in chunk.items()}


def _rows(chunk: Mapping[str, np.ndarray]) -> int:
    return len(next(iter(chunk.values())))


def gather(client: Any, futures: Any) -> Any:
    """``client.gather``, turning a lost worker into a :class:`ClusterError` that says what to do."""
    from concurrent.futures import CancelledError

    from distributed import KilledWorker

    try:
        return client.gather(futures)
    except (CancelledError, KilledWorker) as err:
        raise ClusterError(
            f"the cluster lost data a fit needs ({type(err).__name__}: {err}); chunks scattered from the "
            "client's memory cannot be recomputed after a worker dies: run the fit again, or give a Dask "
            "collection (dask.dataframe.read_parquet, dask.array), whose chunks Dask recomputes"
        ) from err


def tree_sum(client: Any, parts: list[Any], add: Callable[[Any, Any], Any]) -> Any:
    """Merge futures on the workers, :data:`FAN_IN` at a time (a tree, in order); only the total
    comes back."""
    while len(parts) > 1:
        groups = [parts[i : i + FAN_IN] for i in range(0, len(parts), FAN_IN)]
        parts = [g[0] if len(g) == 1 else client.submit(_reduce, add, *g, pure=False) for g in groups]
    return gather(client, parts[0])


def _reduce(add: Callable[[Any, Any], Any], *parts: Any) -> Any:
    return functools.reduce(add, parts)


# --- one task per chunk: the summed loss and gradient, compiled once per worker --------------


@final
@dataclass(frozen=True, eq=False)
class _Sent:
    """A loss scattered to every worker once, and the token its compiled form is cached under."""

    token: str
    future: Any


# On the client: the losses already sent, as (client id, loss) -> what was sent. The entry holds the
# function itself, so its id is never reused by another while it is here.
_SENT: dict[tuple[str, int], tuple[Callable[..., Any], _Sent]] = {}
_SENT_MAX = 64


def _send(client: Any, loss: Callable[..., Any]) -> _Sent:
    """Scatter ``loss`` to every worker, once per client and function."""
    key = (client.id, id(loss))
    entry = _SENT.get(key)
    if entry is not None and entry[0] is loss and entry[1].future.status == "finished":
        return entry[1]
    sent = _Sent(uuid.uuid4().hex, client.scatter(loss, broadcast=True, hash=False))
    if len(_SENT) >= _SENT_MAX:
        _SENT.pop(next(iter(_SENT)))
    _SENT[key] = (loss, sent)
    return sent


def batch_plan(
    rows: Sequence[int], size: int, seed: int, epoch: int, shuffle: bool = True
) -> list[tuple[int, np.ndarray]]:
    """One epoch's minibatches as (chunk, row indices in it): chunks in a shuffled order, each chunk's
    rows shuffled and cut into batches of exactly ``size`` (the rest of a chunk waits for the next
    epoch); all from ``(seed, epoch)``, so the same seed gives the same batches on any cluster.
    Without ``shuffle``: the chunks and their rows in the data's order, the same every epoch (the
    rows after a chunk's last full batch are skipped)."""
    rng = np.random.default_rng([seed, epoch])
    plan = []
    for c in rng.permutation(len(rows)) if shuffle else range(len(rows)):
        order = rng.permutation(rows[c]) if shuffle else np.arange(rows[c])
        plan += [(int(c), order[i : i + size]) for i in range(0, rows[c] - size + 1, size)]
    return plan


def levels(
    data: Any, columns: Sequence[str], text_only: Sequence[str] = (), *, client: Any = None
) -> dict[str, Any]:
    """The levels of ``columns`` (and of those of ``text_only`` that hold text) over every chunk of
    a Dask DataFrame (a task per partition, merged here), or of data in memory to be scattered."""
    from gdlab._categories import merge_levels

    if not is_dask_collection(data):
        from gdlab._data import levels_in

        return levels_in(data, columns, text_only)
    if not hasattr(data, "columns"):
        return {c: () for c in columns} if columns else {}
    import dask
    import pandas as pd

    text = [c for c in text_only if c not in columns and not pd.api.types.is_numeric_dtype(data[c].dtype)]
    wanted = [*columns, *text]
    if not wanted:
        return {}
    client = _default_client(client)
    parts = data[wanted].to_delayed()
    found = gather(client, client.compute([dask.delayed(_distinct)(p, wanted) for p in parts]))
    merged: dict[str, Any] = {c: () for c in wanted}
    for part in found:
        for c in wanted:
            merged[c] = merge_levels(merged[c], part[c])
    return merged


def _distinct(part: Any, columns: Sequence[str]) -> dict[str, Any]:
    """On a worker: each column's distinct values in a partition."""
    from gdlab._categories import distinct

    return {
        c: distinct(part[c].to_numpy(dtype=object) if part[c].dtype == object else part[c].to_numpy())
        for c in columns
    }
