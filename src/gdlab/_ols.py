"""Closed-form least squares, solved stably (no explicit inverse)."""

from __future__ import annotations

import warnings

import jax.numpy as jnp
import numpy as np

from gdlab._checks import InputError
from gdlab._precision import resolve_dtype
from gdlab._types import DTypeLike


class RankDeficientWarning(UserWarning):
    """The design matrix has dependent columns: the least-squares fit is not unique."""


def _as_matrix(X: object, y: object, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    Xa, ya = np.asarray(X, dtype=dtype), np.asarray(y, dtype=dtype)
    if Xa.ndim == 1:
        raise InputError(
            f"X must be 2-D (observations x columns); got shape {Xa.shape}. "
            "For one regressor use X.reshape(-1, 1), or add an intercept column"
        )
    if Xa.ndim != 2:
        raise InputError(f"X must be 2-D (observations x columns); got shape {Xa.shape}")
    if ya.ndim not in (1, 2) or (ya.ndim == 2 and ya.shape[1] != 1):
        raise InputError(f"y must have shape (n,) or (n, 1); got {ya.shape}")
    if ya.shape[0] != Xa.shape[0]:
        raise InputError(
            f"X has {Xa.shape[0]} rows but y has {ya.shape[0]}: they must hold the same observations"
        )
    if not (np.all(np.isfinite(Xa)) and np.all(np.isfinite(ya))):
        raise InputError("X and y must be finite: drop or fill missing values first")
    return Xa, ya


def ols(X: object, y: object, *, dtype: DTypeLike = None) -> np.ndarray:
    """Least-squares coefficients ``argmin_b |y - X b|^2``, the lecture's ``(X'X)^-1 X'y``.

    Solved by an SVD-based least-squares routine, which stays accurate where
    forming and inverting X'X would lose half the digits.

    Args:
        X: design matrix, shape (n, p) (include a column of ones for an intercept).
        y: response, shape (n,) or (n, 1).
        dtype: the floating type to compute in (default float64).

    Returns:
        The coefficients, shaped like ``X.T @ y``: (p,) or (p, 1).

    Example:
        >>> import gdlab
        >>> cafe = gdlab.datasets.cafe()
        >>> gdlab.ols(cafe.X, cafe.y).round(4).tolist()
        [9.9446, 2.2157]
    """
    dt = resolve_dtype(dtype)
    Xa, ya = _as_matrix(X, y, dt)
    coef, _, rank, _ = jnp.linalg.lstsq(jnp.asarray(Xa), jnp.asarray(ya))
    if int(rank) < Xa.shape[1]:
        warnings.warn(
            f"X has rank {int(rank)} < {Xa.shape[1]} columns: its columns are linearly dependent, "
            "so the fit is not unique; returned the minimum-norm solution",
            RankDeficientWarning,
            stacklevel=2,
        )
    return np.asarray(coef)
