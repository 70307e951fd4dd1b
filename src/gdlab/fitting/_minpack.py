"""A small formula fitted by MINPACK's Levenberg-Marquardt on its NumPy form, every accepted iterate recorded.

A one-off fit of a few parameters to a few hundred rows is over in a millisecond; compiling
optimistix's solver for it takes over a second, and importing JAX half of one. Here the
formula's NumPy form and its exact Jacobian (:mod:`gdlab._numeric`) go to MINPACK's ``lmder``,
which stops on the predicted reduction instead of rejecting steps until its trust region
collapses. It is called through ``scipy.optimize.leastsq``: the same ``lmder`` as
``least_squares(method="lm")`` with less Python around it (Misra1a: 65 us against 144 us).

MINPACK evaluates the Jacobian once at each point it moves to, so those calls are the
accepted iterates: each is recorded as a row ``[u, rss, gradient]`` (scaled parameters
``u = b / scale``, as the compiled path records them), and the point it ends at is added when
it is a new one. MINPACK stops once its (damped) steps reach the rounding of the parameters,
a digit or two short of the least-squares solution on ill-conditioned problems (Thurber's cubic
over a cubic, BoxBOD); up to :data:`POLISH` Gauss-Newton steps from there (each a QR solve of
the column-scaled Jacobian), kept while they converge (each step at most half the last, the sum
of squares risen by no more than its rounding), recover them, as the compiled path's last small
steps do: Thurber-like from 7.9 to 9.8 digits, Gauss-like from 11 to 15.

:func:`solve` says ``None`` (the caller then runs the compiled path) when MINPACK does not
converge in the steps allowed, or ends where the residuals are not orthogonal to the
Jacobian's columns (a stall, as from BoxBOD's first start): a worse answer is never returned
quietly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from gdlab._cancel import checkpoint
from gdlab._expr import NumericForm

__all__ = ["TOL", "Solved", "solve"]

# MINPACK's tolerances on the relative change in the sum of squares and in the (scaled) parameters,
# and on the cosine between the residuals and each column of the Jacobian (the accuracy table's).
TOL = 1e-15
# Where MINPACK says it converged, the largest cosine between the residuals and a column of the
# Jacobian must be below this too: a stall far from a minimum (BoxBOD's first start: 0.64) is not
# taken for one (converged fits: 1e-8 and below).
STATIONARY = 1e-6

# Gauss-Newton steps after MINPACK's answer, and the rise of the sum of squares that is its rounding.
POLISH = 4
ROUNDING = 1e-12
# A polishing step this small (relative to the parameters) is at their rounding: the last one.
SETTLED = 1e-14

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
        checkpoint()  # once a step: a cancelled scope (a client gone) or Ctrl-C stops the fit here
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
    with np.errstate(all="ignore"):  # NaN outside a function's domain, as in JAX
        return _solved(_Recorder(form, y, columns, scale, []), u0, steps)


def _solved(record: _Recorder, u0: np.ndarray, steps: int) -> Solved | None:
    from scipy.optimize import leastsq  # type: ignore[import-untyped]

    checkpoint()
    if not np.all(np.isfinite(record.residuals(u0))):
        return None  # not finite at the start: the compiled path says so in words
    u, _, _, _, status = leastsq(
        record.residuals,
        u0,
        Dfun=record.jacobian,
        full_output=True,
        ftol=TOL,
        xtol=TOL,
        gtol=TOL,
        maxfev=100 * (len(u0) + 1) + 2 * steps,
    )
    if status not in _ENDINGS or not np.all(np.isfinite(u)):
        return None
    J = record.jacobian(u)
    if not _stationary(J, record.residuals(u)):
        return None
    polished = _polish(record, u, J)
    if len(record.rows) - 1 > steps:
        return None
    ending = _ENDINGS[status]
    if polished:
        ending += f", then {polished} Gauss-Newton step{'s' * (polished > 1)}"
    return Solved(np.array(record.rows), ending)


def _polish(record: _Recorder, u: np.ndarray, J: np.ndarray) -> int:
    """Gauss-Newton steps from MINPACK's answer ``u`` (Jacobian ``J``) while they converge, each
    recorded; returns how many were taken."""
    r = record.residuals(u)
    rss, last, taken = r @ r, np.inf, 0
    for _ in range(POLISH):
        found = _solve_linear(J, r)  # J is the residuals' Jacobian: r(u + d) ~ r + J d
        if found is None or not np.all(np.isfinite(found)):
            break
        d = -found
        size = float(np.linalg.norm(d / np.maximum(np.abs(u), 1e-300)))
        new_r = record.residuals(u + d)
        if not (size <= last / 2 and new_r @ new_r <= rss * (1 + ROUNDING) and size > 0):
            break
        u, r, rss, last, taken = u + d, new_r, new_r @ new_r, size, taken + 1
        J = record.jacobian(u)
        if size <= SETTLED:  # a step at the parameters' rounding: the next changes nothing
            break
    return taken


def _solve_linear(J: np.ndarray, r: np.ndarray) -> np.ndarray | None:
    """``argmin |J d - r|`` with ``J``'s columns scaled to norm 1 (LAPACK's ``gelsd``: a tiny solve,
    where the extended-precision refinement of :func:`gdlab._ols.least_squares` would cost more
    than the fit, and the next step corrects this one's rounding); ``None`` when ``J`` is singular."""
    norms = np.linalg.norm(J, axis=0)
    if not np.all(norms > 0):
        return None
    d, _, rank, _ = np.linalg.lstsq(J / norms, r, rcond=None)
    return d / norms if rank == J.shape[1] else None


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
