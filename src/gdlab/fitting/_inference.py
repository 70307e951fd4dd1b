"""What a fitted model says beyond its coefficients: standard errors, tests, intervals, goodness of fit.

Linear least squares follows the textbook (and statsmodels' OLS, R's ``lm``): the residual
variance ``s^2 = RSS / (n - p)``, the covariance ``s^2 (X'X)^-1`` (read from the QR factor, never
by inverting ``X'X``), ``t = b / se``, R² about the mean with an intercept and about zero without
one, adjusted R², the F test of every coefficient but the intercept, and the Gaussian
log-likelihood at ``sigma^2 = RSS / n`` with ``AIC = 2p - 2 llf`` and ``BIC = p log(n) - 2 llf``
(statsmodels' conventions). A robust covariance (:mod:`gdlab.fitting._robust`) replaces the
covariance, and every test and interval follows it, as with statsmodels' ``cov_type=`` and
``use_t=True``. A logistic model reports the inverse of the information matrix, ``z = b / se``,
and the likelihood-ratio test against the intercept alone (statsmodels' ``Logit``); a formula
(nonlinear least squares) the Gauss-Newton covariance ``s^2 (J'J)^-1`` at the solution, as R's
``nls`` does. Probabilities come from :mod:`gdlab._distributions` (no ``scipy.stats``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdlab._checks import InputError
from gdlab._distributions import chi2_sf, f_sf, t_quantile, two_sided
from gdlab._ols import Columns, LeastSquares
from gdlab.fitting._minpack import RESIDUALS, exact_floor, exact_rss

__all__ = [
    "LEGEND",
    "HypothesisTest",
    "Inference",
    "checked_alpha",
    "format_p",
    "glm",
    "least_squares",
    "linear",
    "logistic",
    "nonlinear",
    "stars",
    "wald",
    "with_covariance",
]

# R's significance codes: the stars of a p-value below each cut.
SIGNIFICANCE = ((0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, "."))
LEGEND = "Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1"


def stars(p: float) -> str:
    """R's significance code of a p-value (``""`` above 0.1 and for NaN)."""
    return next((mark for cut, mark in SIGNIFICANCE if p < cut), "")


def checked_alpha(alpha: object) -> float:
    """``alpha``, refused unless a number strictly between 0 and 1, and above 0.5 too: an interval
    that covers less than half (``alpha=0.95`` is a 5% interval) is R's ``level=0.95`` given as
    ``alpha``, not an interval anyone reports."""
    if not (isinstance(alpha, int | float | np.floating) and not isinstance(alpha, bool) and 0 < alpha < 1):
        raise InputError(
            f"alpha is the error rate of an interval, a number strictly between 0 and 1: give 0.05 for "
            f"95% intervals (got {alpha!r})",
            parameter="alpha",
        )
    if alpha > 0.5:
        raise InputError(
            f"alpha={alpha:g} asks for a {100 * (1 - alpha):.3g}% interval: alpha is the error rate, "
            f"give {1 - alpha:.3g} for a {100 * alpha:.3g}% interval "
            f"(R's level={alpha:g} is alpha={1 - alpha:.3g})",
            parameter="alpha",
        )
    return float(alpha)


@dataclass(frozen=True)
class HypothesisTest:
    """A test of linear restrictions ``R b = q`` (or of the model as a whole).

    Attributes:
        statistic: the F statistic (``distribution="F"``) or chi-squared statistic.
        df_num: the restrictions tested (the numerator's degrees of freedom).
        df_denom: the denominator's degrees of freedom of an F test (``None`` for chi-squared).
        pvalue: the probability of a statistic this large if the restrictions hold.
        distribution: ``"F"`` or ``"chi2"``.
        hypothesis: what was tested, in words.
    """

    statistic: float
    df_num: int
    df_denom: float | None
    pvalue: float
    distribution: str
    hypothesis: str

    def to_dict(self) -> dict[str, object]:
        """The test as plain values."""
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        df = f"{self.df_num} and {self.df_denom:g} DF" if self.df_denom is not None else f"{self.df_num} DF"
        return (
            f"{self.distribution}-statistic: {self.statistic:.6g} on {df}, p-value: {format_p(self.pvalue)}"
        )


@dataclass(frozen=True, eq=False)
class Inference:
    """Standard errors, tests and fit statistics of one model.

    Attributes:
        se: the standard error of each coefficient.
        statistic: ``coef / se`` (a t statistic for linear models and formulas, z for logistic).
        pvalue: the two-sided p-value of each statistic.
        statistic_name: ``"t"`` or ``"z"``.
        r2: R² (linear), or McFadden's pseudo-R² (logistic); ``None`` for a formula.
        adj_r2: adjusted R² (``None`` for logistic and formulas).
        sigma: the residual standard deviation ``sqrt(RSS / df_resid)`` (``None`` for logistic).
        rss: the residual sum of squares (the deviance for logistic).
        df_resid: the residual degrees of freedom, ``n - p``.
        condition: the condition number of the design (of ``X`` for linear models,
            of the weighted design at the solution for logistic, of the Jacobian for a formula).
        log_likelihood: the log-likelihood at the solution.
        coef: the coefficients these statistics are about.
        cov: the covariance matrix of the coefficients.
        cov_type: ``"nonrobust"``, ``"HC0"`` ... ``"HC3"`` or ``"cluster"``.
        df_inference: the degrees of freedom of the t and F distributions (``df_resid``, or the
            clusters less one for a clustered covariance); ``None`` where the normal is used (logistic).
        nobs: the rows fitted.
        intercept: whether the model has an intercept (the first coefficient).
        model_test: the F test of every coefficient but the intercept (linear), or the
            likelihood-ratio chi-squared test against the intercept alone (logistic).
        null_log_likelihood: the log-likelihood of the intercept alone (logistic, GLM).
        groups: the clusters of a clustered covariance.
        null_dev: the deviance of the intercept alone where it is not ``-2`` times its
            log-likelihood (a GLM's; ``None`` otherwise).
        scaled_condition: a formula's Jacobian's condition number with its columns scaled to
            norm 1 (the parameters' units taken out: how nearly dependent they are; ``None``
            for other models, whose design's is in :attr:`condition`).
    """

    se: np.ndarray
    statistic: np.ndarray
    pvalue: np.ndarray
    statistic_name: str
    r2: float | None
    adj_r2: float | None
    sigma: float | None
    rss: float
    df_resid: float
    condition: float
    log_likelihood: float | None = None
    coef: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    cov: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0)))
    cov_type: str = "nonrobust"
    df_inference: float | None = None
    nobs: float = 0
    intercept: bool = False
    model_test: HypothesisTest | None = None
    null_log_likelihood: float | None = None
    groups: int | None = None
    null_dev: float | None = None
    scaled_condition: float | None = None

    @property
    def k(self) -> int:
        """The coefficients counted by AIC and BIC (statsmodels counts ``df_model + 1``: the rank)."""
        return len(self.coef)

    @property
    def deviance(self) -> float:
        """The deviance: the residual sum of squares (linear, formula; a Gaussian GLM's deviance),
        or ``-2 llf`` for a logistic model (statsmodels' ``GLM(...).deviance``, R's ``deviance``)."""
        return float(self.rss)

    @property
    def null_deviance(self) -> float | None:
        """The deviance of the intercept alone (logistic, GLM; ``None`` otherwise)."""
        if self.null_dev is not None:
            return float(self.null_dev)
        return None if self.null_log_likelihood is None else float(-2 * self.null_log_likelihood)

    @property
    def aic(self) -> float | None:
        """Akaike's information criterion, ``2k - 2 llf``."""
        return None if self.log_likelihood is None else float(2 * self.k - 2 * self.log_likelihood)

    @property
    def bic(self) -> float | None:
        """The Bayesian information criterion, ``k log(n) - 2 llf``."""
        if self.log_likelihood is None:
            return None
        return float(self.k * np.log(self.nobs) - 2 * self.log_likelihood)

    def conf_int(self, alpha: float) -> np.ndarray:
        """The ``1 - alpha`` intervals of the coefficients, (p, 2): t on ``df_inference``, or z."""
        q = t_quantile(1 - alpha / 2, self.df_inference)
        return np.column_stack([self.coef - q * self.se, self.coef + q * self.se])


# Why a converged formula fit with residual degrees of freedom has no standard errors.
SINGULAR = (
    "the Jacobian at the answer is rank-deficient, so some parameter has no effect on the formula "
    "there, or some cannot be told apart from the others (as a*exp(b+x)); fix one of them, write "
    "the formula with fewer, or start elsewhere"
)


def linear_note(rss: float, df_resid: float, response: str, constant: float | None) -> str | None:
    """What a linear fit says where its residuals have no variation, for fits of rows in memory and
    streamed alike: that its response is constant beside an intercept (``constant``, its value, from
    :func:`constant_value`; there is nothing to explain), or else :func:`exact_note`.

    Example:
        >>> linear_note(0.0, 8, "y", 5.0)[:33]
        "'y' is constant (5 in every row):"
        >>> linear_note(2.5, 8, "y", None) is None
        True
    """
    if constant is not None:
        return (
            f"{response!r} is constant ({constant:.10g} in every row): there is nothing to explain, so "
            "the standard errors are 0 and t, p and R² are undefined"
        )
    return exact_note(rss, df_resid)


def constant_value(centred: float, mean: float, y: Any) -> float | None:
    """The response's value where it is constant to its rounding (its sum of squares about its mean,
    ``centred``, within :func:`gdlab.fitting._minpack.exact_floor` of ``y``: the data, or any vector
    of its norm), else ``None``: a streamed fit's merged factor holds a constant response's spread
    as rounding, not as 0."""
    return mean if centred <= exact_floor(y) else None


def constant_of(values: np.ndarray) -> float | None:
    """A column's value where it is constant to its rounding (:func:`constant_value`), from its
    values in memory, as a streamed fit judges it from its factor
    (:meth:`gdlab.fitting._linear.LinearStats.constant`): a column whose range already says it
    varies (its sum of squares about its mean is at least half its range squared) is not summed."""
    low, high = float(values.min()), float(values.max())
    if low == high:
        return low
    if (high - low) ** 2 > 2 * RESIDUALS**2 * len(values) * max(low * low, high * high):
        return None
    exact = np.asarray(values, dtype=np.float64)
    mean = float(exact.mean())
    return constant_value(float((exact - mean) @ (exact - mean)), mean, exact)


def exact_note(rss: float, df_resid: float) -> str | None:
    """What a least-squares fit without residual variation says of its standard errors, for linear
    fits and formulas alike (``None`` when it has some).

    Example:
        >>> exact_note(0.0, 0)[:48]
        'the fit has as many coefficients as rows (no res'
        >>> exact_note(0.0, 5)[:40]
        'the fit is exact (every residual is 0, t'
        >>> exact_note(2.5, 8) is None
        True
    """
    if df_resid <= 0:
        return (
            "the fit has as many coefficients as rows (no residual degrees of freedom), so the "
            "standard errors, t and p are undefined"
        )
    if rss == 0:
        return (
            "the fit is exact (every residual is 0, to the data's rounding), so the standard errors are 0 "
            "and t and p are undefined"
        )
    return None


def format_p(p: float) -> str:
    """A p-value as R prints it: ``<2e-16`` below the float64 resolution R uses."""
    if not np.isfinite(p):
        return "NA"
    return "<2e-16" if p < 2.2e-16 else f"{p:.3g}"


def _ratios(coef: np.ndarray, se: np.ndarray) -> np.ndarray:
    positive = se > 0
    if positive.all():
        return coef / se
    with np.errstate(divide="ignore", invalid="ignore"):  # a perfect fit (se 0) has no t value
        return np.where(positive, coef / np.where(positive, se, 1.0), np.nan)


def wald(
    coef: np.ndarray, cov: np.ndarray, R: np.ndarray, q: np.ndarray, df: float | None, hypothesis: str
) -> HypothesisTest:
    """The Wald test of ``R b = q``: F on (rows of R, ``df``), or chi-squared when ``df`` is None."""
    d = R @ coef - q
    middle = R @ cov @ R.T
    stat = float(d @ np.linalg.lstsq(middle, d, rcond=None)[0])
    J = R.shape[0]
    if df is None:
        return HypothesisTest(stat, J, None, chi2_sf(stat, J), "chi2", hypothesis)
    return HypothesisTest(stat / J, J, float(df), f_sf(stat / J, J, df), "F", hypothesis)


def _slopes(p: int, intercept: bool) -> np.ndarray:
    return np.eye(p)[int(intercept) :]


def least_squares(
    coef: np.ndarray,
    unscaled: np.ndarray,
    rank: int,
    n: int,
    rss: float,
    tss: float,
    intercept: bool,
    condition: float,
    floor: float = 0.0,
) -> Inference:
    """Inference for a linear least-squares fit from ``(X'X)^-1`` (``unscaled``), the residual
    and total sums of squares (full rank: otherwise standard errors are NaN). R² is undefined
    (NaN, as R's 0/0) where the total sum of squares is within ``floor``, the response's rounding
    (:func:`gdlab.fitting._minpack.exact_floor`): a constant response (:func:`constant_value`)."""
    p = len(coef)
    df = n - rank
    r2 = 1 - rss / tss if tss > floor else float("nan")
    s2 = rss / df if df > 0 else float("nan")
    cov = s2 * unscaled
    se = np.sqrt(np.diag(cov))
    t = _ratios(coef, se)
    k_model = p - int(intercept)
    test = None
    if df > 0 and k_model > 0 and rss > 0:
        f = ((tss - rss) / k_model) / s2
        test = HypothesisTest(f, k_model, float(df), f_sf(f, k_model, df), "F", _every_slope(intercept))
    return Inference(
        se=se,
        statistic=t,
        pvalue=two_sided(t, df) if df > 0 else np.full(p, np.nan),
        statistic_name="t",
        r2=r2,
        adj_r2=1 - (n - int(intercept)) / df * (1 - r2) if df > 0 else float("nan"),
        sigma=float(np.sqrt(s2)),
        rss=rss,
        df_resid=df,
        condition=condition,
        log_likelihood=_gaussian(n, rss),
        coef=coef,
        cov=cov,
        df_inference=float(df) if df > 0 else None,
        nobs=n,
        intercept=intercept,
        model_test=test,
    )


def _every_slope(intercept: bool) -> str:
    return "every coefficient but the intercept is 0" if intercept else "every coefficient is 0"


def linear(solve: LeastSquares, design: Columns, y: np.ndarray, intercept: bool) -> Inference:
    """Inference for a linear least-squares fit of rows in memory (full rank: otherwise standard
    errors are NaN). ``design`` is read a block of rows at a time (:class:`~gdlab._ols.Columns`)."""
    p = design.p
    coef = solve.coef.astype(np.float64)
    residual = y - design.matvec(coef)
    rss = exact_rss(float(residual @ residual), y)  # 0 within the data's rounding, as a formula's
    centred = y - y.mean() if intercept else y
    unscaled = solve.unscaled_inverse() if solve.full_rank else np.full((p, p), np.nan)
    tss = float(centred @ centred)
    return least_squares(
        coef, unscaled, solve.rank, design.n, rss, tss, intercept, solve.condition, exact_floor(y)
    )


def with_covariance(
    stats: Inference, cov: np.ndarray, cov_type: str, df: float | None, groups: int | None = None
) -> Inference:
    """``stats`` with another covariance (robust, clustered): standard errors, statistics,
    p-values and a linear model's F test (a Wald test, as statsmodels computes it) follow it; a
    logistic model's likelihood-ratio test does not depend on it (statsmodels' ``llr`` neither)."""
    se = np.sqrt(np.diag(cov))
    t = _ratios(stats.coef, se)
    test = stats.model_test
    if test is not None and test.distribution == "F":  # a likelihood ratio needs no covariance
        R = _slopes(len(stats.coef), stats.intercept)
        test = wald(stats.coef, cov, R, np.zeros(len(R)), df, test.hypothesis)
    return dataclasses.replace(
        stats,
        se=se,
        statistic=t,
        pvalue=two_sided(t, df),
        cov=cov,
        cov_type=cov_type,
        df_inference=df,
        model_test=test,
        groups=groups,
    )


def logistic(
    coef: np.ndarray,
    cov: np.ndarray,
    deviance: float,
    null_deviance: float,
    df: int,
    condition: float,
    intercept: bool = True,
) -> Inference:
    """Inference for a logistic fit from the inverse information matrix ``cov``: Wald z tests
    and the likelihood-ratio test against the intercept alone (all zero without an intercept)."""
    return dataclasses.replace(
        glm(
            coef,
            cov,
            deviance=deviance,
            null_deviance=null_deviance,
            llf=-deviance / 2,
            null_llf=-null_deviance / 2,
            df=df,
            nobs=df + len(coef),
            condition=condition,
            intercept=intercept,
        ),
        null_dev=None,
    )


def glm(
    coef: np.ndarray,
    cov: np.ndarray,
    *,
    deviance: float,
    null_deviance: float,
    llf: float,
    null_llf: float,
    df: float,
    nobs: float,
    condition: float,
    intercept: bool = True,
) -> Inference:
    """Inference for a GLM of known scale (binomial, Poisson; logistic) from the inverse
    information matrix ``cov``: Wald z tests, the likelihood-ratio test against the null model
    (the intercept alone, with any offset), McFadden's pseudo-R² and the deviances (statsmodels'
    ``GLM`` and ``Logit``)."""
    se = np.sqrt(np.diag(cov))
    z = _ratios(coef, se)
    p = len(coef)
    k_model = p - int(intercept)
    llr = 2 * (llf - null_llf)
    test = (
        HypothesisTest(llr, k_model, None, chi2_sf(llr, k_model), "chi2", _every_slope(intercept))
        if k_model > 0
        else None
    )
    return Inference(
        se=se,
        statistic=z,
        pvalue=two_sided(z, None),
        statistic_name="z",
        r2=1 - llf / null_llf if null_llf < 0 else float("nan"),
        adj_r2=None,
        sigma=None,
        rss=deviance,
        df_resid=df,
        condition=condition,
        log_likelihood=llf,
        coef=np.asarray(coef, dtype=np.float64),
        cov=cov,
        df_inference=None,
        nobs=nobs,
        intercept=intercept,
        model_test=test,
        null_log_likelihood=null_llf,
        null_dev=null_deviance,
    )


def nonlinear(coef: np.ndarray, jacobian: np.ndarray, residual: np.ndarray) -> Inference | None:
    """Inference for nonlinear least squares at its solution ``coef``, as R's ``nls`` reports it:
    the Gauss-Newton covariance ``s^2 (J'J)^-1`` from the QR factor of the Jacobian ``J`` of the
    model (never by inverting ``J'J``), ``s^2 = RSS / (n - p)``, t on ``n - p`` degrees of freedom
    (``None`` when ``J`` is rank-deficient or no degree of freedom is left).

    The log-likelihood is the Gaussian one at ``sigma^2 = RSS / n``, as for a linear fit; its AIC
    and BIC count the ``p`` parameters (R's ``AIC(nls)`` counts ``sigma`` too: ``2`` more).
    """
    from gdlab._ols import factor

    n, p = jacobian.shape
    solved = factor(jacobian, residual)  # least_squares' factor R, without its solution
    if not solved.full_rank or n <= p:
        return None
    rss = float(residual @ residual)
    df = n - p
    s2 = rss / df
    cov = s2 * solved.unscaled_inverse()
    se = np.sqrt(np.diag(cov))
    t = _ratios(coef, se)
    return Inference(
        se=se,
        statistic=t,
        pvalue=two_sided(t, df),
        statistic_name="t",
        r2=None,
        adj_r2=None,
        sigma=float(np.sqrt(s2)),
        rss=rss,
        df_resid=df,
        condition=solved.condition,
        log_likelihood=_gaussian(n, rss),
        coef=np.asarray(coef, dtype=np.float64),
        cov=cov,
        df_inference=float(df),
        nobs=n,
        scaled_condition=solved.scaled_condition,
    )


def _gaussian(n: int, rss: float) -> float | None:
    """The Gaussian log-likelihood at ``sigma^2 = RSS / n`` (``None`` for a perfect fit)."""
    return float(-n / 2 * (np.log(2 * np.pi * rss / n) + 1)) if rss > 0 else None
