"""A fit's result: coefficients, the reference solution beside them, the descent's path, the
summary and the dictionary. It draws nothing: its picture is drawn by ``gdlab.render``.

The routing (:func:`gdlab.fit`) and the algorithms (closed form, IRLS, formulas, the descent
beside the closed form, streamed and cluster fits) all build on this module; it imports none
of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, final

import numpy as np

from gdlab._checks import PYTHON, InputError, Sentence, Spelling, spelled
from gdlab._data import DataLike, as_table
from gdlab._json import plain
from gdlab._ols import Columns
from gdlab._pictures import draw
from gdlab._text import count, table
from gdlab._trajectory import Status, Trajectory
from gdlab.fitting._inference import Inference
from gdlab.fitting._settings import Scaling

__all__ = ["Fit"]


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
        fitted otherwise) and the residuals (drawn by :func:`gdlab.render._fitplot.plot_fit`)."""
        return draw("fit", self)

    def to_dict(self, spelling: Spelling = PYTHON) -> dict[str, Any]:
        """Everything as strict-JSON-ready Python values (non-finite numbers as ``None``); its
        sentences name the parameters as ``spelling`` writes them (``tol``, ``--tol``)."""
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
                "lr_source": spelled(self.lr_source, spelling),
                "steps": self.steps,
                "status": self.status,
                "message": self._message(spelling),
                "warnings": [spelled(w, spelling) for w in self.warnings],
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
            rate = "" if self.lr is None else f" at lr {self.lr:.4g} ({spelled(self.lr_source, spelling)})"
            lines.append(f"  {self.method}{rate}: {self._message(spelling)}")
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
