"""Standardised regressors built once, and losses that read them once per gradient.

A descent fit runs on standardised regressors ``Z = (X - mean) / scale``.
:class:`Standard` holds the table's own columns with their means and scales: it
gives ``Z'Z`` and the sharpest row (for the rate rules) a block of rows at a
time, and builds ``Z`` once, row-major and 64-byte aligned so that JAX uses it
where it lies (an unaligned NumPy array is copied by ``jax.device_put``). That
one array is the only copy of the data a descent fit makes; the design matrix
and its standardised copy are never built beside it.

``jax.grad`` of ``mean((y - Z b)^2)`` reads ``Z`` twice per step (``Z b``, then
``Z' r``) with XLA's matrix-vector kernels. :func:`fused_loss` is the same loss
(or the mean log-loss) compiled as a scan over blocks of rows small enough to
stay in cache: each block is used for both the residuals and the gradient, so a
value and its gradient cost one pass over ``Z``. Its derivative is a custom JVP
that returns that gradient, so ``jax.grad``, ``jax.value_and_grad`` and
``jax.hessian`` of it all work (the data are not differentiable). On 500,000 x
100 float64 it ran at 80 to 110% of NumPy's read bandwidth measured beside it,
where ``jax.grad`` of the plain loss ran at 25 to 45% (``benchmarks/bench_data.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

__all__ = ["FUSED_NUMBERS", "Standard", "aligned", "fused_loss", "fuses", "moments"]

# A descent fit reads Z once per gradient (fused_loss) from this size (4 MB of float64) up;
# below it Z stays in cache, and the plain loss compiles faster.
FUSED_NUMBERS = 1 << 19
# Bytes of Z per block of the compiled pass (about 800 KB: it stays in cache).
_BLOCK_BYTES = 819_200
# Rows per NumPy block when reading Z on the host (Z'Z, the sharpest row).
_HOST_ROWS = 65_536
# The alignment at which jax.device_put shares a NumPy array's memory instead of copying it.
ALIGN = 64

Kind = Literal["mse", "logistic"]


def fuses(Z: np.ndarray) -> bool:
    """Whether a descent on ``Z`` should use :func:`fused_loss`: on a CPU, above
    :data:`FUSED_NUMBERS`. A GPU runs the plain loss's matrix products at its own
    bandwidth; a scan over small blocks would serialise them."""
    return Z.size >= FUSED_NUMBERS and jax.default_backend() == "cpu"


def block_rows(p: int, itemsize: int = 8) -> int:
    """Rows per block of the compiled pass for ``p`` columns: a power of two, 64 to 8,192."""
    rows = _BLOCK_BYTES // max(1, p * itemsize)
    return int(min(8192, max(64, 2 ** int(np.log2(max(rows, 1))))))


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

    def sharpest(self) -> float:
        """The largest squared row norm ``max |z_i|^2``."""
        return max(float(np.max(np.sum(Z**2, axis=1))) for Z in self.blocks())

    def pass_fn(self, y: np.ndarray, kind: Kind = "mse", rows: int = 8192) -> Any:
        """``pass_fn(w) -> (mean loss, gradient)`` in NumPy, one pass over the columns: each block
        of ``rows`` rows is standardised column by column into one column-major buffer (each
        column's slice a contiguous read) and used for both products while it is in cache.
        Nothing as large as the data is allocated, so a descent by
        :func:`gdlab._stream.descend_passes` over it makes no copy of the data."""
        n, first = self.n, int(self.intercept)
        buffer = np.empty((rows, self.p), order="F")
        if self.intercept:
            buffer[:, 0] = 1.0

        def pass_fn(w: np.ndarray) -> tuple[float, np.ndarray]:
            w = np.asarray(w, dtype=np.float64)
            total, grad = 0.0, np.zeros(self.p)
            for start in range(0, n, rows):
                Z = buffer[: min(rows, n - start)]
                for j, column in enumerate(self.columns):
                    out = Z[:, first + j]
                    np.subtract(column[start : start + rows], self.mean[j], out=out)
                    out /= self.scale[j]
                eta, target = Z @ w, y[start : start + rows]
                if kind == "mse":
                    r = eta - target
                    total += float(r @ r)
                    grad += 2 * (r @ Z)
                else:
                    total += float(np.sum(np.logaddexp(0.0, eta) - target * eta))
                    grad += (np.exp(-np.logaddexp(0.0, -eta)) - target) @ Z
            return total / n, grad / n

        return pass_fn

    def matrix(self) -> np.ndarray:
        """``Z`` in the columns' dtype, row-major and aligned so that JAX shares its memory."""
        out = aligned_empty(self.shape, self.dtype)
        for i, Z in enumerate(self.blocks()):
            out[i * _HOST_ROWS : i * _HOST_ROWS + len(Z)] = Z
        return out


def aligned(values: np.ndarray) -> np.ndarray:
    """``values`` as a C-contiguous, aligned array that JAX can share (a copy only when needed)."""
    if values.flags.c_contiguous and values.ctypes.data % ALIGN == 0:
        return values
    out = aligned_empty(values.shape, values.dtype)
    out[...] = values
    return out


def _block(w: Any, Z: Any, y: Any, kind: Kind, grad: bool) -> tuple[Any, Any]:
    """One block's sum of losses, and the sum of its gradients when ``grad``."""
    eta = Z @ w
    if kind == "mse":
        r = eta - y
        value, d = r @ r, 2 * r
    else:
        value, d = jnp.sum(jnp.logaddexp(0.0, eta) - y * eta), jax.nn.sigmoid(eta) - y
    return value, (d @ Z if grad else None)


def _pass(w: Any, data: dict[str, Any], kind: Kind, grad: bool) -> tuple[Any, Any]:
    """The mean loss over all rows and (when ``grad``) its gradient: one pass, blocks of rows."""
    Z, y = data["Z"], data["y"]
    n, p = Z.shape
    rows = block_rows(p, Z.dtype.itemsize)
    full, tail = divmod(n, rows)
    value, gradient = jnp.zeros((), w.dtype), jnp.zeros(p, w.dtype)

    def body(total: tuple, i: Any) -> tuple:
        v, g = _block(
            w,
            lax.dynamic_slice_in_dim(Z, i * rows, rows),
            lax.dynamic_slice_in_dim(y, i * rows, rows),
            kind,
            grad,
        )
        return (total[0] + v, total[1] + g if grad else total[1]), None

    if full:
        (value, gradient), _ = lax.scan(body, (value, gradient), jnp.arange(full))
    if tail:
        v, g = _block(w, Z[full * rows :], y[full * rows :], kind, grad)
        value, gradient = value + v, (gradient + g if grad else gradient)
    return value / n, (gradient / n if grad else None)


@functools.cache
def fused_loss(kind: Kind) -> Any:
    """``loss(w, {"Z": Z, "y": y})``: the mean squared error (``"mse"``) or the mean log-loss
    (``"logistic"``) of coefficients ``w``, one pass over ``Z`` per value and gradient.

    One function per kind, so that fits of the same shapes share compiled code. Its
    derivative (a custom JVP) is the gradient from the same pass; the data are not
    differentiable.

    Example:
        >>> import numpy as np
        >>> data = {"Z": np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]]), "y": np.array([1.0, 3.0, 5.0])}
        >>> loss = fused_loss("mse")
        >>> float(loss(np.array([1.0, 2.0]), data)), jax.grad(loss)(np.array([1.0, 0.0]), data).tolist()
        (0.0, [-4.0, -6.666666666666666])
    """

    @jax.custom_jvp
    def loss(w: Any, data: dict[str, Any]) -> Any:
        return _pass(w, data, kind, grad=False)[0]

    def jvp(primals: tuple, tangents: tuple) -> tuple:
        w, data = primals
        dw, ddata = tangents
        if not all(isinstance(t, jax.custom_derivatives.SymbolicZero) for t in jax.tree.leaves(ddata)):
            raise NotImplementedError("the data of a fused loss are not differentiable")
        value, gradient = _pass(w, data, kind, grad=True)
        if isinstance(dw, jax.custom_derivatives.SymbolicZero):
            return value, jnp.zeros_like(value)
        return value, gradient @ dw

    loss.defjvp(jvp, symbolic_zeros=True)
    return loss
