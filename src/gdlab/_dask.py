"""Data on a Dask cluster: chunks resident on the workers, one JAX task per chunk, the loop here.

The data are cut into chunks that stay on the workers as NumPy arrays (a dict
of float64 columns per chunk) for as long as a :class:`DaskData` holds them.
Each iteration sends the parameters (a few numbers), runs one task per chunk
(the chunk's summed loss and its gradient, compiled by JAX) and sums the
results on the workers, two at a time (a tree reduction); only the total comes
back. The optimiser, the stop rule and the trajectory stay on the client
(:func:`gdlab._stream.descend_passes`).

The loss is sent once: scattered to every worker, and compiled once per worker
process, in a cache keyed by a token made when it was sent (tasks carry the
token and a reference to the scattered function, never the function itself).

What runs where:

- client: reading settings, the optimiser and its state, the trajectory, the
  closed-form solve from the combined triangular factor, Newton's steps;
- workers: the chunks, each chunk's loss and gradient (JAX), each chunk's QR
  factor (the one pass of a linear fit; a pass per Newton step for logistic),
  and the sums.

A worker lost mid-fit: chunks made from a Dask collection are recomputed by
Dask from their graph, and the fit goes on with the same numbers; chunks
scattered from the client's memory cannot be, and the fit stops with a
:class:`ClusterError` saying so. A lost chunk is never skipped: every
iteration sums exactly one result per chunk.

Pointing the same call at an existing cluster::

    from dask.distributed import Client
    import dask.dataframe as dd

    client = Client("tcp://scheduler:8786")
    frame = dd.read_parquet("s3://bucket/sales/")
    fit_dask(frame, y="sales", x="temp,rain", client=client).coefficients
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, final

import jax
import jax.numpy as jnp
import numpy as np

from gdlab import _files as files
from gdlab._checks import InputError
from gdlab._data import NamesLike, infinite_value, names, no_column
from gdlab._loss import as_loss
from gdlab._stream import (
    SGD_FEWER,
    LinearStats,
    check_binary_response,
    check_kept,
    check_options,
    check_some_kept,
    descend_passes,
    design_rows,
    fit_terms,
    linear_fit,
    linear_terms,
    logistic_fit,
    logistic_terms,
    merge_r,
    merge_terms,
    per_row,
    updated_factor,
)
from gdlab._trajectory import Trajectory
from gdlab._types import BatchLoss, MethodLike, Params

__all__ = [
    "ClusterError",
    "DaskData",
    "as_dask_data",
    "compile_counts",
    "descend_dask",
    "fit_dask",
    "is_dask_collection",
    "linear_stats_dask",
    "value_and_grad_dask",
]

# Rows per chunk when in-memory data are scattered to a cluster.
CHUNK_ROWS = 1_000_000

# Results summed by one task: each level of the tree is a round trip to the scheduler (~10 ms
# here), so a wide tree (two levels up to 64 chunks) beats a binary one.
FAN_IN = 8

# On each worker process: token -> the compiled chunk function, and how many times it was traced.
_COMPILED: dict[str, Callable[..., Any]] = {}
_TRACES: dict[str, int] = {}


class ClusterError(RuntimeError):
    """The cluster lost what a fit needs (a worker holding data that cannot be recomputed)."""


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

    def release(self) -> None:
        """Let the workers drop the chunks."""
        self.client.cancel(list(self.chunks))

    def __repr__(self) -> str:
        return f"DaskData({self.n:,} rows in {len(self.chunks)} chunks, columns {', '.join(self.columns)})"


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

    Raises:
        InputError: no client, a missing column, text, infinite values, or missing values
            without ``dropna`` (naming the column, and the row of the data counted from 0
            across the chunks in order, as an in-memory table counts it).
    """
    client = _default_client(client)
    wanted = None if columns is None else names(columns, "columns")
    dropped = 0
    if is_dask_collection(data):
        parts, found = _collection_parts(data, wanted)
        futures = client.compute([_chunk_of(part, found) for part in parts])
        recomputable = True
        summaries = _gather(client, [client.submit(_summary, f, found, pure=False) for f in futures])
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

        table = as_table(data, columns=wanted, dropna=dropna)
        found = table.names
        dropped = table.dropped
        size = max(1, int(chunk_rows))
        pieces = [
            {c: np.array(table.columns[c][s : s + size]) for c in found} for s in range(0, table.n, size)
        ]
        futures = client.scatter(pieces)
        recomputable = False
        rows = tuple(_gather(client, client.map(_rows, futures, pure=False)))
    if not sum(rows):
        raise InputError("the data have no rows")
    return DaskData(client, tuple(futures), rows, found, recomputable, dropped)


def _collection_parts(data: Any, wanted: tuple[str, ...] | None) -> tuple[list[Any], tuple[str, ...]]:
    """The delayed pieces of a Dask DataFrame (its partitions) or 2-D array (its row blocks)."""
    if hasattr(data, "columns") and hasattr(data, "to_delayed"):  # a DataFrame
        # a repeated name would pick several columns at once: refused, as for a pandas DataFrame
        existing = files.unique([str(c) for c in data.columns], "the Dask DataFrame")
        chosen = existing if wanted is None else wanted
        for name in chosen:
            if name not in existing:
                raise InputError(no_column(name, existing, "the Dask DataFrame"))
        _numeric_columns(data, chosen)
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


def _chunk_of(part: Any, columns: tuple[str, ...]) -> Any:
    import dask

    return dask.delayed(_columns_of, pure=True)(part, columns)


def _columns_of(part: Any, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """On a worker: a partition (DataFrame) or a block (2-D array) as float64 columns (missing
    values as NaN; :func:`_summary` finds them)."""
    if hasattr(part, "columns"):
        return {c: part[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in columns}
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


def _gather(client: Any, futures: Any) -> Any:
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


def _tree_sum(client: Any, parts: list[Any], add: Callable[[Any, Any], Any]) -> Any:
    """Sum futures on the workers, :data:`FAN_IN` at a time (a tree); only the total comes back."""
    while len(parts) > 1:
        groups = [parts[i : i + FAN_IN] for i in range(0, len(parts), FAN_IN)]
        parts = [g[0] if len(g) == 1 else client.submit(_reduce, add, *g, pure=False) for g in groups]
    return _gather(client, parts[0])


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


def _value_and_grad_once(
    key: str, make: Callable[[], Callable[[Params, Any], jax.Array]]
) -> Callable[..., Any]:
    """On a worker: the compiled value and gradient of ``make()``, built once per process under
    ``key``; its traces are counted in ``_TRACES``."""
    found = _COMPILED.get(key)
    if found is None:
        f = make()

        def counted(params: Params, data: Any) -> jax.Array:
            _TRACES[key] = _TRACES.get(key, 0) + 1  # runs only while JAX traces
            return f(params, data)

        found = _COMPILED[key] = jax.jit(jax.value_and_grad(counted))
    return found


def _compiled(token: str, loss: Callable[..., Any]) -> Callable[..., Any]:
    """On a worker: the chunk function of ``loss`` (the sum over its rows), compiled once per process."""

    def make() -> Callable[[Params, Any], jax.Array]:
        rows = per_row(loss)
        return lambda params, chunk: jnp.sum(rows(params, chunk))

    return _value_and_grad_once(token, make)


def _chunk_value_grad(token: str, loss: Callable[..., Any], params: Params, chunk: Any) -> tuple[float, Any]:
    value, grad = _compiled(token, loss)(params, chunk)
    return float(value), jax.tree.map(np.asarray, grad)


def _add_value_grad(a: tuple[float, Any], b: tuple[float, Any]) -> tuple[float, Any]:
    return a[0] + b[0], jax.tree.map(np.add, a[1], b[1])


def compile_counts(client: Any) -> dict[str, dict[str, int]]:
    """Per worker: how many times each loss sent to it was traced and compiled (keyed by token)."""
    return client.run(_trace_counts)


def _trace_counts() -> dict[str, int]:
    return dict(_TRACES)


def value_and_grad_dask(loss: BatchLoss, params: Params, data: DaskData) -> tuple[float, Params]:
    """One iteration on the cluster: the mean over rows of ``loss(params, row)``, and its gradient.

    One task per chunk, summed on the workers; ``loss`` is sent the first time only.
    """
    f = as_loss(loss)
    sent = _send(data.client, f)
    p = jax.tree.map(np.asarray, params)
    parts = [
        data.client.submit(_chunk_value_grad, sent.token, sent.future, p, chunk, pure=False)
        for chunk in data.chunks
    ]
    value, grad = _tree_sum(data.client, parts, _add_value_grad)
    return value / data.n, jax.tree.map(lambda a: a / data.n, grad)


def descend_dask(
    loss: BatchLoss,
    init: Params,
    data: Any,
    *,
    lr: float,
    steps: int,
    method: MethodLike = "gd",
    tol: float | None = None,
    client: Any = None,
    columns: NamesLike | None = None,
) -> Trajectory:
    """Full-batch descent on the mean over rows of ``loss(params, row)``, the data on a cluster.

    ``data`` is a :class:`DaskData` or anything :func:`as_dask_data` takes; each
    step is one :func:`value_and_grad_dask`. Returns the :class:`~gdlab.Trajectory`
    that :func:`gdlab.descend` would record on the same rows in memory.
    """
    chunks = data if isinstance(data, DaskData) else as_dask_data(data, client=client, columns=columns)
    f = as_loss(loss)
    return descend_passes(
        lambda p: value_and_grad_dask(f, p, chunks),
        init,
        lr=lr,
        steps=steps,
        method=method,
        tol=tol,
        where=f"{len(chunks.chunks)} chunks on the cluster",
    )


# --- fits: one pass of QR factors for least squares, a pass per Newton step for logistic -----------


def _chunk_r(chunk: Mapping[str, np.ndarray], x: Sequence[str], y: str, intercept: bool) -> np.ndarray:
    q = len(x) + 1 + int(intercept)
    return updated_factor(np.zeros((q, q)), dict(chunk), (*x, y), _rows(chunk), intercept)


def _first_not_binary(chunk: Mapping[str, np.ndarray], y: str) -> tuple[int, float] | None:
    """On a worker: the first row of a chunk whose response is not 0 or 1, and its value."""
    values = np.asarray(chunk[y])
    bad = np.flatnonzero((values != 0) & (values != 1))
    return None if bad.size == 0 else (int(bad[0]), float(values[bad[0]]))


def _chunk_logistic(
    chunk: Mapping[str, np.ndarray], x: Sequence[str], y: str, intercept: bool, b: np.ndarray
) -> tuple:
    """A chunk's :func:`logistic_terms` (its response was checked to be 0/1 before the first pass)."""
    return logistic_terms(design_rows(dict(chunk), x, y, _rows(chunk), intercept), b)


def fit_dask(
    data: Any,
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
    client: Any = None,
    epochs: int = 200,
    batch_size: int = 8,
    seed: int = 0,
    decay: bool = True,
    dropna: bool = False,
    dtype: Any = None,
) -> Any:
    """Fit ``y ~ x`` to data on a Dask cluster, as :func:`gdlab.fit` fits it in memory.

    Linear least squares takes one pass: each chunk's QR factor of ``[1 | X | y]``
    on its worker, combined two at a time (a TSQR); the closed form, standard
    errors and any descent then run on the client from the combined factor
    (:func:`gdlab._stream.linear_fit`). ``family="logistic"`` runs Newton's
    method (IRLS) with a pass per step, each pass combining the chunks' factors
    of the weighted design.

    Args:
        data: a Dask DataFrame or 2-D array, a :class:`DaskData`, or in-memory data
            to scatter (see :func:`as_dask_data`).
        y, x, family, method, intercept, steps, lr, tol, rcond, standardize: as
            :func:`gdlab.fit`. ``method="sgd"`` is refused (run :func:`gdlab.sgd` with
            ``client=``); a logistic fit runs Newton's method only.
        client: the ``dask.distributed.Client`` (default: the current one).
        epochs, batch_size, seed, decay: sgd's settings, checked as :func:`gdlab.fit`
            checks them and, as there, unused by the other methods.
        dropna: drop the rows with a missing value in ``y`` or ``x`` on the workers
            (counted in the fit's ``dropped``); otherwise the first is an error naming
            its column and row. A :class:`DaskData` keeps the rows it was made with.
        dtype: float64 only (the default).

    Returns:
        A :class:`gdlab.Fit`.
    """
    kind, how, response, regressors = fit_terms(family, method, y, x, "on a cluster", "descend_dask")
    check_options(
        "data on a cluster",
        how,
        "gdlab.sgd(loss, init, data, client=..., batch_size=..., epochs=...) runs minibatches there",
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
    chunks = (
        data
        if isinstance(data, DaskData)
        else as_dask_data(data, client=client, columns=[response, *regressors], dropna=dropna)
    )
    c = chunks.client
    if kind == "logistic":
        starts = np.cumsum([0, *chunks.rows])
        # Checked on the client from each chunk's answer: an error raised in a task would also be
        # logged by every worker it ran on.
        found = _gather(
            c, [c.submit(_first_not_binary, chunk, response, pure=False) for chunk in chunks.chunks]
        )
        for start, bad in zip(starts, found, strict=False):
            if bad is not None:
                check_binary_response(np.array([bad[1]]), response, int(start) + bad[0])

        def newton_pass(b: np.ndarray) -> tuple:
            parts = [
                c.submit(_chunk_logistic, chunk, regressors, response, intercept, b, pure=False)
                for chunk in chunks.chunks
            ]
            return _tree_sum(c, parts, merge_terms)

        fit = logistic_fit(newton_pass, chunks.n, regressors, response, intercept)
        return dataclasses.replace(fit, dropped=chunks.dropped)
    stats = linear_stats_dask(chunks, y=response, x=regressors, intercept=intercept)
    return linear_fit(
        stats,
        how,
        steps=steps,
        lr=lr,
        tol=tol,
        rcond=rcond,
        standardize=standardize,
        dropped=chunks.dropped,
    )


def linear_stats_dask(
    data: Any, *, y: str, x: NamesLike, intercept: bool = True, client: Any = None
) -> LinearStats:
    """One pass on the cluster: the :class:`~gdlab._stream.LinearStats` (QR factor of ``[1 | X | y]``).

    Each chunk is factored on its worker and the factors combined two at a time
    (a TSQR); only the small triangle comes back. Its :meth:`~LinearStats.loss`
    is the exact mean squared error, for local descents and sweeps.
    """
    regressors, coefficients = linear_terms(y, x, intercept)
    chunks = (
        data if isinstance(data, DaskData) else as_dask_data(data, client=client, columns=[*regressors, y])
    )
    c = chunks.client
    parts = [c.submit(_chunk_r, chunk, regressors, y, intercept, pure=False) for chunk in chunks.chunks]
    R = _tree_sum(c, parts, merge_r)
    return LinearStats(np.asarray(R), chunks.n, coefficients, y, bool(intercept))


# --- minibatch SGD: one task per step on the chunk that holds the batch ---------------------------


def _compiled_batch(token: str, loss: Callable[..., Any]) -> Callable[..., Any]:
    """On a worker: ``loss(params, batch)`` and its gradient, compiled once per process and batch shape."""
    from gdlab._loss import scalar_loss

    return _value_and_grad_once(token + ":batch", lambda: scalar_loss(loss))


def _batch_value_grad(
    token: str, loss: Callable[..., Any], params: Params, chunk: Mapping[str, np.ndarray], rows: np.ndarray
) -> tuple[float, Any]:
    batch = {c: v[rows] for c, v in chunk.items()}
    value, grad = _compiled_batch(token, loss)(params, batch)
    return float(value), jax.tree.map(np.asarray, grad)


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


def sgd_dask(
    loss: BatchLoss,
    init: Params,
    data: Any,
    *,
    lr: float,
    batch_size: int,
    epochs: int = 1,
    seed: int = 0,
    method: MethodLike = "gd",
    client: Any = None,
    shuffle: bool = True,
) -> Trajectory:
    """Minibatch SGD on a cluster: each step one task on the worker holding its batch, the update here.

    Batches never cross chunks (see :func:`batch_plan`; ``shuffle=False`` takes them
    in the data's order, chunk by chunk). Each row of the
    trajectory holds its step's minibatch loss and gradient; the last row those
    on all the data (one more pass).
    """
    from gdlab import _checks
    from gdlab._stream import sgd_record

    chunks = data if isinstance(data, DaskData) else as_dask_data(data, client=client)
    size = _checks.whole("batch_size", batch_size, low=1)
    if size > max(chunks.rows):
        raise InputError(
            f"batch_size {size:,} is more than the largest chunk ({max(chunks.rows):,} rows): batches do not "
            "cross chunks; use smaller batches or larger chunks (repartition)"
        )
    epochs = _checks.whole("epochs", epochs, low=1)
    seed = _checks.seed(seed)
    batches = epochs * sum(r // size for r in chunks.rows)
    check_kept("numbers an sgd run keeps", batches + 1, init, SGD_FEWER)
    f = as_loss(loss)
    sent = _send(chunks.client, f)

    def steps():
        for epoch in range(epochs):
            for c, rows in batch_plan(chunks.rows, size, seed, epoch, bool(shuffle)):
                yield lambda p, c=c, rows=rows: _gather(
                    chunks.client,
                    chunks.client.submit(
                        _batch_value_grad, sent.token, sent.future, p, chunks.chunks[c], rows, pure=False
                    ),
                )

    run, words = sgd_record(
        steps(), init, lr=lr, method=method, size=size, full=lambda p: value_and_grad_dask(f, p, chunks)
    )
    if words:
        run = dataclasses.replace(
            run,
            message=f"ran {epochs} epoch(s) of batches of {size:,} rows within {len(chunks.chunks)} "
            f"chunks on the cluster{'' if shuffle else ', in the data order'}: {words}",
        )
    return run
