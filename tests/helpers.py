"""Shared problems and an independent finite-difference oracle for the tests."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import jax.numpy as jnp
import numpy as np

import gdlab  # noqa: F401  (float64 before any array below is made)


def lecture_loss(b):
    """(b/2 - 1)^2: L = 1/2, minimum at 2."""
    return (b / 2 - 1) ** 2


def lecture_path(b0: float, lr: float, k: np.ndarray) -> np.ndarray:
    """Closed form of gradient descent on the lecture loss: 2 + (1 - lr/2)^k (b0 - 2)."""
    return 2 + (1 - lr / 2) ** np.asarray(k, dtype=float) * (b0 - 2)


def rosenbrock(p):
    """The Rosenbrock valley, minimum 0 at (1, 1)."""
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def quadratic(A: np.ndarray, c: np.ndarray):
    """0.5 x'Ax - c'x, minimised where A x = c."""
    A, c = jnp.asarray(A), jnp.asarray(c)
    return lambda x: 0.5 * x @ A @ x - c @ x


def least_squares(b, batch):
    """mean((y - X b)^2) over the rows of ``batch = {"X": (n, d), "y": (n,)}``."""
    return jnp.mean((batch["y"] - batch["X"] @ b) ** 2)


def numpy_gradient(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Fourth-order central differences of a NumPy function, independent of JAX."""
    x = np.asarray(x, dtype=np.float64)
    g = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        g.flat[i] = (-f(x + 2 * e) + 8 * f(x + e) - 8 * f(x - e) + f(x - 2 * e)) / (12 * h)
    return g


@dataclass(frozen=True, eq=False)
class Problem:
    """A loss with everything known about its minimum, for tests that check optimisers against it.

    Attributes:
        name: a short id (used as the pytest id).
        description: one line saying what it is and why it is in the table.
        loss: ``loss(params) -> scalar``; one function object per problem, so
            every test that runs it shares the compiled code.
        start: where descents begin.
        minimiser: the exact minimiser (closed form or a linear solve).
        minimum: the loss at ``minimiser``.
        hessian: the Hessian at ``minimiser`` (everywhere, for a quadratic).
        quadratic: whether ``hessian`` holds everywhere, so that distances to
            the minimiser follow from gradients exactly.
        data: for a loss over data, its rows (NumPy arrays), with
            ``loss(p) == data_loss(p, data)``.
        data_loss: ``data_loss(params, batch)``, a mean over the batch's rows.
    """

    name: str
    description: str
    loss: Callable[[object], object]
    start: float | np.ndarray
    minimiser: float | np.ndarray
    minimum: float
    hessian: np.ndarray
    quadratic: bool
    data: dict[str, np.ndarray] | None = field(default=None, repr=False)
    data_loss: Callable[[object, object], object] | None = field(default=None, repr=False)

    @property
    def curvature(self) -> np.ndarray:
        """The Hessian's eigenvalues at the minimiser, ascending."""
        return np.linalg.eigvalsh(self.hessian)

    @property
    def dim(self) -> int:
        return int(self.hessian.shape[0])

    def distance(self, params: object) -> float:
        """Euclidean distance from ``params`` to the minimiser."""
        return float(np.linalg.norm(np.ravel(params) - np.ravel(self.minimiser)))

    def gd_contraction(self, lr: float) -> float:
        """max |1 - lr*eig|: how much plain gradient descent shrinks the error per step on a quadratic."""
        return float(np.max(np.abs(1 - lr * self.curvature)))

    def sign_curvature(self) -> float:
        """max over sign vectors s of s'Hs: the curvature a step of the sign method can meet."""
        signs = itertools.product((-1.0, 1.0), repeat=self.dim)
        return max(float(s @ self.hessian @ s) for s in map(np.array, signs))


def _least_squares_problem(name: str, description: str, X: np.ndarray, y: np.ndarray, start) -> Problem:
    """A quadratic written as least squares on data, its minimiser from the normal equations."""
    bound = {"X": jnp.asarray(X), "y": jnp.asarray(y)}
    minimiser = np.linalg.solve(X.T @ X, X.T @ y)
    return Problem(
        name=name,
        description=description,
        loss=lambda b: least_squares(b, bound),
        start=np.asarray(start, dtype=np.float64),
        minimiser=minimiser,
        minimum=float(np.mean((y - X @ minimiser) ** 2)),
        hessian=2 * X.T @ X / X.shape[0],
        quadratic=True,
        data={"X": X, "y": y},
        data_loss=least_squares,
    )


def _line() -> Problem:
    x = np.linspace(-1.0, 2.0, 12)
    y = 1.0 + 2.0 * x + 0.3 * np.sin(7.0 * x)  # a line with a deterministic wiggle: minimum > 0
    X = np.column_stack([np.ones_like(x), x])
    return _least_squares_problem(
        "line2d", "2-D quadratic: a straight-line fit (intercept, slope) to 12 points", X, y, [-1.0, -1.0]
    )


def _spd5(seed: int = 20240, n: int = 40) -> Problem:
    """Least squares whose Hessian 2X'X/n is Q diag(eig) Q' with a random rotation Q and eig in [1, 10]."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    u, _ = np.linalg.qr(rng.normal(size=(n, 5)))  # orthonormal columns
    eig = np.concatenate([[1.0, 10.0], rng.uniform(1.0, 10.0, size=3)])
    X = np.sqrt(n / 2) * u @ np.diag(np.sqrt(eig)) @ q.T
    y = rng.normal(size=n)
    return _least_squares_problem(
        "spd5",
        f"random SPD quadratic in 5-D (seed {seed}), condition 10, as least squares on {n} rows",
        X,
        y,
        rng.normal(size=5),
    )


PARABOLA = Problem(
    name="parabola",
    description="the lecture's (b/2 - 1)^2: a scalar parameter, curvature 1/2, minimum 0 at b = 2",
    loss=lecture_loss,
    start=-10.0,
    minimiser=2.0,
    minimum=0.0,
    hessian=np.array([[0.5]]),
    quadratic=True,
)
LINE = _line()
ROSENBROCK = Problem(
    name="rosenbrock",
    description="the Rosenbrock valley: curved, condition 2508 at its minimum 0 at (1, 1)",
    loss=rosenbrock,
    start=np.array([-1.5, 2.0]),
    minimiser=np.array([1.0, 1.0]),
    minimum=0.0,
    hessian=np.array([[802.0, -400.0], [-400.0, 200.0]]),
    quadratic=False,
)
SPD5 = _spd5()

# The problems every method is checked against (tests/test_conformance.py). LINE, a
# 2-D quadratic on data that a contour plot can show, is kept out: it adds compile
# time there and nothing that SPD5 does not check.
PROBLEMS: dict[str, Problem] = {p.name: p for p in (PARABOLA, ROSENBROCK, SPD5)}


@contextlib.contextmanager
def local_cluster(workers: int = 1):
    """A Dask cluster of ``workers`` processes on 127.0.0.1 and its client, stopped on leaving."""
    import pytest

    distributed = pytest.importorskip("dask.distributed")
    with (
        distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # a free port on loopback: 8787 may be taken
            silence_logs=50,
        ) as local,
        distributed.Client(local) as client,
    ):
        yield local, client
