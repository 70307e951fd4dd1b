"""``gdlab.descend`` wherever the rows are: one verb for rows in memory, streamed or on a cluster.

The data are opened once (:func:`gdlab.data.open_source`): rows in memory run the compiled
descent of :mod:`gdlab._descend`; rows elsewhere the host loop of :mod:`gdlab._host`, a pass
per step. ``descend_parquet`` and ``descend_dask`` are that same call with the rows' place named.
"""

from __future__ import annotations

from typing import Any

from gdlab import _descend  # the common case, loaded with the verb (see gdlab._load)
from gdlab._checks import InputError
from gdlab._types import BatchLoss, MethodLike, Params

__all__ = ["descend", "descend_dask", "descend_parquet"]


def descend(
    f: Any,
    init: Any,
    *,
    lr: float | None = None,
    steps: int,
    method: Any = "gd",
    tol: float | None = None,
    dtype: Any = None,
    data: Any = None,
    columns: Any = None,
    dropna: bool = False,
    client: Any = None,
    stream: bool | None = None,
) -> Any:
    """Minimise ``f`` from ``init`` by gradient descent (or any optax optimiser), wherever the data are.

    Without ``data`` (or with rows in memory) the whole run is one compiled call; a second call
    with the same loss, method, dtype and number of steps reuses the compiled code, whatever the
    start and rate. With data it takes them as :func:`gdlab.sgd` does, and the loss
    ``f(params, rows)`` is the mean loss over the rows it is given:

    - a table in memory (a DataFrame, a dict of columns, a CSV or a small Parquet file): one
      compiled run over all the rows, ``columns=`` and ``dropna=`` choosing and cleaning them;
    - a directory of Parquet files, a large Parquet file, or ``stream=True``: every step is one
      streamed pass over the rows;
    - Dask data or ``client=``: every step is one pass of tasks on the cluster.

    The same rows give the same path wherever they are (to rounding).

    Args:
        f: the loss, written with ``jax.numpy``: a function of the parameters (a number, array,
            tuple or dict) returning one number, or of ``(params, rows)`` with ``data``.
        init: the starting point; the trajectory keeps its shape and names.
        lr: the learning rate (> 0). Not given when ``method`` is a ready optax transformation,
            which holds its own rate, or a method that sets its own step (``"newton"``,
            ``"lbfgs"``); required for streamed or cluster rows.
        steps: the most steps to take (>= 0); only the steps taken are kept.
        method: a name from :data:`gdlab.METHODS` (``"gd"``, ``"sign"``, ``"momentum"``,
            ``"nesterov"``, ``"adagrad"``, ``"rmsprop"``, ``"adam"``, ``"gd-armijo"``,
            ``"newton"``, ``"lbfgs"``), an optax ``GradientTransformation`` or an optax factory
            such as ``optax.adam`` (called with ``lr``).
        tol: stop early once the gradient norm is <= ``tol`` (the sign method also stops when
            a step would not lower the loss).
        dtype: the floating type to compute in (default float64; ``"float32"`` reproduces
            float32 results, in memory only).
        data: the rows the loss reads, as :func:`gdlab.open_source` takes them: arrays or a
            dict of them, a DataFrame, a CSV or Parquet path, a directory of Parquet files,
            ``"cafe"``, or a Dask collection. Rows in memory reach the compiled code as an
            argument, so new data of the same shapes reuse it.
        columns: the columns to read (a list or names separated by commas).
        dropna: drop rows with a missing value (rows read into memory only).
        client: a ``dask.distributed.Client``: run each step's pass on its cluster.
        stream: ``True`` streams a Parquet file whatever its size; ``None`` decides by size.

    Returns:
        A :class:`Trajectory` with a row per step taken (the start included); its ``status``,
        ``regime`` and ``message`` say how the run ended and why.

    Raises:
        InputError: a loss that does not return one finite number at the start, a rate that
            is not positive, a negative number of steps or one over ``gdlab.LIMITS``, an unknown
            method (with the nearest name), data it cannot read, or ``dropna`` or a missing
            ``lr`` with streamed or cluster rows.

    Example:
        >>> import gdlab, jax.numpy as jnp
        >>> gdlab.descend(lambda b: (b / 2 - 1) ** 2, -10.0, lr=0.5, steps=1000, tol=1e-8).message
        'converged at step 71: gradient norm 8.08e-09 <= tol 1e-08'
        >>> mse = lambda b, d: jnp.mean((d["y"] - b[0] - b[1] * d["x"]) ** 2)
        >>> path = gdlab.descend(mse, jnp.array([9.0, 2.0]), lr=1e-4, steps=5, data="cafe")
        >>> path.steps
        5
    """
    if data is None:
        return _descend.descend(f, init, lr=lr, steps=steps, method=method, tol=tol, dtype=dtype)
    from gdlab.data import Where, open_source, where  # only with data: a descent without starts faster

    place = where(data, client=client, stream=stream)
    if place is Where.MEMORY:
        rows = open_source(data, columns=columns, dropna=dropna, dtype=dtype).rows  # type: ignore[attr-defined]
        return _descend.descend(f, init, lr=lr, steps=steps, method=method, tol=tol, dtype=dtype, data=rows)
    _float64_only(dtype)
    if lr is None:  # every method that can stream takes a rate (see gdlab.METHODS: reads_loss)
        raise InputError(
            lambda s: (
                f"{s.name('lr')} is required for a descent over streamed or cluster rows: pass "
                f"{s.setting('lr', 0.01)}, say"
            ),
            parameter="lr",
        )
    if dropna:
        raise InputError(
            lambda s: (
                f"{s.setting('dropna', True)} cleans rows read into memory; streamed and cluster "
                "rows are used as they are: drop missing values where the data are made"
            ),
            parameter="dropna",
        )
    from gdlab._host import descend_source

    source = open_source(data, columns=columns, client=client, stream=stream)
    return descend_source(f, init, source, lr=lr, steps=steps, method=method, tol=tol)


def descend_parquet(
    loss: BatchLoss,
    init: Params,
    path: Any,
    *,
    lr: float,
    steps: int,
    method: MethodLike = "gd",
    tol: float | None = None,
    columns: Any = None,
) -> Any:
    """:func:`descend` over a Parquet file or directory streamed, whatever its size: exact
    (full-batch) descent on the mean over its rows of ``loss(params, row)``, a pass per step.

    The same as ``gdlab.descend(loss, init, data=path, stream=True, ...)``; memory stays a few
    blocks of rows whatever the file's size.

    Args:
        loss: ``loss(params, rows)``, the mean loss over ``rows`` (a dict of columns).
        init: the starting point.
        path: a Parquet file or a directory of them (hive partitions read as columns).
        lr: the learning rate (> 0).
        steps: the most steps to take; each is one pass over the file.
        method: a name from :data:`gdlab.METHODS` that takes a rate, or an optax transformation.
        tol: stop early once the gradient norm is <= ``tol``.
        columns: the columns to read (only those are read from disk).

    Returns:
        A :class:`Trajectory`, as :func:`descend` gives.

    Raises:
        InputError: as :func:`descend`, and for a path that is not Parquet or a column it lacks.

    Example:
        >>> import tempfile, os, pandas as pd
        >>> path = os.path.join(tempfile.mkdtemp(), "d.parquet")
        >>> pd.DataFrame({"x": [1.0, 2.0, 3.0]}).to_parquet(path)
        >>> run = descend_parquet(lambda b, d: (d["x"] - b) ** 2, 0.0, path, lr=0.25, steps=20)
        >>> round(float(run.final), 6), run.method
        (2.0, 'gd (full batch over d.parquet)')
    """
    from gdlab._host import descend_source
    from gdlab.data import open_source

    source = open_source(path, columns=columns, stream=True)
    return descend_source(loss, init, source, lr=lr, steps=steps, method=method, tol=tol)


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
    columns: Any = None,
) -> Any:
    """:func:`descend` over rows on a Dask cluster (Dask data, gdlab's chunks on the workers, or
    rows in memory sent to ``client``'s cluster): a pass of one task per chunk per step.

    The same as ``gdlab.descend(loss, init, data=data, client=client, ...)``, with the place of
    the rows named; the optimiser, the stop rule and the trajectory stay on the client.

    Args:
        loss: ``loss(params, rows)``, the mean loss over ``rows`` (a dict of columns).
        init: the starting point.
        data: a Dask DataFrame or array, or rows in memory to send to ``client``'s cluster.
        lr: the learning rate (> 0).
        steps: the most steps to take; each is one pass over the chunks.
        method: a name from :data:`gdlab.METHODS` that takes a rate, or an optax transformation.
        tol: stop early once the gradient norm is <= ``tol``.
        client: a ``dask.distributed.Client`` (default: the current one).
        columns: the columns to read.

    Returns:
        A :class:`Trajectory`, as :func:`descend` gives.

    Raises:
        InputError: as :func:`descend`, and for data that Dask cannot hold.
        ClusterError: a worker lost its rows and they cannot be recomputed (rows scattered from
            the client's memory).
    """
    from gdlab._host import descend_source
    from gdlab.data import open_source

    source = open_source(data, columns=columns, client=client, cluster=True)
    return descend_source(loss, init, source, lr=lr, steps=steps, method=method, tol=tol)


def _float64_only(dtype: Any) -> None:
    from gdlab._precision import resolve_dtype

    dt = resolve_dtype(dtype)
    if str(dt) != "float64":
        raise InputError(
            f"streamed and cluster data are computed in float64; leave dtype unset (got {dt}), "
            "or read the data into memory"
        )
