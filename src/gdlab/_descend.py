"""Gradient descent as one compiled call: ``jit`` around a ``lax.while_loop``."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from gdlab._checks import InputError
from gdlab._loss import explain_trace_errors, scalar_loss
from gdlab._methods import Method, resolve_method
from gdlab._precision import as_float_tree, resolve_dtype
from gdlab._trajectory import Status, Trajectory, _flat_rows

# A loss that grows this many times past its starting value (or 1) has exploded.
EXPLODE = 1e10

_RUNNING, _CONVERGED, _NO_GAIN, _DIVERGED, _MAX_STEPS = range(5)


def _squares(tree: object) -> jax.Array:
    return sum(jnp.sum(jnp.square(x)) for x in jax.tree.leaves(tree))


def _norm(tree: object) -> jax.Array:
    return jnp.sqrt(_squares(tree))


def stop_checks(loss, method: Method, value, g, p, new_p, first_loss, tol, early: bool):
    """Whether a row ends its run: (diverged, converged, no gain), as booleans.

    Cheap on purpose (a sweep checks every run at every step): one sum catches
    a NaN or an infinity anywhere in the loss, the gradient or the parameters,
    as any of them makes the sum non-finite.
    """
    squares = _squares(g)
    total = value + squares + 0 * sum(jnp.sum(x) for x in jax.tree.leaves(p))
    bad = ~jnp.isfinite(total) | (value > EXPLODE * jnp.maximum(1.0, jnp.abs(first_loss)))
    converged = no_gain = jnp.bool_(False)
    if early:
        converged = squares <= tol * tol
        if method.stop_when_no_gain:
            no_gain = loss(new_p) >= value
    return bad, converged, no_gain


def row_code(loss, method: Method, value, g, p, new_p, first_loss, k, steps: int, tol, early: bool):
    """How a run stands once row ``k`` is evaluated: running, or why it stops there."""
    bad, converged, no_gain = stop_checks(loss, method, value, g, p, new_p, first_loss, tol, early)
    code = jnp.where(k == steps, _MAX_STEPS, _RUNNING)
    code = jnp.where(converged, _CONVERGED, code)
    code = jnp.where((code == _RUNNING) & no_gain, _NO_GAIN, code)
    return jnp.where(bad, _DIVERGED, code)


@functools.partial(jax.jit, static_argnames=("f", "method", "steps", "early"))
def _run(f, method: Method, init, lr, tol, steps: int, early: bool):
    """Run up to ``steps`` steps; return filled buffers, rows written and how it ended."""
    loss = scalar_loss(f)
    value_and_grad = jax.value_and_grad(loss)
    tx = method.build(lr)
    rows = lambda x: jnp.zeros((steps + 1, *jnp.shape(x)), jnp.result_type(x))  # noqa: E731
    put = lambda buf, k, x: jax.tree.map(lambda b, v: b.at[k].set(v), buf, x)  # noqa: E731

    def body(carry):
        k, p, state, P, L, G, _ = carry
        value, g = value_and_grad(p)
        P, L, G = put(P, k, p), L.at[k].set(value), put(G, k, g)
        updates, new_state = tx.update(g, state, p)
        new_p = optax.apply_updates(p, updates)
        code = row_code(loss, method, value, g, p, new_p, L[0], k, steps, tol, early)
        return k + 1, new_p, new_state, P, L, G, code

    start = (0, init, tx.init(init), jax.tree.map(rows, init), rows(lr), jax.tree.map(rows, init))
    carry = jax.lax.while_loop(lambda c: c[6] == _RUNNING, body, (*start, _RUNNING))
    k, _, _, P, L, G, code = carry
    return P, L, G, k, code


def _check_number(name: str, value: object, *, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number | np.ndarray):
        raise InputError(f"{name} must be a number; got {value!r}")
    number = float(np.asarray(value).reshape(()))
    if not math.isfinite(number) or (positive and number <= 0):
        raise InputError(f"{name} must be a finite number > 0; got {value!r}")
    return number


def check_steps(steps: object) -> int:
    """``steps`` as an int >= 0 (a whole float is accepted), or a clear error."""
    whole = isinstance(steps, int | np.integer) or (isinstance(steps, float) and steps.is_integer())
    if isinstance(steps, bool) or not whole or steps < 0:
        raise InputError(f"steps must be a whole number >= 0; got {steps!r}")
    return int(steps)


def check_tol(tol: object) -> float | None:
    """``tol`` as a positive float, or ``None``."""
    return None if tol is None else _check_number("tol", tol)


def _message(code: int, k: int, lr: float | None, tol: float | None, grads, loss) -> str:
    """Why the run ended, and what to try; ``grads`` has one flattened gradient per row."""
    rate = "the learning rate" if lr is None else f"the rate {lr:g}"
    if code == _DIVERGED and k == 0:
        return "the loss or its gradient is not finite at the start: choose another starting point"
    if code == _DIVERGED:
        how = (
            "left the finite numbers"
            if not np.isfinite(loss[k])
            else f"exploded from {loss[0]:.4g} to {loss[k]:.4g}"
        )
        return f"diverged at step {k}: the loss {how}; each step overshoots, so lower {rate}"
    last = float(np.linalg.norm(grads[k]))
    if code == _CONVERGED:
        return f"converged at step {k}: gradient norm {last:.3g} <= tol {tol:g}"
    if code == _NO_GAIN:
        return f"converged at step {k}: a step of {lr:g} no longer lowers the loss"
    limit = f"stopped at the step limit ({k}) with gradient norm {last:.3g}"
    first = float(np.linalg.norm(grads[0]))
    bouncing = k > 0 and float(grads[k] @ grads[k - 1]) < 0 and last >= 0.5 * first
    if bouncing:
        return f"{limit}: it bounces across the minimum without settling, so lower {rate}"
    if tol is None:
        return f"{limit}; pass tol= to stop once it is small"
    return f"{limit} > tol {tol:g}: still descending, so raise steps or {rate}"


def descend(
    f: Callable[[object], object],
    init: object,
    *,
    lr: float | None = None,
    steps: int,
    method: object = "gd",
    tol: float | None = None,
    dtype: object | None = None,
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

    Returns:
        A :class:`Trajectory` with ``steps + 1`` rows, or fewer when it stopped
        early; its ``status`` says converged, diverged or max_steps.

    Example:
        >>> import gdlab
        >>> path = gdlab.descend(lambda b: (b / 2 - 1) ** 2, -10.0, lr=0.01 / 6, steps=2)
        >>> path.params.round(6).tolist(), path.status.value
        ([-10.0, -9.99, -9.980008], 'max_steps')
    """
    spec = resolve_method(method)
    dt = resolve_dtype(dtype)
    if spec.needs_lr:
        if lr is None:
            raise InputError(f"lr is required for method {spec.name!r}: pass lr=0.01, say")
        rate = _check_number("lr", lr)
    elif lr is not None:
        raise InputError(
            "lr was given but the optax transformation holds its own rate: pass "
            "method=optax.adam (the factory) with lr=..., or leave lr out"
        )
    else:
        rate = 0.0
    steps, stop = check_steps(steps), check_tol(tol)
    start = as_float_tree(init, dt, "init")
    with explain_trace_errors(start):
        P, L, G, k, code = _run(
            f,
            spec,
            start,
            jnp.asarray(rate, dt),
            jnp.asarray(stop or 0.0, dt),
            int(steps),
            stop is not None,
        )
    n = int(k)
    loss = np.asarray(L[:n])
    status = {_CONVERGED: Status.CONVERGED, _NO_GAIN: Status.CONVERGED, _DIVERGED: Status.DIVERGED}
    given_lr = rate if spec.needs_lr else None
    return Trajectory(
        params=jax.tree.map(lambda a: np.asarray(a[:n]), P),
        loss=loss,
        grad=jax.tree.map(lambda a: np.asarray(a[:n]), G),
        method=spec.name,
        lr=given_lr,
        status=status.get(int(code), Status.MAX_STEPS),
        message=_message(int(code), n - 1, given_lr, stop, _flat_rows(G, L.shape[0]), loss),
        tol=stop,
        loss_fn=f,
    )
