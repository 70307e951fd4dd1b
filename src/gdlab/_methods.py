"""Optimisers by name: plain and sign gradient descent, optax's classics, line searches and Newton.

Each name maps to a factory ``lr -> optax.GradientTransformation``; the rate is
an argument, not a constant baked in, so one compiled descent serves any rate.
Methods that choose their own steps (``"newton"``, ``"lbfgs"``) are ready-made
transformations: they read the loss itself (``value_fn``), which the engine
passes to every update, and take no rate.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from gdlab._checks import InputError, unknown
from gdlab._precision import ROUNDED
from gdlab._types import MethodLike

if TYPE_CHECKING:  # JAX and optax load when a method is first built, so that reading the
    import jax  # registry (the command line's help) costs no import of them
    import optax

# Backtracking: halve the step until the loss falls by at least 1e-4 of what the
# slope promises (Armijo's condition), at most this many times.
_BACKTRACKS = 40
# A line search's loss is known to about this much of itself (ROUNDED roundings of float64): a step
# that raises it by no more is not refused for it. Refused, Newton's steps near a minimum, whose
# decrease is below the loss's rounding though the gradient still says where to go, stood still
# 3e-10 from the minimum for the rest of the run.
LOSS_ROUNDING = ROUNDED * 2.0**-52


class Stateless(NamedTuple):
    """A rule that keeps no state, in optax's form (``init``, and ``update`` taking optax's extra
    arguments), made without importing optax: plain and sign gradient descent, the lecture's
    methods, run without loading it (a tenth of a second of a command's start). It is what
    ``optax.stateless`` makes, with ``()`` for optax's ``EmptyState()`` (both hold nothing), and
    chains with optax's transformations as theirs do."""

    init: Callable
    update: Callable


def _stateless(rule: Callable[[jax.Array], jax.Array]) -> Stateless:
    """The transformation that turns each gradient component ``x`` into the update ``rule(x)``."""
    import jax

    def init(params):
        del params
        return ()

    def update(updates, state, params=None, **extra):
        del params, extra
        return jax.tree.map(rule, updates), state

    return Stateless(init, update)


def gd(lr: jax.Array) -> Stateless:
    """Plain gradient descent, ``b <- b - lr * grad``."""
    return _stateless(lambda x: -lr * x)


def sign(lr: jax.Array) -> Stateless:
    """The lecture's first algorithm: a fixed step ``lr`` toward the downhill side."""
    import jax.numpy as jnp

    return _stateless(lambda x: -lr * jnp.sign(x))


def gd_armijo(lr: jax.Array) -> optax.GradientTransformationExtraArgs:
    """Gradient descent with a backtracking (Armijo) line search: ``lr`` is the first trial step.

    Each step tries twice the last accepted step (at most 10^6 times ``lr``) and
    halves it until the loss falls enough, so a rate chosen too small grows and
    one too large shrinks: the line search chooses the rate.
    """
    import optax

    return optax.chain(
        optax.sgd(lr),
        optax.scale_by_backtracking_linesearch(
            max_backtracking_steps=_BACKTRACKS,
            decrease_factor=0.5,
            increase_factor=2.0,
            max_learning_rate=1e6,
            rtol=LOSS_ROUNDING,
        ),
    )


def newton_direction(floor: float = 1e-10) -> optax.GradientTransformationExtraArgs:
    """The Newton direction ``-H^-1 g``, with ``H`` the Hessian of ``value_fn`` at the parameters.

    Where ``H`` is not positive definite (a saddle, a maximum, a flat direction)
    its spectrum is shifted up until the smallest eigenvalue is ``floor`` times
    the largest (Levenberg's damping), so the direction always points downhill.
    """
    import jax
    import jax.numpy as jnp
    import optax

    from gdlab._pytree import ravel_pytree

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
    import optax

    return optax.chain(
        newton_direction(),
        optax.scale_by_backtracking_linesearch(
            max_backtracking_steps=_BACKTRACKS,
            decrease_factor=0.5,
            increase_factor=2.0**30,
            rtol=LOSS_ROUNDING,
        ),
    )


@dataclass(frozen=True)
class Method:
    """An optimiser, or a way of fitting, as every part of gdlab sees it: the one record of a method.

    The descent engine, the fits, the command line and the web page all read these
    fields; none keeps its own list of names or of what a method needs.

    Attributes:
        name: shown in results and legends.
        make: ``lr -> GradientTransformation`` (with the method's settings as keywords),
            or ``None`` when ``transform`` was given ready-made.
        transform: a ready optax transformation (its rate is inside it).
        ready: makes that transformation on first use (a method of gdlab's own that sets
            its own step, built only when a run needs it).
        stop_when_no_gain: with ``tol``, also stop when a step would not lower
            the loss (the lecture's rule (4) for the sign method).
        reads_loss: it evaluates the loss at trial points (a line search, Newton's
            Hessian), so each of its steps needs the whole loss, not only a gradient:
            over data read in passes, every trial is another pass.
        settings: the settings it takes beside the rate, with their defaults, as pairs
            (``(("momentum", 0.9),)``: a method is hashable, for compiled code); :attr:`defaults`
            reads them as a dict and :meth:`configured` sets them.
        momentum: the setting that weighs past gradients into a step (heavy ball's and
            Nesterov's ``momentum``, Adam's ``b1``), which :func:`gdlab.phase` varies beside the
            rate; ``None`` when it has none.
        kind: ``"descent"`` (``gdlab.descend`` takes it), ``"closed form"`` (the exact
            least-squares solve), ``"minibatch"`` (stochastic gradient descent) or
            ``"least squares"`` (a solver for a typed model: Levenberg-Marquardt,
            Gauss-Newton). Only descent methods run through the engine's step.
        summary: what it does, in a few words (for help texts and the page).
    """

    name: str
    make: Callable[..., optax.GradientTransformation] | None = None
    transform: optax.GradientTransformation | None = None
    ready: Callable[[], optax.GradientTransformation] | None = None
    stop_when_no_gain: bool = False
    reads_loss: bool = False
    settings: tuple[tuple[str, float], ...] = ()
    momentum: str | None = None
    kind: str = "descent"
    summary: str = ""

    def build(self, lr: jax.Array) -> optax.GradientTransformation:
        """The transformation for rate ``lr``."""
        if self.make is not None:
            return self.make(lr)
        if self.ready is not None:
            return self.ready()
        assert self.transform is not None, f"{self.name} is not a descent method"
        return self.transform

    @property
    def needs_lr(self) -> bool:
        """Whether the method takes its rate from ``descend(lr=...)``."""
        return self.make is not None

    def rate(self, lr: object) -> float | None:
        """The rate this method takes from ``lr``: required when it takes one, refused when it sets
        its own step (a line search, Newton's step, a transformation made with its rate), for every
        driver and front end alike.

        Example:
            >>> METHODS["gd"].rate(0.1), METHODS["newton"].rate(None)
            (0.1, None)
        """
        from gdlab._checks import number

        name = self.name
        if self.needs_lr:
            if lr is None:
                raise InputError(
                    lambda s: (
                        f"{s.setting('method', name, quoted=True)} needs a learning rate: pass "
                        f"{s.setting('lr', 0.01)}, say"
                    ),
                    parameter="lr",
                )
            return number("lr", lr)
        if lr is None:
            return None
        if self.transform is not None or name not in METHODS:  # an optax transformation, made
            raise InputError(
                lambda s: (
                    f"{s.name('lr')} was given but the optax transformation holds its own rate: pass "
                    f"{s.name('method')}=optax.adam (the factory) with {s.name('lr')}, or leave "
                    f"{s.name('lr')} out"
                ),
                parameter="lr",
            )
        raise InputError(
            lambda s: (
                f"{s.setting('method', name, quoted=True)} sets its own step size: leave {s.name('lr')} out"
            ),
            parameter="lr",
        )

    @property
    def defaults(self) -> dict[str, float]:
        """The settings it takes beside the rate, with their defaults."""
        return dict(self.settings)

    def configured(self, **settings: float) -> Method:
        """This method with some of its settings changed (``momentum=0.5``); an unknown one is refused.

        The same settings give the same (equal and hashable) method, so compiled code is reused.
        """
        unknown = sorted(set(settings) - set(self.defaults))
        if unknown:
            known = ", ".join(self.defaults) or "none"
            raise InputError(
                f"{self.name} has no setting {', '.join(unknown)}; its settings: {known}", parameter="method"
            )
        chosen = {**self.defaults, **{k: float(v) for k, v in settings.items()}}
        if chosen == self.defaults or self.make is None:
            return self
        return _configured(self, tuple(sorted(chosen.items())))

    def varying(self, setting: str) -> Method:
        """This method with ``setting`` given per run beside the rate: its :meth:`build` takes
        ``[lr, value]`` as one array, so that a vmapped batch of runs varies both (the runs of
        :func:`gdlab.phase`). The other settings keep their values; the name stays the method's.

        Example:
            >>> METHODS["momentum"].varying("momentum").name
            'momentum'
        """
        if setting not in self.defaults or self.make is None:
            known = ", ".join(self.defaults) or "none"
            raise InputError(
                f"{self.name} has no setting {setting} to vary; its settings: {known}", parameter="method"
            )
        return _varying(self, setting)


def _momentum(lr: jax.Array, momentum: float = 0.9) -> optax.GradientTransformation:
    """Heavy-ball momentum."""
    import optax

    return optax.sgd(lr, momentum=momentum)


def _nesterov(lr: jax.Array, momentum: float = 0.9) -> optax.GradientTransformation:
    """Nesterov momentum."""
    import optax

    return optax.sgd(lr, momentum=momentum, nesterov=True)


def _adam(lr: jax.Array, b1: float = 0.9, b2: float = 0.999) -> optax.GradientTransformation:
    import optax

    return optax.adam(lr, b1=b1, b2=b2)


def _rmsprop(lr: jax.Array, decay: float = 0.9) -> optax.GradientTransformation:
    import optax

    return optax.rmsprop(lr, decay=decay)


def _adagrad(lr: jax.Array) -> optax.GradientTransformation:
    import optax

    return optax.adagrad(lr)


@functools.cache
def _lbfgs() -> optax.GradientTransformationExtraArgs:
    import optax

    return optax.lbfgs()


@functools.lru_cache(maxsize=256)
def _configured(method: Method, chosen: tuple[tuple[str, float], ...]) -> Method:
    assert method.make is not None
    return dataclasses.replace(method, make=functools.partial(method.make, **dict(chosen)), settings=chosen)


def _pair(make: Callable[..., optax.GradientTransformation], setting: str, pair: jax.Array):
    return make(pair[0], **{setting: pair[1]})


@functools.lru_cache(maxsize=64)
def _varying(method: Method, setting: str) -> Method:
    # Cached, so that the same method and setting give the same (identical) method: compiled code
    # is kept per method.
    assert method.make is not None
    return dataclasses.replace(method, make=functools.partial(_pair, method.make, setting))


# What descend takes: every descent method, in the order help texts list them.
METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("gd", gd, summary="plain gradient descent"),
        Method("sign", sign, stop_when_no_gain=True, summary="a fixed step downhill (the lecture's first)"),
        Method(
            "momentum",
            _momentum,
            settings=(("momentum", 0.9),),
            momentum="momentum",
            summary="heavy-ball momentum",
        ),
        Method(
            "nesterov",
            _nesterov,
            settings=(("momentum", 0.9),),
            momentum="momentum",
            summary="Nesterov momentum",
        ),
        Method("adagrad", _adagrad, summary="AdaGrad"),
        Method("rmsprop", _rmsprop, settings=(("decay", 0.9),), summary="RMSProp"),
        Method("adam", _adam, settings=(("b1", 0.9), ("b2", 0.999)), momentum="b1", summary="Adam"),
        Method("gd-armijo", gd_armijo, reads_loss=True, summary="gd with a backtracking line search"),
        Method("newton", ready=functools.cache(newton), reads_loss=True, summary="damped Newton (own steps)"),
        Method("lbfgs", ready=_lbfgs, reads_loss=True, summary="L-BFGS (own steps)"),
    )
}

# Ways of fitting that are not descents of the engine: gdlab.fit takes these beside METHODS.
FIT_ONLY: dict[str, Method] = {
    m.name: m
    for m in (
        Method("ols", kind="closed form", summary="the exact least-squares solve (QR)"),
        Method("sgd", kind="minibatch", summary="stochastic gradient descent over minibatches"),
        Method("lm", kind="least squares", summary="Levenberg-Marquardt, for a typed model"),
        Method("gauss-newton", kind="least squares", summary="Gauss-Newton, for a typed model"),
    )
}


def fit_methods() -> tuple[str, ...]:
    """Every name gdlab.fit takes: the closed form, minibatches, each descent method, then the
    least-squares solvers of a typed model."""
    first = tuple(n for n, m in FIT_ONLY.items() if m.kind != "least squares")
    return (*first, *METHODS, *least_squares_methods())


def least_squares_methods() -> tuple[str, ...]:
    """The solvers that fit a typed model by least squares (``lm``, ``gauss-newton``)."""
    return tuple(n for n, m in FIT_ONLY.items() if m.kind == "least squares")


def reads_loss(name: str) -> bool:
    """Whether the named method evaluates the whole loss at trial points (see :attr:`Method.reads_loss`)."""
    method = METHODS.get(name)
    return method is not None and method.reads_loss


def listed(names: Iterable[str]) -> str:
    """Names as a help text lists them: ``gd, sign, momentum``."""
    return ", ".join(names)


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
            raise unknown("method", method, METHODS, also=", or pass an optax GradientTransformation")
        return METHODS[key]
    import optax

    if isinstance(method, optax.GradientTransformation):
        return Method("optax", transform=method)
    if callable(method):
        return Method(getattr(method, "__name__", "optax"), make=method)
    raise InputError(
        f"method must be a name ({', '.join(METHODS)}), an optax GradientTransformation "
        f"or a factory such as optax.adam; got {method!r}"
    )
