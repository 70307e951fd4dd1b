"""Checks that a user's loss returns one number, whatever shape holds it."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

import jax
import jax.numpy as jnp

from gdlab._checks import InputError


def as_loss(f: Any) -> Any:
    """The loss as a callable: the text of a loss is parsed (safely) into an Expression.

    The same text gives the same Expression (up to 256 texts are kept), so repeated calls
    with one loss text reuse its compiled runs instead of compiling them again."""
    if isinstance(f, str):
        return _parsed(f)
    return f


@functools.lru_cache(maxsize=256)
def _parsed(text: str) -> Any:
    from gdlab._expr import parse

    return parse(text)


def scalar_loss(f: Callable[..., Any]) -> Callable[..., jax.Array]:
    """Wrap ``f`` so that it returns a 0-d array, or raise a clear error.

    Every public entry point first turns the text of a loss into a function
    (:func:`as_loss`), so ``f`` here is callable or a mistake.

    A loss that returns a one-element array (the lecture's ``(y-Xb).T @ (y-Xb)``
    is 1x1) is squeezed to a scalar, as TensorFlow's tape does. The check runs
    while JAX traces ``f``, so it costs nothing in compiled code.
    """
    if not callable(f):
        raise InputError(
            f"the loss must be a function of the parameters or an expression's text; got {type(f).__name__}"
        )

    @functools.wraps(f)
    def wrapped(*args: object, **kwargs: object) -> jax.Array:
        with _explained(args[0] if args else None):
            out = f(*args, **kwargs)
        try:
            arr = jnp.asarray(out)
        except TypeError as err:
            raise InputError(f"the loss must return a number; it returned {type(out).__name__}") from err
        if arr.size != 1:
            shape = arr.shape
            raise InputError(
                lambda s: (
                    f"the loss must return one number (a scalar); it returned shape {shape}. "
                    f"Reduce it, e.g. with {s.function('sum')}(...) or {s.function('mean')}(...)"
                )
            )
        want = _precision_of(args[0] if args else None)
        if want is None and not jnp.issubdtype(arr.dtype, jnp.floating):
            want = jnp.result_type(float)
        if want is not None and arr.dtype != want:
            arr = arr.astype(want)
        return arr.reshape(())

    return wrapped


def _precision_of(params: object) -> Any:
    """The floating type of the parameters, which the loss's value is given in: a run in float32
    whose loss reads a float64 constant (a NumPy array it closes over) would otherwise compute a
    float64 value beside float32 parameters and gradients. None when the parameters hold none."""
    kinds = [
        x.dtype
        for x in jax.tree.leaves(params)
        if hasattr(x, "dtype") and jnp.issubdtype(x.dtype, jnp.floating)
    ]
    return jnp.result_type(*kinds) if kinds else None


_TRACE_ERRORS = (
    jax.errors.TracerArrayConversionError,
    jax.errors.TracerBoolConversionError,
    jax.errors.ConcretizationTypeError,
    jax.errors.TracerIntegerConversionError,
)


@contextlib.contextmanager
def _explained(params: object) -> Iterator[None]:
    """Turn errors raised inside the user's loss into one clear InputError.

    gdlab differentiates and compiles the loss, so the loss must compute with
    ``jax.numpy`` and must not branch in Python on parameter values. A
    TypeError while tracing is almost always a shape mismatch between the
    parameters given and those the loss expects; ``params`` names their shapes.
    Only the loss is wrapped, so an optimiser's own error is never blamed on it.
    """
    try:
        yield
    except _TRACE_ERRORS as err:
        raise _untraceable(err) from None
    except InputError:
        raise
    except (TypeError, IndexError, KeyError, ValueError) as err:  # ValueError: shapes that do not match
        shapes = jax.tree.map(jnp.shape, params) if params is not None else None
        given = "" if shapes is None else f" for parameters of shape {shapes}"
        first = (str(err).strip().splitlines() or [""])[0]
        raise InputError(
            f"the loss raised {type(err).__name__}{given}: {first}. Check that the parameters "
            "passed have the shape (and, for a dict, the keys) the loss expects"
        ) from err


def _untraceable(err: Exception) -> InputError:
    first = str(err).strip().splitlines()[0]
    return InputError(
        "the loss cannot be differentiated as written: compute it with jax.numpy "
        "(import jax.numpy as jnp) instead of numpy or math, and use jnp.where "
        f"instead of a Python if on parameter values. JAX said: {first}"
    )
