"""Optimisers by name: plain and sign gradient descent, and optax's classics.

Each name maps to a factory ``lr -> optax.GradientTransformation``; the rate is
an argument, not a constant baked in, so one compiled descent serves any rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import optax

from gdlab._checks import InputError
from gdlab._types import MethodLike


def gd(lr: jax.Array) -> optax.GradientTransformation:
    """Plain gradient descent, ``b <- b - lr * grad``."""
    return optax.stateless(lambda g, _p: jax.tree.map(lambda x: -lr * x, g))


def sign(lr: jax.Array) -> optax.GradientTransformation:
    """The lecture's first algorithm: a fixed step ``lr`` toward the downhill side."""
    return optax.stateless(lambda g, _p: jax.tree.map(lambda x: -lr * jnp.sign(x), g))


def momentum(lr: jax.Array) -> optax.GradientTransformation:
    """Heavy-ball momentum 0.9."""
    return optax.sgd(lr, momentum=0.9)


def nesterov(lr: jax.Array) -> optax.GradientTransformation:
    """Nesterov momentum 0.9."""
    return optax.sgd(lr, momentum=0.9, nesterov=True)


@dataclass(frozen=True)
class Method:
    """An optimiser as the descent engine sees it.

    Attributes:
        name: shown in results and legends.
        make: ``lr -> GradientTransformation``, or ``None`` when ``transform``
            was given ready-made.
        transform: a ready optax transformation (its rate is inside it).
        stop_when_no_gain: with ``tol``, also stop when a step would not lower
            the loss (the lecture's rule (4) for the sign method).
    """

    name: str
    make: Callable[[jax.Array], optax.GradientTransformation] | None = None
    transform: optax.GradientTransformation | None = None
    stop_when_no_gain: bool = False

    def build(self, lr: jax.Array) -> optax.GradientTransformation:
        """The transformation for rate ``lr``."""
        return self.transform if self.make is None else self.make(lr)

    @property
    def needs_lr(self) -> bool:
        """Whether the method takes its rate from ``descend(lr=...)``."""
        return self.make is not None


METHODS: dict[str, Method] = {
    "gd": Method("gd", gd),
    "sign": Method("sign", sign, stop_when_no_gain=True),
    "momentum": Method("momentum", momentum),
    "nesterov": Method("nesterov", nesterov),
    "adagrad": Method("adagrad", optax.adagrad),
    "rmsprop": Method("rmsprop", optax.rmsprop),
    "adam": Method("adam", optax.adam),
}


def resolve_method(method: MethodLike | Method) -> Method:
    """Turn a name, an optax transformation or an optax factory into a :class:`Method`.

    Raises:
        ValueError: an unknown name or an object that is not an optimiser.
    """
    if isinstance(method, Method):
        return method
    if isinstance(method, str):
        key = method.strip().lower()
        if key not in METHODS:
            raise InputError(
                f"unknown method {method!r}; choose one of {', '.join(METHODS)}, "
                "or pass an optax GradientTransformation"
            )
        return METHODS[key]
    if isinstance(method, optax.GradientTransformation):
        return Method("optax", transform=method)
    if callable(method):
        return Method(getattr(method, "__name__", "optax"), make=method)
    raise InputError(
        f"method must be a name ({', '.join(METHODS)}), an optax GradientTransformation "
        f"or a factory such as optax.adam; got {method!r}"
    )
