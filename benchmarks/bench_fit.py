"""Fitting: accuracy against certified or high-precision references, and speed against NumPy, SciPy
and statsmodels, all measured in this process.

1. Linear least squares on ill-conditioned designs (a degree-10 polynomial, a far-off
   quadratic, Longley, Wampler1): correct significant digits (NIST's log relative
   error, min over coefficients) of ``gdlab.ols`` and of NumPy's and SciPy's drivers,
   against the exact solution of the given floats (normal equations in 50 digits).
2. Nonlinear least squares on NIST's Misra1a and BoxBOD (certified values) and on
   data built from NIST's Thurber and Gauss1 models (40-digit references; see
   ``tests/nls_problems.py``), from NIST's two starts: gdlab's ``lm`` and
   ``gauss-newton`` against ``scipy.optimize.least_squares`` (``lm`` and ``trf``)
   with an exact Jacobian (JAX autodiff).
3. Speed: the closed form on an n x 50 float64 design against ``numpy.linalg.lstsq``
   and statsmodels' OLS; a warm (compiled) ``lm`` fit of each curve-fit problem against
   SciPy's ``least_squares(method="lm")`` with NumPy residuals and exact Jacobian (default
   tolerances), and gdlab's first call (compilation included) in fresh processes.

Prints Markdown tables (medians of repeated runs; this machine is shared and noisy).

Run: ``python benchmarks/bench_fit.py [--rows 1000000] [--repeats 3] [--lm-only]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg
import scipy.optimize

import gdlab
from gdlab._ols import least_squares
from gdlab.fitting._fit import fit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from nls_problems import JACOBIANS, MODELS, boxbod, digits, gauss_like, misra1a, thurber_like, with_reference
from test_ols import _designs, _reference


def median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def linear_accuracy() -> list[str]:
    rows = [
        "| design | condition | gdlab.ols | numpy lstsq | scipy gelsd | scipy gelsy | scipy gelss |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, X, y in _designs():
        exact = _reference(X, y)
        ours = least_squares(X, y).coef
        theirs = [np.linalg.lstsq(X, y, rcond=None)[0]]
        theirs += [scipy.linalg.lstsq(X, y, lapack_driver=d)[0] for d in ("gelsd", "gelsy", "gelss")]
        cells = " | ".join(f"{digits(b, exact):.1f}" for b in [ours, *theirs])
        rows.append(f"| {name} | {np.linalg.cond(X):.2g} | {cells} |")
    return rows


def _jax_model(kind: str):
    if kind == "exp":
        return lambda b, x: b[0] * (1 - jnp.exp(-b[1] * x))
    return lambda b, x: MODELS[kind](b, x, jnp.exp)


def nonlinear_accuracy() -> list[str]:
    problems = [
        (misra1a(), "exp"),
        (boxbod(), "exp"),
        (with_reference(thurber_like(), "thurber"), "thurber"),
        (with_reference(gauss_like(), "gauss"), "gauss"),
    ]
    rows = [
        "| problem | start | gdlab lm: params / RSS digits (steps) | gdlab gauss-newton | "
        "SciPy lm (exact J) | SciPy trf (exact J) |",
        "| --- | :-: | :-: | :-: | :-: | :-: |",
    ]
    for problem, kind in problems:
        exact = np.array(list(problem.certified.values()))
        model = _jax_model(kind)
        x, y = problem.x, problem.y
        residuals = jax.jit(lambda b, model=model, x=x, y=y: y - model(b, x))
        jacobian = jax.jit(jax.jacfwd(lambda b, model=model, x=x, y=y: y - model(b, x)))
        for k, start in enumerate(problem.starts, start=1):
            residual_fn, jacobian_fn = residuals, jacobian
            cells = []
            for method in ("lm", "gauss-newton"):
                result = fit({"x": x, "y": y}, y="y", model=problem.formula, init=start, method=method)
                path = result.trajectory
                assert path is not None
                ok = "" if path.status.value == "converged" else f", {path.status.value}"
                cells.append(
                    f"{digits(result.coef, exact):.1f} / {digits(path.loss[-1], problem.rss):.1f} "
                    f"({path.steps}{ok})"
                )
            for method in ("lm", "trf"):
                sol = scipy.optimize.least_squares(
                    lambda b, f=residual_fn: np.asarray(f(jnp.asarray(b))),
                    np.array(list(start.values())),
                    jac=lambda b, j=jacobian_fn: np.asarray(j(jnp.asarray(b))),
                    method=method,
                    xtol=1e-15,
                    ftol=1e-15,
                    gtol=1e-15,
                    max_nfev=5000,
                )
                cells.append(
                    f"{digits(sol.x, exact):.1f} / {digits(2 * sol.cost, problem.rss):.1f} ({sol.nfev})"
                )
            rows.append(f"| {problem.name} | {k} | {' | '.join(cells)} |")
    return rows


def closed_form_speed(n: int, p: int, repeats: int) -> list[str]:
    import statsmodels.api as sm

    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])
    y = X @ rng.normal(size=p) + rng.normal(size=n)
    ours = median_seconds(lambda: gdlab.ols(X, y), repeats)
    numpy_time = median_seconds(lambda: np.linalg.lstsq(X, y, rcond=None), repeats)
    statsmodels_time = median_seconds(lambda: sm.OLS(y, X).fit(), repeats)
    qr_time = median_seconds(lambda: sm.OLS(y, X).fit(method="qr"), repeats)
    with_stats = median_seconds(
        lambda: fit(
            {"y": y, **{f"x{j}": X[:, j] for j in range(1, p)}}, y="y", x=[f"x{j}" for j in range(1, p)]
        ),
        repeats,
    )
    return [
        f"Closed form on {n:,} x {p} float64 (median of {repeats}):",
        "",
        "| solver | seconds | ratio to numpy.linalg.lstsq |",
        "| --- | ---: | ---: |",
        f"| gdlab.ols (scaled pivoted QR) | {ours:.3f} | {ours / numpy_time:.2f} |",
        f"| gdlab.fit (QR, standard errors, R²; from columns) | {with_stats:.3f} | "
        f"{with_stats / numpy_time:.2f} |",
        f"| numpy.linalg.lstsq (SVD, gelsd) | {numpy_time:.3f} | 1.00 |",
        f"| statsmodels OLS (pinv) | {statsmodels_time:.3f} | {statsmodels_time / numpy_time:.2f} |",
        f"| statsmodels OLS (method='qr') | {qr_time:.3f} | {qr_time / numpy_time:.2f} |",
    ]


SPEED_PROBLEMS = {  # name: (problem, model kind); each from NIST's second start
    "misra1a": (misra1a, "exp"),
    "boxbod": (boxbod, "exp"),
    "thurber": (thurber_like, "thurber"),
    "gauss": (gauss_like, "gauss"),
}


def _speed_problem(name: str):
    make, kind = SPEED_PROBLEMS[name]
    problem = make()
    return problem, kind, {"x": problem.x, "y": problem.y}, problem.starts[1]


def first_call(name: str) -> float:
    """Seconds of the first ``lm`` fit of a problem in this (fresh) process: tracing and compiling."""
    problem, _, data, start = _speed_problem(name)
    began = time.perf_counter()
    fit(data, y="y", model=problem.formula, init=start)
    return time.perf_counter() - began


def _first_call_in_fresh_processes(name: str, repeats: int) -> float:
    runs = [
        float(
            subprocess.run(
                [sys.executable, __file__, "--first-call", name],
                check=True,
                capture_output=True,
                text=True,
                env={**os.environ, "GDLAB_NO_CACHE": "1"},
            ).stdout.split()[-1]
        )
        for _ in range(repeats)
    ]
    return statistics.median(runs)


def _interleaved_medians(fns: list, repeats: int) -> list[float]:
    """Median seconds of each function, called in turn (a noisy machine slows them alike)."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, kept in zip(fns, times, strict=True):
            began = time.perf_counter()
            fn()
            kept.append(time.perf_counter() - began)
    return [statistics.median(kept) for kept in times]


def _lm_speed_row(name: str, repeats: int, fresh: int) -> str:
    problem, kind, data, start = _speed_problem(name)
    first = _first_call_in_fresh_processes(name, fresh)
    result = fit(data, y="y", model=problem.formula, init=start)
    assert result.trajectory is not None
    model = {"exp": lambda b, x, exp=np.exp: b[0] * (1 - exp(-b[1] * x)), **MODELS}[kind]
    x, y, jacobian = problem.x, problem.y, JACOBIANS[kind]
    b0 = np.array(list(start.values()))

    def ours():
        return fit(data, y="y", model=problem.formula, init=start)

    def theirs(tol: float = 1e-8):  # SciPy's default tolerances, or the accuracy table's
        return scipy.optimize.least_squares(
            lambda b: y - model(b, x),
            b0,
            jac=lambda b: -jacobian(b, x),
            method="lm",
            ftol=tol,
            xtol=tol,
            gtol=tol,
        )

    warm, scipy_lm, scipy_tight = _interleaved_medians([ours, theirs, lambda: theirs(1e-15)], repeats)
    return (
        f"| {problem.name.split(' (')[0]} | {len(x)} x {len(b0)} | {first:.2f} | {warm * 1e3:.2f} | "
        f"{result.trajectory.steps} | {scipy_lm * 1e3:.2f} ({theirs().nfev}) | "
        f"{scipy_tight * 1e3:.2f} ({theirs(1e-15).nfev}) | {warm / scipy_lm:.1f} | {warm / scipy_tight:.1f} |"
    )


def lm_speed(repeats: int, fresh: int) -> list[str]:
    return [
        f"Levenberg-Marquardt from NIST's second start (medians of {repeats} warm fits, gdlab's and "
        f"SciPy's in turn, and of {fresh} first calls, each in a fresh process without the persistent "
        "compilation cache):",
        "",
        "| problem | rows x parameters | gdlab first call (s) | gdlab warm (ms) | steps | "
        "SciPy lm, default tolerances 1e-8 (ms, nfev) | SciPy lm, tolerances 1e-15 (ms, nfev) | "
        "gdlab / SciPy default | gdlab / SciPy 1e-15 |",
        "| --- | :-: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(_lm_speed_row(name, repeats, fresh) for name in SPEED_PROBLEMS),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lm-only", action="store_true", help="only the Levenberg-Marquardt speed table")
    parser.add_argument("--first-call", choices=sorted(SPEED_PROBLEMS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.first_call:
        print(f"{first_call(args.first_call):.6f}")
        return
    print(f"Python {platform.python_version()}, {platform.machine()}, JAX {jax.__version__}\n")
    steps = (
        lambda: lm_speed(max(200, args.repeats), max(3, args.repeats)),
        linear_accuracy,
        nonlinear_accuracy,
        lambda: closed_form_speed(args.rows, args.columns, args.repeats),
    )[: 1 if args.lm_only else None]
    for step in steps:
        print("\n".join(step()), end="\n\n", flush=True)


if __name__ == "__main__":
    main()
