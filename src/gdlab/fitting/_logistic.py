"""Logistic regression: a 0/1 response fitted by maximum likelihood, Newton's method (IRLS) to convergence.

Each Newton step on the log-likelihood is a weighted least-squares solve
(iteratively reweighted least squares): with ``p = sigmoid(X b)`` and weights
``w = p (1 - p)``, the step solves ``min |sqrt(w) (z - X b)|`` for the working
response ``z = X b + (y - p) / w``. Each solve goes through gdlab's scaled,
pivoted QR (:mod:`gdlab._ols`), never through ``X'WX``; the inverse of the
information matrix ``X'WX`` at the solution gives the standard errors.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from gdlab._checks import InputError
from gdlab._data import Design
from gdlab._engine import Outcome, describe, facts_from_rows, separated, status
from gdlab._methods import Method
from gdlab._ols import least_squares
from gdlab._trajectory import Trajectory
from gdlab._tsqr import one_blas_thread
from gdlab.data import check_kept_rows
from gdlab.fitting import _inference
from gdlab.fitting._families import (
    IRLS_MAX_ITERATIONS,
    IRLS_RTOL,
    check_binary_response,
    mean_log_loss,
)
from gdlab.fitting._glm import Model, glm_block, merge_glm, newton
from gdlab.fitting._glm_families import GLM_FAMILIES
from gdlab.fitting._result import Fit
from gdlab.fitting._settings import Settings, method_name

__all__ = ["fit_logistic", "fit_logistic_source", "irls", "newton"]


def check_binary(y: np.ndarray, column: str) -> None:
    """Refuse a response that is not 0/1, naming the first bad row, or one with a single class."""
    bad = np.flatnonzero((y != 0) & (y != 1))
    if bad.size:
        row = int(bad[0])
        value = y[row]
        raise InputError(
            lambda s: (
                f"column {column!r} must hold only 0 and 1 for "
                f"{s.setting('family', 'logistic', quoted=True)}; it holds {value:g} at row "
                f"{row} ({bad.size:,} such rows): recode it, for example as 1 where it is above a threshold"
            ),
            parameter="family",
        )
    if np.all(y == y[0]):
        raise InputError(f"column {column!r} is {y[0]:g} in every row: a logistic model needs both 0s and 1s")


def _sigmoid(eta: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -eta))


def _deviance(y: np.ndarray, eta: np.ndarray) -> float:
    """``-2 log-likelihood``, computed without forming log(p) of a p that rounds to 0 or 1."""
    return float(2 * np.sum(np.logaddexp(0.0, eta) - y * eta))


def irls(X: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], bool, Any]:
    """Newton's method on the log-likelihood of rows in memory: (every iterate, converged, the last solve)."""

    def step(b: np.ndarray) -> tuple[Any, None]:
        eta = X @ b
        p = _sigmoid(eta)
        root = np.sqrt(np.maximum(p * (1 - p), 1e-300))
        return least_squares(X * root[:, None], root * eta + (y - p) / root), None

    iterates, converged, solved, _ = newton(step, X.shape[1])
    return iterates, converged, solved


def _newton_path(
    X: np.ndarray, y: np.ndarray, iterates: list[np.ndarray], converged: bool, apart: bool = False
) -> Trajectory:
    """Newton's iterates as a :class:`Trajectory` of the mean log-loss, worded by the engine."""
    P = np.array(iterates)
    eta = P @ X.T
    L = np.mean(np.logaddexp(0.0, eta) - y * eta, axis=1)
    G = (_sigmoid(eta) - y) @ X / len(y)
    code = Outcome.CONVERGED if converged else Outcome.MAX_STEPS
    facts = facts_from_rows(code, L, G, P, lr=None, tol=None, method="newton")
    message = (  # its stop rule is on the steps, not a tolerance on the gradient
        f"converged at step {len(P) - 1}: the Newton steps stopped changing the coefficients "
        f"(relative {IRLS_RTOL:g}); gradient norm {np.linalg.norm(G[-1]):.3g}"
        if converged
        else describe(facts)
    )
    data = {"Z": X, "y": y}  # NumPy: JAX reads them when the loss is drawn, not before
    said = status(facts)
    if apart:  # separated classes: the steps stopped on saturated numbers, at no maximum
        ending = separated(len(P) - 1)
        said, message = ending.status, ending.sentence
    return Trajectory(
        params=P,
        loss=L,
        grad=G,
        method="newton",
        lr=None,
        status=said,
        message=message,
        words=None if converged or apart else functools.partial(describe, facts),
        loss_fn=functools.partial(_mean_log_loss_of, data),
    )


def _mean_log_loss_of(data: Any, b: Any) -> Any:
    """The mean log-loss at ``b`` (a module function, so that a fit's path pickles)."""
    return mean_log_loss(b, data)


def fit_logistic(
    design: Design,
    y: np.ndarray,
    response: str,
    how: str | Method,
    settings: Settings,
    table: Any,
    intercept: bool,
    dtype: np.dtype,
) -> Fit:
    """A logistic :class:`Fit`: Newton's solution, with ``how`` beside it when it is another method."""
    check_binary(y, response)
    X = design.matrix.astype(np.float64)
    target = y.astype(np.float64)
    iterates, converged, solved = irls(X, target)
    coef, iterations = iterates[-1], len(iterates) - 1
    notes = []
    eta = X @ coef
    fitted = _sigmoid(eta)
    apart = not converged or np.max(np.abs(fitted - target)) < 1e-8
    if apart:
        notes.append(
            "the classes are (nearly) perfectly separated by the regressors: the likelihood keeps rising as "
            "the coefficients grow, so they (and their standard errors) are not finite; "
            f"stopped after {iterations} Newton steps"
        )
    stats = None
    if solved is not None and solved.full_rank:
        # Separated classes have no maximum: the Wald standard errors at wherever the steps stopped
        # (1e150 beside coefficients of 1e300) would read as significant, so they are not given.
        cov = np.full((X.shape[1], X.shape[1]), np.nan) if apart else solved.unscaled_inverse()
        mean = target.mean()
        null = (
            -2 * np.sum(target * np.log(mean) + (1 - target) * np.log(1 - mean))
            if intercept
            else 2 * len(target) * np.log(2)
        )
        stats = _inference.logistic(
            coef,
            cov,
            _deviance(target, eta),
            float(null),
            len(target) - X.shape[1],
            solved.condition,
            intercept,
        )
    if solved is not None:
        notes = [*solved.messages(), *notes]
    result = Fit(
        y=response,
        names=design.names,
        method=method_name(how),
        coef=coef,
        closed_form=coef,
        n=table.n,
        warnings=tuple(notes),
        dropped=table.dropped,
        intercept=intercept,
        dtype=dtype,
        family="logistic",
        stats=stats,
        reference="Newton (IRLS)",
        _data=table,
    )
    if how == "newton":  # its path is Newton's own iterates, in the data's units
        return dataclasses.replace(result, trajectory=_newton_path(X, target, iterates, converged, apart))
    # Any other method descends the mean log-loss on standardised columns, beside Newton's solution.
    from gdlab.fitting._beside import descent  # JAX and optax: Newton alone never needs them

    regressors = design.names[int(intercept) :]
    return descent(result, tuple(table[c] for c in regressors), y, settings, how, "logistic")


# --- rows elsewhere: a pass per Newton step ---------------------------------------------------------


def _pass_step(source: Any, x: tuple[str, ...], y: str, intercept: bool) -> Callable[[np.ndarray], tuple]:
    """A Newton step whose terms are one pass over ``source`` (the binomial family's GLM terms,
    :func:`gdlab.fitting._glm.glm_block`, from zero): the merged QR factor of the weighted
    design, solved by gdlab's scaled, pivoted QR as in memory, refusing a response not 0/1, every
    row dropped, too few rows, or a single class."""
    p = len(x) + int(intercept)

    model = Model(GLM_FAMILIES["binomial"], y, x, intercept, binary=True)

    def step(b: np.ndarray) -> tuple:
        with one_blas_thread():
            found = source.reduce(glm_block, merge_glm, model, b)
        if found is not None and found[8] is not None:  # the first row not 0/1: (its row, its value)
            check_binary_response(np.array([found[8][1]]), y, found[8][0])
        check_kept_rows(source, 0 if found is None else found[4])
        R, deviance, _, score, n, _, _, ysum, _ = found
        if n < p:
            raise InputError(
                f"{n:,} rows but {p} coefficients: a fit needs at least as many rows as coefficients"
            )
        if ysum in (0.0, float(n)):
            raise InputError(
                f"column {y!r} is {ysum / n:g} in every row: a logistic model needs both 0s and 1s"
            )
        return least_squares(R[:-1, :-1], R[:-1, -1], rows=n), (deviance, -score, ysum, n)

    return step


def fit_logistic_source(
    source: Any, x: tuple[str, ...], y: str, intercept: bool, how: str | Method, settings: Settings
) -> Fit:
    """A logistic :class:`Fit` of rows streamed or on a cluster: Newton's method (IRLS) from zero
    with one pass per step, each step the same scaled, pivoted QR solve as in memory, and the same
    stop rule; another method descends the mean log-loss beside it with a pass per step."""
    from gdlab.fitting._beside import descent_over

    names_ = ("intercept", *x) if intercept else tuple(x)
    step = _pass_step(source, x, y, intercept)
    iterates, converged, solved, extras = newton(step, len(names_))
    _, (deviance, g, ysum, n) = step(iterates[-1])  # the loss and gradient at the answer
    losses = [e[0] / (2 * e[3]) for e in extras] + [deviance / (2 * n)]
    grads = [e[1] / e[3] for e in extras] + [g / n]
    coef = iterates[-1]
    mean = ysum / n
    null = -2 * n * (mean * np.log(mean) + (1 - mean) * np.log(1 - mean)) if intercept else 2 * n * np.log(2)
    stats = (
        _inference.logistic(
            coef,
            solved.unscaled_inverse(),
            deviance,
            float(null),
            n - len(names_),
            solved.condition,
            intercept,
        )
        if solved.full_rank
        else None
    )
    path = _path_from(iterates, losses, grads, converged)
    notes = (
        ()
        if converged
        else (
            f"Newton's method did not converge in {IRLS_MAX_ITERATIONS} steps: the classes "
            "may be separated, so the coefficients grow without bound",
        )
    )
    result = Fit(
        y=y,
        names=names_,
        method=method_name(how),
        coef=coef,
        closed_form=coef,
        n=n,
        warnings=(*solved.messages(), *notes),
        dropped=source.dropped + source.n - n,
        intercept=intercept,
        family="logistic",
        stats=stats,
        reference="Newton (IRLS)",
        trajectory=path,
    )
    if how == "newton":
        return result
    return descent_over(dataclasses.replace(result, trajectory=None), source, settings, how, "logistic")


def _path_from(iterates: list, losses: list, grads: list, converged: bool) -> Trajectory:
    """Newton's iterates as a :class:`Trajectory` worded by the engine (its stop rule is on the steps)."""
    P, L, G = np.array(iterates), np.asarray(losses, dtype=np.float64), np.array(grads)
    code = Outcome.CONVERGED if converged else Outcome.MAX_STEPS
    facts = facts_from_rows(code, L, G, P, lr=None, tol=None, method="newton")
    message = (
        f"converged at step {len(P) - 1}: the Newton steps stopped changing the coefficients "
        f"(relative {IRLS_RTOL:g}); gradient norm {np.linalg.norm(G[-1]):.3g}"
        if converged
        else describe(facts)
    )
    return Trajectory(
        params=P, loss=L, grad=G, method="newton", lr=None, status=status(facts), message=message
    )
