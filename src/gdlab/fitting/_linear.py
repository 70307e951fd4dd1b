"""A linear model's statistics in one pass over any source, and the fit from them.

:func:`linear_stats` reduces a :class:`~gdlab.data.Source`'s blocks to the triangular factor
``R`` of ``[1 | X | y]`` (each block's QR factor, merged two at a time: a TSQR, see
:mod:`gdlab._tsqr`). ``R'R = [1|X|y]'[1|X|y]`` holds every sufficient statistic (n, the sums,
X'X, X'y, y'y), but with the accuracy of a QR factorisation of the whole design: nothing forms
``X'X``, whose condition number is the square of ``X``'s. The closed form, the residual sum of
squares, R² and the centred spread of each column follow from ``R`` (:class:`LinearStats`), and
:meth:`LinearStats.loss` is the exact mean squared error as a small local quadratic: every
descent and sweep then runs in memory at no further cost (:func:`linear_fit`).

Rows in memory are fitted from the table itself by :mod:`gdlab.fitting._fit` (gdlab's refined QR);
these statistics serve rows streamed from Parquet or held on a cluster.

Example:
    >>> import numpy as np, pandas as pd, tempfile, os
    >>> import gdlab
    >>> folder = tempfile.mkdtemp()
    >>> x = np.arange(10.0)
    >>> pd.DataFrame({"x": x, "y": 1 + 2 * x}).to_parquet(os.path.join(folder, "part-0.parquet"))
    >>> gdlab.fit(folder, y="y", x="x").coefficients
    {'intercept': 1.0..., 'x': 2.0...}
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, final

import jax
import jax.numpy as jnp
import numpy as np

from gdlab._checks import DEFAULT_STEPS, InputError
from gdlab._data import NamesLike, names
from gdlab._methods import resolve_method
from gdlab._tsqr import merge_r, one_blas_thread
from gdlab._types import Params
from gdlab.data import Source, check_kept_rows, open_source
from gdlab.fitting._families import linear_block

__all__ = ["LinearStats", "linear_fit", "linear_stats", "linear_terms", "standardised"]


@final
@dataclass(frozen=True, eq=False)
class LinearStats:
    """The triangular factor ``R`` of ``[1 | X | y]``: every sufficient statistic of a linear fit.

    ``R'R`` is ``[1|X|y]'[1|X|y]``; with an intercept, ``R[0, j] / R[0, 0]`` is
    column j's mean and ``R[1:, j]`` its centred part, so centred spreads need no
    subtraction of large sums. Merge two with :meth:`merge` (the QR of ``[R1; R2]``).

    Attributes:
        R: (q, q) upper triangular, q = coefficients + 1 (the response's column last).
        n: the rows.
        names: the coefficient names (``"intercept"`` first when fitted).
        y: the response's name.
        intercept: whether the first column is the column of ones.
    """

    R: np.ndarray
    n: int
    names: tuple[str, ...]
    y: str
    intercept: bool

    @property
    def p(self) -> int:
        """The number of coefficients."""
        return len(self.names)

    @property
    def rss_min(self) -> float:
        """The least residual sum of squares, ``R[-1, -1]²``."""
        return float(self.R[-1, -1] ** 2)

    @property
    def tss(self) -> float:
        """The response's sum of squares about its mean (about zero without an intercept)."""
        column = self.R[int(self.intercept) : -1, -1] if self.intercept else self.R[:-1, -1]
        return float(column @ column + self.R[-1, -1] ** 2)

    def constant(self, j: int) -> float | None:
        """Column ``j``'s value (the response's for -1) where it is constant to its rounding, as
        :func:`gdlab.fitting._inference.constant_of` judges a column in memory: its mean is
        ``R[0, j] / R[0, 0]`` and its spread about it the rest of its column (an intercept fit's)."""
        from gdlab.fitting._inference import constant_value

        column = self.R[:, j]  # (R is triangular: the column's norm is its values')
        mean = float(self.R[0, j] / self.R[0, 0]) + 0.0  # (-0.0 is 0)
        return constant_value(float(column[1:] @ column[1:]), mean, column)

    def means(self) -> np.ndarray:
        """The regressors' means (intercept fits only)."""
        return self.R[0, 1:-1] / self.R[0, 0]

    def spreads(self) -> np.ndarray:
        """Each regressor's standard deviation about its mean (with an intercept) or root mean square."""
        start = int(self.intercept)
        block = self.R[start:-1, start:-1]
        return np.sqrt(np.sum(block**2, axis=0) / self.n)

    def solve(self, rcond: float | None = None) -> Any:
        """The closed form, by gdlab's scaled pivoted QR on ``R``'s top block (a ``LeastSquares``)."""
        from gdlab._ols import least_squares

        return least_squares(self.R[:-1, :-1], self.R[:-1, -1], rcond=rcond, rows=self.n)

    def rss(self, coef: np.ndarray) -> float:
        """The residual sum of squares of ``coef``: ``|R11 b - r12|² + R[-1,-1]²``."""
        r = self.R[:-1, :-1] @ coef - self.R[:-1, -1]
        return float(r @ r + self.R[-1, -1] ** 2)

    def loss(self, b: Params) -> jax.Array:
        """The mean squared error of coefficients ``b``, exactly, from ``R`` alone (a local quadratic)."""
        R = jnp.asarray(self.R)
        r = R[:-1, :-1] @ b - R[:-1, -1]
        return (r @ r + R[-1, -1] ** 2) / self.n

    def merge(self, other: LinearStats) -> LinearStats:
        """The statistics of both sets of rows."""
        if other.names != self.names or other.intercept != self.intercept:
            raise InputError("statistics of different models cannot be merged")
        R = merge_r(self.R, other.R)
        return LinearStats(R, self.n + other.n, self.names, self.y, self.intercept)

    def __repr__(self) -> str:
        return f"LinearStats({self.y} ~ {' + '.join(self.names)}, {self.n:,} rows)"


def linear_terms(y: str, x: NamesLike, intercept: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The regressors named by ``x`` and the coefficients of ``y ~ x``, refusing ``y`` among the
    regressors and a column named like the intercept."""
    regressors = names(x, "x")
    if y in regressors:
        raise InputError(f"{y!r} is the response y and also listed in x: a column cannot explain itself")
    if intercept and "intercept" in regressors:
        raise InputError(
            lambda s: (
                "a column named 'intercept' clashes with the intercept: rename it, or "
                + s.setting("intercept", False)
            ),
            parameter="intercept",
        )
    return regressors, ("intercept", *regressors) if intercept else regressors


def _counted(a: tuple[np.ndarray, int], b: tuple[np.ndarray, int]) -> tuple[np.ndarray, int]:
    return merge_r(a[0], b[0]), a[1] + b[1]


def _block_factor(block: Any, x: Any, y: str, intercept: bool) -> tuple[np.ndarray, int]:
    return linear_block(block, x, y, intercept), block.rows


def linear_stats(source: Any, *, y: str, x: NamesLike, intercept: bool = True) -> LinearStats:
    """One pass over a source (or anything :func:`gdlab.data.open_source` opens, a Parquet file
    streamed): the :class:`LinearStats` of ``y ~ x``.

    Example:
        >>> import tempfile, os, numpy as np, pandas as pd
        >>> path = os.path.join(tempfile.mkdtemp(), "d.parquet")
        >>> pd.DataFrame({"x": [0.0, 1, 2, 3], "y": [1.0, 3, 5, 7.5]}).to_parquet(path)
        >>> stats = linear_stats(path, y="y", x="x")
        >>> stats.solve().coef.round(6).tolist(), round(stats.rss_min, 6)
        ([0.9, 2.15], 0.075)
    """
    regressors, coefficients = linear_terms(y, x, intercept)
    src: Source = (
        source
        if isinstance(source, Source)
        else open_source(source, columns=[*regressors, y], stream=None if _in_memory(source) else True)
    )
    with one_blas_thread():
        found = src.reduce(_block_factor, _counted, regressors, y, bool(intercept))
    R, kept = found if found is not None else (None, 0)  # None: no block held a row
    check_kept_rows(src, kept)
    return LinearStats(np.asarray(R), kept, coefficients, y, bool(intercept))


def _in_memory(data: Any) -> bool:
    """Data that are not a path (a table, arrays): read as they are."""
    import os

    return not isinstance(data, str | os.PathLike)


def _check_columns(stats: LinearStats) -> None:
    """Refuse fewer rows than coefficients, and a regressor of one value in every row, as a fit of
    rows in memory does (:func:`gdlab.fitting._settings.check_design`): a column whose spread
    about its mean (or, without an intercept, whose size) is within its rounding in the factor."""
    from gdlab.fitting._settings import check_design

    start = int(stats.intercept)
    constants = {}
    for j, name in enumerate(stats.names[start:], start):
        value = stats.constant(j) if stats.intercept else (None if stats.R[:, j].any() else 0.0)
        if value is not None:
            constants[name] = value
    check_design(stats.n, stats.names, stats.intercept, constants)


def linear_fit(
    stats: LinearStats,
    how: Any = "ols",
    *,
    steps: int = DEFAULT_STEPS,
    lr: float | None = None,
    tol: float | None = None,
    rcond: float | None = None,
    standardize: bool = True,
    dropped: int = 0,
) -> Any:
    """A linear :class:`gdlab.Fit` from :class:`LinearStats`: the closed form, and a descent beside it
    (``dropped``: the rows dropped for missing values, reported in the fit).

    The descent runs on the standardised regressors through their factor
    ``R T`` (``Z = X T``), so it never touches the data again.
    """
    from gdlab.fitting._inference import linear_note
    from gdlab.fitting._result import Fit
    from gdlab.fitting._settings import method_name

    _check_columns(stats)
    solved = stats.solve(rcond)
    closed = np.asarray(solved.coef, dtype=np.float64)
    inference = _linear_inference(stats, solved) if solved.full_rank else None
    constant = stats.constant(-1) if stats.intercept else None  # as a fit of rows in memory says it
    exact = None if inference is None else linear_note(inference.rss, inference.df_resid, stats.y, constant)
    result = Fit(
        y=stats.y,
        names=stats.names,
        method=method_name(how),
        coef=closed,
        closed_form=closed,
        n=stats.n,
        warnings=(*solved.messages(), *([exact] if exact else [])),
        dropped=int(dropped),
        intercept=stats.intercept,
        stats=inference,
    )
    if how == "ols":
        return result
    if how == "sgd":
        raise InputError(
            "method 'sgd' from the statistics of one pass: they give the closed form and every full-batch "
            "method; run minibatches with gdlab.sgd on the data itself"
        )
    return _local_descent(result, stats, how, steps, lr, tol, bool(standardize))


def _linear_inference(stats: LinearStats, solved: Any) -> Any:
    from gdlab.fitting._inference import least_squares
    from gdlab.fitting._minpack import exact_floor, exact_rss

    coef = solved.coef.astype(np.float64)
    return least_squares(
        coef,
        solved.unscaled_inverse(),
        solved.rank,
        stats.n,
        exact_rss(stats.rss(coef), stats.R[:, -1]),  # |y| is the norm of R's last column
        stats.tss,
        stats.intercept,
        solved.condition,
        exact_floor(stats.R[:, -1]),
    )


def standardised(stats: LinearStats) -> tuple[np.ndarray, Any]:
    """``R`` of ``[1 | Z | y]`` for the standardised regressors ``Z = X T``, and the scaling back."""
    from gdlab.fitting._settings import Scaling

    start = int(stats.intercept)
    mean = stats.means() if stats.intercept else np.zeros(stats.p)
    scale = stats.spreads()
    T = np.eye(stats.p + 1)
    T[start:-1, start:-1] = np.diag(1 / scale)
    if stats.intercept:
        T[0, 1:-1] = -mean / scale
    return stats.R @ T, Scaling(mean, scale, stats.intercept)


def quadratic_loss(b: Params, stats: dict[str, Any]) -> jax.Array:
    """The mean squared error of coefficients ``b`` from the factor ``R`` of ``[X | y]`` over ``n`` rows
    (``stats = {"R": R, "n": n}``): :meth:`LinearStats.loss` with the statistics as data."""
    R = stats["R"]
    r = R[:-1, :-1] @ b - R[:-1, -1]
    return (r @ r + R[-1, -1] ** 2) / stats["n"]


def _local_descent(
    result: Any, stats: LinearStats, how: Any, steps: int, lr: Any, tol: Any, standardize: bool = True
) -> Any:
    from gdlab._descend import descend
    from gdlab.fitting._settings import Scaling, Settings, rate_for, stopped

    if standardize:
        RZ, scaling = standardised(stats)
    else:  # the raw columns, as the lecture descends them (often ill-conditioned)
        RZ, scaling = stats.R, Scaling.identity(stats.p)
    settings = Settings.checked(steps, 1, 1, 0, lr, True, tol)
    spec = resolve_method(how)
    # The rate rule reads the Hessian 2M'M/len(M); M = R_Z's top block x sqrt(p/n) has that of the data.
    proxy = RZ[:-1, :-1] * np.sqrt(stats.p / stats.n)
    rate, source = rate_for(proxy, spec, settings)
    limit = settings.tol
    if limit is None:
        rms = float(np.sqrt(np.sum(stats.R[:, -1] ** 2) / stats.n))
        limit = max(1e-10, 100 * float(np.finfo(np.float64).eps)) * max(1.0, rms)
    # The statistics reach the compiled descent as data, not inside a new closure each fit: the next
    # fit of the same number of coefficients runs the same compiled code (a warm gd fit of a file or
    # a cluster took half a second compiling its descent again).
    local_data = {"R": np.asarray(RZ, np.float64), "n": np.float64(stats.n)}
    path = descend(
        quadratic_loss,
        np.zeros(stats.p),
        lr=rate,
        steps=settings.steps,
        tol=limit,
        method=spec,
        data=local_data,
    )
    notes = stopped(path, spec.name)
    return dataclasses.replace(
        result,
        coef=scaling.back(np.asarray(path.final)),
        lr=rate,
        lr_source=source,
        trajectory=path,
        warnings=(*result.warnings, *notes),
        standardized=standardize,
        _scaling=scaling,
    )
