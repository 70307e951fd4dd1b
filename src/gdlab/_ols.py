"""Closed-form least squares by Householder QR: scaled columns, pivoting, refined residuals.

Three things keep the digits an ill-conditioned design would otherwise lose:

- each column is divided by a power of two near its norm (exactly, so the
  scaled problem is the user's problem), which removes the part of the
  condition number that comes from columns of different sizes;
- Householder QR with column pivoting (LAPACK ``geqp3``) factors it without
  forming ``X'X``, whose condition number is the square of ``X``'s, and tells
  a rank-deficient design (a pivot below ``rcond`` times the largest) from a
  merely ill-conditioned one;
- the solution is refined (corrected semi-normal equations, Björck 1987) with
  residuals computed in extended precision, which recovers the digits the
  factorisation loses to rounding.

On a degree-10 polynomial design (condition number 1e15) this keeps about 10
correct digits, where NumPy's and SciPy's least-squares drivers keep at most 7.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg as sl  # type: ignore[import-untyped]

from gdlab._checks import InputError, Sentence
from gdlab._precision import resolve_dtype
from gdlab._types import DTypeLike

__all__ = [
    "Columns",
    "Factor",
    "IllConditionedWarning",
    "LeastSquares",
    "RankDeficientWarning",
    "factor",
    "least_squares",
    "ols",
]

# Refine with extended-precision residuals when the design holds at most this many
# numbers, or when it is ill-conditioned enough for the digits to matter.
_REFINE_NUMBERS = 4_000_000
_REFINE_CONDITION = 1e6
# Rows of the design converted to extended precision at a time (bounds the memory).
_BLOCK_ROWS = 65_536
# A condition number above this (of the scaled design) is warned about.
WARN_CONDITION = 1e8


class RankDeficientWarning(UserWarning):
    """The design matrix has dependent columns: the least-squares fit is not unique.

    :func:`gdlab.ols` (and :func:`gdlab.fit`) then return the minimum-norm solution; ``rcond=``
    sets which pivots count as zero.

    Example:
        >>> import warnings, numpy as np, gdlab
        >>> X = np.column_stack([np.ones(5), np.arange(5.0), 2 * np.arange(5.0)])  # x and 2x
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     beta = gdlab.ols(X, np.arange(5.0))
        >>> caught[0].category.__name__, str(caught[0].message)[:32]
        ('RankDeficientWarning', 'X has rank 2 < 3 columns (pivots')
    """


class IllConditionedWarning(UserWarning):
    """The design matrix is ill-conditioned: its coefficients are sensitive to rounding.

    The message gives the condition number and the digits a solve may lose; gdlab's refined QR
    recovers most of them, and centring or rescaling the regressors avoids the loss.

    Example:
        >>> import warnings, numpy as np, gdlab
        >>> x = np.linspace(1, 2, 30)
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     beta = gdlab.ols(np.vander(x, 11), x)  # a degree-10 polynomial in x
        >>> caught[0].category.__name__, str(caught[0].message)[:46]
        ('IllConditionedWarning', 'X is ill-conditioned: condition number 1.1e+12')
    """


@dataclass(frozen=True, eq=False)
class Factor:
    """The scaled, pivoted QR factor of a design and what it tells without a solve (the statistics
    of a Jacobian read no solution): the fields of :class:`LeastSquares` for the same design and
    response, computed by the same calls, less the solution and ``Q`` (a :class:`LeastSquares` is
    one, with its solution).

    Example:
        >>> import numpy as np
        >>> X = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
        >>> y = np.array([1.0, 2.0, 2.0])
        >>> found, solved = factor(X, y), least_squares(X, y, refine=False)
        >>> bool(np.array_equal(found.unscaled_inverse(), solved.unscaled_inverse()))
        True
    """

    rank: int
    rcond: float
    condition: float
    scaled_condition: float
    R: np.ndarray
    permutation: np.ndarray
    scale: np.ndarray

    @property
    def full_rank(self) -> bool:
        return self.rank == self.R.shape[1]

    def unscaled_inverse(self) -> np.ndarray:
        """``(X'X)^-1`` from R, without forming ``X'X`` (full rank only)."""
        return _unscaled_inverse(self.R, self.permutation, self.scale)


@dataclass(frozen=True, eq=False)
class LeastSquares(Factor):
    """A least-squares solve and what it knows about the design.

    Attributes:
        coef: the coefficients, shape (p,).
        rank: the numerical rank (the pivots of R above ``rcond`` times the largest).
        rcond: the cut-off used.
        condition: the 2-norm condition number of ``X``.
        scaled_condition: the condition number after scaling each column to norm ~1,
            which is what the solve's accuracy depends on.
        R: the triangular factor of the scaled, pivoted design.
        permutation: the column order of ``R``.
        scale: the power of two each column was divided by.
        refined: whether the solution was refined with extended-precision residuals.
    """

    coef: np.ndarray
    refined: bool

    def messages(self) -> tuple[str, ...]:
        """What the user should know about the design, as sentences."""
        p = self.coef.shape[0]
        if not self.full_rank:
            rank, rcond = self.rank, self.rcond
            return (
                Sentence(
                    lambda s: (
                        f"X has rank {rank} < {p} columns (pivots below "
                        f"{s.setting('rcond', f'{rcond:.3g}')} of the largest): its columns are linearly "
                        "dependent, so the fit is not unique; returned the minimum-norm solution (a larger "
                        f"{s.name('rcond')} counts more nearly dependent columns as dependent)"
                    )
                ),
            )
        if self.scaled_condition > WARN_CONDITION:
            lost = int(np.log10(self.scaled_condition))
            how = (
                "refined with extended-precision residuals, which recovers most of them"
                if self.refined
                else "not refined (too large a design); expect fewer correct digits"
            )
            return (
                f"X is ill-conditioned: condition number {self.condition:.3g} "
                f"({self.scaled_condition:.3g} with its columns scaled), so a least-squares solve can lose "
                f"about {lost} of float64's 16 digits; the solution was {how}. Centring or rescaling "
                "the regressors (x - mean, or orthogonal polynomials) avoids the loss",
            )
        return ()


def _unscaled_inverse(R: np.ndarray, permutation: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``(X'X)^-1`` from the factor R of ``X[:, permutation] / scale[permutation]`` (full rank)."""
    # LAPACK's triangular inverse (trtri): the same back substitution as solve_triangular(R, I),
    # whose several right-hand sides OpenBLAS spreads over threads, 17 ms for a 2 x 2 R on a
    # busy machine against 1 us here.
    trtri = sl.lapack.strtri if R.dtype == np.float32 else sl.lapack.dtrtri
    Rinv, info = trtri(R, lower=0)
    if info != 0:  # a zero pivot: not full rank, which callers check first
        raise np.linalg.LinAlgError(f"R is singular (LAPACK trtri info {info})")
    inner = Rinv @ Rinv.T  # (A'A)^-1 in pivoted order, A = X / scale
    out = np.empty_like(inner)
    out[permutation[:, None], permutation] = inner  # as np.ix_(permutation, permutation)
    return out / (scale[:, None] * scale)  # as np.outer(scale, scale)


class Columns:
    """A design matrix read a block of rows at a time, never copied whole.

    Either a 2-D array, or a list of 1-D columns where ``None`` stands for a
    column of ones (an intercept): a fit from a table's columns builds no
    design matrix. ``scale`` divides each column (by powers of two: exactly)
    and ``order`` permutes them, both applied to each block as it is read.
    """

    def __init__(
        self,
        columns: Sequence[np.ndarray | None] | np.ndarray,
        n: int | None = None,
        dtype: DTypeLike = None,
    ) -> None:
        if isinstance(columns, np.ndarray):
            self.matrix: np.ndarray | None = columns
            self.columns: list[np.ndarray | None] = [columns[:, j] for j in range(columns.shape[1])]
            self.n = columns.shape[0]
            self.dtype = columns.dtype
        else:
            self.matrix = None
            self.columns = list(columns)
            known = [c.shape[0] for c in self.columns if c is not None]
            self.n = known[0] if known else int(n or 0)
            self.dtype = resolve_dtype(dtype)
        self.p = len(self.columns)
        self.order = np.arange(self.p)
        self.in_order = True  # the columns as given: a matrix's blocks are copied whole
        self.scale = np.ones(self.p, self.dtype)

    def arranged(self, order: np.ndarray, scale: np.ndarray) -> Columns:
        """This design with its columns reordered by ``order``, then divided by ``scale``."""
        out = object.__new__(Columns)
        out.__dict__.update(self.__dict__)
        out.order, out.scale = self.order[order], np.asarray(scale, self.dtype)
        out.in_order = bool(np.array_equal(out.order, np.arange(self.p)))
        return out

    def block(
        self, start: int, stop: int, dtype: DTypeLike = None, out: np.ndarray | None = None
    ) -> np.ndarray:
        """Rows ``start:stop`` as a column-major array (into ``out`` when given)."""
        stop = min(stop, self.n)
        dt = self.dtype if dtype is None else np.dtype(dtype)
        if out is None:
            out = np.empty((stop - start, self.p), dt, order="F")
        if self.matrix is not None and self.in_order:
            out[:] = self.matrix[start:stop]
        else:
            for j, k in enumerate(self.order):
                column = self.columns[k]
                out[:, j] = 1 if column is None else column[start:stop]
        if (self.scale != 1).any():
            out /= self.scale.astype(dt)
        return out

    def starts(self) -> range:
        return range(0, self.n, _BLOCK_ROWS)

    def matvec(self, x: np.ndarray) -> np.ndarray:
        """``A x``, a block at a time (:meth:`matmat` of one column)."""
        return self.matmat(x[:, None])[:, 0]

    def matmat(self, x: np.ndarray) -> np.ndarray:
        """``A X`` for ``X`` of ``p x k``, a block at a time (``n x k``)."""
        out = np.empty((self.n, x.shape[1]), np.result_type(self.dtype, x.dtype))
        for start in self.starts():
            out[start : start + _BLOCK_ROWS] = self.block(start, start + _BLOCK_ROWS) @ x
        return out

    def rmatvec(self, r: np.ndarray) -> np.ndarray:
        """``A' r``, a block at a time."""
        out = np.zeros(self.p, np.result_type(self.dtype, r.dtype))
        for start in self.starts():
            out += r[start : start + _BLOCK_ROWS] @ self.block(start, start + _BLOCK_ROWS)
        return out


def _as_design(X: object, y: object, dtype: np.dtype) -> tuple[Columns, np.ndarray]:
    if isinstance(X, Columns):
        design = X
        ya = np.asarray(y, dtype=dtype)
        shape: tuple[int, ...] = (design.n, design.p)
    else:
        Xa, ya = np.asarray(X, dtype=dtype), np.asarray(y, dtype=dtype)
        shape = Xa.shape
        if Xa.ndim == 1:
            raise InputError(
                f"X must be 2-D (observations x columns); got shape {Xa.shape}. "
                "For one regressor use X.reshape(-1, 1), or add an intercept column"
            )
        if Xa.ndim != 2:
            raise InputError(f"X must be 2-D (observations x columns); got shape {Xa.shape}")
        design = Columns(Xa)
    if ya.ndim not in (1, 2) or (ya.ndim == 2 and ya.shape[1] != 1):
        raise InputError(f"y must have shape (n,) or (n, 1); got {ya.shape}")
    if ya.shape[0] != shape[0]:
        raise InputError(
            f"X has {shape[0]} rows but y has {ya.shape[0]}: they must hold the same observations"
        )
    if shape[0] == 0 or shape[1] == 0:
        raise InputError(f"X has shape {shape}: it needs at least one row and one column")
    if not np.isfinite(ya).all():
        raise InputError("X and y must be finite: drop or fill missing values first")
    return design, ya.reshape(-1)


def _rcond(rcond: object, shape: tuple[int, int], dtype: np.dtype) -> float:
    if rcond is None:
        return float(max(shape) * np.finfo(dtype).eps)
    value = float(rcond)  # type: ignore[arg-type]
    if not (np.isfinite(value) and 0 <= value < 1):
        raise InputError(
            lambda s: (
                f"{s.name('rcond')} must be a number in [0, 1), a fraction of the largest pivot; "
                f"got {rcond!r}"
            ),
            parameter="rcond",
        )
    return value


def _power_of_two(norms: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Norms rounded to powers of two, so dividing by them is exact (1 for a zero column)."""
    if (norms > 0).all():  # the same numbers without the two choices
        return (2.0 ** np.round(np.log2(norms))).astype(dtype)
    return np.where(norms > 0, 2.0 ** np.round(np.log2(np.where(norms > 0, norms, 1.0))), 1.0).astype(dtype)


def _extended(dtype: np.dtype) -> type[np.floating]:
    """A floating type with more digits than ``dtype`` for residuals (x87 long double for float64)."""
    return np.float64 if dtype == np.float32 else np.longdouble


def _residuals(A: Columns, y: np.ndarray, x: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``f = y - r - A x`` and ``g = -A'r`` in extended precision, rounded back, by blocks of rows."""
    ext = _extended(A.dtype)
    xe = x.astype(ext)
    f = np.empty_like(y)
    g = np.zeros(A.p, ext)
    for start in A.starts():
        rows = slice(start, start + _BLOCK_ROWS)
        block, re = A.block(start, start + _BLOCK_ROWS, dtype=ext), r[rows].astype(ext)
        f[rows] = (y[rows].astype(ext) - re - block @ xe).astype(A.dtype)
        g -= re @ block
    return f, g.astype(A.dtype)


def _refine(A: Columns, y: np.ndarray, R: np.ndarray, x: np.ndarray, steps: int = 3) -> np.ndarray:
    """Iterative refinement of the augmented system by corrected semi-normal equations.

    Stops when a correction no longer shrinks (it has reached the rounding floor)."""
    r = y - A.matvec(x)
    last = np.inf
    for _ in range(steps):
        f, g = _residuals(A, y, x, r)
        rhs = A.rmatvec(f) - g
        dx = sl.solve_triangular(R, sl.solve_triangular(R, rhs, trans="T"))
        size = float(np.max(np.abs(dx)))
        if not np.isfinite(size) or size >= 0.5 * last:
            break
        x, r, last = x + dx, r + (f - A.matvec(dx)), size
    return x


def _factor(
    X: Columns, y: np.ndarray, solving: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, np.ndarray]:
    """``Q'y`` (``None`` unless ``solving``), R, the pivoting and the power-of-two column scales
    of the design.

    A streaming Householder QR (TSQR) of ``[X | y]``: each block of rows is
    written once into a column-major array below the R so far and factored
    there (LAPACK geqrf), so the design is never copied whole. Scaling a column
    by a power of two scales R's column exactly, so the scales are read from
    R's column norms (X's) afterwards. Then a column-pivoted QR of the small,
    scaled R (geqp3) orders the columns as pivoting the whole matrix would (R
    has the same column norms and singular values) at a fraction of the cost.
    A block holding a value that is not finite is refused as it is read.
    """
    p, q = X.p, X.p + 1
    R = np.zeros((q, q), X.dtype)
    stacked = None  # one array for the full blocks, made when there is one (a small design has none)
    for start in X.starts():
        rows = min(_BLOCK_ROWS, X.n - start)
        if rows == _BLOCK_ROWS:
            if stacked is None:
                stacked = np.empty((q + _BLOCK_ROWS, q), X.dtype, order="F")
            work = stacked
        else:
            work = np.empty((q + rows, q), X.dtype, order="F")
        work[:q] = R
        X.block(start, start + rows, out=work[q:, :p])
        work[q:, p] = y[start : start + rows]
        if not np.isfinite(work[q:, :p]).all():
            bad = int(np.argmax(~np.all(np.isfinite(work[q:, :p]), axis=1)))
            raise InputError(f"X has a value that is not finite in row {start + bad}: drop or fill it first")
        factored, _, _, info = _geqrf(X.dtype)(work, overwrite_a=True)
        if info != 0:  # LAPACK's own argument check: a bug, not the user's
            raise RuntimeError(f"LAPACK geqrf failed with info={info}")
        R = _triu(factored[:q])
    scale = _power_of_two(np.linalg.norm(R[:, :p], axis=0), X.dtype)
    Q2, R2, perm = _pivoted_qr(R[:p, :p] / scale, solving)
    return None if Q2 is None else Q2.T @ R[:p, p], R2, perm, scale


def _pivoted_qr(A: np.ndarray, with_q: bool = True) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """``scipy.linalg.qr(A, pivoting=True)`` of a square ``A`` (written over): the same LAPACK calls
    (geqp3, then orgqr for Q, each with the workspace it asks for), without the wrapper's checks,
    which took 18 of its 19 us on a 2 x 2 factor; Q is ``None`` unless ``with_q``."""
    single = A.dtype == np.float32
    geqp3 = sl.lapack.sgeqp3 if single else sl.lapack.dgeqp3
    orgqr = sl.lapack.sorgqr if single else sl.lapack.dorgqr
    qr, perm, tau = _lapack(geqp3, A, overwrite_a=True)
    perm -= 1  # 1-based
    R = _triu(qr)
    if not with_q:
        return None, R, perm
    (Q,) = _lapack(orgqr, qr, tau, overwrite_a=True)
    return Q, R, perm


def _lapack(routine: Any, *args: Any, **kwargs: Any) -> tuple:
    """A LAPACK routine called with the workspace it asks for (as SciPy's ``safecall``): its
    outputs before the workspace and ``info``. The size it asks for depends only on the routine
    and its arguments' shapes, so it is asked once for each (a second call of the routine)."""
    key = (routine, *(np.shape(a) for a in args))
    lwork = _LWORK.get(key)
    if lwork is None:
        found = routine(*args, lwork=-1, **kwargs)
        if len(_LWORK) >= 256:  # a bound on the shapes kept
            _LWORK.clear()
        lwork = _LWORK[key] = found[-2][0].real.astype(np.int_)
    *outputs, _, info = routine(*args, lwork=lwork, **kwargs)
    if info < 0:  # LAPACK's own argument check: a bug, not the user's
        raise RuntimeError(f"LAPACK {routine.__name__} failed with info={info}")
    return tuple(outputs)


# The workspace each LAPACK routine asked for, by the routine and its arguments' shapes.
_LWORK: dict[tuple, Any] = {}


def _geqrf(dtype: np.dtype) -> Any:
    return sl.lapack.sgeqrf if dtype == np.float32 else sl.lapack.dgeqrf


def _minimum_norm(R: np.ndarray, qty: np.ndarray, perm: np.ndarray, scale: np.ndarray, r: int) -> np.ndarray:
    """The least-squares solution of least norm (in the user's units) when only ``r`` pivots count.

    The basic solution uses the first ``r`` pivoted columns; the null space of
    ``X`` is spanned by ``P [-R11^-1 R12; I]`` divided by the scales; removing the
    basic solution's component in it leaves the minimum-norm solution."""
    p = R.shape[1]
    basic, null = np.zeros(p, R.dtype), np.zeros((p, p - r), R.dtype)
    if r > 0:
        R11 = R[:r, :r]
        basic[perm[:r]] = sl.solve_triangular(R11, qty[:r])
        null[perm[:r]] = -sl.solve_triangular(R11, R[:r, r:])
    null[perm[r:]] = np.eye(p - r, dtype=R.dtype)
    basic, null = basic / scale, null / scale[:, None]
    return basic - null @ np.linalg.lstsq(null, basic, rcond=None)[0]


def _solve_upper(R: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``scipy.linalg.solve_triangular(R, b)`` of a finite, upper-triangular ``R`` (the same LAPACK
    call, trtrs, on the same memory) without its checks: 10 us of a 2 x 2 solve."""
    trtrs = sl.lapack.strtrs if R.dtype == np.float32 and b.dtype == np.float32 else sl.lapack.dtrtrs
    if R.flags.f_contiguous:
        x, info = trtrs(R, b, lower=0, trans=0)
    else:  # its transpose is Fortran's lower triangle
        x, info = trtrs(R.T, b, lower=1, trans=1)
    if info > 0:
        raise np.linalg.LinAlgError(f"singular matrix: resolution failed at diagonal {info - 1}")
    if info < 0:  # LAPACK's own argument check: a bug, not the user's
        raise RuntimeError(f"LAPACK trtrs failed with info={info}")
    return x


def _triu(a: np.ndarray) -> np.ndarray:
    """``np.triu(a)`` (the same ``where``), its mask made once for each shape: a third of its time."""
    return np.where(_below(a.shape), a.dtype.type(0), a)


@functools.lru_cache(maxsize=32)
def _below(shape: tuple[int, ...]) -> np.ndarray:
    mask = np.tri(shape[0], shape[1], k=-1, dtype=bool)
    mask.flags.writeable = False
    return mask


def _conditions(R: np.ndarray, scaled: np.ndarray, p: int) -> tuple[float, float]:
    """:func:`_condition` of two matrices, in one call (the same SVD of each)."""
    if R.shape != (p, p):
        return _condition(R, p), _condition(scaled, p)
    singular = np.linalg.svd(np.stack((R, scaled)), compute_uv=False)
    return tuple(  # type: ignore[return-value]
        float(s[0] / s[-1]) if s[-1] > 0 else float("inf") for s in singular
    )


def _condition(R: np.ndarray, p: int) -> float:
    """The 2-norm condition number of a matrix with triangular factor R (inf if singular or wide)."""
    singular = np.linalg.svd(R, compute_uv=False)
    return float(singular[0] / singular[-1]) if len(singular) == p and singular[-1] > 0 else float("inf")


def least_squares(
    X: object,
    y: object,
    *,
    rcond: float | None = None,
    dtype: DTypeLike = None,
    refine: bool = True,
    rows: int | None = None,
) -> LeastSquares:
    """Solve ``min |y - X b|`` by scaled, pivoted Householder QR with refinement (see the module notes).

    Args:
        X: design matrix, shape (n, p).
        y: response, shape (n,) or (n, 1).
        rcond: a pivot of R at most ``rcond`` times the largest counts as zero (a
            dependent column); default ``max(n, p) * eps`` (after column scaling).
        dtype: the floating type (default float64).
        refine: refine the solution where the rule below says so; ``False`` for a caller that
            reads only the factor (a covariance, a condition number), not the solution.
        rows: the rows of the data ``X`` stands for, where it is their triangular factor (a
            streamed fit's, an IRLS step's): the default ``rcond`` counts them, so that a fit
            from the factor finds the rank a fit of the rows themselves finds.

    Returns:
        A :class:`LeastSquares`; nothing is warned here (see :meth:`LeastSquares.messages`).
    """
    dt = resolve_dtype(dtype)
    design, target = _as_design(X, y, dt)
    p = design.p
    cut = _rcond(rcond, (design.n if rows is None else rows, p), dt)
    qty, R, perm, scale = _factor(design, target)
    assert qty is not None  # solving: Q'y is made
    rank = _rank(R, cut)
    scaled_condition, condition = _conditions(R, R * scale[perm], p)
    refined = False
    if rank == p and design.n >= p:
        z = _solve_upper(R, qty)
        if refine and (design.n * p <= _REFINE_NUMBERS or scaled_condition > _REFINE_CONDITION):
            z, refined = _refine(design.arranged(perm, scale[perm]), target, R, z), True
        coef = np.empty(p, dt)
        coef[perm] = z
        coef /= scale
    else:
        coef = _minimum_norm(R, qty, perm, scale, rank)
    return LeastSquares(
        coef=coef.astype(dt),
        rank=rank,
        rcond=cut,
        condition=condition,
        scaled_condition=scaled_condition,
        R=R,
        permutation=perm,
        scale=scale,
        refined=refined,
    )


def factor(X: np.ndarray, y: np.ndarray) -> Factor:
    """The factor :func:`least_squares` makes of a float64 design ``X`` (n x p, n >= 1) and
    response ``y`` (its rank at the default ``rcond``, its condition numbers), without the solve,
    ``Q`` and the checks of the arguments' shapes: for a caller that reads only the factor (the
    covariance of a fit's Jacobian). A value that is not finite is refused as there."""
    design, target = Columns(np.asarray(X, np.float64)), np.asarray(y, np.float64).reshape(-1)
    p = design.p
    cut = _rcond(None, (design.n, p), design.dtype)
    _, R, perm, scale = _factor(design, target, solving=False)
    scaled_condition, condition = _conditions(R, R * scale[perm], p)
    return Factor(_rank(R, cut), cut, condition, scaled_condition, R, perm, scale)


def _rank(R: np.ndarray, cut: float) -> int:
    """The pivots of R above ``cut`` times the largest (0 where the largest is 0)."""
    pivots = np.abs(np.diag(R))
    return int(np.sum(pivots > cut * pivots[0])) if pivots.size and pivots[0] > 0 else 0


def ols(X: object, y: object, *, rcond: float | None = None, dtype: DTypeLike = None) -> np.ndarray:
    """Least-squares coefficients ``argmin_b |y - X b|^2``, the lecture's ``(X'X)^-1 X'y``.

    Solved by Householder QR on columns scaled to norm ~1, with column
    pivoting and refinement in extended precision: no ``X'X``, no inverse.
    It keeps far more digits on ill-conditioned designs than an unscaled SVD
    solve, and calls a design rank-deficient only when a pivot falls below
    ``rcond`` times the largest.

    Args:
        X: design matrix, shape (n, p) (include a column of ones for an intercept).
        y: response, shape (n,) or (n, 1).
        rcond: the cut-off for dependent columns, a fraction of the largest pivot
            of R (default ``max(n, p) * eps``); raise it to treat nearly
            dependent columns as dependent.
        dtype: the floating type to compute in (default float64).

    Returns:
        The coefficients, shaped like ``X.T @ y``: (p,) or (p, 1).

    Warns:
        RankDeficientWarning: the columns are dependent at ``rcond`` (the
            minimum-norm solution is returned).
        IllConditionedWarning: the condition number (named) is large enough to
            cost digits.

    Example:
        >>> import gdlab
        >>> cafe = gdlab.datasets.cafe()
        >>> gdlab.ols(cafe.X, cafe.y).round(4).tolist()
        [9.9446, 2.2157]
    """
    solved = least_squares(X, y, rcond=rcond, dtype=dtype)
    for message in solved.messages():
        kind = IllConditionedWarning if solved.full_rank else RankDeficientWarning
        warnings.warn(message, kind, stacklevel=2)
    coef = solved.coef
    return coef.reshape(-1, 1) if np.asarray(y).ndim == 2 else coef
