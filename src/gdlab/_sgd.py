"""Stochastic gradient descent on data: minibatches reshuffled each epoch from a seed."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gdlab import _checks
from gdlab._cache import per_key
from gdlab._cancel import Pace, checkpoint
from gdlab._checks import InputError
from gdlab._data import NamesLike, as_table, batch_source, is_tabular, names
from gdlab._descend import FIRST_CHUNK, chunk_rows, cost_key, kept_rows, start_state
from gdlab._engine import Outcome, describe, facts_from_rows, make_step, optimiser, outcome
from gdlab._host import descend_source, sgd_source
from gdlab._loss import as_loss, scalar_loss
from gdlab._methods import Method, resolve_method
from gdlab._precision import as_float_tree, resolve_dtype
from gdlab._trajectory import Status, Trajectory, flat_rows
from gdlab._types import BatchLoss, DTypeLike, MethodLike, Params
from gdlab.data import Where, open_source, where

# Record the loss and gradient on all the data at every step while that costs at most this many
# row evaluations in all (steps x rows); beyond it, each step records its own minibatch's, and
# only the first and last rows the whole data's (as streamed SGD does).
WHOLE_ROWS = 1 << 26


# Losses whose compiled SGD chunks are kept (the rest are freed: see gdlab._cache).
COMPILED_LOSSES = 16


@per_key(leading=2, size=COMPILED_LOSSES, static_argnames=("rows", "whole"), per_loss=True)
def _sgd_chunk(
    f, method: Method, carry, data, lr, orders, base, k0, limit, batches, steps, rows: int, whole: bool
):
    """Rows ``k0`` .. ``k0 + limit - 1`` (at most ``rows``, the buffers' size) of an SGD run, from
    ``carry`` = (params, state, outcome, first loss); it stops early where the run stops.

    Step ``k`` takes batch ``k % batches`` of epoch ``k // batches``, whose shuffled rows are
    ``orders[epoch - base]`` (a block of epochs' orders made by :func:`_orders`); the loss and
    gradient recorded are on all the data at each step (``whole``) or on its minibatch (the first
    and last rows on all the data). The last row (``k == steps``) is evaluated, never stepped.
    Returns the buffers, how many rows were written, and the carry to go on from.
    """
    f = _hinted(f)
    full = jax.value_and_grad(scalar_loss(lambda p: f(p, data)))
    batch_loss = scalar_loss(f)
    tx = optimiser(method, lr)
    blank = lambda x: jnp.zeros((rows, *jnp.shape(x)), jnp.result_type(x))  # noqa: E731
    put = lambda buf, i, x: jax.tree.map(lambda b, v: b.at[i].set(v), buf, x)  # noqa: E731

    def body(c):
        i, (p, state, code, first), (P, L, G) = c
        k = k0 + i
        epoch = jnp.clip(k // batches - base, 0, orders.shape[0] - 1)  # the last row's: any batch
        batch = jax.tree.map(lambda a: a[orders[epoch, k % batches]], data)
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
        rows_ = (put(P, i, p), L.at[i].set(value), put(G, i, g))
        return i + 1, (keep(new_p, p), keep(new_state, state), code, first), rows_

    def more(c):
        return (c[1][2] == Outcome.RUNNING) & (c[0] < limit)

    p0 = carry[0]
    buffers = (jax.tree.map(blank, p0), blank(lr), jax.tree.map(blank, p0))
    written, carry, buffers = jax.lax.while_loop(more, body, (0, carry, buffers))
    return buffers, written, carry


@per_key(leading=5, size=COMPILED_LOSSES)
def _orders(epochs: int, n: int, batches: int, size: int, shuffle: bool, key, base):
    """The batches' rows of ``epochs`` epochs from epoch ``base``: (epochs, batches, size), each
    epoch's rows a permutation seeded by ``key`` and the epoch (in order, without ``shuffle``)."""

    def order(epoch):
        rows = jax.random.permutation(jax.random.fold_in(key, epoch), n) if shuffle else jnp.arange(n)
        return rows[: batches * size].reshape(batches, size)

    return jax.vmap(order)(base + jnp.arange(epochs))


# The most row numbers a block of shuffled orders holds: how many epochs' shuffles one call makes
# at most. A shuffle of 200,000 rows takes about 0.3 s on a CPU, so this bounds a block's time too.
ORDER_NUMBERS = 1 << 18


@dataclass(frozen=True)
class _Plan:
    """An SGD run's shape: rows of data, batches an epoch, rows a batch, epochs, shuffled or not."""

    n: int
    batches: int
    size: int
    epochs: int
    shuffle: bool

    @property
    def steps(self) -> int:
        return self.epochs * self.batches

    def block_epochs(self, rows: int) -> int:
        """Epochs a block of orders holds: those a chunk of ``rows`` steps can span, within
        :data:`ORDER_NUMBERS` (at least one). Fixed for a run, so its orders compile once."""
        spanned = -(-rows // self.batches) + 1
        return max(1, min(self.epochs, spanned, ORDER_NUMBERS // self.n))


@dataclass(frozen=True)
class _Block:
    """The orders of epochs ``base`` .. ``base + count - 1``, as :func:`_orders` made them."""

    base: int
    count: int
    orders: Any

    def steps_end(self, plan: _Plan) -> int:
        """The first step past what this block serves (the last row, step ``plan.steps``, takes any
        batch: the block of the last epoch serves it)."""
        end = (self.base + self.count) * plan.batches
        return end + 1 if end == plan.steps else end


def _block_for(block: _Block | None, k0: int, count: int, plan: _Plan, key) -> _Block:
    """The orders step ``k0`` needs: ``block`` when it holds them, else ``count`` epochs' worth from
    that step's epoch (or fewer from before it at the end, so that none is past the last epoch)."""
    epoch = min(k0 // plan.batches, plan.epochs - 1)
    if block is not None and block.base <= epoch < block.base + block.count:
        return block
    base = min(epoch, plan.epochs - count)
    orders = _orders(count, plan.n, plan.batches, plan.size, plan.shuffle, key, np.int32(base))
    checkpoint()  # an epoch's shuffle of many rows takes a while
    return _Block(base, count, jax.block_until_ready(orders))


def _sgd_run(f, method: Method, init, data, lr, key, plan: _Plan, whole: bool):
    """Every row of an SGD run, in chunks sized by time with a checkpoint between them (Ctrl-C and a
    cancelled scope are answered within about ``CHUNK_SECONDS``): (params, loss, grad), the outcome."""
    steps = plan.steps
    rows = chunk_rows(init, steps)
    epochs = plan.block_epochs(rows)
    entry = _sgd_chunk.entry(f, method)
    cost = (cost_key(init, data, whole), plan.size)
    pace = Pace(most=rows, first=FIRST_CHUNK, per_step=entry.seconds.get(cost))
    carry = (init, start_state(method, init, lr), np.int32(Outcome.RUNNING), np.zeros((), lr.dtype))
    traced, kept, block, taken = entry.traces[0], [], None, 0
    code = Outcome.RUNNING
    while code is Outcome.RUNNING:
        block = _block_for(block, taken, epochs, plan, key)
        limit = min(pace.steps(), block.steps_end(plan) - taken)
        checkpoint()
        began = time.perf_counter()
        numbers = map(np.int32, (block.base, taken, limit, plan.batches, steps))
        buffers, written, carry = entry.jitted(carry, data, lr, block.orders, *numbers, rows, whole)
        n = int(written)  # waits for the chunk
        pace.took(n, time.perf_counter() - began)
        kept.append(kept_rows(buffers, n, rows))
        taken += n
        code = Outcome(int(carry[2]))
    if pace.per_step and (len(kept) > 1 or entry.traces[0] == traced):
        entry.seconds[cost] = pace.per_step  # not a lone chunk's time that a compile inflated
    if len(kept) == 1:  # views of the chunk's buffers, or copies of them: the Trajectory copies
        return (*kept[0], code, False)
    P, L, G = (jax.tree.map(lambda *parts: np.concatenate(parts), *part) for part in zip(*kept, strict=True))
    return P, L, G, code, True  # made here alone: the Trajectory keeps them as they are


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
            instead of into memory (:func:`gdlab._host.sgd_source`). Default:
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
            runs here (:func:`gdlab._host.sgd_source`). A Dask collection as
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
    if remote or streamed:  # the same host loop over the source's batches (or passes)
        source = open_source(data, columns=wanted, dropna=bool(dropna), client=client, stream=stream)
        if batch_size is None:  # every row each step: exact descent, one pass per step
            steps = _checks.whole("epochs", epochs, low=1)
            return descend_source(loss, init, source, lr=rate, steps=steps, method=method)
        return sgd_source(
            loss,
            init,
            source,
            lr=rate,
            batch_size=batch_size,
            epochs=epochs,
            seed=seed,
            method=method,
            shuffle=bool(shuffle),
            buffer=shuffle_buffer,
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
    plan = _Plan(n, n // size, size, epochs, bool(shuffle))
    P, L, G, code, owned = _sgd_run(loss, spec, start, arrays, np.asarray(rate, dt), key, plan, whole)
    rows = L.shape[0]
    loss_values, params, grads = L, P, G
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
        _owned=owned,
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
