"""Loops on the host over rows held elsewhere: full-batch descent with a pass per step, and SGD
with a minibatch per step, both over any :class:`~gdlab.data.Source`.

Each step's value and gradient are computed where the rows live (a reduction of the loss's
compiled per-block value and gradient over the source's blocks, or one minibatch); the optimiser
(optax), the engine's stop rule and the record run here, and the engine words the ending as
:func:`gdlab.descend` words it. Rows in memory run the compiled drivers instead
(:mod:`gdlab._descend`, :mod:`gdlab._sgd`); :func:`fused_pass` gives this loop a NumPy pass over
columns in memory that never copies them.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

from gdlab import _checks
from gdlab._cache import per_key
from gdlab._cancel import checkpoint
from gdlab._checks import LIMITS, InputError
from gdlab._descend import start_state
from gdlab._design import block_terms
from gdlab._engine import Outcome, describe, facts_from_rows, optimiser, outcome, status
from gdlab._loss import as_loss, scalar_loss
from gdlab._methods import Method, resolve_method
from gdlab._trajectory import Status, Trajectory, flat_rows
from gdlab._types import BatchLoss, MethodLike, Params
from gdlab.data import Block, Source, check_kept_rows

__all__ = [
    "SGD_FEWER",
    "check_kept",
    "compile_counts",
    "descend_passes",
    "descend_source",
    "fused_pass",
    "per_row",
    "sgd_record",
    "sgd_source",
    "streamable",
    "value_and_grad",
]

# Losses (and methods) whose compiled passes and updates are kept; the rest are freed (gdlab._cache).
COMPILED_LOSSES = 16

SGD_FEWER = "use fewer epochs or larger batches"

# In each process that computes blocks for a cluster (a worker): token -> the compiled function,
# and how many times it was traced.
_COMPILED: dict[str, Callable[..., Any]] = {}
_TRACES: dict[str, int] = {}


# --- a loss's value and gradient, block by block -------------------------------------------------


def per_row(loss: BatchLoss) -> Callable[[Params, Any], jax.Array]:
    """``loss(params, batch)`` evaluated on each row alone: a batch of one row, mapped over rows.

    A loss written as a mean (or a sum) over a batch is, on one row, that row's term.
    """
    f = scalar_loss(loss)

    def rows(params: Params, batch: Any) -> jax.Array:
        return jax.vmap(lambda row: f(params, jax.tree.map(lambda a: a[None], row)))(batch)

    return rows


def _summed(loss: BatchLoss, params: Params, columns: Any, mask: Any) -> jax.Array:
    terms = per_row(loss)(params, columns)
    return jnp.sum(terms if mask is None else mask * terms)


@per_key(leading=1, size=COMPILED_LOSSES, per_loss=True)
def _block_terms(f, params, columns, mask):
    """The (masked) sum over a block of the per-row loss, and its gradient."""
    return jax.value_and_grad(lambda p: _summed(f, p, columns, mask))(params)


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


def loss_block(block: Block, token: str | None, loss: BatchLoss, params: Params) -> tuple[float, Any, int]:
    """A block's summed loss, its gradient and its real rows. ``token`` is ``None`` where the
    loss is compiled per key here (bounded), else the key it was sent under to a worker, where it
    is compiled once per process."""
    if token is None:
        value, grad = _block_terms(loss, params, block.columns, block.mask)
    else:
        make = lambda: lambda p, chunk: _summed(loss, p, chunk, None)  # noqa: E731
        value, grad = _value_and_grad_once(token, make)(params, block.columns)
    return float(value), jax.tree.map(np.asarray, grad), block.rows


def add_terms(a: tuple[float, Any, int], b: tuple[float, Any, int]) -> tuple[float, Any, int]:
    """Two blocks' :func:`loss_block` as those of both."""
    return a[0] + b[0], jax.tree.map(np.add, a[1], b[1]), a[2] + b[2]


def compile_counts(client: Any) -> dict[str, dict[str, int]]:
    """Per worker: how many times each loss sent to it was traced and compiled (keyed by token)."""
    return client.run(_trace_counts)


def _trace_counts() -> dict[str, int]:
    return dict(_TRACES)


def value_and_grad(loss: BatchLoss, params: Params, source: Source) -> tuple[float, Params]:
    """One pass: the mean over rows of ``loss(params, row)``, and its gradient.

    ``loss(params, batch)`` takes a dict of the source's columns, as :func:`gdlab.sgd` does; it
    is compiled once for each block shape (once per worker on a cluster, where it is sent once).

    Example:
        >>> import tempfile, os, pandas as pd, jax.numpy as jnp
        >>> from gdlab.data import open_source
        >>> path = os.path.join(tempfile.mkdtemp(), "d.parquet")
        >>> pd.DataFrame({"x": [1.0, 2.0, 3.0]}).to_parquet(path)
        >>> source = open_source(path, stream=True)
        >>> value, g = value_and_grad(lambda b, d: jnp.mean((d["x"] - b) ** 2), 0.0, source)
        >>> float(value), float(g)
        (4.666..., -4.0)
    """
    f = as_loss(loss)
    p = jax.tree.map(np.asarray, params)
    found = source.reduce(loss_block, add_terms, *source.send(f), p)
    value, grad, rows = found if found is not None else (0.0, None, 0)  # None: no block held a row
    check_kept_rows(source, rows)
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


# --- the host loop: one optimiser update per pass (or per minibatch) -------------------------------


@per_key(leading=1, size=COMPILED_LOSSES, static_argnames=("early",))
def _update(method: Method, lr, p, state, value, g, first, tol, early: bool):
    """One optimiser update from a value and gradient computed elsewhere, and the engine's stop rule."""
    tx = optimiser(method, lr)
    updates, new_state = tx.update(g, state, p, value=value, grad=g)
    new_p = jax.tree.map(lambda a, u: a + u, p, updates)
    return new_p, new_state, outcome(None, method, value, g, p, new_p, first, tol, early)


def check_kept(what: str, rows: int, init: Params, fix: str) -> None:
    """Refuse a run whose ``rows`` rows of parameters, gradient and loss would pass
    ``LIMITS.trajectory_numbers``, before any pass over the data."""
    from gdlab._pytree import components

    _checks.size(what, rows * (2 * components(init) + 1), LIMITS.trajectory_numbers, fix)


def streamable(method: MethodLike) -> Method:
    """``method`` resolved, refusing one that evaluates the loss at trial points (each a pass) or
    that takes no rate: a loop over passes needs only gradients."""
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
    pass, a Dask reduction, a NumPy pass); the optimiser, the stop rule and the record stay
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
    spec = streamable(method)
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
    return recorded(P, L, G, code, spec.name, rate, limit, loss_fn, f"full batch over {where}")


def recorded(P, L, G, code, name, rate, tol, loss_fn, words) -> Trajectory:
    """A host loop's rows as a :class:`Trajectory`, its ending worded by the engine."""
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


def descend_source(
    loss: BatchLoss,
    init: Params,
    source: Source,
    *,
    lr: float,
    steps: int,
    method: MethodLike = "gd",
    tol: float | None = None,
) -> Trajectory:
    """Exact (full-batch) descent on the mean over a source's rows of ``loss(params, row)``: every
    step is one pass (a reduction over the source's blocks), wherever the rows are.

    Example:
        >>> import tempfile, os, pandas as pd
        >>> from gdlab.data import open_source
        >>> path = os.path.join(tempfile.mkdtemp(), "d.parquet")
        >>> pd.DataFrame({"x": [1.0, 2.0, 3.0]}).to_parquet(path)
        >>> run = descend_source(lambda b, d: (d["x"] - b) ** 2, 0.0, open_source(path, stream=True),
        ...                      lr=0.25, steps=20)
        >>> round(float(run.final), 6), run.method
        (2.0, 'gd (full batch over d.parquet)')
    """
    f = as_loss(loss)
    return descend_passes(
        lambda p: value_and_grad(f, p, source),
        init,
        lr=lr,
        steps=steps,
        method=method,
        tol=tol,
        where=source.where,
        loss_fn=lambda p: value_and_grad(f, p, source)[0],
    )


# --- minibatch SGD over a source's batches -------------------------------------------------------


@per_key(leading=1, size=COMPILED_LOSSES, per_loss=True)
def _batch_value_grad(f, params, batch):
    return jax.value_and_grad(scalar_loss(f))(params, batch)


def batch_block(batch: Any, token: str | None, loss: BatchLoss, params: Params) -> tuple[float, Any]:
    """A minibatch's loss and gradient, compiled once per batch shape (once per worker process on a
    cluster, under the token the loss was sent with)."""
    if token is None:
        value, grad = _batch_value_grad(loss, params, batch)
    else:
        value, grad = _value_and_grad_once(token + ":batch", lambda: scalar_loss(loss))(params, batch)
    return float(value), jax.tree.map(np.asarray, grad)


def sgd_source(
    loss: BatchLoss,
    init: Params,
    source: Source,
    *,
    lr: float,
    batch_size: int,
    epochs: int = 1,
    seed: int = 0,
    method: MethodLike = "gd",
    shuffle: bool = True,
    buffer: int | None = None,
) -> Trajectory:
    """Minibatch SGD over a source's batches (:meth:`~gdlab.data.Source.batches`): each step's
    loss and gradient where its batch lives, the update here.

    Returns:
        A :class:`~gdlab.Trajectory` whose rows hold each step's minibatch loss and gradient (the
        noisy estimates the steps follow: the loss on all the data would take a pass per step);
        its first and last rows are the loss and gradient on all the data, from a pass each (as
        SGD in memory records them), so its loss starts where a full-batch descent's does.

    Example:
        >>> import tempfile, os, numpy as np, pandas as pd, jax.numpy as jnp
        >>> from gdlab.data import open_source
        >>> path = os.path.join(tempfile.mkdtemp(), "d.parquet")
        >>> pd.DataFrame({"x": np.arange(100.0)}).to_parquet(path)
        >>> run = sgd_source(lambda b, d: jnp.mean((d["x"] - b) ** 2), 0.0, open_source(path, stream=True),
        ...                  lr=0.1, batch_size=10, epochs=3, buffer=32)
        >>> run.steps, run.method
        (30, 'sgd (gd, batch 10)')
    """
    f = as_loss(loss)
    streamable(method)  # refused before any data is read
    _checks.number("lr", lr)
    size = _checks.whole("batch_size", batch_size, low=1)
    epochs = _checks.whole("epochs", epochs, low=1)
    seed = _checks.seed(seed)
    plan = source.batches(size, epochs=epochs, seed=seed, shuffle=bool(shuffle), buffer=buffer)
    check_kept("numbers an sgd run keeps", plan.steps + 1, init, SGD_FEWER)
    sent = source.send(f)

    def steps() -> Iterator[Callable[[Params], tuple[Any, Params]]]:
        for on_batch in plan.each():
            yield functools.partial(on_batch, batch_block, *sent)

    run, words = sgd_record(
        steps(), init, lr=lr, method=method, size=size, full=lambda p: value_and_grad(f, p, source)
    )
    return dataclasses.replace(run, message=f"ran {plan.words}: {words}") if words else run


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
    the batch lives) with the optimiser here; the first and last rows are ``full(params)``, the loss
    on all data.

    Returns the trajectory and, unless it diverged, words for its message ("loss on all data ...").
    """
    spec = streamable(method)
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
    if code is Outcome.MAX_STEPS and P:  # the start on all data too, as SGD in memory records it
        L[0], G[0] = full(P[0])
    run = recorded(P, L, G, code, f"sgd ({spec.name}, batch {size})", rate, None, None, "")
    words = "" if run.status is Status.DIVERGED else f"loss on all data {L[0]:.6g} -> {L[-1]:.6g}"
    return run, words
