"""A small formula fitted by MINPACK's Levenberg-Marquardt on its NumPy form, every accepted iterate recorded.

A one-off fit of a few parameters to a few hundred rows is over in a millisecond; compiling
optimistix's solver for it takes over a second, and importing JAX half of one. Here the
formula's NumPy form bound to its data and its exact Jacobian (:mod:`gdlab._numeric`) go to
MINPACK's ``lmder``, which stops on the predicted reduction instead of rejecting steps until its
trust region collapses. It is called as ``least_squares(method="lm")`` calls it, through SciPy's
binding, with neither ``least_squares``' Python around it nor ``leastsq``'s (see :func:`_lmder`).

MINPACK evaluates the Jacobian once at each point it moves to, so those calls are the
accepted iterates: each is recorded as a row ``[u, rss, gradient]`` (scaled parameters
``u = b / scale``, as the compiled path records them), and the point it ends at is added when
it is a new one. MINPACK stops once its (damped) steps reach the rounding of the parameters;
it is stopped sooner where its trials have reached the rounding of the sum of squares (it
rejects a trial at a stationary point whose sum fell by no more than its rounding, reached by
a halving step: the trials that would follow are noise; :meth:`_Recorder.trial`, four of
Gauss-like's 15 evaluations). Either stop is a digit or two short of the least-squares
solution on ill-conditioned problems (Thurber's cubic over a cubic, BoxBOD); up to
:data:`POLISH` Gauss-Newton steps from there (the first a QR solve of the column-scaled
Jacobian, the next ones two triangular solves with its factor and each point's own gradient),
kept while they converge (each step at most half the last, the sum of squares risen by no more
than its rounding, or its residuals' where coarser) and until the next is at the parameters'
rounding (:data:`SETTLED`, as the last two steps predict it), recover them, as the compiled
path's last small steps do: Thurber-like from 7.9 to 9.8 digits, Gauss-like from 11 to 14,
Lanczos3 from 7 to 10.5.

:func:`solve` says ``None`` (the caller then runs the compiled path) when MINPACK does not
converge in the steps allowed, or ends where the residuals are not orthogonal to the
Jacobian's columns (a stall, as from BoxBOD's first start): a worse answer is never returned
quietly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.linalg.lapack import dgels as _dgels  # type: ignore[import-untyped]
from scipy.linalg.lapack import dtrtrs as _dtrtrs

from gdlab._cancel import checkpoint
from gdlab._checks import DEFAULT_STEPS
from gdlab._engine import all_finite
from gdlab._numeric import Bound
from gdlab._precision import ROUNDED

__all__ = ["TOL", "NotFinite", "Solved", "exact_floor", "exact_rss", "rounding", "solve", "stationary"]

# MINPACK's tolerances on the relative change in the sum of squares and in the (scaled) parameters,
# and on the cosine between the residuals and each column of the Jacobian (the accuracy table's).
TOL = 1e-15
# Where MINPACK says it converged, the largest cosine between the residuals and a column of the
# Jacobian must be below this too: a stall far from a minimum (BoxBOD's first start: 0.64) is not
# taken for one (converged fits: 1e-8 and below).
STATIONARY = 1e-6
# The residuals as a whole are known to RESIDUALS |y|: ROUNDED (gdlab._precision) roundings of each,
# allowed in the check of that cosine (see stationary) and wherever the residuals' rounding is read.
_EPS = float(np.finfo(np.float64).eps)
RESIDUALS = ROUNDED * _EPS

# A fall of the sum of squares between MINPACK's points this small (relative) is its rounding.
FALL = 1e-14


class NotFinite(Exception):
    """The sum of squares, or the Jacobian, is not finite at the start: :func:`solve` stops there."""


class _Settled(Exception):
    """MINPACK stopped from a residuals' call: its last point is settled (see :meth:`_Recorder.trial`)."""


_SETTLED = 5  # the status of a run stopped so (MINPACK's own are 0 to 8)
# The steps MINPACK's evaluations are budgeted for (a fit's default limit): a run given fewer steps
# runs as one given these and keeps its first ones, so that it takes the same path and falls back
# to the compiled solver where that one does.
BUDGET = DEFAULT_STEPS


# Gauss-Newton steps after MINPACK's answer, and the rise of the sum of squares that is its rounding
# (or the residuals' rounding where coarser: see rounding).
POLISH = 4
ROUNDING = 1e-12
# A polishing step this small (relative to the parameters) is at their rounding: the last one.
SETTLED = 1e-14

_ENDINGS = {
    1: f"the sum of squares stopped falling (relative {TOL:g})",
    2: f"the steps stopped changing the parameters (relative {TOL:g})",
    3: f"the steps stopped changing the parameters and the sum of squares (relative {TOL:g})",
    4: f"the residuals are orthogonal to the Jacobian (cosine below {TOL:g})",
    _SETTLED: (
        f"the sum of squares stopped falling (relative {FALL:g}) where the residuals are orthogonal "
        f"to the Jacobian (cosine below {STATIONARY:g})"
    ),
}


@dataclass(frozen=True)
class Solved:
    """MINPACK's run: one row ``[u, rss, gradient]`` per accepted iterate, and why it stopped
    (``None``: at the step limit, not converged)."""

    rows: np.ndarray
    ending: str | None


@dataclass
class _Recorder:
    """The residuals and their Jacobian in the scaled parameters, each Jacobian's point kept (with
    its residuals and Jacobian) for the rows, which :meth:`table` computes at the end, at once."""

    form: Bound
    y: np.ndarray
    scale: np.ndarray

    def __post_init__(self) -> None:
        self.minus_scale = -self.scale
        self.size = math.sqrt(self.y @ self.y)  # |y|: the scale of the residuals' rounding
        self.points: list[np.ndarray] = []  # each new point at which the Jacobian was asked for
        self.sums: list[float] = []  # the sum of squares there
        self.slopes: list[np.ndarray] = []  # and J'r, half its gradient
        self.r = np.empty(0)  # the last point's residuals
        self.J = np.empty((0, 0))  # and Jacobian
        self.tried = False  # whether MINPACK has asked for a trial's residuals since its last Jacobian
        self.last = b""  # the bytes of the last point

    def residuals(self, u: np.ndarray) -> np.ndarray:
        return self.y - self.form.root(u * self.scale)

    def jacobian(self, u: np.ndarray, *_: object) -> np.ndarray:
        """The residuals' Jacobian at ``u`` (column-major), its point kept when it is a new one."""
        checkpoint()  # once a step: a cancelled scope (a client gone) or Ctrl-C stops the fit here
        self.tried = False
        values, J = self.form.columns(u * self.scale, self.minus_scale)  # values kept from the same point
        key = u.tobytes()
        if key != self.last:  # a new point (as array_equal, but -0.0 is a new one)
            r = self.y - values
            self._kept(u, key, r, r @ r, J)
        return J

    def moved(self, u: np.ndarray, r: np.ndarray, rss: float) -> None:
        """The polish's new point ``u`` recorded with its Jacobian, its residuals ``r`` and their
        sum of squares ``rss`` already computed (as :meth:`jacobian` would compute them)."""
        checkpoint()
        _, J = self.form.columns(u * self.scale, self.minus_scale)
        self._kept(u, u.tobytes(), r, rss, J)

    def _kept(self, u: np.ndarray, key: bytes, r: np.ndarray, rss: float, J: np.ndarray) -> None:
        slope = r @ J  # not finite where J is not (0 * inf is NaN): p numbers to check, not n x p
        if not self.points and not all_finite(slope):
            raise NotFinite  # at the start: the caller says where, in words
        self.points.append(u.copy())  # MINPACK writes over its own
        self.sums.append(rss)
        self.slopes.append(slope)
        self.r, self.last, self.J = r, key, J

    def trial(self, u: np.ndarray) -> np.ndarray:
        """:meth:`residuals` at MINPACK's trial point ``u``; or MINPACK stopped (:class:`_Settled`)
        where it asks for a second trial without a Jacobian between (it rejected the first) at a
        point that has settled (:meth:`settled`): its trials are then at the sum's rounding, and
        the polish takes over. Checked before the trial is evaluated, and only then."""
        if self.tried and self.settled():
            raise _Settled
        self.tried = True
        return self.y - self.form.root(u * self.scale)  # as residuals(u), a call less

    def settled(self) -> bool:
        """Whether the last point's sum of squares fell by no more than :data:`FALL` from the one
        before, the step to it was at most half the step before (converging as the polish asks its
        own steps to), and it is stationary. (A slow crawl along a flat valley, MGH09's, is left to
        MINPACK: its sum stops falling long before its parameters stop moving.)"""
        sums = self.sums
        return (
            len(sums) >= 3
            and sums[-2] - sums[-1] <= FALL * sums[-2]
            and _halving(self.points[-3:])
            and stationary(self.J, sums[-1], self.slopes[-1], self.size)
        )

    def transposed(self, u: np.ndarray, *_: object) -> np.ndarray:
        """:meth:`jacobian` transposed, a view: MINPACK's column-major layout with nothing copied
        (``col_deriv=1``; row-major, each call would be transposed into MINPACK's array)."""
        return self.jacobian(u).T

    def table(self) -> np.ndarray:
        """One row ``[u, rss, gradient]`` a kept point, the gradient of the sum of squares ``2 J'r``."""
        p = len(self.scale)
        rows = np.empty((len(self.points), 2 * p + 1))
        rows[:, :p], rows[:, p], rows[:, p + 1 :] = self.points, self.sums, self.slopes
        rows[:, p + 1 :] *= 2
        return rows


def solve(form: Bound, y: np.ndarray, scale: np.ndarray, u0: np.ndarray, steps: int) -> Solved | None:
    """MINPACK's fit of the formula bound to its data from ``u0`` with at most ``steps`` accepted
    steps (its first ``steps`` where it takes more: a run given fewer steps than it needs is the
    start of the run given enough, run as that one, :data:`BUDGET`), or ``None`` when it ends where
    it did not converge to a stationary point (the compiled path then runs, given ``steps``).

    Raises:
        NotFinite: the sum of squares or the Jacobian is not finite at ``u0`` (nothing moved).
    """
    with np.errstate(all="ignore"):  # NaN outside a function's domain, as in JAX
        return _solved(_Recorder(form, y, scale), u0, steps)


def _lmder(record: _Recorder, u0: np.ndarray, maxfev: int) -> tuple[np.ndarray, int]:
    """MINPACK's ``lmder`` from ``u0``: its answer and its status. Called as SciPy's own
    ``least_squares(method="lm")`` calls it, without ``leastsq``'s checks (an extra evaluation of
    the residuals and the Jacobian) and covariance (70 us of a 300 us fit); through ``leastsq``
    where a SciPy has it no more."""
    lmder = _scipy_lmder()
    try:
        if lmder is not None:
            # func, Dfun, x0 (it is written over), args, full_output, col_deriv, ftol, xtol, gtol,
            # maxfev, factor, diag
            u, status = lmder(
                record.trial, record.transposed, u0.copy(), (), 0, 1, TOL, TOL, TOL, maxfev, 100.0, None
            )
            return u, status
        from scipy.optimize import leastsq  # type: ignore[import-untyped]

        found = leastsq(
            record.trial,
            u0,
            Dfun=record.jacobian,
            full_output=True,
            ftol=TOL,
            xtol=TOL,
            gtol=TOL,
            maxfev=maxfev,
        )
    except _Settled:
        return record.points[-1].copy(), _SETTLED
    return found[0], found[-1]


def _scipy_lmder() -> Callable | None:
    """SciPy's binding of MINPACK's ``lmder`` (private, as ``least_squares`` reads it), where it has one."""
    try:
        from scipy.optimize._minpack import _lmder  # type: ignore[import-untyped]
    except ImportError:
        return None
    return _lmder


def _solved(record: _Recorder, u0: np.ndarray, steps: int) -> Solved | None:
    checkpoint()
    r = record.residuals(u0)
    if not math.isfinite(r @ r):
        raise NotFinite  # the caller says where, in words
    u, status = _lmder(record, u0, 100 * (len(u0) + 1) + 2 * max(steps, BUDGET))
    if status not in _ENDINGS or not all_finite(u):
        return None
    # the Jacobian at u: the last point's, or at a new one (MINPACK's last step's, not yet evaluated)
    J = record.J if u.tobytes() == record.last else record.jacobian(u)
    if status != _SETTLED and not stationary(J, record.sums[-1], record.slopes[-1], record.size):
        return None  # (a settled run was found stationary as it stopped)
    r = record.r
    polished = _polish(record, u, J, r, max(steps, BUDGET) + 1 - len(record.points))
    if len(record.points) - 1 > steps:  # the run given no fewer steps, cut at the limit
        return Solved(record.table()[: steps + 1], None)
    ending = _ENDINGS[status]
    if polished:
        ending += f", then {polished} Gauss-Newton step{'s' * (polished > 1)}"
    return Solved(record.table(), ending)


def _polish(record: _Recorder, u: np.ndarray, J: np.ndarray, r: np.ndarray, most: int) -> int:
    """Gauss-Newton steps from MINPACK's answer ``u`` (Jacobian ``J``, residuals ``r``) while they
    converge, each recorded, at most ``most`` of them (and :data:`POLISH`); returns how many were
    taken.

    The first step solves ``min |J d + r|`` by a QR factorisation of ``J``; the next ones solve
    ``J'J d = -J(u)'r(u)`` with the factor of the first (two triangular solves, not a new QR): the
    gradient is the new point's own, so the steps still stop where it vanishes, and near the
    answer the Jacobian has not changed in the digits the steps need."""
    rss, last, taken = r @ r, np.inf, 0
    factor = None
    for _ in range(min(POLISH, most)):
        if factor is None:
            solved = _solve_linear(J, r)  # J is the residuals' Jacobian: r(u + d) ~ r + J d (J written over)
            if solved is None:
                break
            found, factor = solved
        else:
            found = _solve_normal(factor, record.slopes[-1])
        if not all_finite(found):
            break
        size = _size(found, u)
        if not size > _EPS:  # within an ulp of every parameter (or 0, or NaN): nothing to take
            break
        moved = u - found
        r = record.residuals(moved)
        new = r @ r
        if not (size <= last / 2 and new <= rss + rounding(rss, record.size)):
            break
        before, u, rss, last, taken = last, moved, new, size, taken + 1
        record.moved(u, r, new)
        # a step at the parameters' rounding, or one whose successor is (converging at the rate of
        # the last two steps, size^2 / the one before): the next changes nothing
        if size <= SETTLED or (taken > 1 and size * size <= SETTLED * before):
            break
    return taken


def rounding(rss: Any, size_y: Any, xp: Any = None) -> Any:
    """The rounding of a sum of squares ``rss``: :data:`ROUNDING` of it, or where coarser, what each
    residual's rounding (about ``eps |y_i|``) moves it by, ``2 r'd <= 2 |r| eps |y|`` (times
    :data:`ROUNDED` / 2, as :func:`stationary` allows): a formula that fits its data to a few
    digits (Lanczos3's residuals are 1e-5 of its data) has a sum known to 1e-11, not 1e-12.
    Of Python's numbers, or with ``xp`` (``jax.numpy``) of traced ones, as the compiled runs read it."""
    if xp is None:
        return max(ROUNDING * rss, RESIDUALS * size_y * math.sqrt(rss))
    return xp.maximum(ROUNDING * rss, RESIDUALS * size_y * xp.sqrt(rss))


def _solve_linear(J: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]] | None:
    """``argmin |J d - r|`` with ``J``'s columns scaled to norm 1, by LAPACK's ``gels`` (a Householder
    QR; a tiny solve, where the extended-precision refinement of :func:`gdlab._ols.least_squares`
    would cost more than the fit, and the next step corrects this one's rounding), and the factor
    (the triangle of the scaled columns, and their scales). ``None`` where a scaled column is, to
    ``max(n, p)`` roundings, a combination of the columns before it (a diagonal element of the
    triangle that small): ``J`` singular, or as good as. ``J`` is written over."""
    n, p = J.shape
    norms = np.sqrt(np.add.reduce(J * J, axis=0))  # as np.linalg.norm(J, axis=0), without its checks
    if not np.minimum.reduce(norms) > 0:  # NaN is not either
        return None
    J /= norms  # in place: column-major still, as LAPACK reads it
    qr, d, info = _dgels(J, r, overwrite_a=True)
    if info != 0 or not np.minimum.reduce(np.abs(qr.diagonal())) > _EPS * max(n, p):
        return None
    return d[:p] / norms, (qr[:p], norms)


def _solve_normal(factor: tuple[np.ndarray, np.ndarray], slope: np.ndarray) -> np.ndarray:
    """``(J'J)^-1 g`` for the Jacobian ``J`` whose scaled columns ``J / norms = QR`` gave ``factor``
    (``R``, ``norms``), ``g`` the slope ``J'r`` of another point: ``R'R (norms * d) = g / norms``."""
    R, norms = factor
    z, _ = _dtrtrs(R, slope / norms, lower=0, trans=1)  # R'z = g / norms
    w, _ = _dtrtrs(R, z, lower=0, trans=0)  # R w = z
    return w / norms


def _size(step: np.ndarray, u: np.ndarray) -> float:
    """A step's size relative to the parameters ``u`` it starts from (as the polish measures it)."""
    relative = step / np.maximum(np.abs(u), 1e-300)
    return math.sqrt(relative @ relative)  # as np.linalg.norm(relative)


def exact_floor(y: Any) -> Any:
    """The sum of squares of residuals at their rounding, ``(ROUNDED eps |y|)^2``: each residual is
    known to about ``eps |y_i|``, and :data:`ROUNDED` of them is what :func:`stationary` allows. A
    fit whose sum of squares is no larger fits its data exactly (its residuals count as 0); a step
    from there moves only within the rounding. Of NumPy's ``y`` or a traced one alike."""
    return RESIDUALS**2 * (y @ y)


def exact_rss(rss: float, y: np.ndarray) -> float:
    """A sum of squares as a fit reports it: 0 where it is within the residuals' rounding
    (:func:`exact_floor`; the fit is exact, its standard errors 0), else as it is. ``y``: the data,
    or any vector of its norm (a streamed fit's factor's last column)."""
    return 0.0 if rss <= exact_floor(y) else rss


def _halving(points: list[np.ndarray]) -> bool:
    """Whether the last of three points was reached by a step at most half the one before it
    (sizes as :func:`_size` measures them; in Python: a few numbers, once a fit)."""
    a, b, c = (point.tolist() for point in points)
    before = sum(((y - x) / max(abs(x), 1e-300)) ** 2 for x, y in zip(a, b, strict=True))
    last = sum(((z - y) / max(abs(y), 1e-300)) ** 2 for y, z in zip(b, c, strict=True))
    return last <= before / 4


def stationary(J: np.ndarray, rss: float, slope: np.ndarray, size_y: float) -> bool:
    """Whether the residuals ``r`` (``rss = r'r``, ``slope = r'J``) are orthogonal to every column of
    the Jacobian ``J``, to :data:`STATIONARY`, or to their rounding where that is coarser (called
    within :func:`solve`'s ``np.errstate``).

    Each residual is rounded to about ``eps |y_i|``, so a computed ``J_j'r`` is known to about
    ``ROUNDED eps |J_j| |y|``, and a cosine below ``ROUNDED eps |y| / |r|`` is as good as 0: data
    that a formula fits to their last digits (an exact sine, whose residuals are 5e-16 and
    cosines any size; Lanczos1, residuals 4e-13 at cosines of 1e-3) are at a minimum too."""
    size = math.sqrt(rss)  # as np.linalg.norm(r)
    if not math.isfinite(size) or not all_finite(J):
        return False
    if size == 0:
        return True
    cosines = np.abs(slope) / (np.sqrt(np.add.reduce(J * J, axis=0)) * size)
    allowed = max(STATIONARY, RESIDUALS * size_y / size)
    return not np.fmax.reduce(cosines) > allowed  # NaN (a zero column) is no cosine (fmax skips it)
