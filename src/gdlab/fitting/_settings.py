"""What every way of fitting shares: the settings checked once, the names of methods and
families, the standardisation of the regressors and the rate it allows.

The routing (:func:`gdlab.fit`), the algorithms and the result build on this module; it imports
none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from gdlab import _checks
from gdlab._checks import InputError, Sentence, unknown
from gdlab._data import NamesLike, names
from gdlab._methods import Method, fit_methods, least_squares_methods, resolve_method
from gdlab._text import count
from gdlab._trajectory import Status, Trajectory

__all__ = [
    "FAMILIES",
    "LEAST_SQUARES_METHODS",
    "METHODS",
    "FitMethod",
    "Scaling",
    "Settings",
    "check_design",
    "curvature",
    "family_name",
    "fit_method",
    "gd_rate",
    "known",
    "method_name",
    "rate_for",
    "stopped",
    "variables",
]

FitMethod = Literal["ols", "gd", "sgd", "newton", "lbfgs", "lm", "gauss-newton"]
# The closed form, minibatches, and every method descend takes; "lm" and "gauss-newton" for model=.
METHODS: tuple[str, ...] = fit_methods()
LEAST_SQUARES_METHODS = least_squares_methods()
FAMILIES = ("linear", "logistic")


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
    """The family's name: ``"linear"`` (also ``"gaussian"``), ``"logistic"`` (also ``"binomial"``,
    ``"logit"``), or a GLM family's (``"poisson"``, or any :func:`gdlab.fitting._glm_families.register`
    added); a misspelling is refused with the nearest name."""
    from gdlab.fitting._glm_families import glm_family

    name = glm_family(family).name
    return {"gaussian": "linear", "binomial": "logistic"}.get(name, name)


def method_name(how: str | Method) -> str:
    return how if isinstance(how, str) else how.name


def fit_method(method: object, family: str = "linear") -> str | Method:
    """A method name checked for the family, or a resolved :class:`Method` for an optax object."""
    if method is None:
        return "ols" if family == "linear" else "newton"
    if not isinstance(method, str):
        return resolve_method(method)
    kind = known(method)
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
    return kind


# Other names of the least-squares methods, as their docs and other tools write them.
METHOD_ALIASES = {
    "levenberg-marquardt": "lm",
    "levenberg_marquardt": "lm",
    "levenberg": "lm",
    "marquardt": "lm",
    "gauss_newton": "gauss-newton",
    "gaussnewton": "gauss-newton",
}


def known(method: str) -> str:
    """The name ``gdlab.fit`` knows ``method`` by (any case; ``"levenberg-marquardt"`` is ``"lm"``,
    :data:`METHOD_ALIASES`), or the refusal that names the nearest and every choice
    (:func:`gdlab._checks.unknown`), for every model alike (a formula's ``model=`` as a linear
    ``x=``)."""
    kind = method.strip().lower()
    kind = METHOD_ALIASES.get(kind, kind)
    if kind not in METHODS:
        raise unknown("method", method, METHODS)
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


def check_design(n: int, coefficients: tuple[str, ...], intercept: bool, constants: dict[str, float]) -> None:
    """Refuse a linear design with fewer rows than coefficients, or with a regressor of one value
    in every row (``constants``: each such regressor's value, in the design's order): beside an
    intercept it has nothing to explain, and without one a column of 0 has no coefficient. One
    rule for rows in memory (a column's values all equal) and streamed (a merged factor's column
    whose spread is within its rounding).

    Example:
        >>> check_design(10, ("intercept", "x", "z"), True, {"z": 3.0})
        Traceback (most recent call last):
        ...
        gdlab._checks.InputError: column 'z' is constant (3 in every row): beside the intercept it ...
    """
    if n < len(coefficients):
        raise InputError(
            f"{count(n, 'row')} but {len(coefficients)} coefficients ({', '.join(coefficients)}): "
            "a fit needs at least as many rows as coefficients"
        )
    for name, value in constants.items():
        if intercept:
            constant = f"column {name!r} is constant ({value:.10g} in every row)"
            raise InputError(
                lambda s: (
                    f"{constant}: beside the intercept it has nothing to explain; drop it from "  # noqa: B023
                    f"{s.name('x')}, or fit {s.setting('intercept', False)}"
                ),
                parameter="x",
            )
        if value == 0:
            raise InputError(
                f"column {name!r} is 0 in every row: it has no coefficient to fit; drop it from x"
            )


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
        spec.rate(settings.lr)  # a rate given to a method that sets its own step is refused
        return None, None
    if settings.lr is not None:
        return settings.lr, "given"
    if spec.name in ("gd", "gd-armijo"):
        rate, source = gd_rate(Z, factor)
        return rate, source + (", the line search's first trial" if spec.name == "gd-armijo" else "")
    if spec.name in ("momentum", "nesterov"):
        L, _ = curvature(Z, factor)
        return 1 / L, f"1/L from the Hessian on standardised regressors, L={L:.4g}"
    return adaptive_rate(spec)


# Methods whose step follows the curvature (a rate from the Hessian suits them); every other method
# that takes a rate (adam, rmsprop, adagrad, sign) scales its own steps, each about the rate long.
CURVATURE_RATES = ("gd", "gd-armijo", "momentum", "nesterov")
# Such a method's rate on standardised regressors, or on parameters scaled by their starts.
ADAPTIVE_RATE = 0.1


def adaptive_rate(spec: Method) -> tuple[float, Sentence]:
    """The default rate of a method that scales its own steps: a tenth of a unit of the scaled
    parameters (standardised regressors; a typed model's parameters over their starts). A rate
    from the curvature would be far too small for it (1/L = 8e-8 on Engel's power law: no move)."""
    name, rate = spec.name, ADAPTIVE_RATE
    return rate, Sentence(
        lambda s: f"default {rate} for {name}, which scales its own steps; give {s.name('lr')} to change it"
    )


def stopped(path: Trajectory, name: str) -> tuple[str, ...]:
    """What a descent that did not converge says beside the closed form: the engine's sentence for
    its ending, named by the method (nothing when it converged). Every fit's descent says it so."""
    if path.status is Status.CONVERGED:
        return ()
    return (Sentence(lambda s: f"{name}: {path.message_in(s)}"),)  # each front end names its options
