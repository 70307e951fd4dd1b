"""Models on data: the closed form beside descent and second-order methods, as one Fit result.

Linear least squares is solved in closed form (scaled, pivoted Householder QR,
see :mod:`gdlab._ols`) with standard errors and R²; any descent method runs
beside it on standardised regressors (each centred and scaled to unit spread),
where one rate suits every coefficient, and its answer is mapped back to the
original units, so it can be read beside the closed form. ``family="logistic"``
fits a 0/1 response by Newton's method (IRLS, :mod:`gdlab._logistic`), and
``model="b1*(1-exp(-b2*x))"`` a formula by nonlinear least squares
(:mod:`gdlab._nonlinear`).

Example:
    >>> import gdlab
    >>> from gdlab._fit import fit
    >>> result = fit("cafe", y="y", x="x", method="gd")
    >>> result.coefficients
    {'intercept': 9.944..., 'x': 2.215...}
    >>> result.max_difference < 1e-9, result.status.value
    (True, 'converged')
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any, Literal, final

import jax.numpy as jnp
import numpy as np
import optax

from gdlab import _checks
from gdlab._checks import LIMITS, InputError
from gdlab._data import DataLike, NamesLike, as_table, design_matrix, names
from gdlab._engine import Outcome
from gdlab._inference import Inference
from gdlab._json import plain
from gdlab._methods import Method, fit_methods, least_squares_methods, reads_loss, resolve_method
from gdlab._ols import Columns
from gdlab._precision import resolve_dtype
from gdlab._text import count, table
from gdlab._trajectory import Regime, Status, Trajectory
from gdlab._types import DTypeLike

__all__ = ["METHODS", "Fit", "FitMethod", "fit"]

FitMethod = Literal["ols", "gd", "sgd", "newton", "lbfgs", "lm", "gauss-newton"]
# The closed form, minibatches, and every method descend takes; "lm" and "gauss-newton" for model=.
METHODS: tuple[str, ...] = fit_methods()
LEAST_SQUARES_METHODS = least_squares_methods()
FAMILIES = ("linear", "logistic")

# gd stops once the gradient norm falls to this fraction of the response's size
# (its root mean square, at least 1): an absolute 1e-10 is out of reach for sales
# in millions, and meaningless for responses near 1e-12.
_TOL = 1e-10


@final
@dataclass(frozen=True, eq=False, repr=False)
class Fit:
    """A fitted model: coefficients in the data's units, the reference solution beside them.

    Attributes:
        y: the response column.
        names: the coefficient names: ``"intercept"`` (when fitted), then the
            regressors; a formula's parameters for ``model=``.
        method: ``"ols"``, ``"sgd"``, a descent method's name, ``"newton"``,
            ``"lm"`` or ``"gauss-newton"``.
        coef: what ``method`` found, in original units, read-only.
        closed_form: the reference solution, read-only: the least-squares
            closed form (linear), Newton's converged solution (logistic), or
            Levenberg-Marquardt's (a formula).
        n: the rows fitted.
        lr: the learning rate (at the start, for a decaying SGD rate); ``None``
            for the closed form and for methods that choose their own steps.
        lr_source: where the rate came from, in words.
        trajectory: the iterations, step by step (on the standardised
            regressors unless ``standardized`` is False; :meth:`coefficient_path`
            maps them back); ``None`` for the closed form.
        warnings: what the user should know, as sentences (an ill-conditioned
            or rank-deficient design, a batch larger than the data, a descent
            that did not finish, and why it stopped where it did).
        dropped: rows dropped for missing values (``dropna=True``).
        intercept: whether an intercept was fitted.
        dtype: the floating type computed in.
        family: ``"linear"`` or ``"logistic"``.
        model: the formula fitted (``model=``), or ``None``.
        standardized: whether the iterations ran on standardised regressors.
        stats: standard errors, test statistics and goodness of fit (``None``
            where they do not apply: a rank-deficient design).
    """

    y: str
    names: tuple[str, ...]
    method: str
    coef: np.ndarray
    closed_form: np.ndarray
    n: int
    lr: float | None = None
    lr_source: str | None = None
    trajectory: Trajectory | None = None
    warnings: tuple[str, ...] = ()
    dropped: int = 0
    intercept: bool = True
    dtype: np.dtype = field(default=np.dtype("float64"))
    family: str = "linear"
    model: str | None = None
    standardized: bool = True
    stats: Inference | None = None
    reference: str = "closed form"
    _scaling: _Scaling | None = None
    _predictor: Any = field(default=None, compare=False)
    _data: Any = field(default=None, compare=False)  # the data fitted, for pictures

    def __post_init__(self) -> None:
        for name in ("coef", "closed_form"):
            arr = np.array(getattr(self, name), dtype=np.float64)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def x(self) -> tuple[str, ...]:
        """The regressor columns (a formula's data columns for ``model=``)."""
        if self.model is not None:
            return tuple(self._predictor.columns) if self._predictor is not None else ()
        return self.names[1:] if self.intercept else self.names

    @property
    def coefficients(self) -> dict[str, float]:
        """What ``method`` found, by name, in original units."""
        return dict(zip(self.names, map(float, self.coef), strict=True))

    @property
    def iterative(self) -> bool:
        """Whether ``method`` iterated (anything but the closed form)."""
        return self.trajectory is not None

    @property
    def max_difference(self) -> float | None:
        """The largest absolute difference from the reference solution (``None`` when it is that)."""
        if self.trajectory is None or self.method == _reference_method(self):
            return None
        return float(np.max(np.abs(self.coef - self.closed_form)))

    @property
    def status(self) -> Status | None:
        """How the iterations ended (``None`` for the closed form)."""
        return None if self.trajectory is None else self.trajectory.status

    @property
    def steps(self) -> int | None:
        """The steps the iterations took (``None`` for the closed form)."""
        return None if self.trajectory is None else self.trajectory.steps

    @property
    def message(self) -> str:
        """How the fit ended, in a sentence."""
        return (
            "solved in closed form by least squares" if self.trajectory is None else self.trajectory.message
        )

    def coefficient_path(self) -> np.ndarray:
        """The coefficients at every step in original units: (steps + 1, len(names))."""
        if self.trajectory is None:
            raise InputError("an ols fit has no path: fit with method='gd' or 'sgd'")
        flat = self.trajectory.flat_params()
        return flat if self._scaling is None else self._scaling.back(flat)

    def predict(self, data: DataLike) -> np.ndarray:
        """Fitted values for new rows holding the regressor columns (probabilities for logistic).

        Example:
            >>> fit("cafe", y="y", x="x").predict({"x": [20.0, 30.0]}).round(3).tolist()
            [54.259, 76.416]
        """
        if self._predictor is not None:
            return np.asarray(self._predictor(data, self.coef))
        table = as_table(data, columns=self.x, dtype=self.dtype)
        columns = [None] * self.intercept + [table[c] for c in self.x]
        eta = Columns(columns, table.n, self.dtype).matvec(self.coef.astype(self.dtype))
        return 1 / (1 + np.exp(-eta)) if self.family == "logistic" else eta

    def plot(self) -> Any:
        """A matplotlib Figure: the data with the fitted curve (one regressor; observed against
        fitted otherwise) and the residuals (see :func:`gdlab._fitplot.plot_fit`)."""
        from gdlab._fitplot import plot_fit

        return plot_fit(self)

    def to_dict(self) -> dict[str, Any]:
        """Everything as strict-JSON-ready Python values (non-finite numbers as ``None``)."""
        descent = self.trajectory is not None
        stats = self.stats
        return plain(
            {
                "y": self.y,
                "x": list(self.x),
                "model": self.model,
                "family": self.family,
                "method": self.method,
                "intercept": self.intercept,
                "standardized": self.standardized if descent and self.model is None else None,
                "rows": self.n,
                "dropped": self.dropped,
                "coefficients": self.coefficients,
                "closed_form": dict(zip(self.names, self.closed_form, strict=True)),
                "reference": self.reference,
                "descent": self.coefficients if descent else None,
                "max_difference": self.max_difference,
                "std_errors": None if stats is None else dict(zip(self.names, stats.se, strict=True)),
                "statistics": None if stats is None else _stats_dict(stats),
                "lr": self.lr,
                "lr_source": self.lr_source,
                "steps": self.steps,
                "status": self.status,
                "message": self.message,
                "warnings": list(self.warnings),
                "dtype": str(self.dtype),
            }
        )

    def to_pandas(self) -> Any:
        """A DataFrame indexed by coefficient: the reference solution, the method's values, their
        difference, and standard errors with their statistics and p-values where known."""
        import pandas as pd

        columns: dict[str, Any] = {self.reference: self.closed_form}
        if self.max_difference is not None:
            columns |= {self.method: self.coef, "difference": self.coef - self.closed_form}
        if self.stats is not None:
            name = self.stats.statistic_name
            columns |= {
                "std error": self.stats.se,
                name: self.stats.statistic,
                f"P>|{name}|": self.stats.pvalue,
            }
        return pd.DataFrame(columns, index=pd.Index(self.names, name="coefficient"))

    def summary(self) -> str:
        """A readable table: the reference solution's coefficients with their standard errors,
        statistics and p-values, the method's own values beside them, and the fit's measures."""
        other = self.max_difference is not None
        heads = ["std error", self.stats.statistic_name, "p"] if self.stats else []
        rows = [["coefficient", self.reference, *heads, *([self.method] if other else [])]]
        for i, name in enumerate(self.names):
            extra = []
            if self.stats is not None:
                s = self.stats
                extra = [f"{s.se[i]:.6g}", f"{s.statistic[i]:.4g}", f"{s.pvalue[i]:.3g}"]
            mine = [f"{self.coef[i]:.10g}"] if other else []
            rows.append([name, f"{self.closed_form[i]:.10g}", *extra, *mine])
        lines = [self._title(), *table(rows), *self._measures()]
        if self.max_difference is not None:
            lines.append(f"  largest difference from the {self.reference}: {self.max_difference:.3g}")
        if self.trajectory is not None:
            rate = "" if self.lr is None else f" at lr {self.lr:.4g} ({self.lr_source})"
            lines.append(f"  {self.method}{rate}: {self.message}")
        return "\n".join([*lines, *(f"  warning: {w}" for w in self.warnings)])

    def _measures(self) -> list[str]:
        s = self.stats
        if s is None:
            return []
        if s.statistic_name == "t":
            return [
                f"  R² {s.r2:.6g}  adjusted R² {s.adj_r2:.6g}  residual SD {s.sigma:.6g} "
                f"on {count(s.df_resid, 'degree')} of freedom",
                f"  condition number {s.condition:.3g}",
            ]
        return [
            f"  deviance {s.rss:.6g}  pseudo-R² (McFadden) {s.r2:.4g}  log-likelihood {s.log_likelihood:.6g}"
        ]

    def _title(self) -> str:
        if self.model is not None:
            formula = f"{self.y} ~ {self.model}"
        else:
            formula = f"{self.y} ~ {' + '.join(self.x)}{'' if self.intercept else ' - 1'}"
        family = "" if self.family == "linear" else f", {self.family}"
        return f"Fit({formula}{family}, {self.method}, {count(self.n, 'row')})"

    def __repr__(self) -> str:
        lines = [self._title(), *self._table()]
        path = self.trajectory
        if path is not None:
            rate = "" if self.lr is None else f" at lr {self.lr:.4g} ({self.lr_source})"
            said = "standardised" in (self.lr_source or "") or "raw" in (self.lr_source or "")
            scale = "" if self.model is not None or said else " on standardised regressors"
            scale = " on the raw columns" if not self.standardized and not said else scale
            diff = "" if self.max_difference is None else f"; largest difference {self.max_difference:.3g}"
            lines.append(f"  {self.method}: {count(path.steps, 'step')}{rate}{scale}, {path.status}{diff}")
        return "\n".join([*lines, *(f"  warning: {w}" for w in self.warnings)])

    def _table(self) -> list[str]:
        """The coefficients as text: name, the reference and (for another method) the method's value."""
        other = self.max_difference is not None
        rows = [["coefficient", self.reference, *([self.method] if other else [])]]
        for i, name in enumerate(self.names):
            values = [self.closed_form[i], *([self.coef[i]] if other else [])]
            rows.append([name, *(f"{v:.10g}" for v in values)])
        return table(rows)


def _reference_method(result: Fit) -> str:
    return {"closed form": "ols", "Newton (IRLS)": "newton"}.get(result.reference, result.reference)


def _stats_dict(stats: Inference) -> dict[str, Any]:
    return {
        "statistic": stats.statistic_name,
        "values": list(stats.statistic),
        "pvalues": list(stats.pvalue),
        "r2": stats.r2,
        "adj_r2": stats.adj_r2,
        "sigma": stats.sigma,
        "rss": stats.rss,
        "df_resid": stats.df_resid,
        "condition": stats.condition,
        "log_likelihood": stats.log_likelihood,
    }


def fit(
    data: DataLike,
    *,
    y: str,
    x: NamesLike | None = None,
    model: str | None = None,
    family: str = "linear",
    method: FitMethod | str | Any = None,
    init: dict[str, float] | None = None,
    intercept: bool = True,
    standardize: bool = True,
    steps: int = 5000,
    epochs: int = 200,
    batch_size: int = 8,
    seed: int = 0,
    lr: float | None = None,
    decay: bool = True,
    tol: float | None = None,
    rcond: float | None = None,
    dropna: bool = False,
    dtype: DTypeLike = None,
    client: Any = None,
    stream: bool | None = None,
) -> Fit:
    """Fit ``y ~ x`` (or ``y ~ model``): in closed form, or iteratively beside the reference solution.

    Linear least squares (the default) is solved in closed form by scaled,
    pivoted Householder QR, with standard errors, t values, R², adjusted R²,
    the residual SD and the condition number. Any other method runs beside it:
    ``"gd"`` and the other descent methods, ``"newton"``, ``"lbfgs"`` and
    ``"sgd"`` start from zero on the standardised regressors (unless
    ``standardize=False``, which shows the raw, often ill-conditioned problem)
    and map their answer back to the original units. Unless ``lr`` is given,
    gd takes the rate ``2/(mu+L)`` from the eigenvalues of the loss's Hessian
    ``2Z'Z/n`` (the fastest fixed rate on this quadratic), and sgd a rate suited
    to its batch (see :func:`_sgd_rate`) that decays to 0 by a cosine over the
    run, so that the noise of the batches dies out and seeds agree with the
    closed form. When a descent stops far from the closed form, ``warnings``
    says why (a rate above 2/L, too few steps, unscaled columns, a flat direction).

    ``family="logistic"`` fits a 0/1 response by maximum likelihood (Newton's
    method, IRLS, to convergence; a descent method runs beside it on the mean
    log-loss). ``model=`` fits a formula in gdlab's expression language, such as
    ``"b1*(1-exp(-b2*x))"``, by least squares: its names that are columns are
    data, the rest parameters, started from ``init`` (default 1 each), by
    ``"lm"`` (Levenberg-Marquardt, the default), ``"gauss-newton"``, or a
    descent method beside lm.

    Args:
        data: anything :func:`gdlab._data.as_table` reads: arrays, a dict, a
            DataFrame, a CSV or Parquet path, ``"cafe"``.
        y: the response column.
        x: the regressor columns: a list, or names separated by commas (not with ``model``).
        model: a formula of columns and parameters, fitted by least squares.
        family: ``"linear"`` or ``"logistic"`` (a 0/1 response).
        method: ``"ols"`` (default for linear: closed form only), ``"newton"``
            (default for logistic), ``"lm"`` (default for a formula),
            ``"gauss-newton"``, ``"sgd"``, any name :func:`gdlab.descend` takes
            (``"gd"``, ``"gd-armijo"``, ``"momentum"``, ``"adam"``, ``"lbfgs"`` ...)
            or an optax transformation.
        init: a formula's starting values by parameter name.
        intercept: fit an intercept (a column of ones).
        standardize: run descent on standardised regressors (default); False
            runs it on the raw columns.
        steps: the most steps of an iterative method (it stops earlier once converged).
        epochs: passes of sgd over the data.
        batch_size: rows per sgd step (at most the rows there are).
        seed: the shuffling seed of sgd.
        lr: the learning rate, instead of the one chosen from the curvature
            (sgd's still decays from it unless ``decay=False``).
        decay: sgd's rate decays to 0 by a cosine over the run; ``False`` keeps it fixed.
        tol: stop an iterative method once the gradient norm is this small
            (default: 1e-10 relative to the response's size).
        rcond: the closed form's cut-off for dependent columns (see :func:`gdlab.ols`).
        dropna: drop rows with missing values in ``y`` or ``x`` (counted in
            ``dropped``) instead of refusing them.
        dtype: the floating type (default float64).
        client: a ``dask.distributed.Client``: the work runs on its cluster, the
            data's chunks staying on the workers (also when ``data`` is a Dask
            array or DataFrame). See :func:`gdlab._dask.fit_dask`.
        stream: read a Parquet file in fixed-size batches instead of into memory
            (default: a directory of Parquet files, or a file larger than a table
            may be, is streamed). See :func:`gdlab._stream.fit_parquet`.

    Returns:
        A :class:`Fit`.

    Raises:
        InputError: a bad column or value (see :func:`gdlab._data.as_table`),
            ``y`` among ``x``, fewer rows than coefficients, a constant
            regressor beside the intercept, a response that is not 0/1 for
            logistic, a formula naming an unknown column, or a bad setting.
    """
    kind = _family(family)
    if model is not None:
        if x is not None:
            raise InputError("give x (a linear model) or model (a formula), not both")
        if kind != "linear":
            raise InputError("model= formulas are fitted by least squares: leave family='linear'")
        elsewhere = _beyond_memory(data, client, stream)
        if elsewhere is not None:
            from gdlab._stream import formula_refused

            raise formula_refused(data, streamed=not isinstance(elsewhere, functools.partial))
        from gdlab._nonlinear import fit_formula

        return fit_formula(
            data,
            y=y,
            model=model,
            method=method,
            init=init,
            steps=steps,
            lr=lr,
            tol=tol,
            dropna=dropna,
            dtype=dtype,
        )
    if x is None:
        raise InputError(
            "name the regressors: x='temp' (or a list), or give a formula with model='b1*(1-exp(-b2*temp))'"
        )
    beyond = _beyond_memory(data, client, stream)
    if beyond is not None:
        common = {"family": family, "method": method, "intercept": intercept, "steps": steps, "lr": lr}
        sgd = {"epochs": epochs, "batch_size": batch_size, "seed": seed, "decay": decay}
        return beyond(
            data,
            y=y,
            x=x,
            tol=tol,
            rcond=rcond,
            standardize=standardize,
            dropna=dropna,
            dtype=dtype,
            **common,
            **sgd,
        )
    how = _method(method, kind)
    response, regressors = _variables(y, x)
    dt = resolve_dtype(dtype)
    settings = _Settings.checked(steps, epochs, batch_size, seed, lr, decay, tol, standardize)
    table = as_table(data, columns=(response, *regressors), dtype=dt, dropna=dropna)
    coefficients = ("intercept", *regressors) if intercept else regressors
    _check_design(table, regressors, coefficients, bool(intercept))
    target = np.asarray(table[response])
    if kind == "logistic":
        from gdlab._logistic import fit_logistic

        design = design_matrix(table, regressors, intercept=bool(intercept))
        return fit_logistic(design, target, response, how, settings, table, bool(intercept), dt)
    columns = Columns([None] * bool(intercept) + [table[c] for c in regressors], table.n, dt)
    return _linear(columns, coefficients, target, response, how, settings, table, bool(intercept), rcond)


def _beyond_memory(data: DataLike, client: Any, stream: bool | None) -> Any:
    """The fit for data on a Dask cluster or streamed from Parquet, or ``None`` for data in memory.

    Raises:
        InputError: ``stream=True`` with data on a cluster (they are not streamed from here).
    """
    from gdlab import _dask, _stream

    if client is not None or _dask.is_dask_collection(data) or isinstance(data, _dask.DaskData):
        if stream:
            raise InputError(
                "stream=True reads a Parquet file here in blocks; with client= or Dask data the fit runs "
                "on the cluster: leave stream unset, or drop client= to stream the file"
            )
        return functools.partial(_dask.fit_dask, client=client)
    if _stream.should_stream(data, stream):
        return _stream.fit_parquet
    return None


def _linear(
    design: Columns,
    coefficients: tuple[str, ...],
    target: np.ndarray,
    response: str,
    how: str | Method,
    settings: _Settings,
    table: Any,
    intercept: bool,
    rcond: float | None,
) -> Fit:
    """The closed form from the table's columns (no design matrix is built: see
    :class:`gdlab._ols.Columns`), and a descent beside it for any other method."""
    from gdlab import _inference
    from gdlab._ols import least_squares

    dt = design.dtype
    solved = least_squares(design, target, rcond=rcond, dtype=dt)
    closed = np.asarray(solved.coef, dtype=np.float64)
    stats = _inference.linear(solved, design, target.astype(np.float64, copy=False), intercept)
    notes = solved.messages()
    if stats.rss == 0 or target.min() == target.max():
        notes = (
            *notes,
            f"{response!r} is constant ({target[0]:g} in every row): there is nothing to explain, so "
            "the standard errors are 0 and t, p and R² are undefined"
            if target.min() == target.max()
            else "the fit is exact (every residual is 0), so the standard errors are 0 and t and p "
            "are undefined",
        )
    result = Fit(
        y=response,
        names=coefficients,
        method=_name(how),
        coef=closed,
        closed_form=closed,
        n=table.n,
        warnings=notes,
        dropped=table.dropped,
        intercept=intercept,
        dtype=dt,
        stats=stats if solved.full_rank else None,
        _data=table,
    )
    if how == "ols":
        return result
    return _descent(result, tuple(table[c] for c in result.x), target, settings, how)


@dataclass(frozen=True)
class _Settings:
    """The iterations' settings, checked before any data is read."""

    steps: int
    epochs: int
    batch_size: int
    seed: int
    lr: float | None
    decay: bool
    tol: float | None = None
    standardize: bool = True

    @classmethod
    def checked(
        cls,
        steps: object,
        epochs: object,
        batch_size: object,
        seed: object,
        lr: object,
        decay: object,
        tol: object = None,
        standardize: object = True,
    ) -> _Settings:
        return cls(
            steps=_checks.steps(steps),
            epochs=_checks.whole("epochs", epochs, low=1),
            batch_size=_checks.whole("batch_size", batch_size, low=1),
            seed=_checks.whole("seed", seed),
            lr=None if lr is None else _checks.number("lr", lr),
            decay=bool(decay),
            tol=_checks.tol(tol),
            standardize=bool(standardize),
        )


def _descent(
    closed: Fit,
    columns: tuple[np.ndarray, ...],
    y: np.ndarray,
    settings: _Settings,
    how: str | Method,
    kind: Literal["mse", "logistic"] = "mse",
) -> Fit:
    """``closed`` with the descent's coefficients, rate and path beside its closed form.

    The descent runs on the regressors ``columns`` standardised (unless
    ``settings.standardize`` is off), built once as one aligned array ``Z`` (the
    only copy of the data; see :mod:`gdlab._design`), on the mean squared error
    (``kind="mse"``, Hessian ``2Z'Z/n``) or the mean log-loss (``"logistic"``,
    Hessian at most ``Z'Z/(4n)``)."""
    from gdlab._design import Standard, aligned, moments

    factor = 2.0 if kind == "mse" else 0.25
    if settings.standardize:
        scaling = _Scaling(*moments(columns, closed.intercept), closed.intercept)
    else:
        scaling = _Scaling(np.zeros(len(columns)), np.ones(len(columns)), closed.intercept)
    standard = Standard(columns, scaling.mean, scaling.scale, closed.intercept)
    rate: float | None
    source: str | None
    if _passes(standard, how, closed.dtype):  # large data: no copy, one NumPy pass per step
        Z: Any = standard
        path, rate, source, notes = _descend_passes(standard, y, settings, how, kind, factor)
    elif how == "sgd":
        Z, y = standard.matrix(), aligned(y)
        path, rate, source, notes = _descend_sgd(Z, y, settings, closed.dtype, kind, factor)
    else:
        Z, y = standard.matrix(), aligned(y)
        path, rate, source, notes = _descend_method(Z, y, settings, closed.dtype, how, kind, factor)
    if not settings.standardize:
        source = None if source is None else source.replace("standardised regressors", "the raw columns")
        notes = ("descent ran on the raw columns (standardize=False), as the lecture does", *notes)
    coef = scaling.back(np.asarray(path.final))
    # sgd is not explained: minibatch noise keeps it near, not at, the closed form (its rate decays instead)
    if how != "sgd":
        if not closed.warnings or "rank" not in closed.warnings[0]:
            if path.status is Status.CONVERGED and _off(coef, closed.closed_form) > NO_DIGIT:
                path = _imprecise(path)
            notes += _why_far(
                coef, closed.closed_form, Z, path, rate, settings, _name(how), factor, closed.reference
            )
        else:  # dependent columns: many coefficient vectors fit equally well
            notes = (
                f"{_name(how)} may stop at another of the equally good solutions than the closed form's: "
                "compare fitted values (predict) rather than coefficients",
                *notes,
            )
    return dataclasses.replace(
        closed,
        coef=coef,
        lr=rate,
        lr_source=source,
        trajectory=path,
        warnings=(*closed.warnings, *notes),
        standardized=settings.standardize,
        _scaling=scaling,
    )


def _family(family: object) -> str:
    kind = family.strip().lower() if isinstance(family, str) else family
    if kind not in FAMILIES:
        raise InputError(f"family {family!r}: choose one of {', '.join(FAMILIES)}")
    return str(kind)


def _name(how: str | Method) -> str:
    return how if isinstance(how, str) else how.name


def _method(method: object, family: str = "linear") -> str | Method:
    """A method name checked for the family, or a resolved :class:`Method` for an optax object."""
    if method is None:
        return "ols" if family == "linear" else "newton"
    if not isinstance(method, str):
        return resolve_method(method)
    kind = method.strip().lower()
    if kind in LEAST_SQUARES_METHODS:
        raise InputError(
            f"method {method!r} fits a formula (model=...) by least squares; a linear model is "
            "solved exactly by 'ols', or iteratively by 'gd', 'newton', 'lbfgs' ..."
        )
    if kind == "ols" and family == "logistic":
        raise InputError("a logistic model has no closed form: use method='newton' (IRLS), 'gd' or 'lbfgs'")
    if kind not in METHODS:
        raise InputError(f"method {method!r}: choose one of {', '.join(METHODS)}")
    return kind


def _variables(y: object, x: NamesLike) -> tuple[str, tuple[str, ...]]:
    if isinstance(y, int | np.integer) and not isinstance(y, bool):  # column 2 of an array is "2"
        y = str(y)
    if not isinstance(y, str):
        raise InputError(f"y must be the name of one column; got {y!r}")
    response = names(y, "y")
    if len(response) != 1:
        raise InputError(f"y must name one column; got {', '.join(response)}")
    regressors = names(x, "x")
    if response[0] in regressors:
        raise InputError(
            f"{response[0]!r} is the response y and also listed in x: a column cannot explain itself"
        )
    return response[0], regressors


def _check_design(
    table: Any, regressors: tuple[str, ...], coefficients: tuple[str, ...], intercept: bool
) -> None:
    """Refuse fewer rows than coefficients, and a constant regressor (beside an intercept) or a
    regressor that is 0 in every row (without one), a column at a time."""
    n, p = table.n, len(coefficients)
    if n < p:
        raise InputError(
            f"{count(n, 'row')} but {p} coefficients ({', '.join(coefficients)}): "
            f"a fit needs at least as many rows as coefficients"
        )
    for name in regressors:
        column = table[name]
        if column.min() != column.max():
            continue
        if intercept:
            raise InputError(
                f"column {name!r} is constant ({column[0]:g} in every row): beside the intercept it "
                "has nothing to explain; drop it from x, or fit intercept=False"
            )
        if column[0] == 0:
            raise InputError(
                f"column {name!r} is 0 in every row: it has no coefficient to fit; drop it from x"
            )


@dataclass(frozen=True)
class _Scaling:
    """Standardised regressors ``Z = (X - mean) / scale`` and the way back to original units.

    With an intercept each regressor is centred and divided by its standard
    deviation; without one, only divided by its root mean square (centring would
    add an intercept the model does not have).
    """

    mean: np.ndarray
    scale: np.ndarray
    intercept: bool

    @classmethod
    def identity(cls, p: int) -> _Scaling:
        """No scaling: descent on the raw columns."""
        return cls(np.zeros(p), np.ones(p), False)

    def back(self, z: np.ndarray) -> np.ndarray:
        """Coefficients (or rows of them) on ``Z`` as coefficients on ``X``."""
        z = np.asarray(z, dtype=np.float64)
        if not self.intercept:
            return z / self.scale
        slopes = z[..., 1:] / self.scale
        first = z[..., :1] - (slopes @ self.mean)[..., None]
        return np.concatenate([first, slopes], axis=-1)


def _mse(b: Any, data: dict[str, Any]) -> Any:
    """The mean squared error of coefficients ``b`` on rows of standardised data."""
    return jnp.mean((data["y"] - data["Z"] @ b) ** 2)


def _eigenvalues(Z: np.ndarray, factor: float = 2.0) -> np.ndarray:
    """The eigenvalues, ascending, of the loss's Hessian ``2Z'Z/n`` (``factor * Z'Z/n``).

    The loss is a quadratic, so its Hessian is this matrix everywhere: read here
    in NumPy rather than by :func:`gdlab.stability` differentiating a closure over
    the data, which would compile anew for every fit."""
    gram = Z.gram() if hasattr(Z, "gram") else (Z.T @ Z) / len(Z)  # a Standard: by blocks
    return np.linalg.eigvalsh(factor * gram)


def _curvature(Z: np.ndarray, factor: float = 2.0) -> tuple[float, float]:
    """The largest and smallest eigenvalues of the loss's Hessian (see :func:`_eigenvalues`)."""
    eig = _eigenvalues(Z, factor)
    return float(eig[-1]), float(eig[0])


def _gd_rate(Z: np.ndarray, factor: float = 2.0) -> tuple[float, str]:
    """``2/(mu+L)``, the fastest fixed rate on a quadratic; ``1/L`` where it is flat along a direction."""
    L, mu = _curvature(Z, factor)
    if mu > 1e-12 * L:
        return 2 / (mu + L), f"2/(mu+L) from the Hessian on standardised regressors, L={L:.4g}, mu={mu:.4g}"
    return 1 / L, f"1/L from the Hessian on standardised regressors, L={L:.4g} (it is flat along a direction)"


def _rate_for(
    Z: np.ndarray, spec: Method, settings: _Settings, factor: float = 2.0
) -> tuple[float | None, str | None]:
    """The rate a method starts from: given, from the curvature, or a default for adaptive methods."""
    if not spec.needs_lr:
        return None, None
    if settings.lr is not None:
        return settings.lr, "given"
    if spec.name in ("gd", "gd-armijo"):
        rate, source = _gd_rate(Z, factor)
        return rate, source + (", the line search's first trial" if spec.name == "gd-armijo" else "")
    if spec.name in ("momentum", "nesterov"):
        L, _ = _curvature(Z, factor)
        return 1 / L, f"1/L from the Hessian on standardised regressors, L={L:.4g}"
    return 0.1, f"default 0.1 for {spec.name}, which scales its own steps; pass lr= to change it"


def _descend_method(
    Z: np.ndarray,
    y: np.ndarray,
    settings: _Settings,
    dtype: np.dtype,
    how: str | Method,
    kind: Literal["mse", "logistic"] = "mse",
    factor: float = 2.0,
) -> tuple[Trajectory, float | None, str | None, tuple[str, ...]]:
    """A descent from zero on the mean squared error (or mean log-loss) of ``b`` on ``Z``, whose
    Hessian is about ``factor * Z'Z/n`` (its rates come from that)."""
    from gdlab._descend import descend

    spec = resolve_method(how)
    rate, source = _rate_for(Z, spec, settings, factor)
    # The data are an argument of the compiled run: not embedded in it, and new data of the same
    # shapes reuse it.
    data = {"Z": Z, "y": y}
    tol = settings.tol if settings.tol is not None else _default_tol(y, dtype, spec.name)
    if kind == "mse":
        loss = _mse
    else:
        from gdlab._logistic import _mean_log_loss as loss
    path = descend(
        loss,
        np.zeros(Z.shape[1]),
        lr=rate,
        steps=settings.steps,
        tol=tol,
        method=spec,
        dtype=dtype,
        data=data,
    )
    return path, rate, source, _stopped(path, spec.name, settings.steps, tol)


def _stopped(path: Trajectory, name: str, steps: int, tol: float) -> tuple[str, ...]:
    """What a descent that did not converge says beside the closed form (nothing when it converged)."""
    if path.status is Status.MAX_STEPS:
        return (
            f"{name} took all {steps:,} steps without the gradient norm falling to {tol:.3g}: "
            "the coefficients are not converged; raise steps",
        )
    return () if path.status is Status.CONVERGED else (f"{name}: {path.message}",)


def _default_tol(y: np.ndarray, dtype: np.dtype, name: str) -> float:
    """Stop once the gradient norm is 1e-10 relative to the response's size (or what the dtype allows)."""
    size = max(1.0, float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))))
    tol = max(_TOL, 100 * float(np.finfo(dtype).eps)) * size
    if name == "gd-armijo":  # below this its decreases are lost in the loss's rounding
        tol = max(tol, float(np.sqrt(np.finfo(dtype).eps)) * size)
    return tol


# A descent fit whose standardised regressors would hold this many numbers (64 MB of float64)
# or more reads the table's columns by passes instead of copying them (see _passes). Below it
# the copy is small, and a compiled run on it is faster than a pass per step from Python.
PASS_VALUES = 1 << 23


def _passes(standard: Any, how: str | Method, dtype: np.dtype) -> bool:
    """Whether a descent runs as NumPy passes over the columns (:func:`_descend_passes`): float64
    data whose standardised copy would hold :data:`PASS_VALUES` numbers or more, by a method that
    needs only gradients (not sgd, a line search or Newton's method)."""
    if how == "sgd" or dtype != np.float64 or standard.n * standard.p < PASS_VALUES:
        return False
    spec = resolve_method(how)
    return spec.needs_lr and not reads_loss(spec.name)


def _descend_passes(
    standard: Any, y: np.ndarray, settings: _Settings, how: str | Method, kind: str, factor: float
) -> tuple[Trajectory, float | None, str | None, tuple[str, ...]]:
    """A full-batch descent from zero whose every gradient is one NumPy pass over the table's
    columns, standardised a block at a time (:meth:`gdlab._design.Standard.pass_fn`): the data
    are never copied. The optimiser, the stop rule and the record are :func:`gdlab.descend`'s."""
    from gdlab._stream import descend_passes

    spec = resolve_method(how)
    rate, source = _rate_for(standard, spec, settings, factor)
    tol = settings.tol if settings.tol is not None else _default_tol(y, np.dtype(np.float64), spec.name)
    assert rate is not None  # methods that need only gradients take a rate
    path = descend_passes(
        standard.pass_fn(y, kind),
        np.zeros(standard.p),
        lr=rate,
        steps=settings.steps,
        method=spec,
        tol=tol,
        where="the table's columns",
    )
    return path, rate, source, _stopped(path, spec.name, settings.steps, tol)


# A coefficient this far (relative) from the closed form has no correct digit.
NO_DIGIT = 0.1


def _off(coef: np.ndarray, closed: np.ndarray) -> float:
    """The largest difference of a coefficient from the closed form's, relative to its size (or 1)."""
    return float(np.max(np.abs(coef - closed) / np.maximum(1.0, np.abs(closed))))


def _imprecise(path: Trajectory) -> Trajectory:
    """A run the engine called converged (its gradient fell to tol) whose answer has no correct digit:
    labelled by :attr:`Outcome.IMPRECISE` (stalled) instead. Its sentence is still the engine's
    ("converged at step k: gradient norm ... <= tol"); the fit's warning says how far it stopped."""
    status = Outcome.IMPRECISE.status
    return dataclasses.replace(path, status=status, regime=Regime(status.value))


def _why_far(
    coef: np.ndarray,
    closed: np.ndarray,
    Z: np.ndarray,
    path: Trajectory,
    rate: float | None,
    settings: _Settings,
    name: str,
    factor: float = 2.0,
    reference: str = "closed form",
) -> tuple[str, ...]:
    """Why a descent stopped far from the closed form, from the curvature (what :func:`gdlab.stability`
    reports for this quadratic): a rate above 2/L, too few steps, unscaled columns, a flat direction."""
    from gdlab._stability import Stability

    off = _off(coef, closed)
    if off <= 1e-6:
        return ()
    report = Stability.of(_eigenvalues(Z, factor))
    L, mu = report.L, report.mu
    head = f"{name} stopped {off:.2g} (relative) from the {reference}"
    reasons = []
    if rate is not None and name in ("gd", "sgd", "momentum", "nesterov") and rate >= report.critical_lr:
        reasons.append(f"{report.explain(rate)}: lower lr")
    if mu <= 1e-12 * L:
        reasons.append(
            "the loss is flat along a direction (the Hessian's smallest eigenvalue is ~0: nearly collinear "
            "columns), so nothing pulls the coefficients there toward the closed form"
        )
    elif report.condition > 1e4:
        scale = "" if settings.standardize else " (the columns are not standardised: standardize=True helps)"
        reasons.append(
            f"the Hessian's condition number is {report.condition:.3g}{scale}: a fixed-rate descent needs "
            f"about {min(report.condition, 1e15):.2g} steps per factor of e along the flattest direction"
        )
    if path.status is Status.MAX_STEPS:
        reasons.append(f"it ran out of steps ({settings.steps:,}): raise steps")
    return (f"{head}: {'; '.join(reasons) or path.message}",)


def _sgd_rate(Z: np.ndarray, size: int, factor: float = 2.0) -> tuple[float, str]:
    """``1/(2 L_b)``: the rate with a convergence guarantee for batches of ``size`` rows drawn without
    replacement, where ``L_b`` is the expected smoothness of a batch's loss (Gower et al., 2019):
    between ``L`` (the whole data) and the sharpest single row's curvature ``max 2|z_i|^2``."""
    n = len(Z)
    L, _ = _curvature(Z, factor)
    sharpest = factor * float(np.max(np.einsum("ij,ij->i", Z, Z)))  # no temporary as large as Z
    L_b = L if n == 1 else n * (size - 1) / (size * (n - 1)) * L + (n - size) / (size * (n - 1)) * sharpest
    return 1 / (2 * L_b), f"1/(2 L_b) for batches of {size} of {n} rows, L_b={L_b:.4g}"


@functools.lru_cache(maxsize=32)
def _cosine(total: int) -> Method:
    """Plain SGD whose rate falls from ``lr`` to 0 by a cosine over ``total`` steps.

    Cached, so that runs of the same length share one compiled SGD loop."""
    return Method(
        "gd, cosine decay", make=lambda lr: optax.sgd(optax.cosine_decay_schedule(lr, max(total, 1)))
    )


def _descend_sgd(
    Z: np.ndarray,
    y: np.ndarray,
    settings: _Settings,
    dtype: np.dtype,
    kind: Literal["mse", "logistic"] = "mse",
    factor: float = 2.0,
) -> tuple[Trajectory, float, str, tuple[str, ...]]:
    from gdlab._sgd import sgd

    if kind == "mse":
        loss = _mse
    else:
        from gdlab._logistic import _mean_log_loss as loss

    n = len(Z)
    size = min(settings.batch_size, n)
    notes: tuple[str, ...] = ()
    if size < settings.batch_size:
        notes = (
            f"batch_size {settings.batch_size:,} is more than the {n:,} rows: used batches of all {n:,}",
        )
    total = settings.epochs * (n // size)
    _checks.size(
        "numbers an sgd run keeps",
        (total + 1) * (2 * Z.shape[1] + 1),
        LIMITS.trajectory_numbers,
        "use fewer epochs or larger batches",
    )
    rate, source = (settings.lr, "given") if settings.lr is not None else _sgd_rate(Z, size, factor)
    if settings.decay:
        source += f", decaying to 0 by a cosine over {total:,} steps"
    path = sgd(
        loss,
        np.zeros(Z.shape[1]),
        {"Z": Z, "y": y},
        lr=rate,
        batch_size=size,
        epochs=settings.epochs,
        seed=settings.seed,
        method=_cosine(total) if settings.decay else "gd",
        dtype=dtype,
    )
    if path.status not in (Status.CONVERGED, Status.MAX_STEPS):  # an SGD run takes every step it is given
        notes += (f"sgd: {path.message}",)
    return path, rate, source, notes
