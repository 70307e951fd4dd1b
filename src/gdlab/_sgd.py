"""Stochastic gradient descent on data: minibatches reshuffled each epoch from a seed."""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gdlab import _checks, _stream
from gdlab._checks import InputError
from gdlab._data import NamesLike, as_table, batch_source, is_tabular, names
from gdlab._engine import Outcome, describe, facts_from_rows, make_step, optimiser, outcome
from gdlab._loss import as_loss, scalar_loss
from gdlab._methods import Method, resolve_method
from gdlab._precision import as_float_tree, resolve_dtype
from gdlab._trajectory import Status, Trajectory, flat_rows
from gdlab._types import BatchLoss, DTypeLike, MethodLike, Params
from gdlab._where import Where, where

# Record the loss and gradient on all the data at every step while that costs at most this many
# row evaluations in all (steps x rows); beyond it, each step records its own minibatch's, and
# only the first and last rows the whole data's (as streamed SGD does).
WHOLE_ROWS = 1 << 26


@functools.partial(jax.jit, static_argnames=("f", "method", "epochs", "batches", "size", "shuffle", "whole"))
def _sgd_run(
    f, method: Method, init, data, lr, key, epochs: int, batches: int, size: int, shuffle: bool, whole: bool
):
    """Every step of ``epochs`` x ``batches`` minibatch steps, with the loss and gradient on all the
    data at each (``whole``) or on its minibatch (the first and last rows on all the data)."""
    n = jax.tree.leaves(data)[0].shape[0]
    f = _hinted(f)
    full = jax.value_and_grad(scalar_loss(lambda p: f(p, data)))
    batch_loss = scalar_loss(f)
    tx = optimiser(method, lr)
    steps = epochs * batches

    def order(epoch):
        rows = jax.random.permutation(jax.random.fold_in(key, epoch), n) if shuffle else jnp.arange(n)
        return rows[: batches * size].reshape(batches, size)

    def step(carry, xs):
        p, state, code, first = carry
        k, rows = xs
        batch = jax.tree.map(lambda a: a[rows], data)
        if whole:
            value, g = full(p)
        else:
            on_batch = jax.value_and_grad(lambda q: batch_loss(q, batch))
            value, g = jax.lax.cond((k == 0) | (k == steps), full, on_batch, p)
        first = jnp.where(k == 0, value, first)
        _, _, new_p, new_state = make_step(lambda q: batch_loss(q, batch), tx)(p, state)
        now = outcome(None, method, value, g, p, new_p, first, jnp.zeros_like(first), False)
        now = jnp.where((now == Outcome.RUNNING) & (k == steps), jnp.int32(Outcome.MAX_STEPS), now)
        code = jnp.where(code == Outcome.RUNNING, now, code)
        go = code == Outcome.RUNNING
        keep = lambda a, b: jax.tree.map(lambda x, y: jnp.where(go, x, y), a, b)  # noqa: E731
        return (keep(new_p, p), keep(new_state, state), code, first), (p, value, g, code)

    ks = jnp.arange(steps + 1, dtype=jnp.int32)
    orders = jax.vmap(order)(jnp.arange(epochs)).reshape(steps, size)
    orders = jnp.concatenate([orders, orders[:1]])  # the last row is evaluated, never stepped
    start = (init, tx.init(init), jnp.int32(Outcome.RUNNING), jnp.zeros((), lr.dtype))
    _, (P, L, G, codes) = jax.lax.scan(step, start, (ks, orders))
    return P, L, G, codes


def sgd(
    loss: BatchLoss,
    init: Params,
    data: Any,
    *,
    lr: float,
    batch_size: int | None = None,
    epochs: int = 1,
    seed: int = 0,
    shuffle: bool = True,
    method: MethodLike = "gd",
    dtype: DTypeLike = None,
    stream: bool | None = None,
    shuffle_buffer: int | None = None,
    client: Any = None,
    columns: NamesLike | None = None,
    dropna: bool = False,
) -> Trajectory:
    """Minimise ``loss(params, batch)`` over minibatches of ``data``: stochastic gradient descent.

    Each epoch reshuffles the rows (from ``seed``: the same seed gives the same
    path on any machine) and takes ``n // batch_size`` steps on batches of
    exactly ``batch_size`` rows; when ``batch_size`` does not divide ``n``, the
    rows left over in an epoch's shuffle wait for the next epoch. With
    ``batch_size=None`` (the full data) it is plain gradient descent.

    Args:
        loss: ``loss(params, batch)``, where ``batch`` is shaped like ``data``
            with fewer rows; a sum or mean over rows.
        init: the starting parameters.
        data: arrays with one row per observation: one array, a tuple or dict of
            them, or a pandas DataFrame (a dict of its columns).
        lr: the learning rate.
        batch_size: rows per step (default: all of them).
        epochs: passes over the data.
        seed: the shuffling seed.
        shuffle: reshuffle each epoch (otherwise batches follow the data's order).
        method: any method :func:`gdlab.descend` takes, by name or optax factory.
        dtype: the floating type to compute in (default float64).
        stream: read a Parquet file or directory in blocks, an epoch at a time,
            instead of into memory (:func:`gdlab._stream.sgd_parquet`). Default:
            stream a directory, or a Parquet file too large to hold as a table.
            Not with data on a cluster.
        shuffle_buffer: when streaming, the rows mixed at a time (default
            262,144): each epoch permutes the rows within consecutive windows of
            this many, from ``seed`` and the epoch. Only for streamed minibatches
            that are shuffled: refused in memory (every epoch shuffles all the
            rows), on a cluster, and with ``shuffle=False``.
        client: a ``dask.distributed.Client``: the data (a Dask DataFrame or
            array, or in-memory data to scatter) stay on its workers in chunks;
            each step is one task on the chunk holding its batch, the optimiser
            runs here (:func:`gdlab._dask.sgd_dask`). A Dask collection as
            ``data`` uses the current client when none is given. Batches never
            cross chunks: each epoch shuffles the chunks' order and each chunk's
            rows (``shuffle=False``: chunks and rows in the data's order).
        columns: of a table (a DataFrame, a dict of columns, a CSV or Parquet
            file, Parquet streamed or data on a cluster), the columns the loss
            reads (a list, or names separated by commas): only these are read
            and checked, and a batch holds only these. Default: all of them.
        dropna: drop the rows of a table with a missing value in its (chosen)
            columns, in memory, as they are streamed, or on the workers; otherwise a
            missing value is an error naming its column and row.

    Streamed, each step's row records its own minibatch's loss and gradient (the
    loss on all the data would take a pass per step) and the last row those on
    all the data; ``batch_size=None`` streams exact gradient descent, a pass per
    step, ``epochs`` steps.

    Returns:
        A :class:`~gdlab.Trajectory` with a row per step; its ``loss`` and
        ``grad`` are those of the loss on the whole data, so it draws on the same
        curve as a full-batch descent. ``loss_fn`` is the loss on the whole data.
        When that would cost more than :data:`WHOLE_ROWS` row evaluations (steps
        x rows; a million rows in batches of a thousand), the rows between the
        first and the last hold their own minibatch's loss and gradient, and the
        message says so.

    Example:
        >>> import gdlab, jax.numpy as jnp
        >>> cafe = gdlab.datasets.cafe()
        >>> mse = lambda b, d: jnp.mean((d["y"] - b[0] - b[1] * d["x"]) ** 2)
        >>> path = gdlab.sgd(mse, jnp.array([9.0, 2.0]), {"x": cafe.x, "y": cafe.y},
        ...                  lr=1e-4, batch_size=2, epochs=3, seed=0)
        >>> path.steps, path.method
        (15, 'sgd (gd, batch 2)')
    """
    loss = as_loss(loss)
    spec = resolve_method(method)
    if not spec.needs_lr:
        raise InputError("pass the method by name or as an optax factory, with lr=")
    dt = resolve_dtype(dtype)
    rate = _checks.number("lr", lr)
    place = where(data, client=client, stream=stream)
    remote, streamed = place is Where.CLUSTER, place is Where.PARQUET
    if (remote or streamed) and dt != np.float64:
        raise InputError(
            f"streamed and cluster data are computed in float64; leave dtype unset (got {dt}), "
            "or read the data into memory"
        )
    _check_buffer(shuffle_buffer, remote, streamed, shuffle, batch_size)
    wanted = None if columns is None else names(columns, "columns")
    if remote:
        if wanted is not None or dropna:
            from gdlab import _dask

            data = _dask.as_dask_data(data, client=client, columns=wanted, dropna=bool(dropna))
        return _sgd_cluster(loss, init, data, rate, batch_size, epochs, seed, shuffle, method, client)
    if streamed:
        source = _stream.open_parquet(data, wanted, dropna=bool(dropna))
        return _sgd_streamed(
            loss, init, source, rate, batch_size, epochs, seed, shuffle, method, shuffle_buffer
        )
    if wanted is not None or dropna:
        if not (is_tabular(data) or isinstance(data, dict)):
            raise InputError(
                "columns= and dropna= choose and clean the columns of a table (a DataFrame, a dict of "
                f"columns, a CSV or Parquet file); data here is {type(data).__name__}"
            )
        data = as_table(data, columns=wanted, dtype=dt, dropna=bool(dropna))
    arrays, n = batch_source(data, dt)
    size = n if batch_size is None else _checks.whole("batch_size", batch_size)
    if not 1 <= size <= n:
        raise InputError(
            lambda s: (
                f"{s.name('batch_size')} must be between 1 and the {n} rows of data; got {batch_size!r}"
            ),
            parameter="batch_size",
        )
    epochs = _checks.whole("epochs", epochs)
    if epochs < 1:
        given = epochs
        raise InputError(lambda s: f"{s.name('epochs')} must be at least 1; got {given}", parameter="epochs")
    seed = _checks.whole("seed", seed)
    start = as_float_tree(init, dt, "init")
    key = jax.random.key(int(seed))
    whole = (epochs * (n // size) + 1) * n <= WHOLE_ROWS
    P, L, G, codes = _sgd_run(
        loss, spec, start, arrays, np.asarray(rate, dt), key, epochs, n // size, size, bool(shuffle), whole
    )
    codes = np.asarray(codes)
    stopped = np.flatnonzero(codes != Outcome.RUNNING)
    last = int(stopped[0]) if stopped.size else codes.size - 1
    code = Outcome(int(codes[last]))
    rows = last + 1
    loss_values = np.asarray(L[:rows])
    params = jax.tree.map(lambda a: np.asarray(a[:rows]), P)
    grads = jax.tree.map(lambda a: np.asarray(a[:rows]), G)
    name = f"sgd ({spec.name}, batch {size})"
    if code.status is Status.DIVERGED:
        facts = facts_from_rows(
            code, loss_values, flat_rows(grads, rows), flat_rows(params, rows), lr=rate, tol=None, method=name
        )
        message = describe(facts)
    else:
        message = (
            f"ran {epochs} epoch(s) of {n // size} batches of {size} rows: loss on all data "
            f"{loss_values[0]:.6g} -> {loss_values[-1]:.6g}"
        )
        if not whole and rows > 2:
            message += (
                "; the steps between record their own minibatch's loss and gradient (the loss on "
                f"all {n:,} rows at every step would take a pass over them per step)"
            )
    return Trajectory(
        params=params,
        loss=loss_values,
        grad=grads,
        method=name,
        lr=rate,
        status=code.status,
        message=message,
        loss_fn=functools.partial(_on_all, loss, arrays),
    )


def _check_buffer(buffer: int | None, remote: bool, streamed: bool, shuffle: bool, batch_size: Any) -> None:
    """Refuse a ``shuffle_buffer`` where nothing would use it."""
    if buffer is None:
        return
    if remote:
        raise InputError(
            "shuffle_buffer is the window of rows mixed when streaming Parquet; on a cluster each epoch "
            "shuffles the chunks' order and each chunk's rows whole: leave it unset (or repartition "
            "the data to change the chunks)"
        )
    if not streamed:
        raise InputError(
            "shuffle_buffer is the window of rows mixed when streaming Parquet; data in memory are "
            "shuffled whole each epoch: leave it unset"
        )
    if not shuffle:
        raise InputError(
            "shuffle_buffer sets how rows are mixed, and shuffle=False takes them in the data's order: "
            "leave one of them unset"
        )
    if batch_size is None:
        raise InputError(
            "shuffle_buffer mixes the rows of minibatches; batch_size=None takes every row each step: "
            "give batch_size, or leave shuffle_buffer unset"
        )
    _checks.whole("shuffle_buffer", buffer, low=1)


def _sgd_cluster(loss, init, data, rate, batch_size, epochs, seed, shuffle, method, client) -> Trajectory:
    from gdlab import _dask

    if batch_size is None:  # every row each step: exact descent, one task per chunk per step
        steps = _checks.whole("epochs", epochs, low=1)
        return _dask.descend_dask(loss, init, data, lr=rate, steps=steps, method=method, client=client)
    return _dask.sgd_dask(
        loss,
        init,
        data,
        lr=rate,
        batch_size=batch_size,
        epochs=epochs,
        seed=seed,
        method=method,
        client=client,
        shuffle=bool(shuffle),
    )


def _sgd_streamed(loss, init, data, rate, batch_size, epochs, seed, shuffle, method, buffer) -> Trajectory:
    if batch_size is None:  # every row each step: exact descent, one pass per step
        return _stream.descend_parquet(
            loss, init, data, lr=rate, steps=_checks.whole("epochs", epochs, low=1), method=method
        )
    rows = _stream.SHUFFLE_ROWS if buffer is None else buffer
    return _stream.sgd_parquet(
        loss,
        init,
        data,
        lr=rate,
        batch_size=batch_size,
        epochs=epochs,
        seed=seed,
        method=method,
        buffer_rows=rows,
        shuffle=bool(shuffle),
    )


def _hinted(f: BatchLoss) -> BatchLoss:
    """``f``, saying that a DataFrame's batch is a dict of its columns (``batch["y"]``, not ``batch.y``)."""

    @functools.wraps(f)
    def loss(params, batch):
        try:
            return f(params, batch)
        except AttributeError as err:
            raise InputError(
                f"the loss raised AttributeError: {err}. A batch is shaped like data: a DataFrame's "
                'batch is a dict of its columns, so write batch["y"] rather than batch.y'
            ) from err

    return loss


def _on_all(loss, data, params):
    """The loss on the whole data, as pictures draw it."""
    return loss(params, data)
