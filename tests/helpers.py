"""Shared problems and an independent finite-difference oracle for the tests."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np


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


def numpy_gradient(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Fourth-order central differences of a NumPy function, independent of JAX."""
    x = np.asarray(x, dtype=np.float64)
    g = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        g.flat[i] = (-f(x + 2 * e) + 8 * f(x + e) - 8 * f(x - e) + f(x - 2 * e)) / (12 * h)
    return g
