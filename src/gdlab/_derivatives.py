"""Derivatives of a scalar loss: gradient, value and gradient, Hessian."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax

from gdlab._checks import InputError
from gdlab._loss import as_loss, scalar_loss
from gdlab._precision import as_float_tree, resolve_dtype
from gdlab._types import DTypeLike

ArgNums = int | Sequence[int]


def _normalise_argnums(argnums: ArgNums) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums or not all(isinstance(n, int) and n >= 0 for n in nums):
        raise InputError(f"argnums must be a non-negative int or a tuple of them; got {argnums!r}")
    return nums


def _differentiable(
    transform: Callable[..., Callable[..., object]],
    f: Callable[..., Any],
    argnums: ArgNums,
    dtype: DTypeLike,
) -> Callable[..., object]:
    nums = _normalise_argnums(argnums)
    dt = resolve_dtype(dtype)
    inner = transform(scalar_loss(f), argnums=argnums)

    @functools.wraps(f)
    def call(*args: object, **kwargs: object) -> object:
        if max(nums) >= len(args):
            raise InputError(
                f"argnums={argnums!r} asks for argument {max(nums)} but the call passed "
                f"{len(args)} positional argument(s)"
            )
        args = tuple(as_float_tree(a, dt, f"argument {i}") if i in nums else a for i, a in enumerate(args))
        return inner(*args, **kwargs)

    return call


def grad(f: Callable[..., Any], argnums: ArgNums = 0, *, dtype: DTypeLike = None):
    """Gradient of a scalar loss, as a function of the same arguments.

    Parameters may be numbers, arrays, tuples or dicts of them (any JAX pytree);
    integers are taken as floats. A loss returning a one-element array, such as
    the 1x1 ``(y - X@b).T @ (y - X@b)``, counts as a scalar.

    Args:
        f: the loss; it must return one number.
        argnums: which positional argument(s) to differentiate, as in ``jax.grad``.
        dtype: the floating type to compute in (default float64).

    Returns:
        A function with ``f``'s signature returning the gradient, shaped like
        the differentiated argument (a tuple of them when ``argnums`` is a tuple).

    Example:
        >>> import gdlab
        >>> loss = lambda b: (b / 2 - 1) ** 2
        >>> float(gdlab.grad(loss)(-10))
        -6.0
        >>> [float(g) for g in gdlab.grad(lambda b0, b1: (b0 + 2 * b1) ** 2, (0, 1))(1.0, 1.0)]
        [6.0, 12.0]
    """
    f = as_loss(f)
    return _differentiable(jax.grad, f, argnums, dtype)


def value_and_grad(f: Callable[..., Any], argnums: ArgNums = 0, *, dtype: DTypeLike = None):
    """Loss value and gradient together, in one pass.

    Args:
        f: the loss; it must return one number.
        argnums: which positional argument(s) to differentiate, as in ``jax.grad``.
        dtype: the floating type to compute in (default float64).

    Returns:
        A function returning ``(value, gradient)``.

    Example:
        >>> import gdlab
        >>> value, slope = gdlab.value_and_grad(lambda b: (b / 2 - 1) ** 2)(-4.0)
        >>> float(value), float(slope)
        (9.0, -3.0)
    """
    f = as_loss(f)
    return _differentiable(jax.value_and_grad, f, argnums, dtype)


def hessian(f: Callable[..., Any], argnums: ArgNums = 0, *, dtype: DTypeLike = None):
    """Matrix of second derivatives of a scalar loss.

    Args:
        f: the loss; it must return one number.
        argnums: which positional argument(s) to differentiate, as in ``jax.hessian``.
        dtype: the floating type to compute in (default float64).

    Returns:
        A function returning the Hessian, shaped as in ``jax.hessian``: for a
        vector of length n, n x n; for an (n, 1) column, (n, 1, n, 1), so
        ``.reshape(n, n)`` gives the matrix.

    Example:
        >>> import gdlab, jax.numpy as jnp
        >>> H = gdlab.hessian(lambda b: b[0] ** 2 + 3 * b[0] * b[1])(jnp.array([1.0, 2.0]))
        >>> H.tolist()
        [[2.0, 3.0], [3.0, 0.0]]
    """
    f = as_loss(f)
    return _differentiable(jax.hessian, f, argnums, dtype)
