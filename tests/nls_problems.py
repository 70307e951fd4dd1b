"""Classic hard curve fits in the manner of NIST's StRD nonlinear regression set, with references.

Misra1a and BoxBOD are NIST's data and certified values
(https://www.itl.nist.gov/div898/strd/nls/nls_main.shtml), with NIST's two starting
points each. "Thurber-like" and "Gauss-like" use NIST's models (a rational function
of degree 3 over 3; an exponential plus two Gaussians), NIST's certified parameters
as the truth and NIST's starting points, on data constructed here (x on NIST's
range, seeded Gaussian noise of NIST's residual size); their reference solution is
computed in 40-digit arithmetic by :func:`reference` (Gauss-Newton polished from
SciPy's answer until it no longer moves).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class CurveFit:
    """A formula, its data, starting points and the certified (or 40-digit) solution."""

    name: str
    formula: str
    x: np.ndarray
    y: np.ndarray
    starts: tuple[dict[str, float], ...]
    certified: dict[str, float] = field(default_factory=dict)
    rss: float = float("nan")
    source: str = ""

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(self.starts[0])


def misra1a() -> CurveFit:
    x = [77.6, 114.9, 141.1, 190.8, 239.9, 289.0, 332.8, 378.4, 434.8, 477.3, 536.8, 593.1, 689.1, 760.0]
    y = [10.07, 14.73, 17.94, 23.93, 29.61, 35.18, 40.02, 44.82, 50.76, 55.05, 61.01, 66.40, 75.47, 81.78]
    return CurveFit(
        "Misra1a (NIST, lower difficulty)",
        "b1*(1-exp(-b2*x))",
        np.array(x),
        np.array(y),
        ({"b1": 500.0, "b2": 1e-4}, {"b1": 250.0, "b2": 5e-4}),
        {"b1": 2.3894212918e02, "b2": 5.5015643181e-04},
        1.2455138894e-01,
        "NIST StRD data and certified values",
    )


def boxbod() -> CurveFit:
    return CurveFit(
        "BoxBOD (NIST, higher difficulty)",
        "b1*(1-exp(-b2*x))",
        np.array([1.0, 2.0, 3.0, 5.0, 7.0, 10.0]),
        np.array([109.0, 149.0, 149.0, 191.0, 213.0, 224.0]),
        ({"b1": 1.0, "b2": 1.0}, {"b1": 100.0, "b2": 0.75}),
        {"b1": 2.1380940889e02, "b2": 5.4723748542e-01},
        1.1680088766e03,
        "NIST StRD data and certified values",
    )


_THURBER_TRUTH = {
    "b1": 1.2881396800e03,
    "b2": 1.4910792535e03,
    "b3": 5.8323836877e02,
    "b4": 7.5416644291e01,
    "b5": 9.6629502864e-01,
    "b6": 3.9797285797e-01,
    "b7": 4.9727297349e-02,
}
_GAUSS_TRUTH = {
    "b1": 9.8778210871e01,
    "b2": 1.0497276517e-02,
    "b3": 1.0048990633e02,
    "b4": 6.7481111276e01,
    "b5": 2.3129773360e01,
    "b6": 7.1994503004e01,
    "b7": 1.7899805021e02,
    "b8": 1.8389389025e01,
}


def _thurber_model(b, x, exp=np.exp):
    del exp
    return (b[0] + b[1] * x + b[2] * x**2 + b[3] * x**3) / (1 + b[4] * x + b[5] * x**2 + b[6] * x**3)


def _gauss_model(b, x, exp=np.exp):
    return (
        b[0] * exp(-b[1] * x)
        + b[2] * exp(-((x - b[3]) ** 2) / b[4] ** 2)
        + b[5] * exp(-((x - b[6]) ** 2) / b[7] ** 2)
    )


MODELS = {"thurber": _thurber_model, "gauss": _gauss_model}


def _exp_jacobian(b, x):
    e = np.exp(-b[1] * x)
    return np.column_stack([1 - e, b[0] * x * e])


def _thurber_jacobian(b, x):
    powers = np.vander(x, 4, increasing=True)  # 1, x, x^2, x^3
    top, bottom = powers @ b[:4], 1 + powers[:, 1:] @ b[4:]
    return np.column_stack([powers / bottom[:, None], -(top / bottom**2)[:, None] * powers[:, 1:]])


def _gauss_jacobian(b, x):
    e1 = np.exp(-b[1] * x)
    columns = [e1, -b[0] * x * e1]
    for height, centre, width in (b[2:5], b[5:8]):
        d = x - centre
        e = np.exp(-(d**2) / width**2)
        columns += [e, height * e * 2 * d / width**2, height * e * 2 * d**2 / width**3]
    return np.column_stack(columns)


# The models' Jacobians in their parameters, in NumPy (the residuals' are their negatives).
JACOBIANS = {"exp": _exp_jacobian, "thurber": _thurber_jacobian, "gauss": _gauss_jacobian}


def thurber_like() -> CurveFit:
    rng = np.random.default_rng(11)
    x = np.sort(rng.uniform(-3.07, 2.2, 37))
    y = _thurber_model(list(_THURBER_TRUTH.values()), x) + 12.3 * rng.standard_normal(37)
    return CurveFit(
        "Thurber-like (NIST's model and starts, constructed data)",
        "(b1 + b2*x + b3*x^2 + b4*x^3)/(1 + b5*x + b6*x^2 + b7*x^3)",
        x,
        np.round(y, 4),
        (
            {"b1": 1000.0, "b2": 1000.0, "b3": 400.0, "b4": 40.0, "b5": 0.7, "b6": 0.3, "b7": 0.03},
            {"b1": 1300.0, "b2": 1500.0, "b3": 500.0, "b4": 75.0, "b5": 1.0, "b6": 0.4, "b7": 0.05},
        ),
        source="constructed; reference computed in 40 digits",
    )


def gauss_like() -> CurveFit:
    rng = np.random.default_rng(12)
    x = np.arange(1.0, 251.0)
    y = _gauss_model(list(_GAUSS_TRUTH.values()), x) + 2.5 * rng.standard_normal(250)
    return CurveFit(
        "Gauss-like (NIST's Gauss1 model and starts, constructed data)",
        "b1*exp(-b2*x) + b3*exp(-(x-b4)^2/b5^2) + b6*exp(-(x-b7)^2/b8^2)",
        x,
        np.round(y, 4),
        (
            {
                "b1": 97.0,
                "b2": 0.009,
                "b3": 100.0,
                "b4": 65.0,
                "b5": 20.0,
                "b6": 70.0,
                "b7": 178.0,
                "b8": 16.5,
            },
            {
                "b1": 94.0,
                "b2": 0.0105,
                "b3": 99.0,
                "b4": 63.0,
                "b5": 25.0,
                "b6": 71.0,
                "b7": 180.0,
                "b8": 20.0,
            },
        ),
        source="constructed; reference computed in 40 digits",
    )


def reference(problem: CurveFit, kind: str) -> tuple[np.ndarray, float]:
    """The least-squares solution in 40-digit arithmetic: SciPy's answer (exact Jacobian by complex
    steps is not needed: central differences in 40 digits), then Gauss-Newton until it stops moving."""
    import mpmath
    import scipy.optimize

    model = MODELS[kind]
    start = np.array(list(problem.starts[1].values()))
    fit = scipy.optimize.least_squares(
        lambda b: problem.y - model(b, problem.x), start, x_scale="jac", xtol=1e-15, ftol=1e-15, gtol=1e-15
    )
    with mpmath.workdps(40):
        xs = [mpmath.mpf(float(v)) for v in problem.x]
        ys = [mpmath.mpf(float(v)) for v in problem.y]
        b = [mpmath.mpf(float(v)) for v in fit.x]
        h = mpmath.mpf("1e-15")

        def residuals(c):
            return [yi - model(c, xi, mpmath.exp) for xi, yi in zip(xs, ys, strict=True)]

        for _ in range(40):
            r = residuals(b)
            J = mpmath.matrix(len(xs), len(b))
            for j in range(len(b)):
                up, down = list(b), list(b)
                up[j] += h
                down[j] -= h
                ru, rd = residuals(up), residuals(down)
                for i in range(len(xs)):
                    J[i, j] = (ru[i] - rd[i]) / (2 * h)  # the residuals' Jacobian
            rv = mpmath.matrix(r)
            step = mpmath.lu_solve(J.T * J, -(J.T * rv))
            b = [bj + sj for bj, sj in zip(b, step, strict=True)]
            if max(abs(s / bj) for s, bj in zip(step, b, strict=True)) < mpmath.mpf("1e-30"):
                break
        rss = sum(v**2 for v in residuals(b))
        return np.array([float(v) for v in b]), float(rss)


def with_reference(problem: CurveFit, kind: str) -> CurveFit:
    b, rss = reference(problem, kind)
    return dataclasses.replace(problem, certified=dict(zip(problem.params, b, strict=True)), rss=rss)


def digits(estimate, exact) -> float:
    """The fewest correct significant digits (NIST's log relative error), at most 15."""
    estimate, exact = np.atleast_1d(np.asarray(estimate, float)), np.atleast_1d(np.asarray(exact, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        error = np.abs(estimate - exact) / np.abs(exact)
    return float(np.min(np.where(np.isfinite(error), -np.log10(np.maximum(error, 1e-15)), 0.0)))
