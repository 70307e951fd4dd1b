"""One descent: a driver over the engine that keeps every step, in compiled chunks.

Each chunk is one compiled call (``jit`` around a ``lax.while_loop``) that
writes up to a fixed number of rows; the driver calls it until the run stops.
So memory follows the steps actually taken (a run of 10^9 steps that converges
at step 71 keeps 72 rows), and Ctrl-C is answered between chunks, each sized
by its measured time. The compiled code is kept per loss in a bounded cache
(:mod:`gdlab._cache`), so a process that sees many losses does not keep them all.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gdlab import _cancel, _checks
from gdlab._cache import per_key
from gdlab._cancel import Pace, checkpoint
from gdlab._checks import LIMITS, InputError
from gdlab._engine import (
    PROBE,
    Outcome,
    Probe,
    describe,
    facts_from_rows,
    judge,
    make_step,
    optimiser,
    outcome,
    past_probe,
)
from gdlab._loss import as_loss, scalar_loss
from gdlab._methods import Method, resolve_method
from gdlab._precision import as_float_tree, resolve_dtype
from gdlab._pytree import components
from gdlab._stability import with_curvature
from gdlab._trajectory import Trajectory
from gdlab._types import BatchLoss, DTypeLike, Loss, MethodLike, Params

# Numbers one chunk's buffers hold (parameters and gradient per row), and its most rows.
CHUNK_NUMBERS = 2_000_000
CHUNK_ROWS = 65_536
# Steps of a run's first chunk when no earlier run of its compiled code measured a step's cost:
# short, so that a costly step (a pass over 200,000 rows) is measured before a long chunk is taken.
FIRST_CHUNK = 64
# Losses whose compiled runs are kept (each loss's code, and the data it closes over, is freed
# when it is dropped: see gdlab._cache).
COMPILED_LOSSES = 32


@per_key(leading=1, size=COMPILED_LOSSES)
def start_state(method: Method, init: Params, lr: jax.Array):
    """The optimiser's state at ``init`` (compiled per method, and kept for the most recent ones)."""
    return optimiser(method, lr).init(init)


@per_key(leading=2, size=COMPILED_LOSSES, static_argnames=("rows", "early", "bound"), per_loss=True)
def _chunk(f, method: Method, carry, lr, tol, bounds, rows: int, early: bool, data=None, bound=False):
    """Up to ``limit`` (<= ``rows``) rows of one run from ``carry`` = (step, params, state, first loss,
    outcome), where ``bounds`` = (the run's step limit, this chunk's row limit).

    ``rows`` sizes the buffers and is compiled in; ``limit`` is an argument (one array with the step
    limit: each argument costs a call time), so a chunk sized by time (:class:`gdlab._cancel.Pace`)
    compiles nothing new. With ``bound``, the loss is
    ``f(params, data)`` and ``data`` reaches the compiled code as an argument: no copy of it is
    embedded in the program, and new data of the same shapes reuse it.
    A run that reaches the step limit goes on for :data:`~gdlab._engine.PROBE` - 1 steps past its
    last row, written as rows after it (the buffers hold that many more): what they do tells
    bouncing from settling (:func:`gdlab._engine.past_probe`). They are the loop's own steps, so
    the step is compiled once, not a second time for a probe.
    Returns the rows in one table (``rows + PAST`` rows of the parameters, the loss and the
    gradient, flattened as :func:`columns` says), how many rows the run wrote, and the carry to go
    on from (its outcome). Each array read from the device costs about 6 us: the rows kept as
    three buffers of each leaf, and the probe's numbers apart, were nine reads and 50 us a run.
    The table is written in place, row by row; packing separate buffers into one after the loop
    cost the first call 0.1 s more of lowering.
    """
    loss = scalar_loss(functools.partial(_with_data, f, data) if bound else f)
    step = make_step(loss, optimiser(method, lr))
    steps, limit = bounds[0], bounds[1]
    dt = jnp.result_type(lr)
    slots = columns(carry[1])
    half = sum(size for _, size, _ in slots)  # the loss's column
    width = 2 * half + 1

    def put(table, i, p, value, g):
        # in place and always in bounds: i < limit <= rows, and a probe ends before rows + PAST
        for (_, size, at), part in zip(slots, jax.tree.leaves(p), strict=True):
            table = jax.lax.dynamic_update_slice(table, part.reshape(1, size).astype(dt), (i, at))
        table = jax.lax.dynamic_update_slice(table, value.reshape(1, 1).astype(dt), (i, half))
        for (_, size, at), part in zip(slots, jax.tree.leaves(g), strict=True):
            table = jax.lax.dynamic_update_slice(table, part.reshape(1, size).astype(dt), (i, half + 1 + at))
        return table

    def body(c):
        i, (k, p, state, first, code), table, written = c
        value, g, new_p, new_state = step(p, state)
        running = code == Outcome.RUNNING  # else the run is at the step limit: a step past its end
        new_first = jnp.where(k == 0, value, first)
        new_code = outcome(loss, method, value, g, p, new_p, new_first, tol, early)
        new_code = jnp.where(
            (new_code == Outcome.RUNNING) & (k == steps), jnp.int32(Outcome.MAX_STEPS), new_code
        )
        carry = (
            jnp.where(running, k + 1, k),
            new_p,
            new_state,
            jnp.where(running, new_first, first),
            jnp.where(running, new_code, code),
        )
        return i + 1, carry, put(table, i, p, value, g), jnp.where(running, i + 1, written)

    def more(c):
        i, code, written = c[0], c[1][4], c[3]
        return ((code == Outcome.RUNNING) & (i < limit)) | (
            (code == Outcome.MAX_STEPS) & (i < written + PAST)
        )

    table = jnp.zeros((rows + PAST, width), dt)
    _, carry, table, written = jax.lax.while_loop(more, body, (0, carry, table, 0))
    return table, written, carry


PAST = PROBE - 1  # the steps a run at its step limit takes past its last row, kept as rows after it


def columns(params: Params) -> list[tuple[object, int, int]]:
    """Each leaf of ``params`` with its size and its first column in a row of a chunk's table:
    the parameters' columns, then the loss's, then the gradient's in the same order."""
    slots, at = [], 0
    for leaf in jax.tree.leaves(params):
        size = int(np.size(leaf))
        slots.append((leaf, size, at))
        at += size
    return slots


def unpacked(table, written, carry, rows: int) -> tuple[np.ndarray, int, Outcome, Probe | None]:
    """What a chunk returned, as NumPy: the rows written (parameters, loss and gradient columns),
    how many, the outcome, and the probe of a run at its step limit."""
    n, code, table = int(written), Outcome(int(carry[4])), np.asarray(table)
    probe = None
    if code is Outcome.MAX_STEPS and n > 0:  # the last row and the steps past it
        count = table.shape[1] // 2
        past = table[n - 1 : n + PAST]
        probe = past_probe(past[:, count + 1 :], past[:2, :count])
    table = table[:n]
    if 2 * n < rows:  # a view would keep all the rows alive
        table = table.copy()
    return table, n, code, probe


def split_rows(table: np.ndarray, like: Params) -> tuple[Params, np.ndarray, Params]:
    """The parameters, loss and gradient columns of a table of rows, the parameters and gradient
    shaped like ``like`` with a leading axis of rows (views of the table)."""
    leaves, tree = jax.tree.flatten(like)
    count = sum(int(np.size(x)) for x in leaves)

    def shaped(block: np.ndarray) -> Params:
        parts, at = [], 0
        for leaf in leaves:
            size = int(np.size(leaf))
            column = block[:, at : at + size].reshape(len(table), *np.shape(leaf))
            parts.append(column.astype(np.result_type(leaf), copy=False))
            at += size
        return jax.tree.unflatten(tree, parts)

    return shaped(table[:, :count]), table[:, count], shaped(table[:, count + 1 :])


def _with_data(f, data, params):
    return f(params, data)


def chunk_rows(init: Params, steps: int, count: int | None = None) -> int:
    """Rows a chunk holds: a power of two (so runs of similar length share compiled code) that holds
    a short run whole, else as many as a fixed budget of numbers allows. (``count``: the
    parameters' number of components, when the caller has counted them.)"""
    count = components(init) if count is None else count
    whole_run = max(64, 1 << steps.bit_length())  # >= steps + 1
    return max(1, min(whole_run, CHUNK_ROWS, CHUNK_NUMBERS // (2 * count)))


def _run(
    f: Loss,
    method: Method,
    init: Params,
    lr: np.ndarray,
    tol: np.ndarray,
    steps: int,
    early: bool,
    data: object = None,
    bound: bool = False,
):
    """Every row of a run, chunk after chunk: a table of (params, loss, grad) rows as NumPy
    (:func:`split_rows` shapes it), the outcome, and the probe past the last row (a run that
    reached the step limit).

    Each chunk is sized to take about ``CHUNK_SECONDS`` (a power of two of steps, measured), and
    :func:`gdlab._cancel.checkpoint` runs between chunks, so Ctrl-C and a cancelled scope are
    answered within about that long whatever a step costs.
    """
    leaves = jax.tree.leaves(init)
    count = sum(int(np.size(x)) for x in leaves)
    budget = LIMITS.trajectory_numbers // (2 * count + 1)
    # the buffers hold PAST rows more (a probe past the step limit): within the chunk's numbers
    rows = max(1, min(chunk_rows(init, steps, count), budget, CHUNK_NUMBERS // (2 * count) - PAST))
    if not early and steps + 1 > budget:
        raise InputError(
            lambda s: (
                f"{s.setting('steps', f'{steps:,}')}: keeping every step of this run would pass the "
                f"limit of {LIMITS.trajectory_numbers:,} numbers in memory; ask for at most {budget - 1:,} "
                f"steps, or give a tolerance ({s.name('tol')}) so that it can stop early"
            ),
            parameter="steps",
        )
    entry = _chunk.entry(f, method)
    cost = None if steps < FIRST_CHUNK else cost_key(init, data, early, leaves)
    known = None if cost is None else entry.seconds.get(cost)
    # A run that fits in one chunk of about CHUNK_SECONDS (a short one, or one whose steps were
    # timed before) is one call, with nothing to pace or learn.
    short = cost is None or (known is not None and steps < rows and known * steps <= _cancel.CHUNK_SECONDS)
    pace = Pace(most=rows, first=FIRST_CHUNK, per_step=known)
    checkpoint()
    # NumPy scalars: handing them to compiled code costs far less than making JAX arrays here.
    carry = (np.int32(0), init, start_state(method, init, lr), np.zeros((), lr.dtype), np.int32(0))
    chunk = entry.jitted
    if short:  # the whole run in one chunk: nothing to time
        bounds = np.array((steps, rows), np.int32)
        table, written, carry = chunk(carry, lr, tol, bounds, rows, early, data=data, bound=bound)
        table, _, code, probe = unpacked(table, written, carry, rows)
        return table, code, probe, bool(table.flags.owndata)  # else a view of the chunk's buffer
    compiled = entry.traces[0]
    kept = Rows(min(steps + 1, budget))
    code, probe = Outcome.RUNNING, None
    while code is Outcome.RUNNING:
        limit = min(pace.steps(), budget - kept.taken)
        if limit <= 0:  # stop with what was kept, rather than run out of memory
            code = Outcome.KEPT_LIMIT
            break
        checkpoint()
        began = time.perf_counter()
        bounds = np.array((steps, limit), np.int32)
        table, written, carry = chunk(carry, lr, tol, bounds, rows, early, data=data, bound=bound)
        table, n, code, probe = unpacked(table, written, carry, rows)  # waits for the chunk
        pace.took(n, time.perf_counter() - began)
        kept.add(table)
        del table  # the chunk's buffer goes: its rows are in kept
    if pace.per_step and (kept.parts > 1 or entry.traces[0] == compiled):
        entry.seconds[cost] = pace.per_step  # not a lone chunk's time that a compile inflated
    return kept.table(), code, probe, True


class Rows:
    """The rows of a run of many chunks, written into one table as each chunk comes, in column
    order (each parameter's, the loss's and each gradient's column one block, as a
    :class:`Trajectory` keeps them). The table is sized for every row the run may keep and its
    pages are touched only as rows are written, so a long run holds its rows about once: a
    66-million-step run kept its chunks, their concatenation and the Trajectory's copy, 2.7 times
    its 1.6 GB of rows (4.4 GB peak), where the process now peaks at 1.79 GB.

    Example:
        >>> rows = Rows(10)
        >>> rows.add(np.ones((3, 2))); rows.add(np.zeros((2, 2)))
        >>> rows.table().tolist(), rows.taken
        ([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [0.0, 0.0], [0.0, 0.0]], 5)
    """

    def __init__(self, capacity: int) -> None:
        self.capacity, self.taken, self.parts = capacity, 0, 0
        self._out: np.ndarray | None = None

    def add(self, part: np.ndarray) -> None:
        """Write a chunk's rows after the last ones (at most ``capacity`` rows in all)."""
        if self._out is None:
            self._out = np.empty((self.capacity, part.shape[1]), part.dtype, order="F")
        self._out[self.taken : self.taken + len(part)] = part
        self.taken += len(part)
        self.parts += 1

    def table(self) -> np.ndarray:
        """The rows written: the table's first rows, or a copy of them where they are under half of
        it (the rest would be kept for nothing). Nothing else holds it."""
        assert self._out is not None
        used = self._out[: self.taken]
        return used if 2 * self.taken >= self.capacity else used.copy(order="F")


def cost_key(init: Params, data: object, early: bool, leaves: list | None = None) -> tuple:
    """What a step's cost depends on, besides the loss and method: the shapes of the parameters and
    the data (a loss on ten rows and on a million share compiled code, not their pace). ``leaves``:
    those of ``init``, when the caller has them."""
    leaves = jax.tree.leaves(init) if leaves is None else leaves
    shaped = () if data is None else tuple(np.shape(x) for x in jax.tree.leaves(data))
    return tuple(np.shape(x) for x in leaves), shaped, early


def kept_rows(buffers, n: int, rows: int):
    """The ``n`` rows written of a chunk's buffers, as NumPy: views of a chunk that filled most of
    them (the Trajectory copies), copies of one that did not (a view would hold all ``rows``)."""
    cut = (lambda a: np.asarray(a)[:n]) if 2 * n >= rows else (lambda a: np.array(np.asarray(a)[:n]))
    return jax.tree.map(cut, buffers)


def descend(
    f: Loss | BatchLoss | str,
    init: Params,
    *,
    lr: float | None = None,
    steps: int,
    method: MethodLike = "gd",
    tol: float | None = None,
    dtype: DTypeLike = None,
    data: object = None,
) -> Trajectory:
    """Minimise ``f`` from ``init`` by gradient descent (or any optax optimiser).

    The whole run is one compiled call; a second call with the same loss,
    method, dtype and number of steps reuses the compiled code, whatever the
    start and rate.

    Args:
        f: the loss, a function of one argument (a number, array, tuple or dict)
            returning one number, written with ``jax.numpy``.
        init: the starting point.
        lr: the learning rate (> 0). Not given when ``method`` is a ready optax
            transformation, which holds its own rate.
        steps: the most steps to take (>= 0).
        method: ``"gd"`` (``b <- b - lr*grad``), ``"sign"`` (a fixed step ``lr``
            downhill), ``"momentum"``, ``"nesterov"``, ``"adagrad"``,
            ``"rmsprop"``, ``"adam"``, an optax ``GradientTransformation`` or an
            optax factory such as ``optax.adam`` (called with ``lr``).
        tol: stop early once the gradient norm is <= ``tol`` (the sign method
            also stops when a step would not lower the loss).
        dtype: the floating type to compute in (default float64).
        data: arrays (any pytree) the loss reads, called as ``f(params, data)``. They
            reach the compiled code as an argument, so a loss over large data is not
            copied into the program, and the same ``f`` on new data of the same shapes
            reuses the compiled code (a loss that closes over its data compiles anew).

    Returns:
        A :class:`Trajectory` with ``steps + 1`` rows, or fewer when it stopped
        early; its ``status`` says converged, diverged or max_steps.

    Example:
        >>> import gdlab
        >>> path = gdlab.descend(lambda b: (b / 2 - 1) ** 2, -10.0, lr=0.01 / 6, steps=2)
        >>> path.params.round(6).tolist(), path.status.value
        ([-10.0, -9.99, -9.980008], 'max_steps')
    """
    loss: Any = as_loss(f)  # a function of the parameters, or of (parameters, data)
    spec = resolve_method(method)
    dt = resolve_dtype(dtype)
    rate = spec.rate(lr)  # the registry's rule: needed, or refused
    steps, stop = _checks.steps(steps), _checks.tol(tol)
    start = as_float_tree(init, dt, "init")
    bound = data is not None
    if bound:
        data = jax.tree.map(lambda a: _as_data(a, dt), data)
    table, code, probe, owned = _run(
        loss,
        spec,
        start,
        np.asarray(rate or 0.0, dt),
        np.asarray(stop or 0.0, dt),
        steps,
        stop is not None,
        data,
        bound,
    )
    return trajectory_from_rows(
        loss,
        spec,
        start,
        table,
        code,
        probe,
        rate=rate,
        tol=stop,
        dtype=dt,
        data=data,
        bound=bound,
        owned=owned,
    )


def trajectory_from_rows(
    loss: Any,
    spec: Method,
    start: Params,
    table: np.ndarray,
    code: Outcome,
    probe: Probe | None,
    *,
    rate: float | None,
    tol: float | None,
    dtype: np.dtype,
    data: object = None,
    bound: bool = False,
    hessian: Callable[[np.ndarray, object], Any] | None = None,
    owned: bool = False,
) -> Trajectory:
    """A run's :class:`Trajectory` from its table of rows (as :func:`_run` returns them, whichever
    driver stepped it): the engine's facts, the curvature where the gradient vanished, and the
    engine's judgement (status, regime and sentence). ``hessian``: how the curvature's Hessian
    is had instead of compiling it (for a run that was not compiled either), as
    :func:`gdlab._stability.curvature_ranges` takes it. ``owned``: nothing else holds the table,
    so the Trajectory keeps its columns where they are instead of copying them."""
    P, L, G = split_rows(table, start)
    count, last = table.shape[1] // 2, lambda a: a[-1]
    facts = facts_from_rows(
        code, L, table[:, count + 1 :], table[:, :count], lr=rate, tol=tol, method=spec.name, probe=probe
    )
    if code is Outcome.NOT_FINITE and facts.step == 0 and facts.not_finite:  # the start is the problem
        raise InputError(describe(facts))
    point = jax.tree.map(last, P)
    facts = with_curvature(facts, loss, point, dtype, data=data, bound=bound, hessian=hessian)
    ending = judge(facts)
    return Trajectory(
        params=P,
        loss=L,
        grad=G,
        method=spec.name,
        lr=rate,
        status=ending.status,
        message=ending.sentence,
        regime=ending.regime,
        words=functools.partial(describe, facts),
        facts=facts,
        tol=tol,
        loss_fn=functools.partial(_with_data, loss, data) if bound else loss,
        _owned=owned,
    )


def _as_data(a: object, dt: np.dtype) -> object:
    """A data array for compiled code: floating arrays in the run's precision, without a copy
    when they already are (``jax.device_put`` of an aligned NumPy array may share its memory)."""
    arr = a if isinstance(a, jax.Array) else np.asarray(a)
    if jnp.issubdtype(arr.dtype, jnp.floating) and arr.dtype != dt:
        arr = arr.astype(dt)
    return jax.device_put(arr)
