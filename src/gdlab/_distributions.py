"""The tail probabilities and quantiles that p-values and intervals need, from ``scipy.special``.

``scipy.stats`` costs half a second to import, more than a one-off script's whole fit; its
``t``, ``norm``, ``f`` and ``chi2`` call these same special functions (Student's ``stdtr``,
the normal ``ndtr``, the F and chi-squared complements), so nothing is lost but the wait.
A p-value is the complement computed directly (``stdtr(df, -|t|)``), never ``1 - cdf``,
so a p-value of 1e-30 is 1e-30 and not 0.
"""

from __future__ import annotations

import numpy as np
from scipy import special  # type: ignore[import-untyped]

__all__ = ["chi2_sf", "f_sf", "normal_quantile", "t_quantile", "two_sided"]


def two_sided(statistic: np.ndarray, df: float | None) -> np.ndarray:
    """The two-sided p-value of ``statistic``: Student's t on ``df`` degrees of freedom, or the
    normal distribution when ``df`` is ``None``."""
    tail = -np.abs(np.asarray(statistic, dtype=np.float64))
    return 2 * (special.ndtr(tail) if df is None else special.stdtr(df, tail))


def t_quantile(q: float, df: float | None) -> float:
    """The ``q`` quantile of Student's t on ``df`` degrees of freedom (normal when ``None``)."""
    return float(special.ndtri(q) if df is None else special.stdtrit(df, q))


def normal_quantile(q: float) -> float:
    """The ``q`` quantile of the standard normal distribution."""
    return float(special.ndtri(q))


def f_sf(value: float, dfn: float, dfd: float) -> float:
    """``P(F > value)`` for F on ``dfn`` and ``dfd`` degrees of freedom."""
    return float(special.fdtrc(dfn, dfd, value))


def chi2_sf(value: float, df: float) -> float:
    """``P(X > value)`` for chi-squared on ``df`` degrees of freedom."""
    return float(special.chdtrc(df, value))
