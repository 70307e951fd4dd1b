"""The lecture, computed by gdlab: every number it prints beside ours.

Each :class:`Check` pairs a value gdlab computes with the value the lecture
printed (or, where the lecture only draws, the value theory gives). ``gdlab
demo`` prints them; the test suite asserts every one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np

from gdlab import datasets
from gdlab._derivatives import grad
from gdlab._descend import descend
from gdlab._gradcheck import check_grad
from gdlab._grid import grid_search
from gdlab._ols import ols
from gdlab._stability import stability
from gdlab._sweep import sweep

LECTURE_LR = 0.01 / 6
HOMEWORK_LR = 0.01 / 3


@dataclass(frozen=True)
class Check:
    """One number: ours, the reference, and how close they must be."""

    label: str
    ours: Any
    reference: Any
    tol: float
    source: str = "lecture"  # or "theory"

    def shown(self, value: Any = None) -> str:
        """``value`` (default: ours) as printed: float32 rows with float32's shortest digits."""
        v = self.ours if value is None else value
        if isinstance(v, int | str):
            return str(v)
        return str(np.float32(v)) if "float32" in self.label else f"{float(v):.12g}"

    @property
    def ok(self) -> bool:
        """Whether ours is within ``tol`` of the reference (equal, for words)."""
        if isinstance(self.ours, str) or isinstance(self.reference, str):
            return self.ours == self.reference
        return bool(abs(self.ours - self.reference) <= self.tol)


@dataclass(frozen=True)
class Section:
    """A part of the lecture and its checks."""

    title: str
    checks: tuple[Check, ...]
    note: str = ""


def lecture_loss(b):
    """The lecture's optimisation problem, ``(b/2 - 1)^2``, minimised at b = 2."""
    return (b / 2 - 1) ** 2


def homework_loss(x):
    """The homework's ``(x - 1)^2``, minimised at x = 1."""
    return (x - 1) ** 2


def cafe_matrix_loss(X, y):
    """The lecture's matrix-form loss ``(y - X b)'(y - X b)`` for data X, y."""
    return lambda b: (y - X @ b).T @ (y - X @ b)


def _f32(label: str, ours: float, printed: float, ulps: int = 2) -> Check:
    """A float32 value against TensorFlow's print, compared as float32 numbers."""
    reference = float(np.float32(printed))
    return Check(label, ours, reference, ulps * float(np.spacing(np.float32(abs(printed)))))


def _data() -> Section:
    cafe = datasets.cafe()
    fitted = cafe.X @ np.array([9.0, 2.0])
    return Section(
        "Example 9-10: the cafe data (예제9, 예제10)",
        (
            Check("sales y[0]", cafe.y[0], 55.4183651, 0.0),
            Check("sales y[9]", cafe.y[9], 77.84988286, 0.0),
            Check("X @ (9, 2), first row", fitted[0], 49.2, 1e-12),
            Check("X @ (9, 2), last row", fitted[-1], 69.8, 1e-12),
        ),
        "the lecture draws the noise with seed 43052; its printed sales are the data",
    )


def _derivatives() -> Section:
    cafe = datasets.cafe()
    X, y = cafe.X, cafe.y.reshape(-1, 1)
    beta = np.array([[9.0], [2.0]])
    x32, y32 = jnp.asarray(cafe.x, "float32"), jnp.asarray(cafe.y, "float32")
    scalar = grad(lambda b0, b1: jnp.sum((y32 - b0 - b1 * x32) ** 2), (0, 1), dtype="float32")
    g0, g1 = (float(v) for v in scalar(9.0, 2.0))
    matrix = np.asarray(grad(cafe_matrix_loss(X, y))(beta)).ravel()
    theory = (-2 * X.T @ y + 2 * X.T @ X @ beta).ravel()
    report = check_grad(cafe_matrix_loss(X, y), beta, analytic=theory)
    return Section(
        "Derivatives at b = (9, 2): tape.gradient vs gdlab.grad",
        (
            _f32("scalar form d/db0 (float32)", g0, -126.78691),
            _f32("scalar form d/db1 (float32)", g1, -3208.8396),
            Check("matrix form d/db0", matrix[0], -126.78690968, 1e-6),
            Check("matrix form d/db1", matrix[1], -3208.83947922, 1e-5),
            Check("-2X'y + 2X'Xb, d/db0", theory[0], -126.78690968, 1e-6),
            Check("-2X'y + 2X'Xb, d/db1", theory[1], -3208.83947922, 1e-5),
            Check(
                "autodiff vs finite differences, max rel error",
                report.max_rel_error,
                0.0,
                report.tol,
                "theory",
            ),
        ),
        "the printed sales carry 8 decimals, so the last printed digits of X'y may differ",
    )


def _closed_form() -> Section:
    cafe = datasets.cafe()
    X, y = cafe.X, cafe.y.reshape(-1, 1)
    beta_hat = ols(X, y)
    at_hat = np.asarray(grad(cafe_matrix_loss(X, y))(beta_hat)).ravel()
    at_true = np.asarray(grad(cafe_matrix_loss(X, y))(cafe.beta.reshape(2, 1))).ravel()
    return Section(
        "Example 11: the optimum (X'X)^-1 X'y and the gradient there",
        (
            Check("beta_hat[0] (least squares)", float(beta_hat[0, 0]), 9.94457323, 1e-7, "theory"),
            Check("beta_hat[1] (least squares)", float(beta_hat[1, 0]), 2.21570461, 1e-7, "theory"),
            Check("gradient at beta_hat, d/db0", at_hat[0], -5.57065505e-12, 1e-9),
            Check("gradient at beta_hat, d/db1", at_hat[1], -1.40943257e-10, 1e-8),
            Check("gradient at beta_true, d/db0", at_true[0], -2.74690968, 1e-6),
            Check("gradient at beta_true, d/db1", at_true[1], -71.45947922, 1e-5),
        ),
        "zero to rounding at the optimum; gdlab's solver is closer to zero than the inverse",
    )


def _grid() -> Section:
    beta = np.linspace(-10, 10, 100)
    result = grid_search(lecture_loss, beta)
    return Section(
        "Grid search on linspace(-10, 10, 100)",
        (
            Check("argmin index", result.index, 59, 0),
            Check("best beta", result.best, 1.9191919191919187, 0.0),
            Check("loss at beta[60]", float(result.losses[60]), 0.0036730945821854847, 1e-18),
            Check("evaluations", result.evaluations, 100, 0, "theory"),
        ),
    )


def _probes() -> Section:
    slope = grad(lecture_loss)
    return Section(
        "Gradient descent, the idea: probe both sides, follow the slope",
        (
            Check("loss at -5", float(lecture_loss(-5.0)), 12.25, 1e-12),
            Check("loss at -4.99 (0.01 right)", float(lecture_loss(-4.99)), 12.215025, 1e-12),
            Check("loss at -5.01 (0.01 left)", float(lecture_loss(-5.01)), 12.285025, 1e-12),
            Check("slope at -10", float(slope(-10.0)), -6.0, 0.0),
            Check("slope at -4", float(slope(-4.0)), -3.0, 0.0),
        ),
    )


def _descent() -> Section:
    printed = {1: -9.99, 2: -9.980008, 100: -9.040152, 1000: -3.2133687, 10000: 1.997125}
    f32 = descend(lecture_loss, -10.0, lr=LECTURE_LR, steps=10000, dtype="float32").params
    f64 = descend(lecture_loss, -10.0, lr=LECTURE_LR, steps=10000).params
    checks = [_f32(f"after {k} steps (float32)", float(f32[k]), v) for k, v in printed.items()]
    checks += [Check(f"after {k} steps (float64)", float(f64[k]), v, 1e-5) for k, v in printed.items()]
    return Section(
        "Gradient descent on (b/2-1)^2 from -10, lr = 0.01/6",
        tuple(checks),
        "float32 agrees to the printed digits, or within 2 float32 ulps where the "
        "lecture's GPU rounded differently",
    )


def _homework() -> Section:
    path = descend(homework_loss, -3.0, lr=HOMEWORK_LR, steps=100)
    closed = 1 - 4 * (1 - 2 * HOMEWORK_LR) ** 100
    return Section(
        "Homework: (x-1)^2 from -3, lr = 0.01/3, 100 steps",
        (
            Check(
                "x after 100 steps vs 1 - 4(1 - 2 lr)^100",
                float(path.final),
                closed,
                1e-12,
                "theory",
            ),
        ),
    )


def _rates() -> Section:
    rows = []
    for lr, expected, label in (
        (2.0, 2.0, "lr = 2 lands on the minimum in one step"),
        (4.0, 14.0, "lr = 4 = 2/L bounces between -10 and 14"),
        (0.5, 2.0, "lr = 0.5 converges (error < 1e-9 in 100 steps)"),
    ):
        final = float(descend(lecture_loss, -10.0, lr=lr, steps=1 if lr != 0.5 else 100).final)
        rows.append(Check(label, final, expected, 1e-9, "theory"))
    diverged = descend(lecture_loss, -10.0, lr=5.0, steps=100)
    rows.append(Check("lr = 5 > 2/L: status", diverged.status.value, "diverged", 0.0, "theory"))
    return Section("What the learning rate does: L = 1/2, so 2/L = 4", tuple(rows))


def _stability() -> Section:
    lecture = stability(lecture_loss, 2.0)
    cafe = datasets.cafe()
    X, y = cafe.X, cafe.y.reshape(-1, 1)
    bound = stability(cafe_matrix_loss(X, y), ols(X, y)).critical_lr
    by_hand = 2 / float(np.linalg.eigvalsh(2 * X.T @ X)[-1])  # Hessian of a sum of squares: 2X'X
    found = sweep(lecture_loss, -10.0, lrs=[1.0, 3.9, 4.0, 4.1], steps=2000, tol=1e-8).regime
    return Section(
        "Why: the stability bound 2/L (L = largest Hessian eigenvalue)",
        (
            Check("(b/2-1)^2: L", lecture.L, 0.5, 1e-12, "theory"),
            Check("(b/2-1)^2: 2/L", lecture.critical_lr, 4.0, 1e-12, "theory"),
            Check("(b/2-1)^2: best fixed rate 2/(mu+L)", lecture.best_lr, 2.0, 1e-12, "theory"),
            Check("cafe sum of squares: 2/L", bound, by_hand, 1e-12 * by_hand, "theory"),
            Check(
                "sweep at lr 1, 3.9, 4, 4.1",
                " ".join(r.value[:4] for r in found),
                "conv conv osci dive",
                0.0,
                "theory",
            ),
        ),
        "the cafe loss sums 10 squared residuals with x near 25: its bound is about 1.6e-4",
    )


def sections() -> list[Section]:
    """Every section of the lecture, computed now."""
    return [
        _data(),
        _derivatives(),
        _closed_form(),
        _grid(),
        _probes(),
        _descent(),
        _homework(),
        _rates(),
        _stability(),
    ]
