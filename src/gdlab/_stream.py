"""Data beyond memory: Parquet files and directories streamed in fixed-shape batches.

A Parquet file is read with :mod:`pyarrow.dataset`, only the columns asked for,
as record batches that are ragged (they never cross a row group). They are
re-cut here into blocks of exactly ``batch_rows`` rows; the last block is
padded with copies of its first row and carries a 0/1 ``mask``, so a compiled
function sees one shape for the whole pass and never recompiles. Memory stays
that of a few blocks, whatever the file's size.

What runs on such data:

- **Linear least squares in one pass.** :func:`linear_stats` keeps the
  triangular factor ``R`` of ``[1 | X | y]``, updated block by block by the QR
  factorisation of ``[R; block]`` (a streaming TSQR). ``R'R = [1|X|y]'[1|X|y]``
  holds every sufficient statistic (n, the sums, X'X, X'y, y'y), but with the
  accuracy of a QR factorisation of the whole design: nothing forms ``X'X``,
  whose condition number is the square of ``X``'s. The closed form, the
  residual sum of squares, R² and the centred spread of each column follow from
  ``R`` (:class:`LinearStats`), and :meth:`LinearStats.loss` is the exact mean
  squared error as a small local quadratic: every descent and sweep then runs
  in memory at no further cost (:func:`fit_parquet`).
- **Any per-row loss, full batch.** :func:`value_and_grad` streams one pass:
  the mean over rows of ``loss(params, row)`` and its gradient.
  :func:`descend_passes` runs exact gradient descent (or momentum, Adam ...)
  with one pass per step; the optimiser runs in memory.
- **Minibatch SGD.** :func:`sgd_parquet` streams each epoch through a bounded
  shuffle buffer (see there).
- **Large data in memory.** :func:`fused_pass` computes a least-squares or
  logistic gradient in one pass over ``X`` (blocks kept in cache for both
  products), a pass function for :func:`descend_passes` that never copies ``X``.

A terminal shows a progress bar for passes over data that take over a second
(rich, on stderr, only when it is a terminal).

Example:
    >>> import numpy as np, pandas as pd, tempfile, os
    >>> from gdlab._stream import fit_parquet
    >>> folder = tempfile.mkdtemp()
    >>> x = np.arange(10.0)
    >>> pd.DataFrame({"x": x, "y": 1 + 2 * x}).to_parquet(os.path.join(folder, "part-0.parquet"))
    >>> fit_parquet(folder, y="y", x="x").coefficients
    {'intercept': 1.0..., 'x': 2.0...}
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeAlias, final

import jax
import jax.numpy as jnp
import numpy as np

from gdlab import _checks
from gdlab import _files as files
from gdlab._cache import per_key
from gdlab._cancel import checkpoint
from gdlab._checks import LIMITS, InputError
from gdlab._data import NamesLike, infinite_value, names, no_column
from gdlab._descend import start_state
from gdlab._design import block_terms
from gdlab._engine import Outcome, describe, facts_from_rows, optimiser, outcome, status
from gdlab._loss import as_loss, scalar_loss
from gdlab._methods import Method, resolve_method
from gdlab._precision import resolve_dtype
from gdlab._trajectory import Status, Trajectory, flat_rows
from gdlab._types import BatchLoss, MethodLike, Params

__all__ = [
    "BATCH_ROWS",
    "Block",
    "LinearStats",
    "ParquetSource",
    "check_options",
    "descend_parquet",
    "descend_passes",
    "fit_parquet",
    "formula_refused",
    "fused_pass",
    "is_parquet_source",
    "linear_stats",
    "open_parquet",
    "sgd_parquet",
    "should_stream",
    "shuffled_batches",
    "value_and_grad",
]

PathLike: TypeAlias = str | os.PathLike[str]
# Rows of one block: 65,536 rows of 10 columns is 5 MB, large enough that a pass is not
# dominated by per-block overhead, small enough that memory is a few blocks.
BATCH_ROWS = 65_536
# Rows of SGD's shuffle buffer by default (rows are mixed within a window of this many).
SHUFFLE_ROWS = 262_144


# --- reading ---------------------------------------------------------------------------------


class Block(NamedTuple):
    """One fixed-shape block of rows.

    Attributes:
        columns: name -> float64 array of ``batch_rows`` values (contiguous).
        mask: 1.0 for the ``rows`` real rows, 0.0 for the padding after them.
        rows: the real rows (the last block of a pass may have fewer than ``batch_rows``).
        start: the row of the data this block starts at (counting only the rows kept,
            when the source drops rows with missing values).
    """

    columns: dict[str, np.ndarray]
    mask: np.ndarray
    rows: int
    start: int


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
    path: PathLike, columns: NamesLike | None = None, *, batch_rows: int = BATCH_ROWS, dropna: bool = False
) -> ParquetSource:
    """A Parquet file or a directory of them, ready to stream; nothing but metadata is read.

    Args:
        path: a Parquet file, or a directory of Parquet files (searched recursively,
            as pyarrow.dataset does). Hive partitions (``root/year=2020/part-0.parquet``)
            are columns: ``year`` holds, in each file's rows, the value its directory names.
        columns: the columns to read (a list, or names separated by commas); default all.
        batch_rows: rows per block.
        dropna: drop rows with a missing value in a column read (see :class:`ParquetSource`).

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
    n = files.check_parquet_files(dataset.files, None if columns is None else chosen, existing)
    for name in chosen:  # hive partition keys, which no file holds, are checked here
        files.numbers_held(path, name, schema.field(name).type)
    if n == 0:
        raise InputError(f"{path} has no rows")
    return ParquetSource(where, chosen, n, rows, dataset, bool(dropna))


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


def _floats(source: ParquetSource, columns: Sequence[Any], first_row: int) -> list[np.ndarray]:
    """A record batch's columns as float64, refusing infinite values, and missing values unless
    ``source.dropna`` (then the rows holding one are dropped), naming the first bad row of the data
    (``first_row`` is the batch's)."""
    arrays = [
        np.asarray(c if isinstance(c, np.ndarray) else c.to_numpy(zero_copy_only=False), dtype=np.float64)
        for c in columns
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


# --- linear least squares in one pass: a streaming TSQR ---------------------------------------


@final
@dataclass(frozen=True, eq=False)
class LinearStats:
    """The triangular factor ``R`` of ``[1 | X | y]``: every sufficient statistic of a linear fit.

    ``R'R`` is ``[1|X|y]'[1|X|y]``; with an intercept, ``R[0, j] / R[0, 0]`` is
    column j's mean and ``R[1:, j]`` its centred part, so centred spreads need no
    subtraction of large sums. Merge two with :meth:`merge` (the QR of ``[R1; R2]``).

    Attributes:
        R: (q, q) upper triangular, q = coefficients + 1 (the response's column last).
        n: the rows.
        names: the coefficient names (``"intercept"`` first when fitted).
        y: the response's name.
        intercept: whether the first column is the column of ones.
    """

    R: np.ndarray
    n: int
    names: tuple[str, ...]
    y: str
    intercept: bool

    @property
    def p(self) -> int:
        """The number of coefficients."""
        return len(self.names)

    @property
    def rss_min(self) -> float:
        """The least residual sum of squares, ``R[-1, -1]²``."""
        return float(self.R[-1, -1] ** 2)

    @property
    def tss(self) -> float:
        """The response's sum of squares about its mean (about zero without an intercept)."""
        column = self.R[int(self.intercept) : -1, -1] if self.intercept else self.R[:-1, -1]
        return float(column @ column + self.R[-1, -1] ** 2)

    def means(self) -> np.ndarray:
        """The regressors' means (intercept fits only)."""
        return self.R[0, 1:-1] / self.R[0, 0]

    def spreads(self) -> np.ndarray:
        """Each regressor's standard deviation about its mean (with an intercept) or root mean square."""
        start = int(self.intercept)
        block = self.R[start:-1, start:-1]
        return np.sqrt(np.sum(block**2, axis=0) / self.n)

    def solve(self, rcond: float | None = None) -> Any:
        """The closed form, by gdlab's scaled pivoted QR on ``R``'s top block (a ``LeastSquares``)."""
        from gdlab._ols import least_squares

        return least_squares(self.R[:-1, :-1], self.R[:-1, -1], rcond=rcond)

    def rss(self, coef: np.ndarray) -> float:
        """The residual sum of squares of ``coef``: ``|R11 b - r12|² + R[-1,-1]²``."""
        r = self.R[:-1, :-1] @ coef - self.R[:-1, -1]
        return float(r @ r + self.R[-1, -1] ** 2)

    def loss(self, b: Params) -> jax.Array:
        """The mean squared error of coefficients ``b``, exactly, from ``R`` alone (a local quadratic)."""
        R = jnp.asarray(self.R)
        r = R[:-1, :-1] @ b - R[:-1, -1]
        return (r @ r + R[-1, -1] ** 2) / self.n

    def merge(self, other: LinearStats) -> LinearStats:
        """The statistics of both sets of rows."""
        if other.names != self.names or other.intercept != self.intercept:
            raise InputError("statistics of different models cannot be merged")
        R = merge_r(self.R, other.R)
        return LinearStats(R, self.n + other.n, self.names, self.y, self.intercept)

    def __repr__(self) -> str:
        return f"LinearStats({self.y} ~ {' + '.join(self.names)}, {self.n:,} rows)"


def _triangle(rows: np.ndarray, q: int) -> np.ndarray:
    """``R`` of the QR factorisation of ``rows`` ((m, q), any m), as a (q, q) upper triangle.

    LAPACK's Householder QR (geqrf) on a column-major copy: about twice as fast as
    NumPy's ``qr(mode="r")`` on a tall, skinny block.
    """
    m = rows.shape[0]
    stacked = np.zeros((max(m, q), q), order="F")
    stacked[:m] = rows
    return _factored(stacked, q)


def merge_r(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The ``R`` of two sets of rows from theirs: the QR factor of the two triangles stacked."""
    return _triangle(np.vstack([a, b]), a.shape[0])


def _factored(stacked: np.ndarray, q: int) -> np.ndarray:
    """The (q, q) ``R`` of a column-major ``stacked`` (at least q rows), factored in place."""
    import scipy.linalg as sl  # type: ignore[import-untyped]

    factored, _, _, info = sl.lapack.dgeqrf(stacked, overwrite_a=True)
    if info != 0:  # LAPACK's own argument check: a bug, not the user's
        raise RuntimeError(f"LAPACK dgeqrf failed with info={info}")
    return np.triu(factored[:q])


def updated_factor(
    R: np.ndarray, columns: dict[str, np.ndarray], used: Sequence[str], count: int, intercept: bool
) -> np.ndarray:
    """``R`` of ``[R; block]``, the block's rows ``[1 | X | y]`` written once, straight into the
    column-major array LAPACK factors (no intermediate copies of the block)."""
    q = R.shape[0]
    stacked = np.empty((q + count, q), order="F")
    stacked[:q] = R
    if intercept:
        stacked[q:, 0] = 1.0
    for j, name in enumerate(used, start=int(intercept)):
        stacked[q:, j] = columns[name][:count]
    return _factored(stacked, q)


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """One BLAS thread while factoring many thin blocks: OpenBLAS's threads cost more than they
    gain there (a 65,536 x 9 factorisation took 10x longer with two busy cores). Only when
    threadpoolctl is installed; otherwise as is."""
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def design_rows(columns: dict[str, np.ndarray], x: Sequence[str], y: str, count: int, intercept: bool):
    """The rows ``[1 | X | y]`` of one block's ``rows`` real rows, as an (count, q) array."""
    parts = ([np.ones(count)] if intercept else []) + [columns[c][:count] for c in (*x, y)]
    return np.stack(parts, axis=1)


def linear_terms(y: str, x: NamesLike, intercept: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The regressors named by ``x`` and the coefficients of ``y ~ x``, refusing ``y`` among the
    regressors and a column named like the intercept."""
    regressors = names(x, "x")
    if y in regressors:
        raise InputError(f"{y!r} is the response y and also listed in x: a column cannot explain itself")
    if intercept and "intercept" in regressors:
        raise InputError(
            lambda s: (
                "a column named 'intercept' clashes with the intercept: rename it, or "
                + s.setting("intercept", False)
            ),
            parameter="intercept",
        )
    return regressors, ("intercept", *regressors) if intercept else regressors


def linear_stats(
    source: ParquetSource | PathLike, *, y: str, x: NamesLike, intercept: bool = True
) -> LinearStats:
    """One pass over a Parquet source: the :class:`LinearStats` of ``y ~ x``.

    Example:
        >>> import tempfile, os, numpy as np, pandas as pd
        >>> path = os.path.join(tempfile.mkdtemp(), "d.parquet")
        >>> pd.DataFrame({"x": [0.0, 1, 2, 3], "y": [1.0, 3, 5, 7.5]}).to_parquet(path)
        >>> stats = linear_stats(path, y="y", x="x")
        >>> stats.solve().coef.round(6).tolist(), round(stats.rss_min, 6)
        ([0.9, 2.15], 0.075)
    """
    regressors, coefficients = linear_terms(y, x, intercept)
    src = source if isinstance(source, ParquetSource) else open_parquet(source, [*regressors, y])
    q = len(coefficients) + 1
    R = np.zeros((q, q))
    kept = 0
    with _one_blas_thread():
        for block in src.blocks(f"reading {src.path.name} (least squares)"):
            checkpoint()  # between blocks: a pass over a large file answers Ctrl-C and a cancelled scope
            R = updated_factor(R, block.columns, (*regressors, y), block.rows, intercept)
            kept += block.rows
    check_some_kept(kept, src.n, str(src.path))
    return LinearStats(R, kept, coefficients, y, bool(intercept))


def check_some_kept(kept: int, rows: int, source: str) -> None:
    """Refuse data whose every row had a missing value (and was dropped)."""
    if not kept:
        raise InputError(
            f"{source}: every one of its {rows:,} rows has a missing value in the columns used; "
            "fill them, or choose other columns"
        )


# --- any per-row loss: one pass per gradient -------------------------------------------------

# Losses (and methods) whose compiled passes and updates are kept; the rest are freed (gdlab._cache).
COMPILED_LOSSES = 16


def per_row(loss: BatchLoss) -> Callable[[Params, Any], jax.Array]:
    """``loss(params, batch)`` evaluated on each row alone: a batch of one row, mapped over rows.

    A loss written as a mean (or a sum) over a batch is, on one row, that row's term.
    """
    f = scalar_loss(loss)

    def rows(params: Params, batch: Any) -> jax.Array:
        return jax.vmap(lambda row: f(params, jax.tree.map(lambda a: a[None], row)))(batch)

    return rows


@per_key(leading=1, size=COMPILED_LOSSES)
def _block_terms(f, params, columns, mask):
    """The masked sum over a block of the per-row loss, and its gradient."""

    def total(p):
        return jnp.sum(mask * per_row(f)(p, columns))

    return jax.value_and_grad(total)(params)


def value_and_grad(loss: BatchLoss, params: Params, source: ParquetSource) -> tuple[float, Params]:
    """One pass: the mean over rows of ``loss(params, row)``, and its gradient.

    ``loss(params, batch)`` takes a dict of the source's columns, as
    :func:`gdlab.sgd` does; it is compiled once for the fixed block shape.

    Example:
        >>> import tempfile, os, pandas as pd, jax.numpy as jnp
        >>> path = os.path.join(tempfile.mkdtemp(), "d.parquet")
        >>> pd.DataFrame({"x": [1.0, 2.0, 3.0]}).to_parquet(path)
        >>> value, g = value_and_grad(lambda b, d: jnp.mean((d["x"] - b) ** 2), 0.0, open_parquet(path))
        >>> float(value), float(g)
        (4.666..., -4.0)
    """
    loss = as_loss(loss)
    value, grad, rows = 0.0, jax.tree.map(np.zeros_like, params), 0
    for block in source.blocks():
        checkpoint()
        v, g = _block_terms(loss, params, block.columns, block.mask)
        value += float(v)
        grad = jax.tree.map(lambda a, b: a + np.asarray(b), grad, g)
        rows += block.rows  # the rows kept: fewer than source.n when it drops missing values
    check_some_kept(rows, source.n, str(source.path))
    return value / rows, jax.tree.map(lambda a: a / rows, grad)


def fused_pass(
    X: np.ndarray, y: np.ndarray, *, family: str = "linear", rows: int = 4096
) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """The mean loss and its gradient over in-memory rows, in one pass over ``X``.

    Each block of ``rows`` rows is read from memory once and stays in cache for both of its
    products (``X_b b``, then ``r_b X_b``, through NumPy's BLAS), where ``jax.grad`` of the
    loss reads ``X`` twice; ``X`` is never copied. The result is a ``pass_fn`` for
    :func:`descend_passes`. ``family="linear"``: the mean squared error; ``"logistic"``: the
    mean log-loss of a 0/1 ``y``.

    Example:
        >>> X = np.column_stack([np.ones(4), np.arange(4.0)])
        >>> value, grad = fused_pass(X, np.array([1.0, 3, 5, 7]))(np.array([1.0, 2.0]))
        >>> float(value), grad.tolist()
        (0.0, [0.0, 0.0])
    """
    if family not in ("linear", "logistic"):
        raise InputError(f"family {family!r}: choose linear or logistic")
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise InputError(f"X must be (n, p) and y (n,); got {X.shape} and {y.shape}")
    n = X.shape[0]
    kind: Literal["mse", "logistic"] = "mse" if family == "linear" else "logistic"

    def pass_fn(b: np.ndarray) -> tuple[float, np.ndarray]:
        b = np.asarray(b, dtype=np.float64)
        total, grad = 0.0, np.zeros(X.shape[1])
        for start in range(0, n, rows):
            checkpoint()
            value, g = block_terms(X[start : start + rows], y[start : start + rows], b, kind)
            total += value
            grad += g
        return total / n, grad / n

    return pass_fn


@per_key(leading=1, size=COMPILED_LOSSES, static_argnames=("early",))
def _update(method: Method, lr, p, state, value, g, first, tol, early: bool):
    """One optimiser update from a value and gradient computed elsewhere, and the engine's stop rule."""
    tx = optimiser(method, lr)
    updates, new_state = tx.update(g, state, p, value=value, grad=g)
    new_p = jax.tree.map(lambda a, u: a + u, p, updates)
    return new_p, new_state, outcome(None, method, value, g, p, new_p, first, tol, early)


SGD_FEWER = "use fewer epochs or larger batches"


def check_kept(what: str, rows: int, init: Params, fix: str) -> None:
    """Refuse a run whose ``rows`` rows of parameters, gradient and loss would pass
    ``LIMITS.trajectory_numbers``, before any pass over the data."""
    from gdlab._pytree import components

    _checks.size(what, rows * (2 * components(init) + 1), LIMITS.trajectory_numbers, fix)


def _streamable(method: MethodLike) -> Method:
    spec = resolve_method(method)
    if spec.reads_loss:
        raise InputError(
            f"method {spec.name!r} evaluates the loss at trial points, and each would be a pass over the "
            "data: use 'gd', 'momentum', 'nesterov', 'adam' ... (or fit a linear model, whose statistics "
            "take one pass)"
        )
    if not spec.needs_lr:
        raise InputError("pass the method by name or as an optax factory, with lr=")
    return spec


def descend_passes(
    pass_fn: Callable[[Params], tuple[float, Params]],
    init: Params,
    *,
    lr: float,
    steps: int,
    method: MethodLike = "gd",
    tol: float | None = None,
    where: str = "data",
    loss_fn: Callable[[Params], Any] | None = None,
) -> Trajectory:
    """Full-batch descent where each gradient is one pass over data held elsewhere.

    ``pass_fn(params) -> (mean loss, its gradient)`` reads the data (a Parquet
    pass, a Dask reduction); the optimiser, the stop rule and the record stay
    here, in memory, and each row is recorded as :func:`gdlab.descend` records it.

    Args:
        pass_fn: the loss and gradient at ``params``, one pass over the data.
        init: the start.
        lr: the learning rate.
        steps: the most steps (each one pass).
        method: a method that needs only the gradient (not a line search).
        tol: stop once the gradient norm is <= ``tol``.
        where: the data, as the message names it.
        loss_fn: the loss, kept in the trajectory for pictures (each call is a pass).
    """
    spec = _streamable(method)
    rate = _checks.number("lr", lr)
    steps = _checks.steps(steps)
    limit = _checks.tol(tol)
    p = jax.tree.map(lambda a: np.asarray(a, np.float64), init)
    check_kept("numbers a run keeps", steps + 1, init, "ask for fewer steps")
    lr_arr = np.asarray(rate)
    state = start_state(spec, p, lr_arr)
    tol_arr, first = np.asarray(limit or 0.0), np.asarray(0.0)
    P, L, G = [], [], []
    code = Outcome.RUNNING
    for k in range(steps + 1):
        checkpoint()
        value, g = pass_fn(p)
        first = np.asarray(value) if k == 0 else first
        new_p, state, c = _update(
            spec, lr_arr, p, state, np.asarray(value), g, first, tol_arr, limit is not None
        )
        P.append(p)
        L.append(value)
        G.append(g)
        code = Outcome(int(c))
        if code is Outcome.RUNNING and k == steps:
            code = Outcome.MAX_STEPS
        if code is not Outcome.RUNNING:
            break
        p = jax.tree.map(np.asarray, new_p)
    return _trajectory(P, L, G, code, spec.name, rate, limit, loss_fn, f"full batch over {where}")


def _trajectory(P, L, G, code, name, rate, tol, loss_fn, words) -> Trajectory:
    stack = lambda rows: jax.tree.map(lambda *a: np.stack([np.asarray(x) for x in a]), *rows)  # noqa: E731
    params, grads, loss = stack(P), stack(G), np.asarray(L, dtype=np.float64)
    rows = loss.shape[0]
    facts = facts_from_rows(
        code, loss, flat_rows(grads, rows), flat_rows(params, rows), lr=rate, tol=tol, method=name
    )
    return Trajectory(
        params=params,
        loss=loss,
        grad=grads,
        method=f"{name} ({words})" if words else name,
        lr=rate,
        status=status(facts),
        message=describe(facts),
        tol=tol,
        loss_fn=loss_fn,
    )


def descend_parquet(
    loss: BatchLoss,
    init: Params,
    path: ParquetSource | PathLike,
    *,
    lr: float,
    steps: int,
    method: MethodLike = "gd",
    tol: float | None = None,
    columns: NamesLike | None = None,
) -> Trajectory:
    """Exact (full-batch) gradient descent on the mean over a Parquet file's rows of ``loss(params, row)``.

    Every step streams one pass; only a few blocks are ever in memory.

    Example:
        >>> import tempfile, os, pandas as pd, jax.numpy as jnp
        >>> path = os.path.join(tempfile.mkdtemp(), "d.parquet")
        >>> pd.DataFrame({"x": [1.0, 2.0, 3.0]}).to_parquet(path)
        >>> run = descend_parquet(lambda b, d: (d["x"] - b) ** 2, 0.0, path, lr=0.25, steps=20)
        >>> round(float(run.final), 6), run.method
        (2.0, 'gd (full batch over d.parquet)')
    """
    source = path if isinstance(path, ParquetSource) else open_parquet(path, columns)
    f = as_loss(loss)
    return descend_passes(
        lambda p: value_and_grad(f, p, source),
        init,
        lr=lr,
        steps=steps,
        method=method,
        tol=tol,
        where=source.path.name,
        loss_fn=lambda p: value_and_grad(f, p, source)[0],
    )


# --- minibatch SGD streamed --------------------------------------------------------------------


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


def sgd_parquet(
    loss: BatchLoss,
    init: Params,
    path: ParquetSource | PathLike,
    *,
    lr: float,
    batch_size: int,
    epochs: int = 1,
    seed: int = 0,
    method: MethodLike = "gd",
    buffer_rows: int = SHUFFLE_ROWS,
    columns: NamesLike | None = None,
    shuffle: bool = True,
) -> Trajectory:
    """Minibatch SGD streaming each epoch from Parquet, reshuffled within a bounded buffer.

    Batches are cut as :func:`shuffled_batches` says: ``n // batch_size`` steps
    an epoch of exactly ``batch_size`` rows each, so the step compiles once.
    ``shuffle=False`` takes them in the data's order (``buffer_rows`` then only
    sets how many rows are read at a time).

    Returns:
        A :class:`~gdlab.Trajectory` whose rows hold each step's minibatch loss
        and gradient (the noisy estimates the steps follow: the loss on all the
        data would take a pass per step); its last row is the loss and gradient
        on all the data, from one more pass.

    Example:
        >>> import tempfile, os, numpy as np, pandas as pd, jax.numpy as jnp
        >>> path = os.path.join(tempfile.mkdtemp(), "d.parquet")
        >>> pd.DataFrame({"x": np.arange(100.0)}).to_parquet(path)
        >>> run = sgd_parquet(lambda b, d: jnp.mean((d["x"] - b) ** 2), 0.0, path, lr=0.1,
        ...                   batch_size=10, epochs=3, buffer_rows=32)
        >>> run.steps, run.method
        (30, 'sgd (gd, batch 10)')
    """
    source = path if isinstance(path, ParquetSource) else open_parquet(path, columns)
    f = as_loss(loss)
    _streamable(method)  # refused before any data is read
    _checks.number("lr", lr)
    size = _checks.whole("batch_size", batch_size, low=1)
    if size > source.n:
        rows = source.n
        raise InputError(
            lambda s: f"{s.name('batch_size')} must be between 1 and the {rows:,} rows of data; got {size:,}",
            parameter="batch_size",
        )
    epochs = _checks.whole("epochs", epochs, low=1)
    seed = _checks.seed(seed)
    buffer = _checks.whole("buffer_rows", buffer_rows, low=1, high=2**28)
    check_kept("numbers an sgd run keeps", epochs * (source.n // size) + 1, init, SGD_FEWER)

    def steps() -> Iterator[Callable[[Params], tuple[Any, Params]]]:
        for epoch in range(epochs):
            for batch in shuffled_batches(source, size, buffer, seed, epoch, bool(shuffle)):
                yield functools.partial(_batch_value_grad, f, batch=batch)

    run, words = sgd_record(
        steps(), init, lr=lr, method=method, size=size, full=lambda p: value_and_grad(f, p, source)
    )
    if not words:
        return run
    message = (
        f"ran {epochs} epoch(s) of {source.n // size:,} batches of {size:,} rows streamed from "
        f"{source.path.name} ("
        + (f"shuffled within windows of {min(buffer, source.n):,} rows" if shuffle else "in the data order")
        + f"): {words}"
    )
    return dataclasses.replace(run, message=message)


@per_key(leading=1, size=COMPILED_LOSSES)
def _batch_value_grad(f, params, batch):
    return jax.value_and_grad(scalar_loss(f))(params, batch)


def sgd_record(
    steps: Iterator[Callable[[Params], tuple[Any, Params]]],
    init: Params,
    *,
    lr: float,
    method: MethodLike,
    size: int,
    full: Callable[[Params], tuple[float, Params]],
) -> tuple[Trajectory, str]:
    """Run minibatch steps (each ``step(params) -> (batch loss, batch gradient)``, computed wherever
    the batch lives) with the optimiser here; the last row is ``full(params)``, the loss on all data.

    Returns the trajectory and, unless it diverged, words for its message ("loss on all data ...").
    """
    spec = _streamable(method)
    rate = _checks.number("lr", lr)
    p = jax.tree.map(lambda a: np.asarray(a, np.float64), init)
    lr_arr = np.asarray(rate)
    state = start_state(spec, p, lr_arr)
    P, L, G = [], [], []
    code = Outcome.RUNNING
    zero = np.asarray(0.0)
    for step in steps:
        checkpoint()
        value, g = step(p)
        P.append(p)
        L.append(float(value))
        G.append(g)
        new_p, state, c = _update(spec, lr_arr, p, state, np.asarray(value), g, zero, zero, False)
        if Outcome(int(c)) is not Outcome.RUNNING:  # only a non-finite value or gradient stops it
            code = Outcome(int(c))
            break
        p = jax.tree.map(np.asarray, new_p)
    if code is Outcome.RUNNING:
        value, g = full(p)
        P.append(p)
        L.append(value)
        G.append(g)
        code = Outcome.MAX_STEPS if np.isfinite(value) else Outcome.NOT_FINITE
    run = _trajectory(P, L, G, code, f"sgd ({spec.name}, batch {size})", rate, None, None, "")
    words = "" if run.status is Status.DIVERGED else f"loss on all data at the end {L[-1]:.6g}"
    return run, words


# --- fits: linear in one pass, logistic by Newton's method (IRLS) with a pass per step -----------


def fit_terms(
    family: str, method: MethodLike | None, y: str, x: NamesLike, where: str, descend: str
) -> tuple[str, Any, str, tuple[str, ...]]:
    """A fit's family, method, response and regressors, as :func:`gdlab.fit` checks them, refusing a
    logistic fit by any method but Newton's (a fit ``where`` the data are takes a pass per step;
    ``descend`` is the function to name for another method)."""
    from gdlab._fitresult import family_name, fit_method, variables

    kind = family_name(family)
    how = fit_method(method, kind)
    response, regressors = variables(y, x)
    if kind == "logistic" and how != "newton":
        raise InputError(
            f"a logistic fit {where} runs Newton's method (IRLS, a pass per step); for another "
            f"method descend the log-loss with {descend}"
        )
    return kind, how, response, regressors


def fit_parquet(
    path: ParquetSource | PathLike,
    *,
    y: str,
    x: NamesLike,
    family: str = "linear",
    method: MethodLike | None = None,
    intercept: bool = True,
    steps: int = 5000,
    lr: float | None = None,
    tol: float | None = None,
    rcond: float | None = None,
    standardize: bool = True,
    batch_rows: int = BATCH_ROWS,
    epochs: int = 200,
    batch_size: int = 8,
    seed: int = 0,
    decay: bool = True,
    dropna: bool = False,
    dtype: Any = None,
) -> Any:
    """Fit ``y ~ x`` to a Parquet file or directory without reading it into memory.

    Linear least squares takes one pass (:func:`linear_stats`); the closed form,
    standard errors and R² come from ``R``, and any descent method (``"gd"``,
    ``"adam"``, ``"lbfgs"``, ``"newton"`` ...) then runs in memory on the
    standardised local quadratic, as :func:`gdlab.fit` runs it on the data.
    ``family="logistic"`` runs Newton's method (IRLS) with one pass per step:
    each pass accumulates the QR factor of the weighted design, and each step
    is the same scaled, pivoted QR solve as in memory.

    Args:
        path: a Parquet file or directory, or an opened :class:`ParquetSource`.
        y, x, family, method, intercept, steps, lr, tol, rcond, standardize: as
            :func:`gdlab.fit`. ``method="sgd"`` is refused (run :func:`gdlab.sgd`
            on the file); a logistic fit runs Newton's method only.
        batch_rows: rows per block read.
        epochs, batch_size, seed, decay: sgd's settings, checked as :func:`gdlab.fit`
            checks them and, as there, unused by the other methods.
        dropna: drop the rows with a missing value (NaN or null) in ``y`` or ``x`` as
            they are read (counted in the fit's ``dropped``); otherwise the first is an
            error naming its column and row.
        dtype: float64 only (the default).

    Returns:
        A :class:`gdlab.Fit` (``predict`` works; pictures of the data do not).

    Raises:
        InputError: as :func:`open_parquet`, a bad setting, a missing value without
            ``dropna``, or a method that does not apply.
    """
    kind, how, response, regressors = fit_terms(family, method, y, x, "of streamed data", "descend_parquet")
    check_options(
        "streamed data",
        how,
        "gdlab.sgd(loss, init, path, batch_size=..., epochs=...) streams minibatches from the file",
        steps=steps,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        lr=lr,
        decay=decay,
        tol=tol,
        standardize=standardize,
        dtype=dtype,
    )
    source = (
        path
        if isinstance(path, ParquetSource)
        else open_parquet(path, [*regressors, response], batch_rows=batch_rows, dropna=dropna)
    )
    if bool(dropna) != source.dropna:
        source = dataclasses.replace(source, dropna=bool(dropna))
    if kind == "logistic":
        return logistic_fit(
            lambda b: logistic_pass(source, regressors, response, intercept, b),
            source.n,
            regressors,
            response,
            intercept,
            str(source.path),
        )
    stats = linear_stats(source, y=response, x=regressors, intercept=intercept)
    return linear_fit(
        stats,
        how,
        steps=steps,
        lr=lr,
        tol=tol,
        rcond=rcond,
        standardize=standardize,
        dropped=source.n - stats.n,
    )


def check_options(where: str, how: Any, sgd: str, *, dtype: Any, **settings: Any) -> None:
    """Check :func:`gdlab.fit`'s settings as an in-memory fit checks them (``epochs``, ``batch_size``,
    ``seed`` and ``decay`` are sgd's, unused by other methods, as in memory), and refuse what a fit of
    ``where`` cannot do: ``method="sgd"`` (``sgd`` says what does) and a type other than float64."""
    from gdlab._fitresult import Settings

    Settings.checked(**settings)
    if how == "sgd":
        raise InputError(
            lambda s: (
                f"{s.setting('method', 'sgd', quoted=True)} is not run on {where} by gdlab.fit: the "
                "closed form and every full-batch method run from the statistics of one pass instead "
                f"({s.setting('method', 'gd', quoted=True)}, 'adam' ...); {sgd}, or read the data into memory"
            ),
            parameter="method",
        )
    if dtype is not None and resolve_dtype(dtype) != np.float64:
        raise InputError(
            f"a fit of {where} computes in float64; leave dtype unset (got {resolve_dtype(dtype)}), "
            "or read the data into memory"
        )


def formula_refused(data: object, *, streamed: bool) -> InputError:
    """The error for a formula (``gdlab.fit(..., model=...)``) on data streamed from Parquet
    (``streamed``) or on a cluster: a formula is fitted in memory."""
    if streamed:
        return InputError(
            lambda s: (
                f"a formula ({s.setting('model', '...')}) is fitted in memory, and {data} would be "
                f"streamed (a directory of Parquet files, a file too large for a table, or "
                f"{s.setting('stream', True)}): read the rows into memory (pandas.read_parquet, or "
                f"{s.setting('stream', False)} for one file a table can hold) and fit those, or fit a "
                f"linear model with {s.setting('x', '...')}, which streams"
            ),
            parameter="model",
        )
    return InputError(
        "a formula (model=...) is fitted in memory, not on a cluster: leave client= unset and give the "
        "rows in memory (a Dask DataFrame's .compute()), or fit a linear model with x=..., which runs "
        "on the cluster"
    )


def _check_columns(stats: LinearStats) -> None:
    if stats.n < stats.p:
        raise InputError(
            f"{stats.n:,} rows but {stats.p} coefficients: a fit needs at least as many rows as coefficients"
        )
    spreads = stats.spreads()
    for name, s in zip(stats.names[int(stats.intercept) :], spreads, strict=True):
        if s == 0:
            raise InputError(
                f"column {name!r} is constant: beside the intercept it has nothing to explain; drop it from x"
                if stats.intercept
                else f"column {name!r} is 0 in every row: it has no coefficient to fit; drop it from x"
            )


def linear_fit(
    stats: LinearStats,
    how: Any = "ols",
    *,
    steps: int = 5000,
    lr: float | None = None,
    tol: float | None = None,
    rcond: float | None = None,
    standardize: bool = True,
    dropped: int = 0,
) -> Any:
    """A linear :class:`gdlab.Fit` from :class:`LinearStats`: the closed form, and a descent beside it
    (``dropped``: the rows dropped for missing values, reported in the fit).

    The descent runs on the standardised regressors through their factor
    ``R T`` (``Z = X T``), so it never touches the data again.
    """
    from gdlab._fitresult import Fit, method_name

    _check_columns(stats)
    solved = stats.solve(rcond)
    closed = np.asarray(solved.coef, dtype=np.float64)
    result = Fit(
        y=stats.y,
        names=stats.names,
        method=method_name(how),
        coef=closed,
        closed_form=closed,
        n=stats.n,
        warnings=solved.messages(),
        dropped=int(dropped),
        intercept=stats.intercept,
        stats=_linear_inference(stats, solved) if solved.full_rank else None,
    )
    if how == "ols":
        return result
    if how == "sgd":
        raise InputError(
            "method 'sgd' from the statistics of one pass: they give the closed form and every full-batch "
            "method; run minibatches with gdlab.sgd on the data itself"
        )
    return _local_descent(result, stats, how, steps, lr, tol, bool(standardize))


def _linear_inference(stats: LinearStats, solved: Any) -> Any:
    import scipy.stats  # type: ignore[import-untyped]

    from gdlab._inference import Inference

    n, p = stats.n, stats.p
    coef = solved.coef.astype(np.float64)
    rss, tss = stats.rss(coef), stats.tss
    df = n - solved.rank
    r2 = 1 - rss / tss if tss > 0 else float("nan")
    s2 = rss / df if df > 0 else float("nan")
    se = np.sqrt(np.diag(s2 * solved.unscaled_inverse()))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = coef / se
    return Inference(
        se=se,
        statistic=t,
        pvalue=2 * scipy.stats.t.sf(np.abs(t), df) if df > 0 else np.full(p, np.nan),
        statistic_name="t",
        r2=r2,
        adj_r2=1 - (n - int(stats.intercept)) / df * (1 - r2) if df > 0 else float("nan"),
        sigma=float(np.sqrt(s2)),
        rss=rss,
        df_resid=df,
        condition=solved.condition,
        log_likelihood=-n / 2 * (np.log(2 * np.pi * rss / n) + 1) if rss > 0 else None,
    )


def standardised(stats: LinearStats) -> tuple[np.ndarray, Any]:
    """``R`` of ``[1 | Z | y]`` for the standardised regressors ``Z = X T``, and the scaling back."""
    from gdlab._fitresult import Scaling

    start = int(stats.intercept)
    mean = stats.means() if stats.intercept else np.zeros(stats.p)
    scale = stats.spreads()
    T = np.eye(stats.p + 1)
    T[start:-1, start:-1] = np.diag(1 / scale)
    if stats.intercept:
        T[0, 1:-1] = -mean / scale
    return stats.R @ T, Scaling(mean, scale, stats.intercept)


def _local_descent(
    result: Any, stats: LinearStats, how: Any, steps: int, lr: Any, tol: Any, standardize: bool = True
) -> Any:
    from gdlab._descend import descend
    from gdlab._fitresult import Scaling, Settings, rate_for

    if standardize:
        RZ, scaling = standardised(stats)
    else:  # the raw columns, as the lecture descends them (often ill-conditioned)
        RZ, scaling = stats.R, Scaling.identity(stats.p)
    local = LinearStats(RZ, stats.n, stats.names, stats.y, stats.intercept)
    settings = Settings.checked(steps, 1, 1, 0, lr, True, tol)
    spec = resolve_method(how)
    # The rate rule reads the Hessian 2M'M/len(M); M = R_Z's top block x sqrt(p/n) has that of the data.
    proxy = RZ[:-1, :-1] * np.sqrt(stats.p / stats.n)
    rate, source = rate_for(proxy, spec, settings)
    limit = settings.tol
    if limit is None:
        rms = float(np.sqrt(np.sum(stats.R[:, -1] ** 2) / stats.n))
        limit = max(1e-10, 100 * float(np.finfo(np.float64).eps)) * max(1.0, rms)
    path = descend(local.loss, np.zeros(stats.p), lr=rate, steps=settings.steps, tol=limit, method=spec)
    notes: tuple[str, ...] = ()
    if path.status is not Status.CONVERGED:
        notes = (f"{spec.name}: {path.message}",)
    return dataclasses.replace(
        result,
        coef=scaling.back(np.asarray(path.final)),
        lr=rate,
        lr_source=source,
        trajectory=path,
        warnings=(*result.warnings, *notes),
        standardized=standardize,
        _scaling=scaling,
    )


def logistic_terms(rows: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, float, np.ndarray, float, int]:
    """One block's part of a Newton (IRLS) step at ``b``, from its rows ``[1 | X | y]``.

    Returns ``R`` of the weighted rows ``[sqrt(w) X | sqrt(w) z]`` (``w = p(1-p)``,
    ``z = Xb + (y-p)/w``), the deviance, the gradient ``X'(p-y)``, the sum of ``y`` and the rows.
    """
    X, y = rows[:, :-1], rows[:, -1]
    eta = X @ b
    p = np.exp(-np.logaddexp(0.0, -eta))
    root = np.sqrt(np.maximum(p * (1 - p), 1e-300))
    weighted = np.column_stack([X * root[:, None], root * eta + (y - p) / root])
    deviance = float(2 * np.sum(np.logaddexp(0.0, eta) - y * eta))
    return _triangle(weighted, X.shape[1] + 1), deviance, (p - y) @ X, float(y.sum()), len(y)


def merge_terms(a: tuple, b: tuple) -> tuple:
    """Two blocks' :func:`logistic_terms` as those of both."""
    return merge_r(a[0], b[0]), a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4]


def logistic_pass(source: ParquetSource, x: Sequence[str], y: str, intercept: bool, b: np.ndarray) -> tuple:
    """One pass of :func:`logistic_terms` over a Parquet source, checking that ``y`` is 0/1."""
    total: tuple | None = None
    with _one_blas_thread():
        for block in source.blocks(f"reading {source.path.name} (Newton step)"):
            checkpoint()
            rows = design_rows(block.columns, x, y, block.rows, intercept)
            check_binary_response(rows[:, -1], y, block.start)
            part = logistic_terms(rows, b)
            total = part if total is None else merge_terms(total, part)
    assert total is not None
    return total


def check_binary_response(y: np.ndarray, column: str, start: int = 0, within: str = "") -> None:
    """Refuse a block's response that is not 0/1, naming the first bad row (``start`` + its row
    in the block, then ``within``, such as " of a chunk")."""
    bad = np.flatnonzero((y != 0) & (y != 1))
    if bad.size:
        row = int(bad[0])
        raise InputError(
            f"column {column!r} must hold only 0 and 1 for family='logistic'; it holds {y[row]:g} at row "
            f"{start + row}{within}: recode it, for example as 1 where it is above a threshold"
        )


def logistic_fit(
    pass_fn: Callable[[np.ndarray], tuple],
    rows: int,
    x: Sequence[str],
    y: str,
    intercept: bool,
    source: str = "the data",
) -> Any:
    """Newton's method (IRLS) from zero with one pass per step, as a logistic :class:`gdlab.Fit`.

    ``pass_fn(b)`` returns the merged :func:`logistic_terms` of all the rows at ``b``; the
    fit's ``n`` is the rows they count, and ``dropped`` the rest of the data's ``rows``
    (dropped for missing values).
    Each step solves the weighted least-squares problem from its ``R`` by gdlab's
    scaled, pivoted QR, as the in-memory fit does; it stops, as that one does,
    once no coefficient moves by more than 1e-13 of its size.
    """
    from gdlab import _inference
    from gdlab._families import IRLS_MAX_ITERATIONS, IRLS_RTOL
    from gdlab._fitresult import Fit
    from gdlab._ols import least_squares

    names_ = ("intercept", *x) if intercept else tuple(x)
    p = len(names_)
    iterates, losses, grads = [np.zeros(p)], [], []
    converged, solved, ysum, n = False, None, 0.0, 0
    for _ in range(IRLS_MAX_ITERATIONS):
        checkpoint()
        R, deviance, g, ysum, n = pass_fn(iterates[-1])
        check_some_kept(n, rows, source)
        if n < p:
            raise InputError(
                f"{n:,} rows but {p} coefficients: a fit needs at least as many rows as coefficients"
            )
        losses.append(deviance / (2 * n))
        grads.append(g / n)
        if ysum in (0.0, float(n)):
            raise InputError(
                f"column {y!r} is {ysum / n:g} in every row: a logistic model needs both 0s and 1s"
            )
        solved = least_squares(R[:-1, :-1], R[:-1, -1])
        new = solved.coef.astype(np.float64)
        iterates.append(new)
        if np.all(np.abs(new - iterates[-2]) <= IRLS_RTOL * np.maximum(1.0, np.abs(new))):
            converged = True
            break
    _, deviance, g, _, _ = pass_fn(iterates[-1])
    losses.append(deviance / (2 * n))
    grads.append(g / n)
    coef = iterates[-1]
    assert solved is not None
    mean = ysum / n
    null = -2 * n * (mean * np.log(mean) + (1 - mean) * np.log(1 - mean)) if intercept else 2 * n * np.log(2)
    stats = (
        _inference.logistic(coef, solved.unscaled_inverse(), deviance, float(null), n - p, solved.condition)
        if solved.full_rank
        else None
    )
    path = _trajectory(iterates, losses, grads, Outcome.MAX_STEPS, "newton", None, None, None, "")
    if converged:
        path = dataclasses.replace(
            path,
            status=Status.CONVERGED,
            message=f"converged at step {len(iterates) - 1}: the Newton steps stopped changing the "
            f"coefficients (relative {IRLS_RTOL:g}); gradient norm {np.linalg.norm(grads[-1]):.3g}",
        )
    notes = (
        ()
        if converged
        else (
            f"Newton's method did not converge in {IRLS_MAX_ITERATIONS} steps: the classes "
            "may be separated, so the coefficients grow without bound",
        )
    )
    return Fit(
        y=y,
        names=names_,
        method="newton",
        coef=coef,
        closed_form=coef,
        n=n,
        warnings=(*solved.messages(), *notes),
        dropped=rows - n,
        intercept=intercept,
        family="logistic",
        stats=stats,
        reference="Newton (IRLS)",
        trajectory=path,
    )
