"""The lecture's remark that more data brings the estimate closer to the truth, as an experiment.

Simulated regressions of growing size (``datasets.make_regression``) are fitted
in closed form, many times each; the root-mean-square error of each coefficient
against the true one falls like ``1/sqrt(n)``. For the slope of ``y = b0 + b1 x
+ noise`` with ``x`` uniform on [low, high], the theory is exact:
``sd(b1_hat) ~ noise * sqrt(12) / ((high - low) * sqrt(n))``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gdlab import _checks
from gdlab._checks import InputError
from gdlab._json import plain
from gdlab._ols import least_squares

__all__ = ["Consistency", "consistency"]


@dataclass(frozen=True, eq=False)
class Consistency:
    """How the closed-form estimate's error shrinks with the sample size.

    Attributes:
        sizes: the sample sizes n.
        beta: the true coefficients (intercept, slope).
        errors: root-mean-square error of each coefficient over the repeats, shape (len(sizes), 2).
        theory: the slope's standard deviation from theory at each n (the 1/sqrt(n) line).
        repeats: data sets simulated per size.
        rate: the slope of log(slope error) against log(n), fitted (theory: -1/2).
    """

    sizes: np.ndarray
    beta: np.ndarray
    errors: np.ndarray
    theory: np.ndarray
    repeats: int
    rate: float

    def to_dict(self) -> dict[str, Any]:
        """Strict-JSON-ready values."""
        return plain(
            {
                "sizes": self.sizes,
                "beta": self.beta,
                "intercept_rmse": self.errors[:, 0],
                "slope_rmse": self.errors[:, 1],
                "slope_theory": self.theory,
                "repeats": self.repeats,
                "rate": self.rate,
            }
        )

    def plot(self) -> Any:
        """A log-log picture: the slope's error against n, with the 1/sqrt(n) line of theory."""
        from matplotlib.figure import Figure

        figure = Figure(figsize=(6.4, 4.4), layout="constrained")
        axis = figure.subplots()
        axis.loglog(self.sizes, self.errors[:, 1], "o-", color="C0", label="slope: RMS error of the estimate")
        axis.loglog(self.sizes, self.theory, "--", color="0.4", label="theory: noise·√12 / ((high−low)·√n)")
        axis.set_xlabel("n (rows)")
        axis.set_ylabel("error")
        axis.set_title(f"More data, closer to the truth (slope of the line: {self.rate:.3f}, theory -1/2)")
        axis.legend(frameon=False)
        return figure

    def __repr__(self) -> str:
        rows = [
            f"  n={n:<8,} slope error {e:.4g}  theory {t:.4g}"
            for n, e, t in zip(self.sizes, self.errors[:, 1], self.theory, strict=True)
        ]
        head = f"Consistency({len(self.sizes)} sizes x {self.repeats} repeats; error ~ n^{self.rate:.3f})"
        return "\n".join([head, *rows])


def consistency(
    sizes: tuple[int, ...] = (10, 30, 100, 300, 1000, 3000, 10000),
    *,
    beta: tuple[float, float] = (10.2, 2.2),
    noise: float = 1.0,
    repeats: int = 50,
    seed: int = 0,
    low: float = 20.0,
    high: float = 30.0,
) -> Consistency:
    """Fit simulated regressions of growing size and measure how far the estimate is from the truth.

    Args:
        sizes: the sample sizes (each at least 3).
        beta: the true intercept and slope.
        noise: the noise's standard deviation.
        repeats: data sets per size (the error is their root mean square).
        seed: the first seed; repeat ``r`` of size ``i`` uses ``seed + i * repeats + r``.
        low: smallest x.
        high: largest x.

    Returns:
        A :class:`Consistency`; its ``plot()`` draws the error against n with the 1/sqrt(n) line.

    Example:
        >>> result = consistency((100, 10000), repeats=40)
        >>> -0.6 < result.rate < -0.4
        True
    """
    from gdlab import datasets

    n = np.array([_checks.whole("sizes", s, low=3) for s in np.atleast_1d(sizes)], dtype=np.int64)
    if n.size < 2:
        raise InputError("sizes: give at least two sample sizes, such as (10, 100, 1000)")
    count = _checks.whole("repeats", repeats, low=2, high=10_000)
    _checks.size("rows simulated", int(n.sum()) * count, 10**8, "use fewer repeats or smaller sizes")
    truth = np.asarray(beta, dtype=np.float64)
    errors = np.empty((n.size, 2))
    for i, size in enumerate(n):
        estimates = np.array(
            [
                least_squares(d.X, d.y).coef
                for d in (
                    datasets.make_regression(
                        int(size), tuple(truth), noise, seed + i * count + r, low=low, high=high
                    )
                    for r in range(count)
                )
            ]
        )
        errors[i] = np.sqrt(np.mean((estimates - truth) ** 2, axis=0))
    theory = noise * np.sqrt(12) / ((high - low) * np.sqrt(n))
    rate = float(np.polyfit(np.log(n), np.log(errors[:, 1]), 1)[0])
    return Consistency(n, truth, errors, theory, count, rate)
