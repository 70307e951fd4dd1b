"""Nonlinear least squares: a typed formula fitted to data by Levenberg-Marquardt or Gauss-Newton.

``model="b1*(1-exp(-b2*x))"`` is compiled by gdlab's expression language with the
data bound: its names that are columns are data, the rest parameters. The
residuals ``y - model`` are minimised in the sum of squares by optimistix's
``LevenbergMarquardt`` or ``GaussNewton`` (their linear solves by lineax's QR),
over parameters scaled by their starting values (``b = init * u``), which makes
the damping fair to parameters of very different sizes (1e3 beside 5e-4). Every
accepted iterate is recorded, so the fit has a :class:`Trajectory` like any
descent. A descent method (``"gd"``, ``"adam"``, ``"newton"``, ``"lbfgs"`` ...)
runs on the mean squared residual beside Levenberg-Marquardt's solution.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from gdlab import _checks
from gdlab._checks import InputError
from gdlab._data import DataLike, as_table, column_names, names
from gdlab._engine import Outcome, describe, facts_from_rows, status
from gdlab._expr import Expression, parse
from gdlab._fit import LEAST_SQUARES_METHODS, Fit, _name
from gdlab._methods import Method, resolve_method
from gdlab._precision import resolve_dtype
from gdlab._trajectory import Status, Trajectory
from gdlab._types import DTypeLike

__all__ = ["fit_formula"]

# Levenberg-Marquardt and Gauss-Newton stop once a step changes no scaled parameter,
# and the sum of squares, by more than this (relative; absolute below 1e-300).
RTOL = 1e-12
_MAX_STEPS = 5000


# The data a compiled residual function reads: the response, the formula's columns, the scales.
Args = tuple[jax.Array, dict[str, jax.Array], jax.Array]


@functools.lru_cache(maxsize=16)
def _residual_function(model: str, columns: tuple[str, ...], n: int) -> tuple[Callable, tuple[str, ...]]:
    """``residuals(u, args)`` of a formula, data passed in ``args``: one function object per formula
    and size, so that a second fit of it (other data, other starts) reuses the compiled solver."""
    expression = parse(model, data={c: np.zeros(n) for c in columns})
    params = expression.params

    def residuals(u: jax.Array, args: Args) -> jax.Array:
        y, data, scale = args
        values = expression.function({**dict(zip(params, u * scale, strict=True)), **data})
        return y - jnp.broadcast_to(values, y.shape)

    return residuals, params


@functools.lru_cache(maxsize=16)
def _mean_square(
    residual_fn: Callable[[jax.Array, Args], jax.Array],
) -> Callable[[jax.Array, Args], jax.Array]:
    """``mse(u, args)``, the mean squared residual, with the data in ``args``: one function object per
    residual function, so that a descent on new data of the same shapes reuses its compiled run."""

    def mse(u: jax.Array, args: Args) -> jax.Array:
        r = residual_fn(u, args)
        return r @ r / r.shape[0]

    return mse


@dataclasses.dataclass(frozen=True)
class _Problem:
    """A formula bound to data: the residuals as a function of scaled parameters ``u`` (``b = scale*u``)."""

    residual_fn: Callable[[jax.Array, Args], jax.Array]
    args: Args
    params: tuple[str, ...]
    y: np.ndarray
    scale: np.ndarray

    def residuals(self, u: jax.Array) -> jax.Array:
        return self.residual_fn(u, self.args)

    def rss(self, u: jax.Array) -> jax.Array:
        r = self.residuals(u)
        return r @ r


_SOLVERS: dict[str, Any] = {
    "lm": optx.LevenbergMarquardt(rtol=RTOL, atol=1e-300),
    "gauss-newton": optx.GaussNewton(rtol=RTOL, atol=1e-300),
}


def _recorded_run(residuals: Callable, solver: Any, u0: jax.Array, args: Args, max_steps: int) -> tuple:
    """optimistix's iteration (init, step, terminate), keeping every accepted iterate with its sum of
    squares and gradient."""
    fn = lambda u, args: (residuals(u, args), None)  # noqa: E731
    rss = jax.value_and_grad(lambda v: jnp.sum(residuals(v, args) ** 2))
    f_struct = jax.eval_shape(residuals, u0, args)
    tags: frozenset = frozenset()
    state = solver.init(fn, u0, args, {}, f_struct, None, tags)
    dynamic, static = eqx.partition(state, eqx.is_array)
    done, result = solver.terminate(fn, u0, args, {}, state, tags)
    value, grad = rss(u0)
    rows = (
        jnp.zeros((max_steps + 1, u0.shape[0]), u0.dtype).at[0].set(u0),
        jnp.zeros(max_steps + 1, u0.dtype).at[0].set(value),
        jnp.zeros((max_steps + 1, u0.shape[0]), u0.dtype).at[0].set(grad),
    )

    def more(carry):
        _, k, _, done, result, _ = carry
        return jnp.invert(done) & (result == optx.RESULTS.successful) & (k < max_steps)

    def step(carry):
        u, k, dynamic, _, _, (P, L, G) = carry
        state = eqx.combine(static, dynamic)
        new_u, new_state, _ = solver.step(fn, u, args, {}, state, tags)
        done, result = solver.terminate(fn, u, args, {}, new_state, tags)
        result = optx.RESULTS.where(jnp.all(jnp.isfinite(new_u)), result, optx.RESULTS.nonfinite)
        new_dynamic = eqx.partition(new_state, eqx.is_array)[0]
        value, grad = rss(new_u)
        kept = (P.at[k + 1].set(new_u), L.at[k + 1].set(value), G.at[k + 1].set(grad))
        return new_u, k + 1, new_dynamic, done, result, kept

    _, k, _, done, result, (P, L, G) = jax.lax.while_loop(more, step, (u0, 0, dynamic, done, result, rows))
    return k, done, result == optx.RESULTS.successful, P, L, G


_recorded: Callable[..., tuple] = eqx.filter_jit(_recorded_run)


@functools.lru_cache(maxsize=64)
def _parsed(model: str) -> Expression:
    """The formula without data, to find its names (parsing is the slow part of a warm fit)."""
    return parse(model)


def _variables(data: DataLike, y: object, model: object) -> tuple[str, Expression, tuple[str, ...]]:
    """The response, the formula parsed without data (to find its names), and its data columns."""
    if not isinstance(y, str) or len(names(y, "y")) != 1:
        raise InputError(f"y must be the name of one column; got {y!r}")
    if not isinstance(model, str) or not model.strip():
        raise InputError("model must be a formula such as 'b1*(1-exp(-b2*x))'")
    free = _parsed(model)
    columns = column_names(data)
    used = tuple(n for n in free.params if n in columns)
    if not used:
        close = [(n, difflib.get_close_matches(n, columns, n=1, cutoff=0.6)) for n in free.params]
        hint = "".join(f" ('{n}': did you mean {m[0]!r}?)" for n, m in close if m)
        raise InputError(
            f"the formula {model!r} names no column of the data{hint} (columns: {', '.join(columns)}): "
            "write the regressor by its column name, as in b1*(1-exp(-b2*x))"
        )
    if y in used:
        raise InputError(f"{y!r} is the response y and also appears in the formula: it cannot explain itself")
    return y, free, used


def _unknown(free: Expression, used: tuple[str, ...], columns: tuple[str, ...], init: dict | None) -> None:
    """A parameter that looks like a misspelt column (and has no start in init) is named as a mistake."""
    for name in free.params:
        if name in used or (init is not None and name in init):
            continue
        close = difflib.get_close_matches(name, columns, n=1, cutoff=0.6)
        if close:
            raise InputError(
                f"the formula names {name!r}, which is no column (did you mean {close[0]!r}?); if it is a "
                f"parameter, give its start in init={{{name!r}: ...}}"
            )


def _starts(params: tuple[str, ...], init: object) -> np.ndarray:
    if init is None:
        return np.ones(len(params))
    if not isinstance(init, dict):
        raise InputError(f"init must be a dict of starting values by parameter name; got {init!r}")
    extra = [k for k in init if k not in params]
    if extra:
        raise InputError(
            f"init names {', '.join(map(repr, extra))}, not a parameter of the formula "
            f"(its parameters: {', '.join(params)})"
        )
    missing = [p for p in params if p not in init]
    if missing:
        raise InputError(
            f"init has no start for {', '.join(missing)}: give every parameter a start, "
            f"as in init={{{', '.join(f'{p!r}: 1.0' for p in params)}}}"
        )
    return np.array([_checks.number(f"init[{p!r}]", init[p], positive=False) for p in params])


def fit_formula(
    data: DataLike,
    *,
    y: str,
    model: str,
    method: str | Method | None = None,
    init: dict[str, float] | None = None,
    steps: int = 5000,
    lr: float | None = None,
    tol: float | None = None,
    dropna: bool = False,
    dtype: DTypeLike = None,
) -> Fit:
    """Fit ``y ~ model`` by least squares (see :func:`gdlab.fit`, which calls this for ``model=``)."""
    response, free, used = _variables(data, y, model)
    _unknown(free, used, column_names(data), init)
    how = "lm" if method is None else method
    if isinstance(how, str):
        how = how.strip().lower()
        if how == "ols":
            raise InputError("a formula has no closed form: use method='lm' (default) or 'gauss-newton'")
        if how == "sgd":
            raise InputError("sgd fits linear models: use method='lm', 'gauss-newton' or a descent method")
        if how not in LEAST_SQUARES_METHODS:
            resolve_method(how)  # an unknown name is refused here, with the choices
    dt = resolve_dtype(dtype)
    steps = _checks.steps(steps)
    table = as_table(data, columns=(response, *used), dtype=np.float64, dropna=dropna)
    residual_fn, params = _residual_function(free.text, used, table.n)
    start = _starts(params, init)
    _check_rows(table.n, params, model)
    scale = np.where(start != 0, np.abs(start), 1.0)
    target = np.asarray(table[response], np.float64)
    args = (jnp.asarray(target), {c: jnp.asarray(table[c]) for c in used}, jnp.asarray(scale))
    problem = _Problem(residual_fn, args, params, target, scale)
    solver = str(how) if how in LEAST_SQUARES_METHODS else "lm"  # a descent method runs beside lm
    lm = _least_squares(problem, solver, start / scale, steps)
    coef = np.asarray(lm.final) * scale
    result = Fit(
        y=response,
        names=params,
        method=solver,
        coef=coef,
        closed_form=coef,
        n=table.n,
        lr=None,
        trajectory=_in_units(lm, scale, params),
        warnings=_notes(lm),
        dropped=table.dropped,
        intercept=False,
        dtype=dt,
        model=free.text,
        stats=None,
        reference=solver,
        _predictor=_Predictor(model, used, params),
        _data=table,
    )
    if how in LEAST_SQUARES_METHODS:
        return result
    return _beside(result, problem, how, start / scale, steps, lr, tol, dt)


def _check_rows(n: int, params: tuple[str, ...], model: str) -> None:
    if n < len(params):
        raise InputError(
            f"{n} rows but {len(params)} parameters ({', '.join(params)}) in {model!r}: "
            "a fit needs at least as many rows as parameters"
        )


def _least_squares(problem: _Problem, kind: str, u0: np.ndarray, steps: int) -> Trajectory:
    """The recorded run of Levenberg-Marquardt or Gauss-Newton, in scaled parameters."""
    k, done, ok, rows, losses, grads = _recorded(
        problem.residual_fn, _SOLVERS[kind], jnp.asarray(u0), problem.args, steps
    )
    k = int(k)
    P, L, G = (np.asarray(a)[: k + 1] for a in (rows, losses, grads))
    if not math.isfinite(L[0]):
        start = dict(zip(problem.params, P[0] * problem.scale, strict=True))
        raise InputError(
            f"the formula is not finite at the start {start}: choose other starting values (init=)"
        )
    if bool(ok) and bool(done):
        code = Outcome.CONVERGED
    elif not bool(ok):
        code = Outcome.NOT_FINITE
    else:
        code = Outcome.MAX_STEPS
    facts = facts_from_rows(code, L, G, P, lr=None, tol=None, method=kind)
    if code is Outcome.NOT_FINITE and kind == "gauss-newton":
        message = (
            f"diverged at step {k}: the parameters left the finite numbers; Gauss-Newton takes full steps "
            "without damping: use method='lm', or start nearer the answer (init=)"
        )
    elif code is not Outcome.CONVERGED:
        message = describe(facts)
    else:  # its own stop rule, not a tolerance on the gradient
        message = (
            f"converged at step {k}: the steps stopped changing the parameters and the sum of squares "
            f"(relative {RTOL:g}); gradient norm {np.linalg.norm(G[-1]):.3g}"
        )
    return Trajectory(
        params=P,
        loss=L,
        grad=G,
        method=kind,
        lr=None,
        status=status(facts),
        message=message,
        loss_fn=problem.rss,
    )


def _in_units(path: Trajectory, scale: np.ndarray, params: tuple[str, ...]) -> Trajectory:
    """A scaled-parameter path in the parameters' own units, named by them."""
    P = path.flat_params() * scale
    G = path.flat_grad() / scale
    return dataclasses.replace(
        path,
        params={p: P[:, i] for i, p in enumerate(params)},
        grad={p: G[:, i] for i, p in enumerate(params)},
        loss_fn=None,
        _names=params,
    )


def _notes(path: Trajectory) -> tuple[str, ...]:
    if path.status is Status.CONVERGED:
        return ()
    return (f"{path.method}: {path.message}",)


def _beside(
    reference: Fit,
    problem: _Problem,
    how: str | Method,
    u0: np.ndarray,
    steps: int,
    lr: float | None,
    tol: float | None,
    dtype: np.dtype,
) -> Fit:
    """``reference`` (Levenberg-Marquardt's fit) with a descent method's run on the mean squared residual."""
    from gdlab._descend import descend

    spec = resolve_method(how)
    n = len(problem.y)
    rate, source = None, None
    if spec.needs_lr:
        if lr is not None:
            rate, source = lr, "given"
        else:
            J = np.asarray(jax.jacfwd(problem.residuals)(jnp.asarray(u0)))
            L = float(np.linalg.eigvalsh(2 * J.T @ J / n)[-1])
            rate, source = 1 / L, f"1/L from the Gauss-Newton Hessian at the start, L={L:.4g}"
    stop = 1e-10 * max(1.0, float(np.sqrt(np.mean(problem.y**2)))) if tol is None else _checks.tol(tol)
    path = descend(
        _mean_square(problem.residual_fn),
        np.asarray(u0),
        lr=rate,
        steps=steps,
        tol=stop,
        method=spec,
        dtype=dtype,
        data=problem.args,
    )
    coef = np.asarray(path.final) * problem.scale
    notes: tuple[str, ...] = ()
    if path.status is not Status.CONVERGED:
        notes = (f"{spec.name}: {path.message}",)
    return dataclasses.replace(
        reference,
        method=_name(how) if isinstance(how, str) else spec.name,
        coef=coef,
        lr=rate,
        lr_source=source,
        trajectory=_in_units(path, problem.scale, problem.params),
        warnings=(*reference.warnings, *notes),
    )


@dataclasses.dataclass(frozen=True)
class _Predictor:
    """The formula evaluated on new rows, for :meth:`Fit.predict`."""

    model: str
    columns: tuple[str, ...]
    params: tuple[str, ...]

    def __call__(self, data: DataLike, coef: np.ndarray) -> np.ndarray:
        table = as_table(data, columns=self.columns)
        expression = parse(self.model, data={c: table[c] for c in self.columns})
        values = expression.function(dict(zip(self.params, jnp.asarray(coef), strict=True)))
        return np.broadcast_to(np.asarray(values), (table.n,)).copy()
