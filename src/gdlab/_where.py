"""Where the rows live, decided once for every algorithm: in memory, streamed from Parquet, or on
a Dask cluster.

``gdlab.fit``, ``gdlab.sgd`` and ``gdlab.descend`` ask :func:`where` and nothing else, so the
same data and options go to the same place whichever is called, with the same refusals; this
module is the only one that looks at the Parquet and Dask modules to decide.
"""

from __future__ import annotations

import enum
import sys
from typing import Any

from gdlab._checks import InputError


class Where(enum.Enum):
    """Where the rows of the data live while an algorithm reads them."""

    MEMORY = "memory"  # a table in this process (arrays, a DataFrame, a CSV or a small Parquet file)
    PARQUET = "parquet"  # streamed from Parquet, a block of rows at a time
    CLUSTER = "cluster"  # on Dask workers: each pass is a task per chunk


def on_cluster(data: Any) -> bool:
    """Whether ``data`` is a Dask collection (or gdlab's view of one): without Dask imported, none is."""
    if "dask" not in sys.modules:
        return False
    from gdlab import _dask

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
    from gdlab import _stream

    return Where.PARQUET if _stream.should_stream(data, stream) else Where.MEMORY


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
      streamed pass over the rows (:func:`gdlab.descend_parquet`);
    - Dask data or ``client=``: every step is one pass of tasks on the cluster
      (:func:`gdlab.descend_dask`).

    The same rows give the same path wherever they are (to rounding).

    Example:
        >>> import gdlab, jax.numpy as jnp
        >>> mse = lambda b, d: jnp.mean((d["y"] - b[0] - b[1] * d["x"]) ** 2)
        >>> path = gdlab.descend(mse, jnp.array([9.0, 2.0]), lr=1e-4, steps=5, data="cafe")
        >>> path.steps
        5
    """
    from gdlab import _descend

    if data is None:
        return _descend.descend(f, init, lr=lr, steps=steps, method=method, tol=tol, dtype=dtype)
    place = where(data, client=client, stream=stream)
    if place is Where.MEMORY:
        rows = _rows_in_memory(data, columns, dropna, dtype)
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
    if place is Where.PARQUET:
        from gdlab._stream import descend_parquet

        return descend_parquet(f, init, data, lr=lr, steps=steps, method=method, tol=tol, columns=columns)
    from gdlab._dask import descend_dask

    return descend_dask(
        f, init, data, lr=lr, steps=steps, method=method, tol=tol, client=client, columns=columns
    )


def _rows_in_memory(data: Any, columns: Any, dropna: bool, dtype: Any) -> Any:
    """A table's columns as a dict of arrays (the loss reads ``rows["x"]``); other data as given."""
    from gdlab._data import as_table, is_tabular, names

    wanted = None if columns is None else names(columns, "columns")
    if not (is_tabular(data) or wanted is not None or dropna):
        return data  # arrays (any pytree) the loss reads as they are
    table = as_table(data, columns=wanted, dtype=dtype, dropna=bool(dropna))
    return {name: table[name] for name in table.names}


def _float64_only(dtype: Any) -> None:
    from gdlab._precision import resolve_dtype

    dt = resolve_dtype(dtype)
    if str(dt) != "float64":
        raise InputError(
            f"streamed and cluster data are computed in float64; leave dtype unset (got {dt}), "
            "or read the data into memory"
        )


__all__ = ["Where", "descend", "on_cluster", "where"]
