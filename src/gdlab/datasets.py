"""Data sets: the lecture's cafe sales and simulated regressions.

Example:
    >>> from gdlab import datasets
    >>> cafe = datasets.cafe()
    >>> cafe.x[:3].tolist(), float(cafe.y[0])
    ([20.1, 22.2, 22.7], 55.4183651)
    >>> cafe.X.shape
    (10, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdlab import _checks
from gdlab._checks import LIMITS, InputError, number, size, whole

__all__ = ["Regression", "cafe", "make_regression"]

# The lecture draws its noise with tf.random.set_seed(43052); that stream is
# not reproducible bit for bit everywhere, so the printed sales are the data.
_CAFE_TEMPERATURE = (20.1, 22.2, 22.7, 23.3, 24.4, 25.1, 26.2, 27.3, 28.4, 30.4)
_CAFE_SALES = (
    55.4183651,
    58.19427589,
    61.23082496,
    62.31255873,
    63.1070028,
    63.69569103,
    67.24704918,
    71.43650092,
    73.10130336,
    77.84988286,
)
_CAFE_BETA = (10.2, 2.2)


def _frozen(values: object) -> np.ndarray:
    arr = np.array(values, dtype=np.float64)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class Regression:
    """A linear regression data set ``y = beta0 + beta1 * x1 + ... + noise``.

    Attributes:
        x: the regressor, shape (n,), or the regressors, shape (n, p), when there are several.
        y: the response, shape (n,).
        beta: the coefficients the data were made with (intercept, then a slope per regressor).
        name: a short label.
    """

    x: np.ndarray
    y: np.ndarray
    beta: np.ndarray
    name: str = "regression"

    @property
    def X(self) -> np.ndarray:
        """The design matrix, shape (n, p + 1): a column of ones, then ``x``."""
        return _frozen(np.column_stack([np.ones(self.x.shape[0]), self.x]))

    @property
    def noise(self) -> np.ndarray:
        """The noise ``y - X @ beta`` (the lecture's epsilon)."""
        return _frozen(self.y - self.X @ self.beta)

    @property
    def n(self) -> int:
        """The number of observations."""
        return int(self.x.shape[0])

    def to_pandas(self):
        """The data as a DataFrame: columns ``x`` (``x1``, ``x2``, ... for several regressors) and ``y``."""
        import pandas as pd

        if self.x.ndim == 1:
            return pd.DataFrame({"x": self.x, "y": self.y})
        return pd.DataFrame({**{f"x{j + 1}": self.x[:, j] for j in range(self.x.shape[1])}, "y": self.y})


def cafe() -> Regression:
    """The lecture's cafe data: 10 temperatures and sales, true beta (10.2, 2.2).

    Returns:
        A :class:`Regression` with ``x`` (temperature), ``y`` (sales, exactly as
        the lecture prints them), ``X`` (design matrix) and ``beta``.
    """
    return Regression(
        x=_frozen(_CAFE_TEMPERATURE), y=_frozen(_CAFE_SALES), beta=_frozen(_CAFE_BETA), name="cafe"
    )


def make_regression(
    n: int = 100,
    beta: tuple[float, ...] = _CAFE_BETA,
    noise: float = 1.0,
    seed: int = 0,
    *,
    low: float = 20.0,
    high: float = 30.0,
) -> Regression:
    """Simulate ``y = beta0 + beta1 * x1 + ... + noise`` with each ``x`` uniform on [low, high].

    NumPy's PCG64 generator makes the same data from the same seed on any machine.

    Args:
        n: number of observations (at least 1).
        beta: the intercept and a slope per regressor: two numbers make ``x`` of shape (n,),
            more make ``x`` of shape (n, len(beta) - 1).
        noise: standard deviation of the Gaussian noise (>= 0).
        seed: the random seed.
        low: smallest x.
        high: largest x.

    Returns:
        A :class:`Regression`.

    Example:
        >>> data = make_regression(5, beta=(1.0, 2.0), noise=0.0, seed=1)
        >>> bool(np.allclose(data.y, 1 + 2 * data.x))
        True
        >>> make_regression(4, beta=(1.0, 2.0, -3.0), seed=1).X.shape
        (4, 3)
    """
    n = whole("n", n, low=1, high=LIMITS.table_numbers)
    try:
        coef = np.asarray(beta, dtype=np.float64)
    except (TypeError, ValueError):
        coef = np.array([np.nan])
    if coef.ndim != 1 or coef.size < 2 or not np.all(np.isfinite(coef)):
        raise InputError(f"beta must be two or more finite numbers (intercept, then slopes); got {beta!r}")
    size("numbers", n * coef.size, LIMITS.table_numbers, "simulate fewer rows (n) or regressors")
    noise = number("noise", noise, positive=False)
    if noise < 0:
        raise InputError(f"noise must be a finite standard deviation >= 0; got {noise!r}")
    low, high = number("low", low, positive=False), number("high", high, positive=False)
    if not low < high:
        raise InputError(f"need finite low < high for the range of x; got low={low}, high={high}")
    rng = np.random.default_rng(_checks.seed(seed))
    x = rng.uniform(low, high, size=int(n) if coef.size == 2 else (int(n), coef.size - 1))
    y = coef[0] + (x * coef[1] if coef.size == 2 else x @ coef[1:]) + noise * rng.standard_normal(int(n))
    return Regression(x=_frozen(x), y=_frozen(y), beta=_frozen(coef), name="simulated")
