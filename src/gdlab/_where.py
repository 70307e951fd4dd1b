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

    Without ``data`` (or with arrays in memory) this is the compiled descent of
    :func:`gdlab._descend.descend`: its arguments and its result are described there.
    With data it takes them as :func:`gdlab.sgd` does, and the loss ``f(params, rows)`` is the
    mean loss over the rows it is given:

    - a table in memory (a DataFrame, a dict of columns, a CSV or a small Parquet file): one
      compiled run over all the rows, ``columns=`` and ``dropna=`` choosing and cleaning them;
    - a directory of Parquet files, a large Parquet file, or ``stream=True``: every step is one
      streamed pass over the rows;
    - Dask data or ``client=``: every step is one pass of tasks on the cluster.

    The same rows give the same path wherever they are (to rounding).

    Example:
        >>> import gdlab, jax.numpy as jnp
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
    rows in memory sent to ``client``'s cluster): a pass of one task per chunk per step."""
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
