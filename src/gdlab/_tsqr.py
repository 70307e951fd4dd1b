"""QR factors of tall, thin blocks of rows, and the merge of two factors (a TSQR).

The triangular factor ``R`` of rows ``[1 | X | y]`` holds every sufficient statistic of a linear
fit with the accuracy of a QR factorisation of the whole design (``R'R = [1|X|y]'[1|X|y]``, but
nothing forms ``X'X``). A block's ``R`` is one LAPACK ``dgeqrf`` on a column-major copy written
once; two factors merge as the ``R`` of the two stacked. Where the rows live (memory, Parquet, a
cluster) reduces blocks with :func:`merge_r`; the solve is :func:`gdlab._ols.least_squares`.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

__all__ = ["design_rows", "merge_r", "one_blas_thread", "triangle", "updated_factor"]


def triangle(rows: np.ndarray, q: int) -> np.ndarray:
    """``R`` of the QR factorisation of ``rows`` ((m, q), any m), as a (q, q) upper triangle.

    LAPACK's Householder QR (geqrf) on a column-major copy: about twice as fast as
    NumPy's ``qr(mode="r")`` on a tall, skinny block.
    """
    m = rows.shape[0]
    stacked = np.zeros((max(m, q), q), order="F")
    stacked[:m] = rows
    return _factored(stacked, q)


def merge_r(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The ``R`` of two sets of rows from theirs: the QR factor of the two triangles stacked."""
    return triangle(np.vstack([a, b]), a.shape[0])


def _factored(stacked: np.ndarray, q: int) -> np.ndarray:
    """The (q, q) ``R`` of a column-major ``stacked`` (at least q rows), factored in place."""
    import scipy.linalg as sl  # type: ignore[import-untyped]

    factored, _, _, info = sl.lapack.dgeqrf(stacked, overwrite_a=True)
    if info != 0:  # LAPACK's own argument check: a bug, not the user's
        raise RuntimeError(f"LAPACK dgeqrf failed with info={info}")
    return np.triu(factored[:q])


def updated_factor(
    R: np.ndarray, columns: dict[str, np.ndarray], used: Sequence[str], count: int, intercept: bool
) -> np.ndarray:
    """``R`` of ``[R; block]``, the block's rows ``[1 | X | y]`` written once, straight into the
    column-major array LAPACK factors (no intermediate copies of the block)."""
    q = R.shape[0]
    stacked = np.empty((q + count, q), order="F")
    stacked[:q] = R
    if intercept:
        stacked[q:, 0] = 1.0
    for j, name in enumerate(used, start=int(intercept)):
        stacked[q:, j] = columns[name][:count]
    return _factored(stacked, q)


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """One BLAS thread while factoring many thin blocks: OpenBLAS's threads cost more than they
    gain there (a 65,536 x 9 factorisation took 10x longer with two busy cores). Only when
    threadpoolctl is installed; otherwise as is. The BLAS libraries are found once (a scan of the
    loaded libraries took about a millisecond a call); each pass then only sets the limit."""
    controller = _controller()
    if controller is None:
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield


@functools.cache
def _controller() -> Any:
    try:
        from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]
    except ImportError:
        return None
    import scipy.linalg  # noqa: F401  (its BLAS loaded before the scan)

    return ThreadpoolController()


def design_rows(
    columns: dict[str, np.ndarray], x: Sequence[str], y: str, count: int, intercept: bool
) -> np.ndarray:
    """The rows ``[1 | X | y]`` of one block's ``count`` real rows, as a (count, q) array."""
    parts = ([np.ones(count)] if intercept else []) + [columns[c][:count] for c in (*x, y)]
    return np.stack(parts, axis=1)
