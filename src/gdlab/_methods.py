"""Optimisers by name: plain and sign gradient descent, optax's classics, line searches and Newton.

Each name maps to a factory ``lr -> optax.GradientTransformation``; the rate is
an argument, not a constant baked in, so one compiled descent serves any rate.
Methods that choose their own steps (``"newton"``, ``"lbfgs"``) are ready-made
transformations: they read the loss itself (``value_fn``), which the engine
passes to every update, and take no rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import optax

from gdlab._checks import InputError
from gdlab._pytree import ravel_pytree
from gdlab._types import MethodLike

# Backtracking: halve the step until the loss falls by at least 1e-4 of what the
# slope promises (Armijo's condition), at most this many times.
_BACKTRACKS = 40


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


def gd_armijo(lr: jax.Array) -> optax.GradientTransformationExtraArgs:
    """Gradient descent with a backtracking (Armijo) line search: ``lr`` is the first trial step.

    Each step tries twice the last accepted step (at most 10^6 times ``lr``) and
    halves it until the loss falls enough, so a rate chosen too small grows and
    one too large shrinks: the line search chooses the rate.
    """
    return optax.chain(
        optax.sgd(lr),
        optax.scale_by_backtracking_linesearch(
            max_backtracking_steps=_BACKTRACKS,
            decrease_factor=0.5,
            increase_factor=2.0,
            max_learning_rate=1e6,
        ),
    )


def newton_direction(floor: float = 1e-10) -> optax.GradientTransformationExtraArgs:
    """The Newton direction ``-H^-1 g``, with ``H`` the Hessian of ``value_fn`` at the parameters.

    Where ``H`` is not positive definite (a saddle, a maximum, a flat direction)
    its spectrum is shifted up until the smallest eigenvalue is ``floor`` times
    the largest (Levenberg's damping), so the direction always points downhill.
    """

    def init(params: optax.Params) -> optax.EmptyState:
        del params
        return optax.EmptyState()

    def update(updates, state, params=None, *, value_fn, **extra):
        del extra
        flat, unravel = ravel_pytree(params)
        g, _ = ravel_pytree(updates)
        H = jax.hessian(lambda v: value_fn(unravel(v)))(flat)
        H = (H + H.T) / 2
        eig = jnp.linalg.eigvalsh(H)
        top = jnp.maximum(jnp.max(jnp.abs(eig)), jnp.finfo(flat.dtype).tiny)
        shift = jnp.maximum(0.0, floor * top - eig[0])
        step = jnp.linalg.solve(H + shift * jnp.eye(flat.shape[0], dtype=flat.dtype), -g)
        return unravel(step), state

    return optax.GradientTransformationExtraArgs(init, update)


def newton() -> optax.GradientTransformationExtraArgs:
    """Damped Newton's method: the Newton direction, then a backtracking line search from the full step.

    On a quadratic the full step is accepted and lands on the minimum: one step.
    """
    return optax.chain(
        newton_direction(),
        optax.scale_by_backtracking_linesearch(
            max_backtracking_steps=_BACKTRACKS, decrease_factor=0.5, increase_factor=2.0**30
        ),
    )


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
    "gd-armijo": Method("gd-armijo", gd_armijo),
    "newton": Method("newton", transform=newton()),
    "lbfgs": Method("lbfgs", transform=optax.lbfgs()),
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
