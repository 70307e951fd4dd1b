"""Generalised linear models (binomial with trials, Poisson with an offset, weighted least squares):
one Newton (IRLS) loop over a :class:`~gdlab.data.Source`, wherever its rows live.

Each step is one pass: every block returns the QR factor of its weighted rows
``sqrt(W) [X | z]`` (``W = w (dmu/deta)^2 / V(mu)``, the working response
``z = eta - offset + (y - mu) / (dmu/deta)``), its deviance and log-likelihood, and the factors
merge by TSQR; the step is gdlab's scaled, pivoted QR solve of the merged factor, never
``X'WX`` (the loop is :func:`gdlab.fitting._logistic.newton`, which the logistic fit runs too).
In memory the source is one block, so the numbers are those of a file streamed block by block.
The family (:mod:`gdlab.fitting._glm_families`) is the only thing that differs.

Weights are frequency weights (statsmodels' ``freq_weights``): a row of weight 3 counts as three
rows, in the deviance, the log-likelihood, the rows ``n`` and the residual degrees of freedom.
For the Gaussian family they are the weights of weighted least squares (statsmodels' ``WLS``):
``n`` is the rows, and the residual variance ``sum w r^2 / (n - p)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdlab._cancel import checkpoint
from gdlab._checks import InputError
from gdlab._engine import Outcome, describe, facts_from_rows, status
from gdlab._ols import least_squares
from gdlab._trajectory import Trajectory
from gdlab._tsqr import merge_r, one_blas_thread, triangle
from gdlab.data import Block, check_kept_rows
from gdlab.fitting import _inference
from gdlab.fitting._families import IRLS_MAX_ITERATIONS, IRLS_RTOL
from gdlab.fitting._glm_families import GlmFamily
from gdlab.fitting._minpack import exact_floor, exact_rss
from gdlab.fitting._result import Fit

__all__ = ["Model", "fit_glm", "glm_block", "merge_glm", "newton", "offset_values", "scores"]


def newton(
    step: Callable[[np.ndarray], tuple[Any, Any]], p: int, start: np.ndarray | None = None
) -> tuple[list[np.ndarray], bool, Any, list]:
    """Newton's method (IRLS) from ``start`` (default zero), the one loop of every logistic and
    GLM fit: ``step(b)`` returns
    the weighted least-squares solve at ``b`` (a ``LeastSquares``) and what else it read (the
    terms of a pass); it stops once no coefficient moves by more than :data:`IRLS_RTOL` of its
    size, or after :data:`IRLS_MAX_ITERATIONS` steps.

    Returns every iterate, whether it converged, the last solve and each step's extra terms.
    """
    iterates = [np.zeros(p) if start is None else start]
    solved, extras = None, []
    for _ in range(IRLS_MAX_ITERATIONS):
        checkpoint()  # each iteration is a QR of all the rows
        b = iterates[-1]
        solved, extra = step(b)
        extras.append(extra)
        new = solved.coef.astype(np.float64)
        iterates.append(new)
        if np.all(np.abs(new - b) <= IRLS_RTOL * np.maximum(1.0, np.abs(new))):
            return iterates, True, solved, extras
    return iterates, False, solved, extras


@dataclass(frozen=True)
class Model:
    """What a GLM reads from each row.

    Attributes:
        family: the family.
        y: the response column (successes, with ``trials``).
        x: the regressor columns.
        intercept: whether a column of ones comes first.
        trials: the column of binomial trials, or ``None``.
        weights: the column of frequency weights (WLS weights for Gaussian), or ``None``.
        offset: a column, or an expression of columns (``"log(exposure)"``), added to the
            linear predictor with coefficient 1; or ``None``.
        binary: a logistic fit's response, refused unless 0 or 1 (a binomial one takes
            proportions between).
    """

    family: GlmFamily
    y: str
    x: tuple[str, ...]
    intercept: bool
    trials: str | None = None
    weights: str | None = None
    offset: str | None = None
    binary: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        """The coefficients."""
        return ("intercept", *self.x) if self.intercept else self.x

    def columns(self) -> tuple[str, ...]:
        """Every column read (an offset expression's columns included), each once."""
        extra = [c for c in (self.trials, self.weights) if c]
        return tuple(dict.fromkeys((self.y, *self.x, *extra, *self.offset_columns())))

    def offset_columns(self) -> tuple[str, ...]:
        """The columns the offset reads."""
        if self.offset is None:
            return ()
        if self.offset.isidentifier():
            return (self.offset,)
        from gdlab._expr import parse

        return tuple(parse(self.offset).params)


def offset_values(model: Model, columns: dict[str, np.ndarray], count: int) -> np.ndarray:
    """The offset of a block's first ``count`` rows (zeros without one)."""
    if model.offset is None:
        return np.zeros(count)
    if model.offset.isidentifier():
        return columns[model.offset][:count]
    from gdlab._expr import parse

    data = {c: columns[c][:count] for c in model.offset_columns()}
    value = np.asarray(parse(model.offset, params=[], data=data).function({}), dtype=np.float64)
    return np.broadcast_to(value, (count,))


def _bad_row(
    model: Model, y: np.ndarray, m: np.ndarray, w: np.ndarray, o: np.ndarray
) -> tuple[int, float, str] | None:
    """The first row a fit cannot take, and why (in words naming the fix), or ``None``."""
    checks: list[tuple[np.ndarray, Callable[[int], str]]] = [
        (
            ((y != 0) & (y != 1)) if model.binary else model.family.bad(y),
            lambda i: (
                f"column {model.y!r} holds {y[i] * m[i]:g}"
                + (f" successes of {m[i]:g} trials ({model.trials!r})" if model.trials else "")
                + f"; family={model.family.name!r} takes {model.family.wants}"
            ),
        ),
        (
            ~(w >= 0),
            lambda i: f"weight column {model.weights!r} holds {w[i]:g}: weights must be 0 or more",
        ),
        (
            ~np.isfinite(o),
            lambda i: (
                f"the offset {model.offset!r} is {o[i]:g}: it must be a finite number "
                "(a log of 0? drop those rows or add a small amount)"
            ),
        ),
    ]
    if model.trials:
        checks.insert(
            0,
            (
                ~(m > 0),
                lambda i: f"trials column {model.trials!r} holds {m[i]:g}: trials must be more than 0",
            ),
        )
    for flags, said in checks:
        hits = np.flatnonzero(flags)
        if hits.size:
            return int(hits[0]), float(y[hits[0]]), said(int(hits[0]))
    return None


def glm_block(block: Block, model: Model, b: np.ndarray | None) -> tuple[Any, ...]:
    """One block's part of a Newton (IRLS) step at ``b`` (``None``: the family's starting mean).

    Returns the QR factor ``R`` of ``sqrt(W) [X | z]``, the deviance, the log-likelihood
    (``0`` for Gaussian), the score ``X' w (y - mu) mu' / V``, the rows, the weighted rows
    (``sum w``), ``sum w log w`` (for WLS's likelihood), the successes ``sum w m y`` and the
    first row refused as ``(row of the data, its response, sentence)`` or ``None``.

    Trials, weights and an offset that the model lacks are never made as arrays of ones and
    zeros, and a canonical link's ``dmu/deta`` is its variance: a streamed logistic fit spends
    its passes on the rows' arithmetic, not on multiplying by one.
    """
    count, cols, family = block.rows, block.columns, model.family
    parts = ([np.ones(count)] if model.intercept else []) + [cols[c][:count] for c in model.x]
    X = np.stack(parts, axis=1) if parts else np.empty((count, 0))
    m = cols[model.trials][:count] if model.trials else None
    w = cols[model.weights][:count] if model.weights else None
    o = offset_values(model, cols, count) if model.offset is not None else None
    if m is None:
        y = cols[model.y][:count]
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            y = cols[model.y][:count] / m
    ones = np.ones(count)
    bad = _bad_row(
        model,
        y,
        ones if m is None else m,
        ones if w is None else w,
        np.zeros(count) if o is None else o,
    )
    if bad is not None:
        return (None, 0.0, 0.0, None, 0, 0.0, 0.0, 0.0, (block.start + bad[0], *bad[1:]))
    total = lambda v: float(v.sum()) if w is None else float(w @ v)  # noqa: E731  (sum w v)
    trials: Any = 1.0 if m is None else m
    # a mean that rounds to 0 or 1 (separated classes, counts of 0) is said by the loop, not by NumPy
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if b is None:
            eta = family.link(family.start(y, trials))
        elif o is None:
            eta = X @ b
        else:
            eta = X @ b + o
        mu = family.inverse(eta)
        var = family.variance(mu)
        prior = w if m is None else (m if w is None else w * m)  # None: 1 for every row
        slope = var if family.canonical else family.derivative(eta)  # canonical: dmu/deta = V(mu)
        # (as written, so a weight whose square underflows is 0, as separated classes need)
        root = np.sqrt((1.0 if prior is None else prior) * slope**2 / var)
        z = (eta if o is None else eta - o) + (y - mu) / slope
        factor = (1.0 if prior is None else prior) * (y - mu) * slope / var
        R = triangle(np.column_stack([X * root[:, None], root * z]), X.shape[1] + 1)
        if model.binary:
            # a 0/1 response: both terms of the binomial deviance with y = 0 or 1 vanish but one,
            # and the log-likelihood is minus half the deviance (the same numbers as the family's)
            each = -2.0 * np.log(np.where(y == 1, mu, 1 - mu))
            deviance = total(each)
            llf = -0.5 * deviance
        else:
            deviance = total(family.deviance(y, mu, trials))
            llf = 0.0 if family.loglike is None else total(family.loglike(y, mu, trials))
        score = factor @ X
        logw = 0.0 if w is None else float(np.sum(np.log(w[w > 0])))
    weighted = float(count) if w is None else float(w.sum())
    successes = total(y) if m is None else total(m * y)
    return (R, deviance, llf, score, count, weighted, logw, successes, None)


def scores(
    model: Model, X: np.ndarray, columns: dict[str, np.ndarray], rows: slice, b: np.ndarray
) -> np.ndarray:
    """Each row's score factor ``w m (y - mu) mu' / V`` at ``b`` (its score is this times its
    regressors), for the robust covariances (:mod:`gdlab.fitting._robust`)."""
    family = model.family
    m = columns[model.trials][rows] if model.trials else 1.0
    w = columns[model.weights][rows] if model.weights else 1.0
    cut = {c: columns[c][rows] for c in model.offset_columns()}
    o = offset_values(model, cut, X.shape[0])
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        eta = X @ b + o
        mu = family.inverse(eta)
        return w * m * (columns[model.y][rows] / m - mu) * family.derivative(eta) / family.variance(mu)


def merge_glm(a: tuple, b: tuple) -> tuple:
    """Two blocks' :func:`glm_block` as those of both (the earlier refused row kept)."""
    if a[8] is not None or b[8] is not None:
        return (None, 0.0, 0.0, None, 0, 0.0, 0.0, 0.0, a[8] if a[8] is not None else b[8])
    return (merge_r(a[0], b[0]), *(a[i] + b[i] for i in range(1, 8)), None)


def _pass_step(source: Any, model: Model) -> Callable[[np.ndarray | None], tuple]:
    """A Newton step whose terms are one pass over ``source``."""
    p = len(model.names)

    def step(b: np.ndarray | None) -> tuple:
        with one_blas_thread():
            found = source.reduce(glm_block, merge_glm, model, b)
        if found is not None and found[8] is not None:  # refused where the error is read
            row, _, said = found[8]
            raise InputError(f"{said} (row {row})")
        check_kept_rows(source, 0 if found is None else found[4])
        if found[4] < p:
            raise InputError(
                f"{found[4]:,} rows but {p} coefficients: a fit needs at least as many rows as coefficients"
            )
        R = found[0]
        return least_squares(R[:-1, :-1], R[:-1, -1], rows=found[4]), found

    return step


@dataclass(frozen=True)
class Solved:
    """Newton's method run to its end on one model."""

    iterates: list
    converged: bool
    solved: Any  # the weighted least-squares solve at the answer (its inverse: the covariance)
    terms: tuple  # the pass's terms at the answer
    extras: list  # each step's terms


def _solve(source: Any, model: Model) -> Solved:
    step = _pass_step(source, model)
    first, _ = step(None)  # one weighted least-squares step from the family's starting mean
    iterates, converged, _, extras = newton(step, len(model.names), start=first.coef.astype(np.float64))
    solved, terms = step(iterates[-1])  # the weights, deviance and likelihood at the answer
    return Solved(iterates, converged, solved, terms, extras)


def fit_glm(source: Any, model: Model, method: str = "newton") -> Fit:
    """A GLM :class:`Fit` of ``source``'s rows: Newton's method (IRLS) with a pass per step, the
    null model (the intercept alone, with the offset and weights) by the same loop, and the
    inference (statsmodels' ``GLM``, or ``WLS`` for the Gaussian family with weights)."""
    run = _solve(source, model)
    null = _solve(source, Model(model.family, model.y, (), True, model.trials, model.weights, model.offset))
    coef = run.iterates[-1]
    terms = run.terms
    stats = _stats(source, model, run, null) if run.solved.full_rank else None
    notes = (
        []
        if run.converged
        else [
            f"Newton's method did not converge in {IRLS_MAX_ITERATIONS} steps: the coefficients may grow "
            "without bound (a response separated by the regressors, or a count of 0 wherever one is)"
        ]
    )
    if model.family.scale_estimated and stats is not None:  # weighted least squares: a linear fit's note
        constant = None  # a constant response beside an intercept: the intercept-only fit is its mean
        if model.intercept and not model.offset:
            constant = _inference.constant_value(null.terms[1], float(null.iterates[-1][0]), terms[0][:, -1])
        note = _inference.linear_note(stats.rss, stats.df_resid, model.y, constant)
        notes += [note] if note else []
    n = int(terms[4])
    closed = model.family.name == "gaussian"  # weighted least squares: one step from the start
    return Fit(
        y=model.y,
        names=model.names,
        method=method,
        coef=coef,
        closed_form=coef,
        n=n,
        warnings=(*run.solved.messages(), *notes),
        dropped=source.dropped + source.n - n,
        intercept=model.intercept,
        family=model.family.name,
        stats=stats,
        settings=tuple(
            f"{name} {value}"
            for name, value in (
                ("trials", model.trials),
                ("weights", model.weights),
                ("offset", model.offset),
            )
            if value
        ),
        reference="closed form" if closed else "Newton (IRLS)",
        trajectory=None if closed else _path(run, n),
        # the picture sets y beside the mean: not on one scale with trials or an offset
        _data=None if model.trials or model.offset else source.table(),
    )


def _stats(source: Any, model: Model, run: Solved, null: Solved) -> _inference.Inference:
    """statsmodels' GLM inference (scale 1 for binomial and Poisson), or WLS's for Gaussian."""
    terms = run.terms
    coef, unscaled = run.iterates[-1], run.solved.unscaled_inverse()
    deviance, llf, rows, wsum, logw = terms[1], terms[2], int(terms[4]), terms[5], terms[6]
    if model.family.scale_estimated:
        weighted = model.weights is not None
        # R² is about the (weighted) mean with an intercept, about zero without one (WLS's)
        total = null.terms[1] if model.intercept else _pass_step(source, model)(np.zeros(len(coef)))[1][1]
        size = terms[0][:, -1]  # the factor's last column: the (weighted) response's norm
        stats = _inference.least_squares(
            coef,
            unscaled,
            run.solved.rank,
            rows,
            exact_rss(deviance, size),  # 0 within the data's rounding, as a linear fit's
            total,
            model.intercept,
            run.solved.condition,
            exact_floor(size),
        )
        if weighted and stats.log_likelihood is not None:  # WLS's likelihood counts the weights
            stats = dataclasses.replace(stats, log_likelihood=stats.log_likelihood + logw / 2)
        return dataclasses.replace(stats, null_dev=null.terms[1])
    nobs = round(wsum) if float(wsum).is_integer() else wsum
    return _inference.glm(
        coef,
        unscaled,
        deviance=deviance,
        null_deviance=null.terms[1],
        llf=llf,
        null_llf=null.terms[2],
        df=nobs - len(coef),
        nobs=nobs,
        condition=run.solved.condition,
        intercept=model.intercept,
    )


def _path(run: Solved, n: int) -> Trajectory:
    """Newton's iterates as a :class:`Trajectory` of the mean deviance over two."""
    terms = [*run.extras, run.terms]
    P = np.array(run.iterates)
    L = np.array([t[1] / (2 * n) for t in terms], dtype=np.float64)
    G = np.array([-t[3] / n for t in terms])
    code = Outcome.CONVERGED if run.converged else Outcome.MAX_STEPS
    facts = facts_from_rows(code, L, G, P, lr=None, tol=None, method="newton")
    message = (
        f"converged at step {len(P) - 1}: the Newton steps stopped changing the coefficients "
        f"(relative {IRLS_RTOL:g}); gradient norm {np.linalg.norm(G[-1]):.3g}"
        if run.converged
        else describe(facts)
    )
    return Trajectory(
        params=P, loss=L, grad=G, method="newton", lr=None, status=status(facts), message=message
    )
