"""Rows streamed from Parquet files and directories in fixed-shape blocks.

A Parquet file is read with :mod:`pyarrow.dataset`, only the columns asked for,
as record batches that are ragged (they never cross a row group). They are
re-cut here into blocks of exactly ``batch_rows`` rows; the last block is
padded with copies of its first row and carries a 0/1 ``mask``, so a compiled
function sees one shape for the whole pass and never recompiles. Memory stays
that of a few blocks, whatever the file's size. SGD's minibatches are cut from
windows of consecutive rows shuffled from a seed (:func:`shuffled_batches`).

A terminal shows a progress bar for passes over data that take over a second
(rich, on stderr, only when it is a terminal).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias, final

import numpy as np

from gdlab import _checks
from gdlab import _files as files
from gdlab._cancel import checkpoint
from gdlab._checks import LIMITS, InputError
from gdlab._data import NamesLike, infinite_value, names, no_column
from gdlab.data._source import Batches, Block, OnBatch

__all__ = [
    "BATCH_ROWS",
    "SHUFFLE_ROWS",
    "ParquetSource",
    "is_parquet_source",
    "open_parquet",
    "should_stream",
    "shuffled_batches",
]

PathLike: TypeAlias = str | os.PathLike[str]
# Rows of one block: 65,536 rows of 10 columns is 5 MB, large enough that a pass is not
# dominated by per-block overhead, small enough that memory is a few blocks.
BATCH_ROWS = 65_536
# Rows of SGD's shuffle buffer by default (rows are mixed within a window of this many).
SHUFFLE_ROWS = 262_144


@final
@dataclass(frozen=True, eq=False)
class ParquetSource:
    """A Parquet file or directory to stream: its columns, rows and block size.

    Make one with :func:`open_parquet`, which checks the columns from the metadata.

    Attributes:
        path: the file or directory.
        columns: the columns read, in order.
        n: the rows (from the Parquet metadata, without reading the data), counting any
            that ``dropna`` drops.
        batch_rows: rows per block.
        dataset: the ``pyarrow.dataset.Dataset``.
        dropna: drop the rows with a missing value (NaN or null) in a column read as they
            are read; otherwise such a row is an error. A pass's blocks then hold fewer
            than ``n`` rows (count them: ``sum(block.rows)``).
    """

    path: Path
    columns: tuple[str, ...]
    n: int
    batch_rows: int
    dataset: Any
    dropna: bool = False
    categories: dict[str, Any] | None = None

    def blocks(self, label: str | None = None) -> Iterator[Block]:
        """One pass over the data in blocks of ``batch_rows`` rows (the last padded and masked)."""
        from gdlab._progress import tracker

        with tracker(self.n, label or f"reading {self.path.name}") as advance:
            for block in _recut(self):
                yield block
                advance(block.start + block.rows)

    def __repr__(self) -> str:
        return (
            f"ParquetSource({str(self.path)!r}, {self.n:,} rows, columns {', '.join(self.columns)}, "
            f"blocks of {self.batch_rows:,})"
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The columns read."""
        return self.columns

    @property
    def dropped(self) -> int:
        """Rows dropped are counted by a pass (the rows it reduces), not before one."""
        return 0

    @property
    def where(self) -> str:
        """The file or directory's name."""
        return self.path.name

    def reduce(self, fn: Callable[..., Any], merge: Callable[[Any, Any], Any], *args: Any) -> Any:
        """``fn(block, *args)`` for each block in the file's order, merged as they come."""
        total = None
        for block in self.blocks():
            checkpoint()  # between blocks: a pass over a large file answers Ctrl-C and a cancelled scope
            part = fn(block, *args)
            total = part if total is None else merge(total, part)
        return total

    def send(self, f: Callable[..., Any]) -> tuple[Any, ...]:
        """The blocks are read here: ``f`` as it is (compiled here once per block shape)."""
        return (None, f)

    def batches(self, size: int, *, epochs: int, seed: int, shuffle: bool, buffer: int | None) -> Batches:
        """Each epoch's minibatches, shuffled within windows of ``buffer`` rows (see
        :func:`shuffled_batches`), ``n // size`` of them an epoch."""
        if size > self.n:
            rows = self.n
            raise InputError(
                lambda s: (
                    f"{s.name('batch_size')} must be between 1 and the {rows:,} rows of data; got {size:,}"
                ),
                parameter="batch_size",
            )
        window = _checks.whole("buffer_rows", SHUFFLE_ROWS if buffer is None else buffer, low=1, high=2**28)

        def each() -> Iterator[OnBatch]:
            for epoch in range(epochs):
                for batch in shuffled_batches(self, size, window, seed, epoch, shuffle):
                    yield lambda fn, *args, batch=batch: fn(batch, *args)

        order = f"shuffled within windows of {min(window, self.n):,} rows" if shuffle else "in the data order"
        words = (
            f"{epochs} epoch(s) of {self.n // size:,} batches of {size:,} rows streamed from "
            f"{self.path.name} ({order})"
        )
        return Batches(epochs * (self.n // size), each, words)

    def table(self) -> None:
        """Streamed rows have no table in memory."""
        return None


def is_parquet_source(data: object) -> bool:
    """Whether ``data`` names a directory holding Parquet files, or a ``.parquet``/``.pq`` file."""
    if not isinstance(data, str | os.PathLike):
        return False
    path = Path(data)
    if path.is_dir():
        return any(path.rglob("*.parquet")) or any(path.rglob("*.pq"))
    return path.is_file() and path.suffix.lower() in (".parquet", ".pq")


def should_stream(data: object, stream: bool | None = None) -> bool:
    """Whether to stream ``data`` rather than read it into memory: ``stream`` when given (True
    needs Parquet), else a directory of Parquet files, or a Parquet file larger than a table may be.

    Raises:
        InputError: ``stream=True`` for data that are not Parquet.
    """
    if stream is False:
        return False
    if not is_parquet_source(data):
        if stream:
            raise InputError(
                lambda s: (
                    f"{s.setting('stream', True)} needs a Parquet file or a directory of them; got {data!r}"
                ),
                parameter="stream",
            )
        return False
    assert isinstance(data, str | os.PathLike)
    if stream or os.path.isdir(data):
        return True
    import pyarrow.parquet as pq

    try:  # the size from the footer only: the columns a fit reads are checked when it reads them
        meta = pq.ParquetFile(data).metadata
    except Exception:  # not readable as one Parquet file: the reader that opens it says why
        return False
    return meta.num_rows * meta.num_columns > LIMITS.table_numbers


def open_parquet(
    path: PathLike,
    columns: NamesLike | None = None,
    *,
    batch_rows: int = BATCH_ROWS,
    dropna: bool = False,
    categories: dict[str, Any] | None = None,
) -> ParquetSource:
    """A Parquet file or a directory of them, ready to stream; nothing but metadata is read.

    Args:
        path: a Parquet file, or a directory of Parquet files (searched recursively,
            as pyarrow.dataset does). Hive partitions (``root/year=2020/part-0.parquet``)
            are columns: ``year`` holds, in each file's rows, the value its directory names.
        columns: the columns to read (a list, or names separated by commas); default all.
        batch_rows: rows per block.
        dropna: drop rows with a missing value in a column read (see :class:`ParquetSource`).
        categories: columns read as categories with their levels (see :func:`levels`): each
            row holds its value's index among them.

    Raises:
        InputError: a missing path, a file that is not Parquet, a column that does not
            exist (with the closest name) or that holds text, dates or nested values, a
            repeated column name, or a file of a directory whose columns differ from the
            first file's (every file's footer is read and checked before any data).

    Example:
        >>> import tempfile, os, pandas as pd
        >>> folder = tempfile.mkdtemp()
        >>> pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]}).to_parquet(os.path.join(folder, "p.parquet"))
        >>> open_parquet(folder, "b", batch_rows=8)
        ParquetSource('...', 2 rows, columns b, blocks of 8)
    """
    import pyarrow as pa
    import pyarrow.dataset as ds

    where = Path(path)
    if not where.exists():
        raise InputError(f"{path}: no such file or directory; give a Parquet file or a directory of them")
    rows = _checks.whole("batch_rows", batch_rows, low=1, high=2**24)
    try:
        dataset = ds.dataset(where, format="parquet", partitioning="hive")
        schema = dataset.schema
    except (pa.ArrowException, OSError) as err:
        if "duplicate field names" in str(err):  # say which file repeats which name
            files.repeated_names(where)
        raise InputError(f"{path}: not a readable Parquet file or directory ({err})") from err
    existing = files.unique(tuple(schema.names), path)
    chosen = existing if columns is None else names(columns, "columns")
    for name in chosen:
        if name not in existing:
            raise InputError(no_column(name, existing, str(path)))
    if not chosen:
        raise InputError(f"{path} has no columns")
    # every file's footer, before any data: the dataset's columns are only its first file's
    text = tuple(categories or ())
    n = files.check_parquet_files(dataset.files, None if columns is None else chosen, existing, text)
    for name in chosen:  # hive partition keys, which no file holds, are checked here
        if name not in text:
            files.numbers_held(path, name, schema.field(name).type)
    if n == 0:
        raise InputError(f"{path} has no rows")
    return ParquetSource(where, chosen, n, rows, dataset, bool(dropna), dict(categories or {}) or None)


def levels(path: PathLike, columns: Sequence[str], text_only: Sequence[str] = ()) -> dict[str, Any]:
    """The levels of ``columns`` (and of those of ``text_only`` that hold text) over every file:
    one pass reading those columns alone, each batch's distinct values merged."""
    import pyarrow as pa

    from gdlab._categories import distinct, merge_levels

    source = path if isinstance(path, ParquetSource) else None
    where = Path(source.path if source else path)
    named = tuple(dict.fromkeys((*columns, *text_only)))  # these alone: another column may hold anything
    probe = open_parquet(where, named or None, categories=dict.fromkeys(named, ()))
    schema = probe.dataset.schema
    wanted = [
        *columns,
        *(c for c in text_only if c not in columns and not files.is_number_type(schema.field(c).type)),
    ]
    if not wanted:
        return {}
    reader = ParquetSource(where, tuple(wanted), probe.n, BATCH_ROWS, probe.dataset)
    found: dict[str, Any] = {c: () for c in wanted}
    for _, batch in _record_batches(reader):
        checkpoint()
        for name, column in zip(wanted, batch, strict=True):
            values = (
                column
                if isinstance(column, np.ndarray)
                else pa.compute.unique(column).to_numpy(zero_copy_only=False)
            )
            found[name] = merge_levels(found[name], distinct(values))
    return found


def _recut(source: ParquetSource) -> Iterator[Block]:
    """The dataset's ragged record batches, re-cut into blocks of exactly ``batch_rows`` rows
    (without the rows that ``source.dropna`` drops)."""
    size, k = source.batch_rows, len(source.columns)
    buffer, filled, start, read = np.empty((k, size)), 0, 0, 0
    for m, columns in _record_batches(source):
        arrays = _floats(source, columns, read)
        read += m
        m = len(arrays[0])
        used = 0
        while used < m:
            take = min(size - filled, m - used)
            for j, values in enumerate(arrays):
                buffer[j, filled : filled + take] = values[used : used + take]
            filled, used = filled + take, used + take
            if filled == size:
                yield _block(source, buffer, filled, start)
                buffer, filled, start = np.empty((k, size)), 0, start + size
    if filled:
        buffer[:, filled:] = buffer[:, :1]  # padding that evaluates like a real row: no NaN under the mask
        yield _block(source, buffer, filled, start)


def _record_batches(source: ParquetSource) -> Iterator[tuple[int, list[Any]]]:
    """The files' record batches in order, read synchronously, one at a time: each as its rows
    and its columns in ``source.columns``' order (a hive partition's column filled with the value
    its directory names).

    pyarrow's dataset scanner reads ahead on background threads (whole row groups
    of several files by default): with a slow consumer its memory grew with the
    file. A ``ParquetFile`` per fragment, without pre-buffering or threads, holds one
    record batch, and gives memory back to the system when it is freed.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    for fragment in source.dataset.get_fragments():
        keys = ds.get_partition_keys(fragment.partition_expression)
        handle = pq.ParquetFile(fragment.path, pre_buffer=False, memory_map=False)
        try:
            in_file = set(handle.schema_arrow.names)
            stored = [c for c in source.columns if c in in_file]
            for batch in handle.iter_batches(
                batch_size=source.batch_rows,
                columns=stored,
                use_threads=False,
                use_pandas_metadata=False,
            ):
                m = batch.num_rows
                yield (
                    m,
                    [
                        batch.column(stored.index(c))
                        if c in in_file
                        else np.full(m, np.nan if keys.get(c) is None else float(keys[c]))
                        for c in source.columns
                    ],
                )
        except (pa.ArrowException, OSError) as err:
            raise InputError(f"{fragment.path}: not a readable Parquet file ({err})") from err
        finally:
            handle.close()


def _block(source: ParquetSource, buffer: np.ndarray, count: int, start: int) -> Block:
    mask = np.zeros(source.batch_rows)
    mask[:count] = 1.0
    return Block(dict(zip(source.columns, buffer, strict=True)), mask, count, start)


def _coded(source: ParquetSource, name: str, values: np.ndarray) -> np.ndarray:
    """A column as float64: a category's values as their indices among its levels."""
    if source.categories and name in source.categories:
        from gdlab._categories import codes

        return codes(f"{source.path}: column {name!r}", values, source.categories[name])
    return np.asarray(values, dtype=np.float64)


def _floats(source: ParquetSource, columns: Sequence[Any], first_row: int) -> list[np.ndarray]:
    """A record batch's columns as float64, refusing infinite values, and missing values unless
    ``source.dropna`` (then the rows holding one are dropped), naming the first bad row of the data
    (``first_row`` is the batch's)."""
    arrays = [
        _coded(source, name, c if isinstance(c, np.ndarray) else c.to_numpy(zero_copy_only=False))
        for name, c in zip(source.columns, columns, strict=True)
    ]
    missing = [np.isnan(values) for values in arrays]
    bad = [np.isinf(v) | (m & (not source.dropna)) for v, m in zip(arrays, missing, strict=True)]
    firsts = [int(np.argmax(b)) if b.any() else len(b) for b in bad]
    row = min(firsts)
    if row < len(arrays[0]):
        j = firsts.index(row)
        value = arrays[j][row]
        name = source.columns[j]
        if np.isnan(value):
            where = (
                f"{source.path}: column {name!r} has a missing value (NaN or null) at row {first_row + row}"
            )
            raise InputError(
                lambda s: (
                    f"{where}: fill such values, or drop the rows that hold them "
                    f"({s.setting('dropna', True)} does)"
                ),
                parameter="dropna",
            )
        raise infinite_value(
            f"{source.path}: column {name!r} has an infinite value ({value}) at row {first_row + row}"
        )
    if source.dropna:
        gaps = np.logical_or.reduce(missing)
        if gaps.any():
            return [values[~gaps] for values in arrays]
    return arrays


def shuffled_batches(
    source: ParquetSource, size: int, buffer_rows: int, seed: int, epoch: int, shuffle: bool = True
):
    """One epoch's minibatches of exactly ``size`` rows, shuffled within a bounded buffer
    (``shuffle=False``: in the data's order, the same every epoch).

    The rows are read in the data's order and cut into windows of
    ``buffer_rows`` consecutive rows; each window's rows are permuted by a
    generator seeded from ``(seed, epoch, window)``, and batches are cut from
    the permuted windows in turn (a batch may span two windows). So the same
    seed gives the same batches on any machine, memory holds one window, and
    rows mix only within a window: data sorted on disk (by time, by class) is
    best shuffled once on disk, or given a larger buffer. The rows left over
    after the last full batch (fewer than ``size``) are skipped that epoch.
    """
    window = max(buffer_rows, size)
    pending: list[np.ndarray] = []
    held = 0
    for index, part in enumerate(_windows(source, window)):
        if shuffle:
            part = part[:, np.random.default_rng([seed, epoch, index]).permutation(part.shape[1])]
        pending.append(part)
        held += part.shape[1]
        while held >= size:
            rows = np.concatenate(pending, axis=1) if len(pending) > 1 else pending[0]
            yield dict(zip(source.columns, rows[:, :size], strict=True))
            pending, held = [rows[:, size:]], held - size


def _windows(source: ParquetSource, window: int) -> Iterator[np.ndarray]:
    """The data in windows of ``window`` consecutive rows (the last shorter), as (columns, rows)."""
    parts: list[np.ndarray] = []
    held = 0
    for block in source.blocks(f"reading {source.path.name} (sgd)"):
        parts.append(np.stack([block.columns[c][: block.rows] for c in source.columns]))
        held += block.rows
        while held >= window:
            rows = np.concatenate(parts, axis=1)
            yield rows[:, :window]
            parts, held = [rows[:, window:]], held - window
    if held:
        yield np.concatenate(parts, axis=1)
