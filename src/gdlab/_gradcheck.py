"""Check a gradient three ways: autodiff, central differences, a formula."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gdlab._checks import InputError, number
from gdlab._loss import as_loss, scalar_loss
from gdlab._precision import as_float_tree, resolve_dtype
from gdlab._pytree import component_names, ravel_pytree
from gdlab._types import DTypeLike, Loss, Params


@dataclass(frozen=True)
class GradCheck:
    """The result of :func:`check_grad`: one row per parameter component.

    Attributes:
        names: component names (``b``, ``b[0]``, ``b0`` ...).
        autodiff: the gradient from automatic differentiation, flattened.
        numeric: the central finite-difference gradient, flattened.
        analytic: the gradient from the formula given, flattened, or ``None``.
        max_abs_error: largest absolute difference from the autodiff gradient.
        max_rel_error: largest difference relative to ``max(1, |autodiff|)``.
        tol: the tolerance on that relative error.
        passed: whether every comparison is within ``tol`` (plus the rounding
            floor of the difference quotient).
    """

    names: tuple[str, ...]
    autodiff: np.ndarray
    numeric: np.ndarray
    analytic: np.ndarray | None
    max_abs_error: float
    max_rel_error: float
    tol: float
    passed: bool

    def __bool__(self) -> bool:
        """``assert gdlab.check_grad(...)`` asserts that the check passed."""
        return self.passed

    def __repr__(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        cols = ["component", "autodiff", "finite diff"]
        cols += ["analytic"] if self.analytic is not None else []
        lines = [f"GradCheck: {verdict} (tol {self.tol:.0e})", "".join(f"{c:>17}" for c in cols)]
        for i, name in enumerate(self.names):
            row = [self.autodiff[i], self.numeric[i]]
            row += [self.analytic[i]] if self.analytic is not None else []
            lines.append(f"{name:>17}" + "".join(f"{v:>17.10g}" for v in row))
        lines.append(f"max abs error {self.max_abs_error:.3g}, max rel error {self.max_rel_error:.3g}")
        return "\n".join(lines)


def _central_differences(f, flat: jax.Array, unravel, dtype: np.dtype):
    """Central differences, one coordinate at a time, all evaluated in one vmap."""
    eps = float(jnp.finfo(dtype).eps)
    h = eps ** (1 / 3) * jnp.maximum(1.0, jnp.abs(flat))
    basis = jnp.eye(flat.size, dtype=dtype) * h[:, None]
    points = jnp.concatenate([flat + basis, flat - basis])
    values = jax.vmap(lambda p: f(unravel(p)))(points)
    forward, backward = values[: flat.size], values[flat.size :]
    fd = (forward - backward) / (2 * h)
    # Rounding in f(x+h) - f(x-h) limits how close the quotient can come.
    floor = 10 * eps * jnp.maximum(1.0, jnp.max(jnp.abs(values))) / h
    return fd, floor


def check_grad(
    f: Loss,
    at: Params,
    analytic: Callable[[Params], Any] | Params | None = None,
    *,
    tol: float | None = None,
    dtype: DTypeLike = None,
) -> GradCheck:
    """Compare the autodiff gradient of ``f`` at ``at`` with finite differences.

    Args:
        f: a loss of one argument (a number, array, tuple or dict) returning one number.
        at: the point to check at.
        analytic: optionally the gradient from a formula, as a function of the
            point or as its value; it is checked against autodiff too.
        tol: largest accepted error relative to ``max(1, |gradient|)``; default
            1e-6 in float64 and 1e-2 in float32.
        dtype: the floating type to compute in (default float64).

    Returns:
        A :class:`GradCheck` report; ``report.passed`` says whether all agree.

    Example:
        >>> import gdlab
        >>> loss = lambda b: (b / 2 - 1) ** 2
        >>> report = gdlab.check_grad(loss, -10.0, analytic=lambda b: b / 2 - 1)
        >>> report.passed, float(report.autodiff[0])
        (True, -6.0)
    """
    f = as_loss(f)
    dt = resolve_dtype(dtype)
    tol = (1e-6 if dt == np.float64 else 1e-2) if tol is None else number("tol", tol)
    point = as_float_tree(at, dt, "at")
    loss = scalar_loss(f)
    flat, unravel = ravel_pytree(point)
    auto = ravel_pytree(jax.grad(loss)(point))[0]
    numeric, floor = _central_differences(loss, flat, unravel, dt)
    errors = [jnp.abs(auto - numeric)]
    limits = [tol * jnp.maximum(1.0, jnp.abs(auto)) + floor]
    formula = None
    if analytic is not None:
        value = analytic(point) if callable(analytic) else analytic
        formula = jnp.ravel(jnp.asarray(ravel_pytree(value)[0], dtype=dt))
        if formula.shape != flat.shape:
            raise InputError(f"analytic gradient has {formula.size} components but the point has {flat.size}")
        errors.append(jnp.abs(auto - formula))
        limits.append(tol * jnp.maximum(1.0, jnp.abs(auto)))
    err = jnp.stack(errors)
    return GradCheck(
        names=tuple(component_names(point)),
        autodiff=np.asarray(auto),
        numeric=np.asarray(numeric),
        analytic=None if formula is None else np.asarray(formula),
        max_abs_error=float(jnp.max(err)),
        max_rel_error=float(jnp.max(err / jnp.maximum(1.0, jnp.abs(auto)))),
        tol=tol,
        # inf <= inf: a difference that overflowed (with its rounding floor) confirms nothing
        passed=bool(jnp.all(jnp.isfinite(err)) & jnp.all(err <= jnp.stack(limits))),
    )
