"""A fit's result: coefficients, the reference solution beside them, the descent's path, the
summary and the dictionary. It draws nothing: its picture is drawn by ``gdlab.render``.

The routing (:func:`gdlab.fit`) and the algorithms (closed form, IRLS, formulas, the descent
beside the closed form, streamed and cluster fits) all build on this module; it imports none
of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, final

import numpy as np

from gdlab._categories import label
from gdlab._checks import PYTHON, InputError, Sentence, Spelling, closest, spelled
from gdlab._data import DataLike, Table, as_table, complete_rows
from gdlab._distributions import t_quantile
from gdlab._json import plain
from gdlab._ols import WARN_CONDITION, Columns
from gdlab._pictures import draw
from gdlab._text import count, table
from gdlab._trajectory import Status, Trajectory
from gdlab.fitting._inference import (
    LEGEND,
    SINGULAR,
    HypothesisTest,
    Inference,
    checked_alpha,
    format_p,
    stars,
    wald,
)
from gdlab.fitting._settings import Scaling

__all__ = ["Fit"]


_T = TypeVar("_T")


class Later:
    """A part of a fit to be computed when first read: ``compute()`` gives it."""

    __slots__ = ("compute",)

    def __init__(self, compute: Callable[[], Any]) -> None:
        self.compute = compute


class _ReadLater(Generic[_T]):
    """A field of :class:`Fit` that may be a :class:`Later`, computed the first time it is read,
    once: :attr:`Fit.stats` (a formula's statistics cost 140 to 210 us, a third of a warm fit, and a
    script that reads only the coefficients need not pay them) and :attr:`Fit.trajectory` (a
    formula's recorded run, 30 to 60 us of its few hundred)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._key = f"_{name}_kept"

    def __get__(self, obj: object, objtype: type | None = None) -> _T:
        if obj is None:
            return None  # type: ignore[return-value]  # the field's default
        value = obj.__dict__[self._key]
        if isinstance(value, Later):
            value = value.compute()
            obj.__dict__[self._key] = value
        return value

    def __set__(self, obj: object, value: _T | Later) -> None:
        obj.__dict__[self._key] = value


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
        dropped: rows dropped for missing values (``dropna=True``); the summary and the
            repr say how many.
        intercept: whether an intercept was fitted.
        dtype: the floating type computed in.
        family: ``"linear"`` or ``"logistic"``.
        model: the formula fitted (``model=``), or ``None``.
        standardized: whether the iterations ran on standardised regressors.
        stats: standard errors, test statistics and goodness of fit (``None``
            where they do not apply: a rank-deficient design); a formula's are computed
            when first read.
        terms: a Wilkinson formula's coding (its terms and its categories' levels), which
            codes new rows for :meth:`predict`; ``None`` for a fit of ``x=``.
        settings: a GLM's settings beside its formula, as its title names them
            (``("offset log(years)",)``, ``("weights w",)``, ``("trials n",)``).

    Example:
        >>> import gdlab
        >>> result = gdlab.fit("cafe", y="y", x="x")
        >>> result.names, round(result.stats.r2, 6)
        (('intercept', 'x'), 0.978458)
    """

    y: str
    names: tuple[str, ...]
    method: str
    coef: np.ndarray
    closed_form: np.ndarray
    n: int
    lr: float | None = None
    lr_source: str | None = None
    trajectory: _ReadLater[Trajectory | None] = _ReadLater()  # or a Later of one
    warnings: tuple[str, ...] = ()
    dropped: int = 0
    intercept: bool = True
    dtype: np.dtype = field(default=np.dtype("float64"))
    family: str = "linear"
    model: str | None = None
    standardized: bool = True
    stats: _ReadLater[Inference | None] = _ReadLater()
    reference: str = "closed form"
    terms: Any = None
    settings: tuple[str, ...] = ()
    _scaling: Scaling | None = None
    _predictor: Any = field(default=None, compare=False)
    _data: Any = field(default=None, compare=False)  # the data fitted, for pictures

    def __post_init__(self) -> None:
        made: dict[int, np.ndarray] = {}  # one copy where both are the same array (a formula's fit)
        for name in ("coef", "closed_form"):
            given = getattr(self, name)
            arr = made.get(id(given))
            if arr is None:
                arr = made[id(given)] = np.array(given, dtype=np.float64)
                arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    def __getstate__(self) -> dict[str, Any]:
        self.stats  # noqa: B018  # computed before a copy or a pickle: a Later holds the fit's working arrays
        self.trajectory  # noqa: B018  # likewise
        return self.__dict__

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
    def least_squares(self) -> bool:
        """Whether the fit is by least squares, weighted or not (a linear or Gaussian family, a
        formula's): its dispersion estimated, its loss the residuals' squares, its tests t."""
        return self.family in ("linear", "gaussian")

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

    def predict(self, data: DataLike, *, interval: str | None = None, alpha: float = 0.05) -> Any:
        """Fitted values for new rows holding the regressor columns (probabilities for logistic and
        binomial, means for Poisson, ignoring any offset: a Poisson fit with ``offset="log(t)"``
        predicts the rate per unit of ``t``).

        With ``interval="confidence"`` (for the mean) or ``"prediction"`` (for a new observation),
        a linear fit gives a DataFrame of ``mean``, its standard error ``se`` and the ``1 - alpha``
        interval ``lower`` and ``upper`` (t on the residual degrees of freedom, with the fit's
        covariance; as statsmodels' ``get_prediction().summary_frame()`` and R's ``predict.lm``).
        A logistic fit or a GLM gives the mean's interval (``"confidence"``): the linear
        predictor's, through the inverse link, as statsmodels gives it. A formula fit (``model=``)
        gives both by the delta method: the variance of the formula at each new row is ``g' C g``,
        ``g`` its gradient in the parameters there (exact, as the fit's Jacobian) and ``C`` the
        fit's covariance; to first order, as R's ``nlstools`` and ``propagate`` give it (R's own
        ``predict.nls`` gives none).
        A clustered fit's intervals take its tests' degrees of freedom, the clusters less one
        (statsmodels' ``get_prediction`` takes ``n - p`` there, unlike its own ``conf_int``).

        A new row with a missing value (NaN, an empty cell, ``None``) in a column the fit reads
        predicts NaN in its place, as R's ``predict`` with ``na.pass`` gives it (an interval frame of
        a DataFrame's rows keeps its index); an infinite value is refused. Where a complete row
        predicts NaN or an infinity (a formula outside a function's domain there), a
        :class:`NotFiniteWarning` names the first such row.

        Example:
            >>> import gdlab
            >>> gdlab.fit("cafe", y="y", x="x").predict({"x": [20.0, 30.0]}).round(3).tolist()
            [54.259, 76.416]
        """
        stats = None if interval is None else self._interval_stats(interval, alpha)
        read = self._reads(data)
        _check_new_rows(data, read)
        missing, rows = complete_rows(data, read)
        if missing is not None and missing.all():  # nothing to compute: every row predicts NaN
            found = np.full(len(missing), np.nan) if stats is None else _nan_frame(len(missing))
        else:
            with np.errstate(all="ignore"):  # a value that is not finite is said below, once
                found = (
                    self._mean(rows) if stats is None else self._predicted(rows, str(interval), alpha, stats)
                )
            if missing is not None:  # NaN where a row has a missing value (computed on a filled one)
                if isinstance(found, np.ndarray):
                    found = found.astype(found.dtype if found.dtype.kind == "f" else np.float64)  # a copy
                    found[missing] = np.nan
                else:
                    found.loc[missing] = np.nan
            _warn_not_finite(found, missing, rows, read)
        if not isinstance(found, np.ndarray) and type(data).__name__ == "DataFrame":
            found.index = data.index  # the new rows' own labels, as statsmodels keeps them
        return found

    def _reads(self, data: DataLike) -> tuple[str, ...]:
        """The columns of new rows that a prediction reads: a formula's data columns, a Wilkinson
        formula's (or its design's, by name, where the rows hold them), or the regressors."""
        if self._predictor is not None:
            return tuple(self._predictor.columns)
        if self.terms is not None and not _holds(data, self.x):
            formula = self.terms.formula
            return tuple(c for c in formula.columns() if c not in formula.response.columns)
        return tuple(self.x)

    def _mean(self, data: DataLike) -> np.ndarray:
        """The fitted values of new rows, every one of them complete."""
        return self._means(data, self.coef[None])[0]

    def _means(self, data: DataLike, coefs: np.ndarray) -> np.ndarray:
        """The fitted values of new rows, every one of them complete, at each row of ``coefs``
        (``k x p``, in the coefficients' own units): ``k x n``. What :meth:`predict` gives at the
        fit's coefficients, and its picture at each step's (the rows read once)."""
        if self._predictor is not None:
            return self._predictor.at(data, coefs)
        eta = self._rows(data).matmat(np.asarray(coefs).astype(self.dtype).T).T
        if self.family == "logistic":
            return 1 / (1 + np.exp(-eta))
        from gdlab.fitting._glm_families import GLM_FAMILIES

        # a GLM's mean: its inverse link of the linear predictor (no offset: add it to the rows' eta)
        return GLM_FAMILIES[self.family].inverse(eta) if self.family in GLM_FAMILIES else eta

    def _rows(self, data: DataLike) -> Columns:
        """The design of new rows, read from their columns (a column of ones first with an intercept)."""
        if self.terms is not None and not _holds(data, self.x):  # a formula's: coded with the levels fitted
            read = [c for c in self.terms.formula.columns() if c not in self.terms.formula.response.columns]
            _check_new_rows(data, read)
            levels = {c: v for c, v in self.terms.levels.items() if c in read}
            rows = as_table(data, columns=read, categories=levels, dropna=None)  # complete rows (predict)
            made = self.terms.design(dict(rows.columns), rows.n, finite=False)  # NaN predicts NaN
            return Columns(
                [None if self.intercept and j == 0 else v for j, v in enumerate(made)], rows.n, self.dtype
            )
        if self.terms is not None:  # the design's columns by name (names may hold commas)
            table = as_table({c: data[c] for c in self.x}, dtype=self.dtype, dropna=None)
        else:
            _check_new_rows(data, self.x)
            table = as_table(data, columns=self.x, dtype=self.dtype, dropna=None)
        return Columns([None] * self.intercept + [table[c] for c in self.x], table.n, self.dtype)

    def _interval_stats(self, interval: str, alpha: float) -> Inference:
        """The statistics an interval reads, once ``interval`` and ``alpha`` are checked."""
        if interval not in ("confidence", "prediction"):
            near = closest(str(interval), ("confidence", "prediction"))
            hint = f"did you mean {near!r}? " if near else ""
            raise InputError(
                f"unknown interval={interval!r}: {hint}give 'confidence' (for the mean) or 'prediction' "
                "(for a new observation)",
                parameter="interval",
            )
        checked_alpha(alpha)
        stats = self._stats("interval")
        if interval == "prediction" and self.model is None and not self._normal(stats):
            raise InputError(
                f"a prediction interval (for a new observation) is given for linear fits; a "
                f"{self.family} fit's interval='confidence' is its mean's",
                parameter="interval",
            )
        return stats

    def _normal(self, stats: Inference) -> bool:
        """Whether new observations scatter about the mean by the fit's sigma (a linear fit's)."""
        return self.least_squares and stats.sigma is not None

    def _predicted(self, data: DataLike, interval: str, alpha: float, stats: Inference) -> Any:
        """The interval frame of new rows, every one of them complete."""
        if self.model is not None:  # by the delta method: the formula's gradient in its parameters
            mean, G = self._predictor.gradients(data, stats.coef)  # the fit's (lm's, beside a descent)
            var = np.einsum("ij,jk,ik->i", G, stats.cov, G)
            return _interval_frame(mean, var, stats, interval, alpha)
        if not self._normal(stats):
            return self._mean_interval(data, alpha, stats)
        design = self._rows(data)
        X = np.column_stack([np.ones(design.n) if c is None else c for c in design.columns])
        X = X.astype(np.float64)
        var = np.einsum("ij,jk,ik->i", X, stats.cov, X)
        return _interval_frame(X @ stats.coef, var, stats, interval, alpha)

    def _mean_interval(self, data: DataLike, alpha: float, stats: Inference) -> Any:
        """A GLM's (or a logistic fit's) interval for the mean of new rows: the linear predictor's
        interval mapped through the inverse link (its ends stay inside the mean's range: a
        probability's within 0 and 1), the mean's standard error by the delta method; as
        statsmodels' ``get_prediction().summary_frame()``."""
        import pandas as pd

        from gdlab.fitting._glm_families import GLM_FAMILIES

        family = GLM_FAMILIES["binomial" if self.family == "logistic" else self.family]
        design = self._rows(data)
        X = np.column_stack([np.ones(design.n) if c is None else c for c in design.columns]).astype(
            np.float64
        )
        eta = X @ stats.coef
        se_eta = np.sqrt(np.einsum("ij,jk,ik->i", X, stats.cov, X))
        q = t_quantile(1 - alpha / 2, stats.df_inference)
        ends = family.inverse(eta - q * se_eta), family.inverse(eta + q * se_eta)
        return pd.DataFrame(
            {
                "mean": family.inverse(eta),
                "se": np.abs(family.derivative(eta)) * se_eta,
                "lower": np.minimum(*ends),
                "upper": np.maximum(*ends),
            }
        )

    def conf_int(self, alpha: float = 0.05) -> Any:
        """The ``1 - alpha`` confidence interval of each coefficient: a DataFrame of ``lower`` and
        ``upper`` by coefficient (t on the residual degrees of freedom for linear fits and formulas,
        the clusters less one for ``cov="cluster"``; z for logistic), as statsmodels' ``conf_int``
        and R's ``confint`` for ``lm`` (Wald intervals: R's ``confint`` profiles the likelihood of
        ``glm`` and ``nls`` fits instead, which gives slightly different, asymmetric intervals).

        Example:
            >>> import gdlab
            >>> gdlab.fit("cafe", y="y", x="x").conf_int().round(3)
                         lower   upper
            coefficient
            intercept    3.194  16.695
            x            1.948   2.484
        """
        import pandas as pd

        checked_alpha(alpha)
        stats = self._stats("conf_int")
        bounds = stats.conf_int(alpha)
        return pd.DataFrame(
            {"lower": bounds[:, 0], "upper": bounds[:, 1]}, index=pd.Index(self.names, name="coefficient")
        )

    def test(self, restrictions: str) -> HypothesisTest:
        """The Wald test of linear restrictions on the coefficients, written as text: ``"x1 = 0"``,
        ``"x1 = x2 = 0"``, ``"x1 = 0, x2 = 2*x3"``, ``"x1 + x2 = 1"``. An F test for linear fits
        and formulas (with the fit's covariance, robust ones included: statsmodels' ``f_test``),
        chi-squared for logistic (statsmodels' ``wald_test``). The text is read by gdlab's
        expression language, never evaluated.

        Example:
            >>> import gdlab
            >>> print(gdlab.fit("cafe", y="y", x="x").test("x = 2"))
            F-statistic: 3.44384 on 1 and 8 DF, p-value: 0.101
        """
        from gdlab.fitting._restrictions import restrictions as parsed

        stats = self._stats("test")
        R, q = parsed(restrictions, self.names)
        return wald(stats.coef, stats.cov, R, q, stats.df_inference, restrictions)

    def _stats(self, what: str) -> Inference:
        stats = self.stats
        if stats is None or stats.cov.size == 0 or not np.isfinite(stats.cov).all():
            rows = (
                f"it has {count(self.n, 'row')} for {len(self.names)} coefficients: no residual "
                "degrees of freedom"
            )
            why = (
                self._singular()
                or (rows if self.n <= len(self.names) else None)
                or (
                    "its design is rank-deficient, its iterations did not converge, or its classes are "
                    "separated (see its warnings)"
                )
            )
            raise InputError(f"this fit has no standard errors, so no {what}: {why}")
        return stats

    def _notes(self) -> tuple[Any, ...]:
        """The warnings, and why a formula fit has no statistics where it has none (:meth:`_singular`),
        or that its parameters are nearly dependent at its answer (:meth:`_degenerate`)."""
        singular = self._singular()
        if singular is not None:
            return (*self.warnings, f"no standard errors: {singular}")
        degenerate = self._degenerate()
        return self.warnings if degenerate is None else (*self.warnings, degenerate)

    def _degenerate(self) -> str | None:
        """For a formula fit whose Jacobian at the answer is ill-conditioned with its columns scaled
        (past :data:`gdlab._ols.WARN_CONDITION`, the linear fit's rule), what that means; read when
        the statistics are. NIST's 27 problems reach 5.5e4; ``A*sin(w*t+ph)+c`` started at w = 0.5
        on data of w = 1.5 ends with w = 3e-4 and A = -c = 1.4e6, at 7.9e13."""
        stats = self.stats if self.model is not None else None
        if stats is None or stats.scaled_condition is None or not stats.scaled_condition > WARN_CONDITION:
            return None
        return (
            f"the Jacobian at the answer is ill-conditioned: condition number {stats.scaled_condition:.3g} "
            f"with its columns scaled, so some parameters are nearly dependent there (standard errors up to "
            f"{float(np.max(stats.se)):.3g}); such an answer is often a degenerate one, where terms cancel "
            "(a rate or frequency near 0 beside large amplitudes of opposite signs): try other starting "
            "values, or fix a parameter"
        )

    def _singular(self) -> str | None:
        """Why a converged formula fit with residual degrees of freedom has no statistics (its
        Jacobian is rank-deficient at the answer), or ``None``: read when the statistics are,
        since they are computed when first read."""
        if self.model is None or self.stats is not None or self.status is not Status.CONVERGED:
            return None
        return None if self.n <= len(self.names) else SINGULAR  # no residual degrees of freedom: said

    def plot(
        self,
        *,
        title: str | None = None,
        ylim: tuple[float, float] | None = None,
        lang: str = "en",
        size: tuple[int, int] | None = None,
        dpi: int = 100,
        **others: Any,
    ) -> Any:
        """A matplotlib Figure: the data with the fitted curve (one regressor; observed against
        fitted otherwise) and the residuals, as ``gdlab.plot(fit)`` draws it, with the options
        it takes for a fit (``others``, a descent's picture's options, are refused there, saying
        which a fit takes); ``gdlab.animate(fit)`` draws each step alike
        (:func:`gdlab.render._fitscene.plot_fit`)."""
        return draw("fit", self, title=title, ylim=ylim, lang=lang, size=size, dpi=dpi, **others)

    def to_dict(self, spelling: Spelling = PYTHON) -> dict[str, Any]:
        """Everything as strict-JSON-ready Python values (non-finite numbers as ``None``); its
        sentences name the parameters as ``spelling`` writes them (``tol``, ``--tol``)."""
        descent = self.trajectory is not None
        stats = self.stats
        # a formula fitted by lm or gauss-newton alone has no closed form and ran no descent: its
        # answer is "coefficients" (a descent beside it keeps lm's as the reference it is compared with)
        alone = self.model is not None and self.method == self.reference
        return plain(
            {
                "y": self.y,
                "x": list(self.x),
                "model": self.model,
                "formula": None if self.terms is None else self.terms.formula.text,
                "levels": None
                if self.terms is None
                else {c: [label(v) for v in levels] for c, levels in self.terms.levels.items()},
                "family": self.family,
                "method": self.method,
                "intercept": self.intercept,
                "standardized": self.standardized if descent and self.model is None else None,
                "rows": self.n,
                "dropped": self.dropped,
                "coefficients": self.coefficients,
                "closed_form": None if alone else dict(zip(self.names, self.closed_form, strict=True)),
                "reference": self.reference,
                "descent": self.coefficients if descent and not alone else None,
                "max_difference": self.max_difference,
                "std_errors": None if stats is None else dict(zip(self.names, stats.se, strict=True)),
                "statistics": None if stats is None else _stats_dict(stats),
                "lr": self.lr,
                "lr_source": spelled(self.lr_source, spelling),
                "steps": self.steps,
                "status": self.status,
                "message": self._message(spelling),
                "warnings": [spelled(w, spelling) for w in self._notes()],
                "dtype": str(self.dtype),
            }
        )

    def _message(self, spelling: Spelling) -> Any:
        """How the fit's run ended, named as ``spelling`` writes parameters."""
        said = self.message
        if self.trajectory is not None and said == self.trajectory.message:  # the engine's sentence
            return self.trajectory.message_in(spelling)
        return spelled(said, spelling)

    def to_pandas(self) -> Any:
        """A DataFrame indexed by coefficient: the reference solution, the method's values, their
        difference, and standard errors with their statistics, p-values and 95% intervals where known."""
        import pandas as pd

        columns: dict[str, Any] = {self.reference: self.closed_form}
        if self.max_difference is not None:
            columns |= {self.method: self.coef, "difference": self.coef - self.closed_form}
        if self.stats is not None:
            name = self.stats.statistic_name
            bounds = self.stats.conf_int(0.05)
            columns |= {
                "std error": self.stats.se,
                name: self.stats.statistic,
                f"P>|{name}|": self.stats.pvalue,
                "lower 95%": bounds[:, 0],
                "upper 95%": bounds[:, 1],
            }
        return pd.DataFrame(columns, index=pd.Index(self.names, name="coefficient"))

    def summary(self, spelling: Spelling = PYTHON) -> str:
        """A readable table, as R's ``summary`` prints one: the reference solution's coefficients
        with their standard errors, statistics, p-values (``<2e-16`` where they underflow) and
        significance stars, the method's own values beside them, then the fit's measures (the
        residual standard error, the rows dropped for missing values, R², the model's F test,
        the log-likelihood, AIC and BIC); its sentences name the parameters as ``spelling`` writes them."""
        other = self.max_difference is not None
        s = self.stats
        heads = ["std error", s.statistic_name, f"P>|{s.statistic_name}|", ""] if s else []
        rows = [["coefficient", self.reference, *heads, *([self.method] if other else [])]]
        for i, name in enumerate(self.names):
            extra = []
            if s is not None:
                p = float(s.pvalue[i])
                extra = [_na(s.se[i], ".6g"), _na(s.statistic[i], ".4g"), format_p(p), stars(p).ljust(3)]
            mine = [f"{self.coef[i]:.10g}"] if other else []
            rows.append([name, f"{self.closed_form[i]:.10g}", *extra, *mine])
        legend = ["  ---", f"  {LEGEND}"] if s is not None else []
        references = [] if self.terms is None else [f"  {said}" for said in self.terms.references()]
        lines = [self._title(), *table(rows), *legend, *references, *self._measures()]
        if self.max_difference is not None:
            against = "the closed form" if self.reference == "closed form" else f"{self.reference}'s fit"
            lines.append(f"  largest difference from {against}: {self.max_difference:.3g}")
        said = ""
        if self.trajectory is not None:
            rate = "" if self.lr is None else f" at lr {self.lr:.4g} ({spelled(self.lr_source, spelling)})"
            said = f"{self.method}: {self._message(spelling)}"  # a warning saying the same is not said again
            lines.append(f"  {self.method}{rate}: {self._message(spelling)}")
        warnings = [f"  warning: {w}" for w in (spelled(w, spelling) for w in self._notes()) if w != said]
        return "\n".join([*(str(spelled(line, spelling)) for line in lines), *warnings])

    def _measures(self) -> list[Any]:
        s = self.stats
        if s is None:
            return self._dropped()
        test = [] if s.model_test is None else [f"  {s.model_test}"]
        if s.statistic_name == "z":
            return [
                f"  Null deviance: {s.null_deviance:.6g} on {s.nobs - int(s.intercept):g} degrees of freedom",
                f"  Residual deviance: {s.rss:.6g} on {s.df_resid:g} degrees of freedom",
                *self._dropped(),
                f"  pseudo-R² (McFadden): {s.r2:.4g}  log-likelihood: {s.log_likelihood:.6g}",
                f"  AIC: {s.aic:.6g}  BIC: {s.bic:.6g}",
                *[line.replace("chi2-statistic", "likelihood-ratio chi-squared") for line in test],
            ]
        lines = [f"  Residual standard error: {s.sigma:.6g} on {count(int(s.df_resid), 'degree')} of freedom"]
        lines += self._dropped()
        if s.r2 is not None and s.adj_r2 is not None:
            lines.append(f"  Multiple R-squared: {s.r2:.6g},  Adjusted R-squared: {s.adj_r2:.6g}")
        lines += test
        if s.log_likelihood is not None:
            lines.append(f"  Log-likelihood: {s.log_likelihood:.6g}  AIC: {s.aic:.6g}  BIC: {s.bic:.6g}")
        if s.cov_type != "nonrobust":
            clusters = f" ({s.groups:,} clusters)" if s.cov_type == "cluster" and s.groups else ""
            lines.append(f"  Standard errors: {_COVARIANCES[s.cov_type]}{clusters}")
        # a formula's Jacobian: in the parameters' own units, and with its columns scaled (what its
        # warning reads), both named, so that the two numbers never seem to disagree
        scaled = "" if s.scaled_condition is None else f" ({s.scaled_condition:.3g} with its columns scaled)"
        return [*lines, f"  condition number {s.condition:.3g}{scaled}"]

    def _dropped(self) -> list[Any]:
        """What dropna did, said wherever the rows fitted are (its count is kept in ``dropped``)."""
        if not self.dropped:
            return []
        said = count(self.dropped, "observation")
        return [Sentence(lambda s: f"  ({said} deleted due to missingness: {s.setting('dropna', True)})")]

    def _title(self) -> str:
        if self.model is not None:
            formula = f"{self.y} ~ {self.model}"
        elif self.terms is not None:
            formula = self.terms.formula.text.strip()
        else:
            formula = f"{self.y} ~ {' + '.join(self.x)}{'' if self.intercept else ' - 1'}"
        family = "" if self.family == "linear" else f", {self.family}"
        family += "".join(f", {setting}" for setting in self.settings)  # an offset is part of the model
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
        if self.dropped:
            lines.append(f"  dropped {count(self.dropped, 'row')} with a missing value")
        return "\n".join([*lines, *(f"  warning: {w}" for w in self.warnings)])

    def _table(self) -> list[str]:
        """The coefficients as text: name, the reference and (for another method) the method's value."""
        other = self.max_difference is not None
        rows = [["coefficient", self.reference, *([self.method] if other else [])]]
        for i, name in enumerate(self.names):
            values = [self.closed_form[i], *([self.coef[i]] if other else [])]
            rows.append([name, *(f"{v:.10g}" for v in values)])
        return table(rows)


_COVARIANCES = {
    "HC0": "HC0 (White's, robust to heteroskedasticity)",
    "HC1": "HC1 (robust to heteroskedasticity, scaled by n/(n-p))",
    "HC2": "HC2 (robust to heteroskedasticity, weighted by leverage)",
    "HC3": "HC3 (robust to heteroskedasticity, jackknife-like)",
    "cluster": "clustered by groups",
}


def _interval_frame(mean: np.ndarray, var: np.ndarray, stats: Inference, interval: str, alpha: float) -> Any:
    """The DataFrame of :meth:`Fit.predict`'s intervals from each new row's mean and its variance:
    the mean's, or with the residual variance added a new observation's, t on the fit's degrees
    of freedom."""
    import pandas as pd

    assert stats.sigma is not None
    se = np.sqrt(var + stats.sigma**2 if interval == "prediction" else var)
    # no interval where the mean or its error is not a finite number (a formula at the edge of its
    # domain: log(x) at 0 gave an se of inf, a lower end of -inf and an upper end of NaN)
    se = np.where(np.isfinite(se) & np.isfinite(mean), se, np.nan)
    q = t_quantile(1 - alpha / 2, stats.df_inference)
    return pd.DataFrame({"mean": mean, "se": se, "lower": mean - q * se, "upper": mean + q * se})


def _nan_frame(n: int) -> Any:
    """An interval frame of ``n`` rows that all predict NaN (each has a missing value)."""
    import pandas as pd

    return pd.DataFrame(np.full((n, 4), np.nan), columns=["mean", "se", "lower", "upper"])


class NotFiniteWarning(UserWarning):
    """A prediction that is not a finite number: the formula is outside a function's domain at a
    new row (a log or a square root of a negative number, a division by 0), or too large."""


def _warn_not_finite(found: Any, missing: np.ndarray | None, rows: DataLike, read: Sequence[str]) -> None:
    """Warn (:class:`NotFiniteWarning`) where a complete new row predicts NaN or an infinity, naming
    how many and the first (its row among those given, and its values), as R warns "NaNs produced"."""
    values = np.asarray(found["mean"] if not isinstance(found, np.ndarray) else found)
    bad = ~np.isfinite(values)
    said = "NaN or an infinity"
    if not isinstance(found, np.ndarray) and not bad.any():  # a finite mean without a finite se
        bad, said = ~np.isfinite(np.asarray(found["se"])), "a standard error that is NaN or an infinity"
    if missing is not None:
        bad &= ~missing  # NaN by choice there
    if not bad.any():
        return
    import warnings

    row = at = int(np.argmax(bad))
    shown = ""
    if _names_of(rows) is not None:
        cells = ", ".join(f"{c}={_cell_text(np.asarray(rows[c])[at])}" for c in read)
        shown = f", where {cells}"
    many = int(bad.sum())
    which = f"{many} new rows predict" if many > 1 else "a new row predicts"
    warnings.warn(
        f"{which} {said} ({'the first is ' * (many > 1)}row {row}{shown}): the fitted model "
        "is not a finite number there (a function outside its domain, such as the log or square root "
        "of a negative number or a division by 0, or a value too large)",
        NotFiniteWarning,
        stacklevel=3,
    )


def _cell_text(value: Any) -> str:
    """A new row's value as a warning shows it (``-2``, ``'b'``)."""
    value = value.item() if isinstance(value, np.generic) else value
    return f"{value:g}" if isinstance(value, float) else repr(value)


def _check_new_rows(data: DataLike, columns: Sequence[str]) -> None:
    """Refuse new rows (a dict or DataFrame) that lack a column the fit reads, saying which of
    theirs is likely it: the fit's name is the one to give (its formula cannot change)."""
    keys = _names_of(data)
    if keys is None:
        return  # a path or an array: as_table says what is wrong
    for column in columns:
        if column not in keys:
            near = closest(column, keys)
            theirs = ", ".join(map(repr, keys[:8])) + (", ..." if len(keys) > 8 else "")
            hint = f" (they have {near!r}: name it {column!r})" if near else f" (their columns: {theirs})"
            raise InputError(f"the new rows have no column {column!r}, which this fit reads{hint}")


def _names_of(data: DataLike) -> list[str] | None:
    """The column names of a dict or a DataFrame (or a Table), in order; ``None`` for other data."""
    if isinstance(data, Mapping):
        return [str(k) for k in data]
    if isinstance(data, Table) or type(data).__name__ == "DataFrame":
        return [str(k) for k in data.columns]
    return None


def _holds(data: DataLike, columns: tuple[str, ...]) -> bool:
    """Whether ``data`` (a dict or DataFrame) holds every one of ``columns``: a formula's design
    columns by name (``C(g)[T.b]``), as its own rows hold them for its picture."""
    keys = _names_of(data)
    return keys is not None and bool(columns) and set(columns) <= set(keys)


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
        "null_log_likelihood": stats.null_log_likelihood,
        "deviance": stats.deviance,
        "null_deviance": stats.null_deviance,
        "aic": stats.aic,
        "bic": stats.bic,
        "nobs": stats.nobs,
        "cov_type": stats.cov_type,
        "df_inference": stats.df_inference,
        "groups": stats.groups,
        "conf_int_95": [list(row) for row in stats.conf_int(0.05)],
        "cov": [list(row) for row in stats.cov],
        "model_test": None if stats.model_test is None else stats.model_test.to_dict(),
    }


def _na(value: float, spec: str) -> str:
    """A number of the summary's table, or ``NA`` (as R prints it) where there is none."""
    return "NA" if np.isnan(value) else format(value, spec)
