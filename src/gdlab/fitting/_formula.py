"""Nonlinear least squares: a typed formula fitted to data by Levenberg-Marquardt or Gauss-Newton.

``model="b1*(1-exp(-b2*x))"`` is compiled by gdlab's expression language: its
names that are columns are data, the rest parameters. The
residuals ``y - model`` are minimised in the sum of squares by optimistix's
``LevenbergMarquardt`` or ``GaussNewton`` (their linear solves by lineax's QR),
over parameters scaled by their starting values (``b = init * u``), which makes
the damping fair to parameters of very different sizes (1e3 beside 5e-4). Every
accepted iterate is recorded, so the fit has a :class:`Trajectory` like any
descent. The whole run (the solve, each row's sum of squares and gradient) is one
compiled call per formula and number of rows, the data and starts its arguments:
a fit on new data of the same size, and ``Fit.predict`` on rows of a size seen
before, compile nothing. A descent method (``"gd"``, ``"adam"``, ``"newton"``, ``"lbfgs"`` ...)
runs on the mean squared residual beside Levenberg-Marquardt's solution.

A small formula with a NumPy form (every elementwise formula) is fitted by ``lm`` without
compiling anything, or importing JAX: MINPACK's Levenberg-Marquardt on its NumPy form and exact
Jacobian (:mod:`gdlab.fitting._minpack`), recorded the same way. :func:`_path` is the one place
that chooses; where MINPACK does not converge to a stationary point, the compiled run above
takes over, so either path gives the same Fit (its statistics from the NumPy Jacobian wherever
the formula has one).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from gdlab import _checks
from gdlab._cancel import Pace
from gdlab._checks import DEFAULT_STEPS, InputError, Sentence, Spelling, closest, spelled
from gdlab._data import DataLike, as_table, column_names, names
from gdlab._engine import Facts, Outcome, describe, facts_from_rows, status
from gdlab._expr import CONSTANTS, NUMBER_NAMES, NumericForm, numeric_form, parse
from gdlab._lazy import lazy
from gdlab._methods import Method, resolve_method
from gdlab._numeric import Bound
from gdlab._precision import resolve_dtype
from gdlab._trajectory import Status, Trajectory
from gdlab._types import DTypeLike
from gdlab.fitting import _minpack
from gdlab.fitting._inference import Inference, exact_note, nonlinear, with_covariance
from gdlab.fitting._result import Fit, Later
from gdlab.fitting._settings import (
    CURVATURE_RATES,
    LEAST_SQUARES_METHODS,
    adaptive_rate,
    known,
    method_name,
    stopped,
)

if TYPE_CHECKING:
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import optimistix as optx
else:  # the compiled path's: a small formula fitted by MINPACK imports none of them
    eqx = lazy("equinox")
    jax = lazy("jax")
    jnp = lazy("jax.numpy")
    optx = lazy("optimistix")

__all__ = ["fit_formula"]

# Levenberg-Marquardt and Gauss-Newton stop once a step changes no scaled parameter,
# and the sum of squares, by more than this (relative; absolute below 1e-300).
RTOL = 1e-12

# Levenberg-Marquardt and Gauss-Newton run in calls of at most this many steps (fewer when the steps
# are slow: chunks are sized by time); a longer run goes on from where the last call stopped.
_CHUNK = 128

# A formula whose Jacobian has at most this many entries (rows x parameters) is fitted by MINPACK
# on NumPy (see _path); larger ones by the compiled run, whose compile time they repay.
SMALL = 200_000


# The data a compiled residual function reads: the response, the formula's columns, the scales.
Args = tuple[Any, dict[str, Any], Any]


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

    model: str
    columns: tuple[str, ...]
    args: Args
    params: tuple[str, ...]
    y: np.ndarray
    scale: np.ndarray
    numeric: NumericForm | None  # the formula's NumPy form, where it has one
    bound: Bound | None  # that form bound to the data for MINPACK (its parts without parameters computed)

    @property
    def residual_fn(self) -> Callable[[jax.Array, Args], jax.Array]:
        """The residuals as a JAX function of ``u`` and the data (compiled on the JAX path only)."""
        return _residual_function(self.model, self.columns, len(self.y))[0]

    def residuals(self, u: jax.Array) -> jax.Array:
        return self.residual_fn(u, self.args)

    @functools.cached_property
    def sum_of_squares(self) -> _SumOfSquares:
        """The sum of squares as a JAX function of the parameters by name, in their own units (the
        loss every path of this fit carries)."""
        return _SumOfSquares(self.model, self.columns, self.params, self.args)

    @functools.cached_property
    def size_y(self) -> float:
        """|y|: the scale of the residuals' rounding."""
        return math.sqrt(self.y @ self.y)

    @functools.cached_property
    def form(self) -> Bound:
        """The NumPy form bound to the data: MINPACK's own binding, or one made when first needed
        (the start's checks and the statistics of a fit the compiled path solved), then kept."""
        assert self.numeric is not None
        with np.errstate(all="ignore"):  # NaN outside a function's domain, as in JAX
            return self.bound or self.numeric.bind(self.args[1], len(self.y))


@dataclasses.dataclass(frozen=True, eq=False)
class _SumOfSquares:
    """A formula fit's loss, the sum of squares of its residuals, as a JAX function of its
    parameters by name (in their own units): its trajectory's ``loss_fn``, so that its path can be
    drawn over the loss as a descent's is (``gdlab.plot(fit.trajectory)``). Compiled when first
    drawn, not by the fit; it pickles with the fit (its data, not a closure)."""

    model: str
    columns: tuple[str, ...]
    params: tuple[str, ...]
    args: Args

    def __call__(self, params: Any) -> jax.Array:
        b = jnp.stack([jnp.asarray(params[name], dtype=jnp.float64) for name in self.params])
        residual_fn = _residual_function(self.model, self.columns, len(self.args[0]))[0]
        r = residual_fn(b / self.args[2], self.args)
        return jnp.sum(r * r)


@functools.lru_cache(maxsize=2)
def _solvers() -> dict[str, Any]:
    return {
        "lm": optx.LevenbergMarquardt(rtol=RTOL, atol=1e-300),
        "gauss-newton": optx.GaussNewton(rtol=RTOL, atol=1e-300),
    }


def _recorded_run(
    residuals: Callable[[jax.Array, Args], jax.Array],
    solver: Any,
    size: int,
    u0: jax.Array,
    args: Args,
    limit: jax.Array,
    resume: tuple | None = None,
) -> tuple[jax.Array, jax.Array, tuple]:
    """optimistix's iteration (init, step, terminate) from ``u0`` for at most ``size - 1`` steps, up to
    step ``limit`` in all, every accepted iterate recorded with its sum of squares and gradient as a
    row ``[u, rss, grad]`` (row 0 where this call starts). With ``resume`` (the carry a call
    returned) it goes on from there, so a long run is a series of calls, each sized by time, with
    Ctrl-C and a cancelled scope answered between them.

    Returns the rows, ``[step, done, ok, calls]`` and the carry to go on from (``calls``: the
    solver's steps, rejected ones included, at most ``4 (size - 1)`` a call)."""
    fn = lambda u, args: (residuals(u, args), None)  # noqa: E731
    f_struct = jax.eval_shape(residuals, u0, args)
    tags: frozenset = frozenset()
    if resume is None:
        state = solver.init(fn, u0, args, {}, f_struct, None, tags)
        dynamic, static = eqx.partition(state, eqx.is_array)
        done, result = solver.terminate(fn, u0, args, {}, state, tags)
        u, k, ok = u0, jnp.zeros((), jnp.int32), result == optx.RESULTS.successful
        primed = jnp.zeros((), bool)
    else:  # the solver's static parts (what is not an array) are those of any start; its arrays,
        # unused, are compiled away
        static = eqx.partition(solver.init(fn, u0, args, {}, f_struct, None, tags), eqx.is_array)[1]
        u, k, dynamic, done, ok, primed = resume
    value, grad = jax.value_and_grad(lambda v: jnp.sum(residuals(v, args) ** 2))(u)
    rows = jnp.zeros((size, 2 * u.shape[0] + 1), u.dtype).at[0].set(jnp.concatenate([u, value[None], grad]))
    first, stop = k, jnp.minimum(limit, k + size - 1)
    # a sum of squares at its residuals' rounding: the data fitted exactly
    floor = _minpack.exact_floor(args[0])
    size_y = jnp.sqrt(args[0] @ args[0])

    def more(carry):
        _, k, _, done, ok, _, tried, _ = carry
        return jnp.invert(done) & ok & (k < stop) & (tried < 4 * (size - 1))

    def step(carry):
        u, k, dynamic, _, _, primed, tried, rows = carry
        state = eqx.combine(static, dynamic)
        new_u, new_state, _ = solver.step(fn, u, args, {}, state, tags)
        done, result = solver.terminate(fn, u, args, {}, new_state, tags)
        ok = (result == optx.RESULTS.successful) & jnp.all(jnp.isfinite(new_u))
        r = new_state.f_info.residual  # at new_u, the last accepted point, with its Jacobian
        rss = r @ r
        # optimistix's own stop asks each residual to settle relative to itself, which a residual near
        # 0 never does (Gauss-Newton bounced within the rounding for all its steps): the run also
        # ends where a step changes the parameters by RTOL of them or less and the sum of squares by
        # no more than its rounding (the polish's rule: RTOL of it, or its residuals' where coarser)
        before = jax.lax.dynamic_index_in_dim(rows, k - first, keepdims=False)[u.shape[0]]
        change = jnp.max(jnp.abs(new_u - u))
        settled = primed & (change > 0) & (change <= RTOL * jnp.max(jnp.abs(u)))
        settled = settled & (jnp.abs(rss - before) <= _minpack.rounding(before, size_y, jnp))
        done = done | settled | (rss <= floor)  # exact: the steps after are the rounding's
        g = 2 * new_state.f_info.jac.transpose().mv(r)
        row = jnp.concatenate([new_u, rss[None], g])
        rows = jax.lax.dynamic_update_slice(rows, row[None], (k - first + 1, jnp.zeros((), k.dtype)))
        # a step is a move to a new point: the solver's first call only evaluates the start and
        # proposes a move from it, and a proposal lm rejects (its trust region shrinking) leaves it
        # where it was; neither is a step, and its row is written over by the next
        k = k + (primed & jnp.any(new_u != u)).astype(k.dtype)
        state = eqx.partition(new_state, eqx.is_array)[0]
        return new_u, k, state, done, ok, jnp.ones((), bool), tried + 1, rows

    tried = jnp.zeros((), jnp.int32)  # the solver's calls in this call: rejected proposals included
    carry = jax.lax.while_loop(more, step, (u, k, dynamic, done, ok, primed, tried, rows))
    u, k, dynamic, done, ok, primed, tried, rows = carry
    info = jnp.stack([k, done.astype(k.dtype), ok.astype(k.dtype), tried])
    return rows, info, (u, k, dynamic, done, ok, primed)


@functools.lru_cache(maxsize=32)
def _runner(model: str, columns: tuple[str, ...], n: int, kind: str) -> Callable:
    """The compiled :func:`_recorded_run` of a formula, its columns, rows and solver, the record's
    size static and the start, data and step limit its arguments: a new start, or new data of the
    same size, reuses the compiled code (the data are never constants of it)."""
    residual_fn, _ = _residual_function(model, columns, n)
    return jax.jit(functools.partial(_recorded_run, residual_fn, _solvers()[kind]), static_argnums=0)


@dataclasses.dataclass(frozen=True)
class _Names:
    """A formula's text (normalised) and its names, every one a parameter until data says otherwise."""

    text: str
    params: tuple[str, ...]


@functools.lru_cache(maxsize=64)
def _parsed(model: str, shadowing: tuple[str, ...] = ()) -> _Names:
    """The formula without data, to find its names (parsing is the slow part of a warm fit): from
    its NumPy form where it has one (no JAX, no SymPy), else from the full parse. ``shadowing``:
    the data's columns named as constants (``e``, ``pi``), which are the data there, not the
    constants; they are among the names found."""
    found: NumericForm | Any = numeric_form(model, shadowing)
    if found is None:
        found = parse(model, data=dict.fromkeys(shadowing, 0.0))
    return _Names(found.text, (*found.params, *found.data))


def _variables(
    data: DataLike, y: object, model: object
) -> tuple[str, _Names, tuple[str, ...], tuple[str, ...]]:
    """The response, the formula parsed without data (to find its names), its data columns, and
    every column of the data."""
    if not isinstance(y, str) or len(names(y, "y")) != 1:
        raise InputError(lambda s: f"{s.name('y')} must be the name of one column; got {y!r}", parameter="y")
    if not isinstance(model, str) or not model.strip():
        raise InputError(
            lambda s: f"{s.name('model')} must be a formula such as 'b1*(1-exp(-b2*x))'", parameter="model"
        )
    columns = column_names(data)
    free = _parsed(model, tuple(c for c in columns if c.lower() in NUMBER_NAMES))
    used = tuple(n for n in free.params if n in columns)
    if not used:
        close = [(n, closest(n, columns)) for n in free.params]
        hint = "".join(f" ('{n}': did you mean {m!r}?)" for n, m in close if m)
        raise InputError(
            f"the formula {model!r} names no column of the data: its names "
            f"{', '.join(free.params)} would all be parameters{hint} (columns: {', '.join(columns)}); "
            "write the regressor by its column name, as in b1*(1-exp(-b2*x))"
        )
    if all(n in used for n in free.params):
        raise InputError(
            f"the formula {model!r} has no parameters to fit: every name in it is a column "
            f"({', '.join(used)}); write the parameters as names that are not columns, as in b1*{used[0]}"
        )
    if y in used:
        raise InputError(f"{y!r} is the response y and also appears in the formula: it cannot explain itself")
    return y, free, used, columns


def _unknown(free: _Names, used: tuple[str, ...], columns: tuple[str, ...], init: dict | None) -> None:
    """A parameter that looks like a misspelt column (and has no start in init) is named as a mistake."""
    for name in free.params:
        if name in used or (init is not None and name in init):
            continue
        close = closest(name, columns)
        if close:
            named = f"the formula names {name!r}, which is no column (did you mean {close!r}?)"
            start = f"{{{name!r}: ...}}"
            raise InputError(
                lambda s: (  # raised at once, so the loop's names cannot change under it
                    f"{named}; if it is a parameter, give its start in {s.setting('init', start)}"  # noqa: B023
                ),
                parameter="init",
            )


def _starts(params: tuple[str, ...], init: object) -> np.ndarray:
    if init is None:
        return np.ones(len(params))
    if not isinstance(init, dict):
        raise InputError(f"init must be a dict of starting values by parameter name; got {init!r}")
    extra = [k for k in init if k not in params]
    if extra:
        hints = []
        for name in extra:
            if name in CONSTANTS:
                hints.append(f"{name!r} is the constant {name}: name the parameter otherwise, as b")
            elif (near := closest(str(name), params)) is not None:
                hints.append(f"did you mean {near!r}?")
        hint = f"; {'; '.join(hints)}" if hints else ""
        raise InputError(
            lambda s: (
                f"{s.name('init')} names {', '.join(map(repr, extra))}, not a parameter of the formula "
                f"(its parameters: {', '.join(params)}){hint}"
            ),
            parameter="init",
        )
    missing = [p for p in params if p not in init]
    if missing:
        example = dict.fromkeys(params, 1.0)  # init={'a': 1.0, ...}; --init a=1,... on the command line
        raise InputError(
            lambda s: (
                f"{s.name('init')} has no start for {', '.join(missing)}: give every parameter a start, "
                f"as in {s.setting('init', example)}"
            ),
            parameter="init",
        )
    return np.array(_checks.numbers({f"init[{p!r}]": init[p] for p in params}, positive=False))


def fit_formula(
    data: DataLike,
    *,
    y: str,
    model: str,
    method: str | Method | None = None,
    init: dict[str, float] | None = None,
    steps: int = DEFAULT_STEPS,
    lr: float | None = None,
    tol: float | None = None,
    dropna: bool = False,
    dtype: DTypeLike = None,
    cov: str = "nonrobust",
) -> Fit:
    """Fit ``y ~ model`` by least squares (see :func:`gdlab.fit`, which calls this for ``model=``);
    ``cov``: ``"nonrobust"`` (R's ``nls``) or White's ``"HC0"`` to ``"HC3"``, a checked name."""
    response, free, used, every = _variables(data, y, model)
    _unknown(free, used, every, init)
    how = "lm" if method is None else method
    if isinstance(how, str):
        how = how.strip().lower()
        if how == "ols":
            raise InputError(
                lambda s: (
                    f"a formula has no closed form: use {s.setting('method', 'lm', quoted=True)} "
                    "(default) or 'gauss-newton'"
                ),
                parameter="method",
            )
        if how == "sgd":
            raise InputError(
                lambda s: (
                    f"sgd fits linear models: use {s.setting('method', 'lm', quoted=True)}, "
                    "'gauss-newton' or a descent method"
                ),
                parameter="method",
            )
        how = known(how)  # an unknown name is refused here, with the nearest and the choices
    if how in LEAST_SQUARES_METHODS:
        given = [name for name, value in (("lr", lr), ("tol", tol)) if value is not None]
        if given:
            raise InputError(
                lambda s: (
                    f"{' and '.join(s.name(g) for g in given)} {'set' if len(given) > 1 else 'sets'} a "
                    "descent method's steps and stop; "
                    f"{s.setting('method', how, quoted=True)} chooses its own "
                    f"steps and stops by its own rule: leave them unset, or fit by a descent method "
                    f"beside it ({s.setting('method', 'adam', quoted=True)} or another descent method)"
                ),
                parameter=given[0],
            )
    dt = resolve_dtype(dtype)
    steps = _checks.steps(steps)
    table = as_table(data, columns=(response, *used), dtype=np.float64, dropna=dropna)
    numeric = numeric_form(free.text, used)  # kept per text and columns
    params = numeric.params if numeric is not None else _residual_function(free.text, used, table.n)[1]
    start = _starts(params, init)
    _check_rows(table.n, params, model)
    scale = np.where(start != 0, np.abs(start), 1.0)
    target = np.asarray(table[response], np.float64)
    columns = {c: np.asarray(table[c], np.float64) for c in used}
    bound = None
    if numeric is not None and _small(table.n, len(params)):  # bound once for MINPACK's evaluations
        with np.errstate(all="ignore"):  # NaN outside a function's domain, as in JAX
            bound = numeric.bind(columns, table.n)
    problem = _Problem(free.text, used, (target, columns, scale), params, target, scale, numeric, bound)
    solver = str(how) if how in LEAST_SQUARES_METHODS else "lm"  # a descent method runs beside lm
    path = _path(problem, solver, start / scale, steps)
    coef = path.coef
    converged = path.status is Status.CONVERGED
    result = Fit(
        y=response,
        names=params,
        method=solver,
        coef=coef,
        closed_form=coef,
        n=table.n,
        lr=None,
        trajectory=path.trajectory,
        warnings=(*_notes(path, problem), *((_NO_START,) if init is None else ())),
        dropped=table.dropped,
        intercept=False,
        dtype=dt,
        model=free.text,
        stats=Later(functools.partial(_inference, problem, coef, cov))
        if converged
        else None,  # when first read
        reference=solver,
        _predictor=_Predictor(free.text, used, params),
        _data=table,
    )
    if how in LEAST_SQUARES_METHODS:
        return result
    return _beside(result, problem, how, start / scale, steps, lr, tol, dt)


def _inference(problem: _Problem, coef: np.ndarray, cov: str = "nonrobust") -> Inference | None:
    """Standard errors at the solution: the Jacobian of the residuals in the parameters' own units
    (the NumPy form's exact Jacobian where the formula has one, whichever path solved it; else
    the scaled parameters' Jacobian by autodiff, divided by the scales). With ``cov`` White's
    ``"HC0"`` to ``"HC3"``, the sandwich of the linear fit's rule with the Jacobian for the design
    (:func:`gdlab.fitting._robust.white`)."""
    if problem.numeric is not None:  # MINPACK's last Jacobian, where it is at coef
        with np.errstate(all="ignore"):  # NaN outside a function's domain, as in JAX
            values, model_jacobian = problem.form.jacobian(np.asarray(coef, dtype=np.float64))
        residual, jacobian = problem.y - values, -model_jacobian
    else:
        u = jnp.asarray(coef / problem.scale)
        residual = np.asarray(problem.residuals(u), dtype=np.float64)
        jacobian = np.asarray(jax.jacfwd(problem.residuals)(u), dtype=np.float64) / problem.scale
    if not (np.isfinite(jacobian).all() and np.isfinite(residual).all()):
        return None
    if not _minpack.exact_rss(residual @ residual, problem.y):  # exact to the data's rounding:
        residual = np.zeros_like(residual)  # its residuals are 0 (else standard errors of 1e-17, ***)
    stats = nonlinear(coef, jacobian, residual)
    if stats is None or cov == "nonrobust":
        return stats
    from gdlab.fitting._robust import white, white_meat

    if not stats.sigma:  # every residual 0: so is the meat
        return with_covariance(stats, np.zeros_like(stats.cov), cov, float(stats.df_resid))
    bread = stats.cov / stats.sigma**2  # (J'J)^-1, from the QR factor as the fit's own covariance
    robust, df = white(bread, white_meat(jacobian, residual, bread, cov), cov, len(residual))
    return with_covariance(stats, robust, cov, df)


def _check_start(problem: _Problem, u0: np.ndarray) -> None:
    """Refuse a start where the formula or its sum of squares is not finite, saying which: the first
    row where the formula is not a finite number (with its columns' values there), or, where every
    residual is finite, the residual whose square overflows."""
    with np.errstate(all="ignore"):  # NaN outside a function's domain, as in JAX
        if problem.numeric is not None:  # (the root's value, kept: the solver's first call reads it)
            residual = problem.y - problem.form.root(u0 * problem.scale)
        else:
            residual = np.asarray(problem.residuals(jnp.asarray(u0)), dtype=np.float64)
        if math.isfinite(float(residual @ residual)):
            _check_start_slopes(problem, u0)
            return
    bad = ~np.isfinite(residual)
    row = int(np.argmax(bad)) if bad.any() else int(np.argmax(np.abs(residual)))
    start, where = _start_and_row(problem, u0, row)
    if bad.any():
        others = int(bad.sum()) - 1
        more = f", and not finite at {others:,} more row{'s' * (others > 1)}" if others else ""
        said = (
            f"the formula {problem.model!r} is {_short(problem.y[row] - residual[row])} at row {row} "
            f"({where}) at the start {start}{more}: choose other starting values"
        )
    else:  # every residual finite, the sum of their squares not
        said = (
            f"the sum of squares of the formula {problem.model!r} overflows float64 at the start {start}: "
            f"its residual at row {row} ({where}) is {_short(residual[row])}: choose starting values "
            "nearer the data's scale"
        )
    raise InputError(lambda s: f"{said} ({s.name('init')})", parameter="init")


def _check_start_slopes(problem: _Problem, u0: np.ndarray) -> None:
    """Refuse a start where the formula is finite but its derivative in a parameter is not (``s`` of
    ``exp(-(t-mu)^2/(2*s^2))`` at 0), naming the parameter and the first such row (where the
    formula has a NumPy form: its exact Jacobian)."""
    if problem.numeric is None:
        return
    with np.errstate(all="ignore"):
        _, jacobian = problem.form.jacobian(u0 * problem.scale)
        bad = ~np.isfinite(jacobian)
    if not bad.any():
        return
    row, column = (int(i) for i in np.argwhere(bad)[0])
    start, where = _start_and_row(problem, u0, row)
    said = (
        f"the formula {problem.model!r} is finite at the start {start}, but its derivative in "
        f"{problem.params[column]} is {_short(jacobian[row, column])} at row {row} ({where}): no step can "
        "be taken from there; choose other starting values"
    )
    raise InputError(lambda s: f"{said} ({s.name('init')})", parameter="init")


def _start_and_row(problem: _Problem, u0: np.ndarray, row: int) -> tuple[str, str]:
    """The start ``u0`` (scaled) as its refusals write it (``a=1, k=100``), and row ``row``'s columns."""
    start = ", ".join(f"{p}={_short(b)}" for p, b in zip(problem.params, u0 * problem.scale, strict=True))
    return start, ", ".join(f"{c}={_short(problem.args[1][c][row])}" for c in problem.columns)


def _short(value: float) -> str:
    """A number in a message: six significant digits (``inf``, ``nan`` as such)."""
    return f"{float(value):.6g}"


def _check_rows(n: int, params: tuple[str, ...], model: str) -> None:
    if n < len(params):
        raise InputError(
            f"{n} rows but {len(params)} parameters ({', '.join(params)}) in {model!r}: "
            "a fit needs at least as many rows as parameters"
        )


def _solve(run: Callable, args: Args, u0: np.ndarray, steps: int) -> tuple[np.ndarray, int, bool, bool, bool]:
    """The rows ``[u, rss, grad]`` of a run of at most ``steps`` steps from ``u0`` and its step, done,
    ok and stuck: calls of up to ``_CHUNK`` steps each, sized by time (:class:`gdlab._cancel.Pace`),
    each going on from where the last one stopped (Ctrl-C and a cancelled scope are answered between
    them). Stuck: the solver's calls passed MINPACK's budget of evaluations (``100 (p + 1)``, and
    four a step) while it rejected its proposals without ending (its own stop never held)."""
    pace = Pace(most=_CHUNK, first=_CHUNK)
    parts: list[np.ndarray] = []
    resume, k, calls = None, 0, 0
    budget = 100 * (len(u0) + 1) + 4 * steps
    while True:
        limit = min(steps, k + pace.steps())
        rows, info, resume = pace.timed(limit - k or 1, run, _CHUNK + 1, u0, args, limit, resume)
        rows, info = np.asarray(rows), np.asarray(info)
        taken = int(info[0]) - k
        parts.append(rows[int(bool(parts)) : taken + 1])  # a call's row 0 is the last call's last row
        k, calls = k + taken, calls + int(info[3])
        if info[1] or not info[2] or k >= steps or calls > budget:
            stuck = not info[1] and bool(info[2]) and k < steps
            return np.concatenate(parts), k, bool(info[1]), bool(info[2]), stuck


def _small(n: int, p: int) -> bool:
    """Whether a Jacobian of ``n`` rows and ``p`` parameters is MINPACK's to fit (see :data:`SMALL`)."""
    return n * p <= SMALL


@dataclasses.dataclass(frozen=True)
class _Path:
    """A run's ending as the engine judged it, its last parameters (in their own units) and sum of
    squares, and its :class:`Trajectory`: built when first read (a :class:`Later`) where the run
    converged, at once otherwise (its sentence is the engine's, and the warnings read it)."""

    status: Status
    coef: np.ndarray
    loss: float
    trajectory: Trajectory | Later

    def run(self) -> Trajectory:
        """The trajectory, built now if it was to be built later."""
        return self.trajectory.compute() if isinstance(self.trajectory, Later) else self.trajectory


def _path(problem: _Problem, kind: str, u0: np.ndarray, steps: int) -> _Path:
    """The recorded run of Levenberg-Marquardt or Gauss-Newton, in the parameters' own units: the
    one place that chooses MINPACK on the formula's NumPy form (``lm``, a NumPy form, at most
    :data:`SMALL` Jacobian entries) or the compiled optimistix run (everything else, and where
    MINPACK does not converge to a stationary point in the steps allowed)."""
    bound = problem.bound
    if kind == "lm" and bound is not None and _small(len(problem.y), len(problem.params)):
        try:
            solved = _minpack.solve(bound, problem.y, problem.scale, u0, steps)
        except _minpack.NotFinite:
            _check_start(problem, u0)  # refused, saying where
            solved = None  # (only where the scaled Jacobian overflowed: the compiled path)
        if solved is not None:  # converged, or at the step limit on its way
            k = len(solved.rows) - 1
            code = Outcome.MAX_STEPS if solved.ending is None else Outcome.CONVERGED
            return _trajectory(problem, solved.rows, k, code, kind, solved.ending or "")
    elif problem.numeric is not None:  # refused before the compiled solver runs (or is compiled)
        _check_start(problem, u0)
    run = _runner(problem.model, problem.columns, len(problem.y), kind)
    R, k, done, ok, stuck = _solve(run, problem.args, u0, steps)
    if ok and done:
        code = Outcome.CONVERGED if _at_minimum(problem, R[-1, : len(u0)]) else Outcome.NOT_STATIONARY
    elif not ok:
        code = Outcome.NOT_FINITE
    else:
        code = Outcome.NOT_STATIONARY if stuck else Outcome.MAX_STEPS
    ending = f"the steps stopped changing the parameters and the sum of squares (relative {RTOL:g})"
    if ok and done and not _minpack.exact_rss(R[-1, len(u0)], problem.y):
        ending = f"the residuals reached their rounding (|r| <= {_minpack.ROUNDED} eps |y|): the fit is exact"
    return _trajectory(problem, R, k, code, kind, ending)


def _at_minimum(problem: _Problem, u: np.ndarray) -> bool:
    """Whether the compiled solver's last point ``u`` is stationary as MINPACK's answer must be
    (the residuals orthogonal to the Jacobian's columns, to their rounding; the Jacobian finite):
    its steps also stop at an edge of the formula's domain, where the sum of squares has no
    minimum (``a*t^k`` on data with t = 0, as k falls to 0). Checked on the formula's NumPy form;
    a formula without one is taken at the solver's word."""
    if problem.numeric is None:
        return True
    with np.errstate(all="ignore"):  # NaN outside a function's domain, as in JAX
        values, jacobian = problem.form.jacobian(u * problem.scale)
        residual = problem.y - values
        return _minpack.stationary(jacobian, float(residual @ residual), residual @ jacobian, problem.size_y)


def _trajectory(problem: _Problem, R: np.ndarray, k: int, code: Outcome, kind: str, ending: str) -> _Path:
    """The rows ``[u, rss, grad]`` of a run judged by the engine, and its Trajectory in the
    parameters' own units with the sentence of its ending (``ending``: why a converged run
    stopped, by its own rule), built when first read where the run converged."""
    p = len(problem.params)
    L = R[:, p]
    if not math.isfinite(L[0]):
        _check_start(problem, R[0, :p])
    P, G = R[:, :p] * problem.scale, R[:, p + 1 :] / problem.scale  # judged and said in own units
    facts = facts_from_rows(code, L, G, P, lr=None, tol=None, method=kind)
    judged = status(facts)
    coef = P[-1]  # as the trajectory's last row
    later = Later(functools.partial(_recorded, problem, P, L, G, k, code, kind, ending, facts, judged))
    if judged is Status.CONVERGED:
        return _Path(judged, coef, float(L[-1]), later)
    return _Path(judged, coef, float(L[-1]), later.compute())


def _recorded(
    problem: _Problem,
    P: np.ndarray,
    L: np.ndarray,
    G: np.ndarray,
    k: int,
    code: Outcome,
    kind: str,
    ending: str,
    facts: Facts,
    judged: Status,
) -> Trajectory:
    """The Trajectory of the parameters ``P``, losses ``L`` and gradients ``G`` (in the parameters'
    own units) judged ``judged`` from ``facts`` (see :func:`_trajectory`)."""
    if code is Outcome.NOT_FINITE and kind == "gauss-newton":
        what = {"loss": "sum of squares", "gradient": "gradient"}.get(facts.not_finite, "parameters")
        message: str = Sentence(
            lambda s: (
                f"diverged at step {k}: the {what} left the finite numbers; Gauss-Newton takes "
                f"full steps without damping: use {s.setting('method', 'lm', quoted=True)}, or start nearer "
                f"the answer ({s.name('init')})"
            )
        )
    elif code is not Outcome.CONVERGED:
        message = Sentence(functools.partial(describe, facts))  # naming steps as each front end does
    else:  # its own stop rule, not a tolerance on the gradient
        message = f"converged at step {k}: {ending}; gradient norm {facts.grad_norms[1]:.3g}"
    return Trajectory(
        params={name: P[:, i] for i, name in enumerate(problem.params)},
        loss=L,
        grad={name: G[:, i] for i, name in enumerate(problem.params)},
        method=kind,
        lr=None,
        status=judged,
        message=message,
        loss_fn=problem.sum_of_squares,
        _names=problem.params,
        _owned=True,  # P, G made here, L a column of rows that only this run holds: frozen, not copied
    )


def _in_units(path: Trajectory, problem: _Problem) -> Trajectory:
    """A descent's path on the mean squared residual in the scaled parameters, as lm's is recorded:
    in the parameters' own units, named by them, and on the sum of squares (its loss and gradient
    times the rows), with the sum of squares as its loss (so that both draw over one loss)."""
    n = len(problem.y)
    P = path.flat_params() * problem.scale
    G = path.flat_grad() * (n / problem.scale)
    return dataclasses.replace(
        path,
        params={p: P[:, i] for i, p in enumerate(problem.params)},
        grad={p: G[:, i] for i, p in enumerate(problem.params)},
        loss=np.asarray(path.loss) * n,
        loss_fn=problem.sum_of_squares,
        _names=problem.params,
    )


# Said of a formula fitted without init: the starts were chosen for it, and another start can
# end at another minimum (a peak's centre started at 1, far from it, ends in a wrong valley).
_NO_START: str = Sentence(
    lambda s: (
        f"no starting values were given ({s.name('init')}): every parameter started at 1; a formula "
        "can have more than one minimum, so give starts near the answer where you know them"
    )
)


def _notes(path: _Path, problem: _Problem) -> tuple[str, ...]:
    """How the run ended, when it did not converge; else what its standard errors are, where the
    formula fits every row to the data's rounding (as a linear fit says it)."""
    if path.status is not Status.CONVERGED:
        run = path.run()
        return stopped(run, run.method)
    exact = exact_note(_minpack.exact_rss(path.loss, problem.y), len(problem.y) - len(problem.params))
    return () if exact is None else (exact,)


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
        elif spec.name not in CURVATURE_RATES:  # adam and the like: a tenth of each start, a step
            rate, source = adaptive_rate(spec)
        else:
            # The curvature where the run starts and where it should end (lm's solution): a rate
            # safe at the start alone diverges where the curvature grows on the way.
            ends = [u0, np.asarray(reference.coef, np.float64) / problem.scale]
            L = max(_largest_curvature(problem, u, n) for u in ends if np.all(np.isfinite(u)))
            rate = 1 / L
            source = (
                f"1/L from the Gauss-Newton Hessian, the larger at the start and at lm's solution, L={L:.4g}"
            )
    stop = 1e-10 * max(1.0, float(np.sqrt(np.mean(problem.y**2)))) if tol is None else _checks.tol(tol)
    path = descend(
        _mean_square(problem.residual_fn),
        np.asarray(u0),
        lr=rate,
        steps=steps,
        tol=stop,
        method=spec,
        dtype=dtype,
        data=jax.tree.map(jnp.asarray, problem.args),
    )
    coef = np.asarray(path.final) * problem.scale
    said, words = path.message, path.words

    def scaled(s: Spelling) -> str:  # its numbers are the scaled run's, which its trajectory is not in
        return f"{spelled(said, s) if words is None else words(s)}{_SCALED}"

    path = dataclasses.replace(path, message=Sentence(scaled), words=scaled)
    notes = stopped(path, spec.name)
    run = _in_units(path, problem)
    return dataclasses.replace(
        reference,
        method=method_name(how) if isinstance(how, str) else spec.name,
        coef=coef,
        lr=rate,
        lr_source=source,
        trajectory=run,
        warnings=(*reference.warnings, *notes, *_elsewhere(run, reference, spec.name)),
    )


# A descent beside lm that converged with a sum of squares this much above lm's (relative) and no
# correct digit of some parameter (NO_DIGIT) found another stationary point, not lm's.
ABOVE_LM = 1e-3


def _elsewhere(run: Trajectory, reference: Fit, name: str) -> tuple[str, ...]:
    """Why a descent beside lm that converged is not lm's answer: it stopped at another stationary
    point (a flat region, as ``exp(-b*x)`` for a huge ``b``, or another minimum), where the sum of
    squares is higher than lm's and some parameter has no correct digit; its status stays the
    engine's (its gradient did vanish), and this note says what that point is."""
    from gdlab.fitting._beside import NO_DIGIT, relative_offs

    lm = reference.trajectory
    if run.status is not Status.CONVERGED or lm is None or lm.status is not Status.CONVERGED:
        return ()
    mine, theirs = float(run.loss[-1]), float(lm.loss[-1])
    coef, best = run.flat_params()[-1], np.asarray(reference.coef, np.float64)
    off = relative_offs(coef, best)
    if not (mine > theirs * (1 + ABOVE_LM) and float(np.max(off)) > NO_DIGIT):
        return ()
    j = int(np.argmax(off))
    times = f", {mine / theirs:.3g} times lm's {theirs:.4g}" if theirs > 0 else f", lm's {theirs:.4g}"
    param = reference.names[j]
    return (
        Sentence(
            lambda s: (
                f"{name} converged where the sum of squares is {mine:.4g}{times}, with {param} "
                f"{coef[j]:.4g} against lm's {best[j]:.4g}: a flat region or another minimum, not lm's "
                f"answer; start nearer it ({s.name('init')}), or fit by "
                f"{s.setting('method', 'lm', quoted=True)}"
            )
        ),
    )


# Said after a descent's sentence beside lm: it stepped in the parameters divided by their starts
# (lm's scaling), on the mean squared residual; the trajectory it gives is in their own units.
_SCALED = (
    " (on the mean squared residual, in the parameters divided by their starts; its trajectory holds "
    "the sum of squares in their own units, as lm's does)"
)


def _largest_curvature(problem: _Problem, u: np.ndarray, n: int) -> float:
    """The largest eigenvalue of the Gauss-Newton Hessian ``2J'J/n`` of the mean squared residual at ``u``."""
    J = np.asarray(jax.jacfwd(problem.residuals)(jnp.asarray(u)))
    return float(np.linalg.eigvalsh(2 * J.T @ J / n)[-1])


@functools.lru_cache(maxsize=16)
def _evaluator(model: str, columns: tuple[str, ...], params: tuple[str, ...], n: int) -> Callable:
    """The formula as one compiled function of its coefficients and data columns (of ``n`` rows,
    which a subscript such as ``x[3]`` is checked against), parsed once per formula and size."""
    expression = parse(model, data={c: np.zeros(n) for c in columns})

    def evaluate(coef: jax.Array, data: dict[str, jax.Array]) -> jax.Array:
        values = expression.function({**dict(zip(params, coef, strict=True)), **data})
        return jnp.broadcast_to(values, (n,))

    return jax.jit(evaluate)


@dataclasses.dataclass(frozen=True)
class _Predictor:
    """The formula evaluated on new rows, for :meth:`Fit.predict`."""

    model: str
    columns: tuple[str, ...]
    params: tuple[str, ...]

    def _rows(self, data: DataLike) -> tuple[int, dict[str, np.ndarray]]:
        """The new rows' count and columns (every new row is read: a missing value is refused)."""
        table = as_table(data, columns=self.columns, dropna=None)
        return table.n, {c: np.asarray(table[c], np.float64) for c in self.columns}

    def gradients(self, data: DataLike, coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The formula's values on new rows and its gradient in the parameters at each (``n x p``):
        the exact Jacobian of its NumPy form, or JAX's where it has none (for the delta method)."""
        n, columns = self._rows(data)
        b = np.asarray(coef, np.float64)
        numeric = numeric_form(self.model, self.columns)
        if numeric is not None:
            with np.errstate(all="ignore"):  # NaN outside a function's domain, as in JAX
                values, jacobian = numeric.jacobian(b, columns, n)
            return np.array(values), np.array(jacobian)
        evaluate = _evaluator(self.model, self.columns, self.params, n)
        return np.array(evaluate(b, columns)), np.array(jax.jacfwd(evaluate)(jnp.asarray(b), columns))

    def __call__(self, data: DataLike, coef: np.ndarray) -> np.ndarray:
        return self.at(data, np.asarray(coef)[None])[0]

    def at(self, data: DataLike, coefs: np.ndarray) -> np.ndarray:
        """The formula's values on new rows at each row of ``coefs`` (``k x p``): ``k x n``, the rows
        read and the formula bound once (a picture's steps)."""
        n, columns = self._rows(data)
        b = np.asarray(coefs, np.float64)
        numeric = numeric_form(self.model, self.columns)
        if numeric is not None:  # its NumPy form, as the fit's statistics read it
            out = np.empty((len(b), n))
            with np.errstate(all="ignore"):  # NaN outside a function's domain, as in JAX
                bound = numeric.bind(columns, n)
                for i, coef in enumerate(b):
                    out[i] = bound.values(coef)
            return out
        evaluate = _evaluator(self.model, self.columns, self.params, n)
        return np.asarray(jax.vmap(evaluate, in_axes=(0, None))(jnp.asarray(b), columns))
