"""A small formula fitted by MINPACK's Levenberg-Marquardt on its NumPy form, every accepted iterate recorded.

A one-off fit of a few parameters to a few hundred rows is over in a millisecond; compiling
optimistix's solver for it takes over a second, and importing JAX half of one. Here the
formula's NumPy form and its exact Jacobian (:mod:`gdlab._numeric`) go to
``scipy.optimize.least_squares(method="lm")``, MINPACK's ``lmder``, which stops on the
predicted reduction instead of rejecting steps until its trust region collapses.

MINPACK evaluates the Jacobian once at each point it moves to, so those calls are the
accepted iterates: each is recorded as a row ``[u, rss, gradient]`` (scaled parameters
``u = b / scale``, as the compiled path records them), and the point it ends at is added when
it is a new one. :func:`solve` says ``None`` (the caller then runs the compiled path) when
MINPACK does not converge in the steps allowed, or ends where the residuals are not
orthogonal to the Jacobian's columns (a stall, as from BoxBOD's first start): a worse answer
is never returned quietly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from gdlab._expr import NumericForm

__all__ = ["TOL", "Solved", "solve"]

# MINPACK's tolerances on the relative change in the sum of squares and in the (scaled) parameters,
# and on the cosine between the residuals and each column of the Jacobian (the accuracy table's).
TOL = 1e-15
# Where MINPACK says it converged, the largest cosine between the residuals and a column of the
# Jacobian must be below this too: a stall far from a minimum (BoxBOD's first start: 0.64) is not
# taken for one (converged fits: 1e-8 and below).
STATIONARY = 1e-6

_ENDINGS = {
    1: f"the sum of squares stopped falling (relative {TOL:g})",
    2: f"the steps stopped changing the parameters (relative {TOL:g})",
    3: f"the steps stopped changing the parameters and the sum of squares (relative {TOL:g})",
    4: f"the residuals are orthogonal to the Jacobian (cosine below {TOL:g})",
}


@dataclass(frozen=True)
class Solved:
    """MINPACK's run: one row ``[u, rss, gradient]`` per accepted iterate, and why it stopped."""

    rows: np.ndarray
    ending: str


@dataclass
class _Recorder:
    """The residuals and their Jacobian in the scaled parameters, each Jacobian's point recorded."""

    form: NumericForm
    y: np.ndarray
    columns: Mapping[str, np.ndarray]
    scale: np.ndarray
    rows: list[np.ndarray]

    def residuals(self, u: np.ndarray) -> np.ndarray:
        return self.y - self.form.values(u * self.scale, self.columns, len(self.y))

    def jacobian(self, u: np.ndarray, *_: object) -> np.ndarray:
        values, jac = self.form.jacobian(u * self.scale, self.columns, len(self.y))
        r = self.y - values
        J = -jac * self.scale
        if not self.rows or not np.array_equal(self.rows[-1][: len(u)], u):
            self.rows.append(np.concatenate([u, [r @ r], 2 * (r @ J)]))
        return J


def solve(
    form: NumericForm,
    y: np.ndarray,
    columns: Mapping[str, np.ndarray],
    scale: np.ndarray,
    u0: np.ndarray,
    steps: int,
) -> Solved | None:
    """MINPACK's fit from ``u0`` with at most ``steps`` accepted steps, or ``None`` when it did not
    converge to a stationary point within them (the compiled path then runs)."""
    from scipy.optimize import least_squares  # type: ignore[import-untyped]

    record = _Recorder(form, y, columns, scale, [])
    try:
        with np.errstate(all="ignore"):
            found = least_squares(
                record.residuals,
                u0,
                jac=record.jacobian,
                method="lm",
                ftol=TOL,
                xtol=TOL,
                gtol=TOL,
                max_nfev=100 * (len(u0) + 1) + 2 * steps,
            )
    except ValueError:  # a residual not finite at the start: the compiled path says so in words
        return None
    if found.status not in _ENDINGS or not np.all(np.isfinite(found.x)):
        return None
    J = record.jacobian(found.x)
    rows = np.array(record.rows)
    if len(rows) - 1 > steps or not _stationary(J, y - form.values(found.x * scale, columns, len(y))):
        return None
    return Solved(rows, _ENDINGS[found.status])


def _stationary(J: np.ndarray, r: np.ndarray) -> bool:
    """Whether the residuals are orthogonal to every column of the Jacobian, to :data:`STATIONARY`."""
    size = np.linalg.norm(r)
    if not np.all(np.isfinite(J)) or not np.isfinite(size):
        return False
    if size == 0:
        return True
    with np.errstate(all="ignore"):
        cosines = np.abs(r @ J) / (np.linalg.norm(J, axis=0) * size)
    return bool(np.all(np.nan_to_num(cosines, nan=0.0) <= STATIONARY))
