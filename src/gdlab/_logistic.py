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
from typing import Any

import jax.numpy as jnp
import numpy as np

from gdlab import _inference
from gdlab._beside import descent
from gdlab._cancel import checkpoint
from gdlab._checks import InputError
from gdlab._data import Design
from gdlab._engine import Outcome, describe, facts_from_rows, status
from gdlab._families import IRLS_MAX_ITERATIONS, IRLS_RTOL, mean_log_loss
from gdlab._fitresult import Fit, Settings, method_name
from gdlab._methods import Method
from gdlab._ols import least_squares
from gdlab._trajectory import Trajectory

__all__ = ["fit_logistic", "irls"]


def check_binary(y: np.ndarray, column: str) -> None:
    """Refuse a response that is not 0/1, naming the first bad row, or one with a single class."""
    bad = np.flatnonzero((y != 0) & (y != 1))
    if bad.size:
        row = int(bad[0])
        raise InputError(
            f"column {column!r} must hold only 0 and 1 for family='logistic'; it holds {y[row]:g} at row "
            f"{row} ({bad.size:,} such rows): recode it, for example as 1 where it is above a threshold"
        )
    if np.all(y == y[0]):
        raise InputError(f"column {column!r} is {y[0]:g} in every row: a logistic model needs both 0s and 1s")


def _sigmoid(eta: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -eta))


def _deviance(y: np.ndarray, eta: np.ndarray) -> float:
    """``-2 log-likelihood``, computed without forming log(p) of a p that rounds to 0 or 1."""
    return float(2 * np.sum(np.logaddexp(0.0, eta) - y * eta))


def irls(X: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], bool, Any]:
    """Newton's method on the log-likelihood from zero: (every iterate, converged, the last solve)."""
    iterates = [np.zeros(X.shape[1])]
    solved = None
    for _ in range(IRLS_MAX_ITERATIONS):
        checkpoint()  # each iteration is a QR of all the rows
        b = iterates[-1]
        eta = X @ b
        p = _sigmoid(eta)
        w = np.maximum(p * (1 - p), 1e-300)
        root = np.sqrt(w)
        solved = least_squares(X * root[:, None], root * eta + (y - p) / root)
        new = solved.coef.astype(np.float64)
        iterates.append(new)
        if np.all(np.abs(new - b) <= IRLS_RTOL * np.maximum(1.0, np.abs(new))):
            return iterates, True, solved
    return iterates, False, solved


def _newton_path(X: np.ndarray, y: np.ndarray, iterates: list[np.ndarray], converged: bool) -> Trajectory:
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
    data = {"Z": jnp.asarray(X), "y": jnp.asarray(y)}
    return Trajectory(
        params=P,
        loss=L,
        grad=G,
        method="newton",
        lr=None,
        status=status(facts),
        message=message,
        loss_fn=lambda b: mean_log_loss(b, data),
    )


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
    if not converged or np.max(np.abs(fitted - target)) < 1e-8:
        notes.append(
            "the classes are (nearly) perfectly separated by the regressors: the likelihood keeps rising as "
            "the coefficients grow, so they (and their standard errors) are not finite; "
            f"stopped after {iterations} Newton steps"
        )
    stats = None
    if solved is not None and solved.full_rank:
        cov = solved.unscaled_inverse()
        mean = target.mean()
        null = (
            -2 * np.sum(target * np.log(mean) + (1 - target) * np.log(1 - mean))
            if intercept
            else 2 * len(target) * np.log(2)
        )
        stats = _inference.logistic(
            coef, cov, _deviance(target, eta), float(null), len(target) - X.shape[1], solved.condition
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
        return dataclasses.replace(result, trajectory=_newton_path(X, target, iterates, converged))
    # Any other method descends the mean log-loss on standardised columns, beside Newton's solution.
    regressors = design.names[int(intercept) :]
    return descent(result, tuple(table[c] for c in regressors), y, settings, how, "logistic")
