"""Standardised regressors for descent fits, read from the table's own columns.

A descent fit runs on standardised regressors ``Z = (X - mean) / scale``.
:class:`Standard` holds the table's columns (not copied) with their means and
scales, and gives ``Z'Z`` (for the rate rules) a block of
rows at a time. Then either:

- :meth:`Standard.pass_fn` computes the loss and gradient in NumPy, one pass
  over the columns per step, standardising a block of rows at a time in a
  buffer: a large float64 fit by a gradient method copies nothing; or
- :meth:`Standard.matrix` builds ``Z`` once, row-major and 64-byte aligned so
  that JAX uses it where it lies (an unaligned NumPy array is copied by
  ``jax.device_put``): the one copy of the data made by smaller fits, float32
  fits and methods that evaluate the loss at trial points, which run compiled.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal

import numpy as np

from gdlab._cancel import checkpoint

__all__ = ["Standard", "aligned", "block_terms", "moments"]

# Rows per NumPy block when reading Z on the host (Z'Z, the copy for JAX).
_HOST_ROWS = 65_536
# The alignment at which jax.device_put shares a NumPy array's memory instead of copying it.
ALIGN = 64

Kind = Literal["mse", "logistic"]


def aligned_empty(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialised array whose data start on an :data:`ALIGN`-byte boundary."""
    dt = np.dtype(dtype)
    size = int(np.prod(shape)) * dt.itemsize
    raw = np.empty(size + ALIGN, np.uint8)
    offset = (-raw.ctypes.data) % ALIGN
    return raw[offset : offset + size].view(dt).reshape(shape)


def moments(columns: Sequence[np.ndarray], intercept: bool) -> tuple[np.ndarray, np.ndarray]:
    """Each column's mean and standard deviation (with an intercept), or 0 and its root mean
    square (without one: centring would add an intercept the model does not have), a block of
    rows at a time."""
    n = columns[0].shape[0]
    mean = np.array([float(np.mean(c, dtype=np.float64)) if intercept else 0.0 for c in columns])
    square = np.zeros(len(columns))
    for start in range(0, n, _HOST_ROWS):
        for j, c in enumerate(columns):
            part = c[start : start + _HOST_ROWS] - mean[j]
            square[j] += float(part @ part)
    return mean, np.sqrt(square / n)


class Standard:
    """Regressors standardised: ``Z = [1 | (X - mean) / scale]`` (no column of ones without an
    intercept), read from the table's own columns a block of rows at a time.

    Attributes:
        columns: the regressors' columns, as given (not copied).
        mean, scale: per regressor (0 and 1 for the raw columns).
        intercept: whether the first coefficient multiplies a column of ones.
    """

    def __init__(
        self, columns: Sequence[np.ndarray], mean: np.ndarray, scale: np.ndarray, intercept: bool
    ) -> None:
        self.columns = tuple(columns)
        self.dtype = self.columns[0].dtype
        self.mean = np.asarray(mean, np.float64)
        self.scale = np.asarray(scale, np.float64)
        self.intercept = bool(intercept)
        self.n = self.columns[0].shape[0]
        self.p = len(self.columns) + self.intercept
        self.shape = (self.n, self.p)

    def __len__(self) -> int:
        return self.n

    def blocks(self) -> Iterator[np.ndarray]:
        """``Z`` a block of rows at a time, in float64."""
        first = int(self.intercept)
        for start in range(0, self.n, _HOST_ROWS):
            rows = min(_HOST_ROWS, self.n - start)
            Z = np.empty((rows, self.p))
            if self.intercept:
                Z[:, 0] = 1.0
            for j, column in enumerate(self.columns, start=first):
                Z[:, j] = column[start : start + rows]
            Z[:, first:] -= self.mean
            Z[:, first:] /= self.scale
            yield Z

    def gram(self) -> np.ndarray:
        """``Z'Z / n``: half the Hessian of the mean squared error."""
        G = np.zeros((self.p, self.p))
        for Z in self.blocks():
            G += Z.T @ Z
        return G / self.n

    def pass_fn(self, y: np.ndarray, kind: Kind = "mse", rows: int = 8192) -> Any:
        """``pass_fn(w) -> (mean loss, gradient)`` in NumPy, one pass over the columns: each block
        of ``rows`` rows is standardised column by column into one column-major buffer (each
        column's slice a contiguous read) and used for both products while it is in cache.
        Nothing as large as the data is allocated, so a descent by
        :func:`gdlab._host.descend_passes` over it makes no copy of the data."""
        n, first = self.n, int(self.intercept)
        buffer = np.empty((rows, self.p), order="F")
        if self.intercept:
            buffer[:, 0] = 1.0
        source = _row_major(self.columns)

        def block(start: int) -> np.ndarray:
            Z = buffer[: min(rows, n - start)]
            if source is not None:  # columns of one row-major array: read its rows, not strided columns
                base, where = source
                np.subtract(base[start : start + rows][:, where], self.mean, out=Z[:, first:])
                Z[:, first:] /= self.scale
                return Z
            for j, column in enumerate(self.columns):
                out = Z[:, first + j]
                np.subtract(column[start : start + rows], self.mean[j], out=out)
                out /= self.scale[j]
            return Z

        def pass_fn(w: np.ndarray) -> tuple[float, np.ndarray]:
            w = np.asarray(w, dtype=np.float64)
            total, grad = 0.0, np.zeros(self.p)
            for start in range(0, n, rows):
                checkpoint()  # a pass over a large table answers Ctrl-C and a cancelled scope between blocks
                Z = block(start)
                value, g = block_terms(Z, y[start : start + rows], w, kind)
                total += value
                grad += g
            return total / n, grad / n

        return pass_fn

    def matrix(self) -> np.ndarray:
        """``Z`` in the columns' dtype, row-major and aligned so that JAX shares its memory."""
        out = aligned_empty(self.shape, self.dtype)
        for i, Z in enumerate(self.blocks()):
            out[i * _HOST_ROWS : i * _HOST_ROWS + len(Z)] = Z
        return out


def block_terms(Z: np.ndarray, target: np.ndarray, w: np.ndarray, kind: Kind) -> tuple[float, np.ndarray]:
    """A block of rows' summed loss (squared errors, or log-losses of a 0/1 target) and its gradient."""
    eta = Z @ w
    if kind == "mse":
        r = eta - target
        return float(r @ r), 2 * (r @ Z)
    return float(np.sum(np.logaddexp(0.0, eta) - target * eta)), (
        np.exp(-np.logaddexp(0.0, -eta)) - target
    ) @ Z


def _row_major(columns: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """When every column is a column of one row-major 2-D array (a NumPy array given as the
    data), that array and their positions in it; otherwise ``None``."""
    base = columns[0].base
    if not (isinstance(base, np.ndarray) and base.ndim == 2 and base.flags.c_contiguous):
        return None
    size = base.dtype.itemsize
    where = []
    for column in columns:
        offset = column.ctypes.data - base.ctypes.data
        if (
            column.base is not base
            or column.dtype != base.dtype
            or column.shape != (base.shape[0],)
            or column.strides != (base.strides[0],)
            or offset % size
            or not 0 <= offset // size < base.shape[1]
        ):
            return None
        where.append(offset // size)
    return base, np.array(where)


def aligned(values: np.ndarray) -> np.ndarray:
    """``values`` as a C-contiguous, aligned array that JAX can share (a copy only when needed)."""
    if values.flags.c_contiguous and values.ctypes.data % ALIGN == 0:
        return values
    out = aligned_empty(values.shape, values.dtype)
    out[...] = values
    return out
