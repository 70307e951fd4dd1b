"""A fit's result and what every way of fitting shares: the settings checked once, the names of
methods and families, the standardisation of the regressors and the rate it allows.

The routing (:func:`gdlab.fit`) and the algorithms (closed form, IRLS, formulas, the descent
beside the closed form, streamed and cluster fits) all build on this module; it imports none
of them.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Literal, final

import numpy as np

from gdlab import _checks
from gdlab._checks import PYTHON, InputError, Sentence, Spelling, spelled
from gdlab._data import DataLike, NamesLike, as_table, names
from gdlab._json import plain
from gdlab._methods import Method, fit_methods, least_squares_methods, resolve_method
from gdlab._ols import Columns
from gdlab._text import count, table
from gdlab._trajectory import Status, Trajectory
from gdlab.fitting._inference import Inference

__all__ = [
    "FAMILIES",
    "LEAST_SQUARES_METHODS",
    "METHODS",
    "Fit",
    "FitMethod",
    "Scaling",
    "Settings",
    "curvature",
    "family_name",
    "fit_method",
    "gd_rate",
    "method_name",
    "rate_for",
    "variables",
]

FitMethod = Literal["ols", "gd", "sgd", "newton", "lbfgs", "lm", "gauss-newton"]
# The closed form, minibatches, and every method descend takes; "lm" and "gauss-newton" for model=.
METHODS: tuple[str, ...] = fit_methods()
LEAST_SQUARES_METHODS = least_squares_methods()
FAMILIES = ("linear", "logistic")


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
    _scaling: Scaling | None = None
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
            >>> import gdlab
            >>> gdlab.fit("cafe", y="y", x="x").predict({"x": [20.0, 30.0]}).round(3).tolist()
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

    def summary(self, spelling: Spelling = PYTHON) -> str:
        """A readable table: the reference solution's coefficients with their standard errors,
        statistics and p-values, the method's own values beside them, and the fit's measures;
        its sentences name the parameters as ``spelling`` writes them."""
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
        lines = [self._title(), *table(rows), *self._measures(), *self._dropped()]
        if self.max_difference is not None:
            lines.append(f"  largest difference from the {self.reference}: {self.max_difference:.3g}")
        if self.trajectory is not None:
            rate = "" if self.lr is None else f" at lr {self.lr:.4g} ({self.lr_source})"
            said = self.message
            if said == self.trajectory.message:  # the engine's sentence: worded again from its facts
                said = self.trajectory.message_in(spelling)
            lines.append(f"  {self.method}{rate}: {spelled(said, spelling)}")
        warnings = [f"  warning: {spelled(w, spelling)}" for w in self.warnings]
        return "\n".join([*(str(spelled(line, spelling)) for line in lines), *warnings])

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

    def _dropped(self) -> list[str]:
        """What dropna did, said wherever the rows fitted are (its count is kept in ``dropped``)."""
        if not self.dropped:
            return []
        dropped = count(self.dropped, "row")
        return [Sentence(lambda s: f"  dropped {dropped} with a missing value ({s.setting('dropna', True)})")]

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
        lines += self._dropped()
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


@dataclass(frozen=True)
class Settings:
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
    ) -> Settings:
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


def family_name(family: object) -> str:
    kind = family.strip().lower() if isinstance(family, str) else family
    if kind not in FAMILIES:
        raise InputError(f"family {family!r}: choose one of {', '.join(FAMILIES)}")
    return str(kind)


def method_name(how: str | Method) -> str:
    return how if isinstance(how, str) else how.name


def fit_method(method: object, family: str = "linear") -> str | Method:
    """A method name checked for the family, or a resolved :class:`Method` for an optax object."""
    if method is None:
        return "ols" if family == "linear" else "newton"
    if not isinstance(method, str):
        return resolve_method(method)
    kind = method.strip().lower()
    if kind in LEAST_SQUARES_METHODS:
        raise InputError(
            lambda s: (
                f"{s.setting('method', method, quoted=True)} fits a formula ({s.setting('model', '...')}) "
                "by least squares; a linear model is solved exactly by 'ols', or iteratively by 'gd', "
                "'newton', 'lbfgs' ..."
            ),
            parameter="method",
        )
    if kind == "ols" and family == "logistic":
        raise InputError(
            lambda s: (
                f"a logistic model has no closed form: use {s.setting('method', 'newton', quoted=True)} "
                "(IRLS), 'gd' or 'lbfgs'"
            ),
            parameter="method",
        )
    if kind not in METHODS:
        close = difflib.get_close_matches(kind, METHODS, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise InputError(
            lambda s: f"{s.setting('method', method, quoted=True)}: {hint}choose one of {', '.join(METHODS)}",
            parameter="method",
        )
    return kind


def variables(y: object, x: NamesLike) -> tuple[str, tuple[str, ...]]:
    if isinstance(y, int | np.integer) and not isinstance(y, bool):  # column 2 of an array is "2"
        y = str(y)
    if not isinstance(y, str):
        raise InputError(lambda s: f"{s.name('y')} must be the name of one column; got {y!r}", parameter="y")
    response = names(y, "y")
    if len(response) != 1:
        raise InputError(
            lambda s: f"{s.name('y')} must name one column; got {', '.join(response)}", parameter="y"
        )
    regressors = names(x, "x")
    if response[0] in regressors:
        raise InputError(
            f"{response[0]!r} is the response y and also listed in x: a column cannot explain itself"
        )
    return response[0], regressors


@dataclass(frozen=True)
class Scaling:
    """Standardised regressors ``Z = (X - mean) / scale`` and the way back to original units.

    With an intercept each regressor is centred and divided by its standard
    deviation; without one, only divided by its root mean square (centring would
    add an intercept the model does not have).
    """

    mean: np.ndarray
    scale: np.ndarray
    intercept: bool

    @classmethod
    def identity(cls, p: int) -> Scaling:
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


def eigenvalues(Z: np.ndarray, factor: float = 2.0) -> np.ndarray:
    """The eigenvalues, ascending, of the loss's Hessian ``2Z'Z/n`` (``factor * Z'Z/n``).

    The loss is a quadratic, so its Hessian is this matrix everywhere: read here
    in NumPy rather than by :func:`gdlab.stability` differentiating a closure over
    the data, which would compile anew for every fit."""
    gram = Z.gram() if hasattr(Z, "gram") else (Z.T @ Z) / len(Z)  # a Standard: by blocks
    return np.linalg.eigvalsh(factor * gram)


def curvature(Z: np.ndarray, factor: float = 2.0) -> tuple[float, float]:
    """The largest and smallest eigenvalues of the loss's Hessian (see :func:`_eigenvalues`)."""
    eig = eigenvalues(Z, factor)
    return float(eig[-1]), float(eig[0])


def gd_rate(Z: np.ndarray, factor: float = 2.0) -> tuple[float, str]:
    """``2/(mu+L)``, the fastest fixed rate on a quadratic; ``1/L`` where it is flat along a direction."""
    L, mu = curvature(Z, factor)
    if mu > 1e-12 * L:
        return 2 / (mu + L), f"2/(mu+L) from the Hessian on standardised regressors, L={L:.4g}, mu={mu:.4g}"
    return 1 / L, f"1/L from the Hessian on standardised regressors, L={L:.4g} (it is flat along a direction)"


def rate_for(
    Z: np.ndarray, spec: Method, settings: Settings, factor: float = 2.0
) -> tuple[float | None, str | None]:
    """The rate a method starts from: given, from the curvature, or a default for adaptive methods."""
    if not spec.needs_lr:
        return None, None
    if settings.lr is not None:
        return settings.lr, "given"
    if spec.name in ("gd", "gd-armijo"):
        rate, source = gd_rate(Z, factor)
        return rate, source + (", the line search's first trial" if spec.name == "gd-armijo" else "")
    if spec.name in ("momentum", "nesterov"):
        L, _ = curvature(Z, factor)
        return 1 / L, f"1/L from the Hessian on standardised regressors, L={L:.4g}"
    return 0.1, f"default 0.1 for {spec.name}, which scales its own steps; pass lr= to change it"
