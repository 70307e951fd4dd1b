"""Linear regression on data: the closed form beside gradient descent or SGD, as one Fit result.

The descent runs on standardised regressors (each centred and scaled to unit
spread), where one rate suits every coefficient, and its answer is mapped back
to the original units, so it can be read beside the closed form.

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
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal, final

import jax.numpy as jnp
import numpy as np
import optax

from gdlab import _checks
from gdlab._checks import LIMITS, InputError
from gdlab._data import DataLike, Design, NamesLike, as_table, design_matrix, names
from gdlab._json import plain
from gdlab._methods import Method
from gdlab._precision import resolve_dtype
from gdlab._text import count, table
from gdlab._trajectory import Status, Trajectory
from gdlab._types import DTypeLike

__all__ = ["METHODS", "Fit", "FitMethod", "fit"]

FitMethod = Literal["ols", "gd", "sgd"]
METHODS: tuple[str, ...] = ("ols", "gd", "sgd")

# gd stops once the gradient norm falls to this fraction of the response's size
# (its root mean square, at least 1): an absolute 1e-10 is out of reach for sales
# in millions, and meaningless for responses near 1e-12.
_TOL = 1e-10


@final
@dataclass(frozen=True, eq=False, repr=False)
class Fit:
    """A linear regression: coefficients in the data's units, the closed form beside them.

    Attributes:
        y: the response column.
        names: the coefficient names: ``"intercept"`` (when fitted), then the regressors.
        method: ``"ols"``, ``"gd"`` or ``"sgd"``.
        coef: what ``method`` found, in original units, read-only.
        closed_form: the least-squares solution, read-only.
        n: the rows fitted.
        lr: the learning rate (at the start, for a decaying SGD rate); ``None`` for ols.
        lr_source: where the rate came from, in words.
        trajectory: the descent, step by step, on the standardised regressors
            (:meth:`coefficient_path` maps it back); ``None`` for ols.
        warnings: what the user should know, as sentences (a rank-deficient
            design, a batch larger than the data, a descent that did not finish).
        dropped: rows dropped for missing values (``dropna=True``).
        intercept: whether an intercept was fitted.
        dtype: the floating type computed in.
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
    _scaling: _Scaling | None = None

    def __post_init__(self) -> None:
        for name in ("coef", "closed_form"):
            arr = np.array(getattr(self, name), dtype=np.float64)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def x(self) -> tuple[str, ...]:
        """The regressor columns."""
        return self.names[1:] if self.intercept else self.names

    @property
    def coefficients(self) -> dict[str, float]:
        """What ``method`` found, by name, in original units."""
        return dict(zip(self.names, map(float, self.coef), strict=True))

    @property
    def max_difference(self) -> float | None:
        """The largest absolute difference from the closed form (``None`` for ols)."""
        return None if self.trajectory is None else float(np.max(np.abs(self.coef - self.closed_form)))

    @property
    def status(self) -> Status | None:
        """How the descent ended (``None`` for ols)."""
        return None if self.trajectory is None else self.trajectory.status

    @property
    def steps(self) -> int | None:
        """The steps the descent took (``None`` for ols)."""
        return None if self.trajectory is None else self.trajectory.steps

    @property
    def message(self) -> str:
        """How the fit ended, in a sentence."""
        return (
            "solved in closed form by least squares" if self.trajectory is None else self.trajectory.message
        )

    def coefficient_path(self) -> np.ndarray:
        """The descent's coefficients at every step in original units: (steps + 1, len(names))."""
        if self.trajectory is None or self._scaling is None:
            raise InputError("an ols fit has no path: fit with method='gd' or 'sgd'")
        return self._scaling.back(self.trajectory.flat_params())

    def predict(self, data: DataLike) -> np.ndarray:
        """Fitted values ``X @ coef`` for new rows holding the regressor columns.

        Example:
            >>> fit("cafe", y="y", x="x").predict({"x": [20.0, 30.0]}).round(3).tolist()
            [54.259, 76.416]
        """
        table = as_table(data, columns=self.x, dtype=self.dtype)
        return design_matrix(table, self.x, intercept=self.intercept).matrix @ self.coef.astype(self.dtype)

    def to_dict(self) -> dict[str, Any]:
        """Everything as strict-JSON-ready Python values (non-finite numbers as ``None``)."""
        descent = self.trajectory is not None
        return plain(
            {
                "y": self.y,
                "x": list(self.x),
                "method": self.method,
                "intercept": self.intercept,
                "rows": self.n,
                "dropped": self.dropped,
                "coefficients": self.coefficients,
                "closed_form": dict(zip(self.names, self.closed_form, strict=True)),
                "descent": self.coefficients if descent else None,
                "max_difference": self.max_difference,
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
        """A DataFrame indexed by coefficient: the closed form, the method's values, their difference."""
        import pandas as pd

        columns = {"closed form": self.closed_form}
        if self.trajectory is not None:
            columns |= {self.method: self.coef, "difference": self.coef - self.closed_form}
        return pd.DataFrame(columns, index=pd.Index(self.names, name="coefficient"))

    def __repr__(self) -> str:
        formula = f"{self.y} ~ {' + '.join(self.x)}{'' if self.intercept else ' - 1'}"
        lines = [f"Fit({formula}, {self.method}, {count(self.n, 'row')})", *self._table()]
        path = self.trajectory
        if path is not None:
            lines.append(
                f"  {self.method}: {count(path.steps, 'step')} at lr {self.lr:.4g} ({self.lr_source}), "
                f"{path.status}; largest difference {self.max_difference:.3g}"
            )
        return "\n".join([*lines, *(f"  warning: {w}" for w in self.warnings)])

    def _table(self) -> list[str]:
        """The coefficients as aligned text: name, closed form and (for a descent) the method's value."""
        descent = self.trajectory is not None
        rows = [["coefficient", "closed form", *([self.method] if descent else [])]]
        for i, name in enumerate(self.names):
            values = [self.closed_form[i], *([self.coef[i]] if descent else [])]
            rows.append([name, *(f"{v:.10g}" for v in values)])
        return table(rows)


def fit(
    data: DataLike,
    *,
    y: str,
    x: NamesLike,
    method: FitMethod | str = "ols",
    intercept: bool = True,
    steps: int = 5000,
    epochs: int = 200,
    batch_size: int = 8,
    seed: int = 0,
    lr: float | None = None,
    decay: bool = True,
    dropna: bool = False,
    dtype: DTypeLike = None,
) -> Fit:
    """Fit ``y ~ x`` by least squares: in closed form, or by descent beside the closed form.

    ``gd`` and ``sgd`` run on the standardised regressors from zero and map
    their answer back to the original units. Unless ``lr`` is given, gd takes
    the rate ``2/(mu+L)`` from the eigenvalues of the loss's Hessian ``2Z'Z/n``
    (the fastest fixed rate on this quadratic), and sgd a rate suited to its
    batch (see :func:`_sgd_rate`) that decays to 0 by a cosine over the run, so
    that the noise of the batches dies out and seeds agree with the closed form.

    Args:
        data: anything :func:`gdlab._data.as_table` reads: arrays, a dict, a
            DataFrame, a CSV or Parquet path, ``"cafe"``.
        y: the response column.
        x: the regressor columns: a list, or names separated by commas.
        method: ``"ols"`` (closed form only), ``"gd"`` or ``"sgd"``.
        intercept: fit an intercept (a column of ones).
        steps: the most steps of gd (it stops earlier once converged).
        epochs: passes of sgd over the data.
        batch_size: rows per sgd step (at most the rows there are).
        seed: the shuffling seed of sgd.
        lr: the learning rate, instead of the one chosen from the curvature
            (sgd's still decays from it unless ``decay=False``).
        decay: sgd's rate decays to 0 by a cosine over the run; ``False`` keeps it fixed.
        dropna: drop rows with missing values in ``y`` or ``x`` (counted in
            ``dropped``) instead of refusing them.
        dtype: the floating type (default float64).

    Returns:
        A :class:`Fit`.

    Raises:
        InputError: a bad column or value (see :func:`gdlab._data.as_table`),
            ``y`` among ``x``, fewer rows than coefficients, a constant
            regressor beside the intercept, or a bad setting.
    """
    kind = _method(method)
    response, regressors = _variables(y, x)
    dt = resolve_dtype(dtype)
    settings = _Settings.checked(steps, epochs, batch_size, seed, lr, decay)
    table = as_table(data, columns=(response, *regressors), dtype=dt, dropna=dropna)
    design = design_matrix(table, regressors, intercept=bool(intercept))
    _check_design(design, bool(intercept))
    target = np.asarray(table[response])
    closed, notes = _closed_form(design.matrix, target, dt)
    result = Fit(
        y=response,
        names=design.names,
        method=kind,
        coef=closed,
        closed_form=closed,
        n=table.n,
        warnings=notes,
        dropped=table.dropped,
        intercept=bool(intercept),
        dtype=dt,
    )
    return result if kind == "ols" else _descent(result, design.matrix, target, settings)


@dataclass(frozen=True)
class _Settings:
    """The descent's settings, checked before any data is read."""

    steps: int
    epochs: int
    batch_size: int
    seed: int
    lr: float | None
    decay: bool

    @classmethod
    def checked(
        cls, steps: object, epochs: object, batch_size: object, seed: object, lr: object, decay: object
    ) -> _Settings:
        return cls(
            steps=_checks.steps(steps),
            epochs=_checks.whole("epochs", epochs, low=1),
            batch_size=_checks.whole("batch_size", batch_size, low=1),
            seed=_checks.whole("seed", seed),
            lr=None if lr is None else _checks.number("lr", lr),
            decay=bool(decay),
        )


def _descent(closed: Fit, X: np.ndarray, y: np.ndarray, settings: _Settings) -> Fit:
    """``closed`` with the descent's coefficients, rate and path beside its closed form."""
    scaling = _Scaling.of(X, closed.intercept)
    run = _descend_gd if closed.method == "gd" else _descend_sgd
    path, rate, source, notes = run(scaling.standardise(X), y, settings, closed.dtype)
    if closed.warnings:  # dependent columns: many coefficient vectors fit equally well
        notes = (
            f"{closed.method} may stop at another of the equally good solutions than the closed form's: "
            "compare fitted values (predict) rather than coefficients",
            *notes,
        )
    return dataclasses.replace(
        closed,
        coef=scaling.back(np.asarray(path.final)),
        lr=rate,
        lr_source=source,
        trajectory=path,
        warnings=(*closed.warnings, *notes),
        _scaling=scaling,
    )


def _method(method: object) -> str:
    kind = method.strip().lower() if isinstance(method, str) else method
    if kind not in METHODS:
        raise InputError(f"method {method!r}: choose one of {', '.join(METHODS)}")
    return str(kind)


def _variables(y: object, x: NamesLike) -> tuple[str, tuple[str, ...]]:
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


def _check_design(design: Design, intercept: bool) -> None:
    X, coefficients = design
    n, p = X.shape
    if n < p:
        raise InputError(
            f"{count(n, 'row')} but {p} coefficients ({', '.join(coefficients)}): "
            f"a fit needs at least as many rows as coefficients"
        )
    for j in range(int(intercept), p):
        column, name = X[:, j], coefficients[j]
        if intercept and np.ptp(column) == 0:
            raise InputError(
                f"column {name!r} is constant ({column[0]:g} in every row): beside the intercept it "
                "has nothing to explain; drop it from x, or fit intercept=False"
            )
        if not intercept and not np.any(column):
            raise InputError(
                f"column {name!r} is 0 in every row: it has no coefficient to fit; drop it from x"
            )


def _closed_form(X: np.ndarray, y: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, tuple[str, ...]]:
    """The least-squares solution, with what :func:`gdlab._ols.ols` warned as sentences."""
    from gdlab._ols import ols

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        coef = ols(X, y, dtype=dtype)
    return np.asarray(coef, dtype=np.float64), tuple(str(w.message) for w in caught)


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
    def of(cls, X: np.ndarray, intercept: bool) -> _Scaling:
        columns = X[:, 1:] if intercept else X
        mean = columns.mean(axis=0) if intercept else np.zeros(columns.shape[1], X.dtype)
        scale = np.sqrt(np.mean((columns - mean) ** 2, axis=0))
        return cls(mean, scale, intercept)

    def standardise(self, X: np.ndarray) -> np.ndarray:
        Z = np.array(X)
        start = int(self.intercept)
        Z[:, start:] = (X[:, start:] - self.mean) / self.scale
        return Z

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


def _curvature(Z: np.ndarray) -> tuple[float, float]:
    """The largest and smallest eigenvalues of the loss's Hessian ``2Z'Z/n``.

    The loss is a quadratic, so its Hessian is this matrix everywhere: read here
    in NumPy rather than by :func:`gdlab.stability` differentiating a closure over
    the data, which would compile anew for every fit."""
    eig = np.linalg.eigvalsh(2 * (Z.T @ Z) / len(Z))
    return float(eig[-1]), float(eig[0])


def _gd_rate(Z: np.ndarray) -> tuple[float, str]:
    """``2/(mu+L)``, the fastest fixed rate on a quadratic; ``1/L`` where it is flat along a direction."""
    L, mu = _curvature(Z)
    if mu > 1e-12 * L:
        return 2 / (mu + L), f"2/(mu+L) from the Hessian on standardised regressors, L={L:.4g}, mu={mu:.4g}"
    return 1 / L, f"1/L from the Hessian on standardised regressors, L={L:.4g} (it is flat along a direction)"


def _descend_gd(
    Z: np.ndarray, y: np.ndarray, settings: _Settings, dtype: np.dtype
) -> tuple[Trajectory, float, str, tuple[str, ...]]:
    from gdlab._descend import descend

    rate, source = (settings.lr, "given") if settings.lr is not None else _gd_rate(Z)
    data = {"Z": jnp.asarray(Z), "y": jnp.asarray(y)}
    tol = max(_TOL, 100 * float(np.finfo(dtype).eps)) * max(1.0, float(np.sqrt(np.mean(y**2))))
    path = descend(
        lambda b: _mse(b, data), np.zeros(Z.shape[1]), lr=rate, steps=settings.steps, tol=tol, dtype=dtype
    )
    notes: tuple[str, ...] = ()
    if path.status is Status.MAX_STEPS:
        notes = (
            f"gd took all {settings.steps:,} steps without the gradient norm falling to {tol:.3g}: "
            "the coefficients are not converged; raise steps",
        )
    elif path.status is not Status.CONVERGED:
        notes = (f"gd: {path.message}",)
    return path, rate, source, notes


def _sgd_rate(Z: np.ndarray, size: int) -> tuple[float, str]:
    """``1/(2 L_b)``: the rate with a convergence guarantee for batches of ``size`` rows drawn without
    replacement, where ``L_b`` is the expected smoothness of a batch's loss (Gower et al., 2019):
    between ``L`` (the whole data) and the sharpest single row's curvature ``max 2|z_i|^2``."""
    n = len(Z)
    L, _ = _curvature(Z)
    sharpest = 2 * float(np.max(np.sum(Z**2, axis=1)))
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
    Z: np.ndarray, y: np.ndarray, settings: _Settings, dtype: np.dtype
) -> tuple[Trajectory, float, str, tuple[str, ...]]:
    from gdlab._sgd import sgd

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
    rate, source = (settings.lr, "given") if settings.lr is not None else _sgd_rate(Z, size)
    if settings.decay:
        source += f", decaying to 0 by a cosine over {total:,} steps"
    path = sgd(
        _mse,
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
