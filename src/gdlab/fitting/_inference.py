"""What a fitted model says beyond its coefficients: standard errors, test statistics, goodness of fit.

Linear least squares follows the textbook (and statsmodels' OLS): the residual
variance ``s^2 = RSS / (n - p)``, the covariance ``s^2 (X'X)^-1`` (read from the
QR factor, never by inverting ``X'X``), ``t = b / se``, R² about the mean with
an intercept and about zero without one, and adjusted R². A logistic model
reports the inverse of the information matrix and ``z = b / se``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.stats  # type: ignore[import-untyped]

from gdlab._ols import Columns, LeastSquares

__all__ = ["Inference", "linear", "logistic"]


@dataclass(frozen=True, eq=False)
class Inference:
    """Standard errors and fit statistics of one model.

    Attributes:
        se: the standard error of each coefficient.
        statistic: ``coef / se`` (a t statistic for linear models, z for logistic).
        pvalue: the two-sided p-value of each statistic.
        statistic_name: ``"t"`` or ``"z"``.
        r2: R² (linear), or McFadden's pseudo-R² (logistic).
        adj_r2: adjusted R² (``None`` for logistic).
        sigma: the residual standard deviation ``sqrt(RSS / df_resid)`` (``None`` for logistic).
        rss: the residual sum of squares (the deviance for logistic).
        df_resid: the residual degrees of freedom, ``n - p``.
        condition: the condition number of the design (of ``X`` for linear models,
            of the weighted design at the solution for logistic).
        log_likelihood: the log-likelihood (``None`` for least squares without a distribution).
    """

    se: np.ndarray
    statistic: np.ndarray
    pvalue: np.ndarray
    statistic_name: str
    r2: float
    adj_r2: float | None
    sigma: float | None
    rss: float
    df_resid: int
    condition: float
    log_likelihood: float | None = None


def linear(solve: LeastSquares, design: Columns, y: np.ndarray, intercept: bool) -> Inference:
    """Inference for a linear least-squares fit (full rank: otherwise standard errors are NaN).

    ``design`` is read a block of rows at a time (:class:`~gdlab._ols.Columns`)."""
    n, p = design.n, design.p
    coef = solve.coef.astype(np.float64)
    residual = y - design.matvec(coef)
    rss = float(residual @ residual)
    df = n - solve.rank
    centred = y - y.mean() if intercept else y
    tss = float(centred @ centred)
    r2 = 1 - rss / tss if tss > 0 else float("nan")
    adj = 1 - (n - int(intercept)) / df * (1 - r2) if df > 0 else float("nan")
    s2 = rss / df if df > 0 else float("nan")
    cov = s2 * solve.unscaled_inverse() if solve.full_rank else np.full((p, p), np.nan)
    se = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):  # a perfect fit (se 0) has no t value
        t = np.where(se > 0, coef / np.where(se > 0, se, 1.0), np.nan)
    pvalue = 2 * scipy.stats.t.sf(np.abs(t), df) if df > 0 else np.full(p, np.nan)
    return Inference(
        se=se,
        statistic=t,
        pvalue=pvalue,
        statistic_name="t",
        r2=r2,
        adj_r2=adj,
        sigma=float(np.sqrt(s2)),
        rss=rss,
        df_resid=df,
        condition=solve.condition,
        log_likelihood=-n / 2 * (np.log(2 * np.pi * rss / n) + 1) if rss > 0 else None,
    )


def logistic(
    coef: np.ndarray, cov: np.ndarray, deviance: float, null_deviance: float, df: int, condition: float
) -> Inference:
    """Inference for a logistic fit from the inverse information matrix ``cov``."""
    se = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = coef / se
    return Inference(
        se=se,
        statistic=z,
        pvalue=2 * scipy.stats.norm.sf(np.abs(z)),
        statistic_name="z",
        r2=1 - deviance / null_deviance if null_deviance > 0 else float("nan"),
        adj_r2=None,
        sigma=None,
        rss=deviance,
        df_resid=df,
        condition=condition,
        log_likelihood=-deviance / 2,
    )
