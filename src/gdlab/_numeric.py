"""A formula's NumPy form, with its exact Jacobian by forward-mode rules beside each operation.

The expression compiler (:mod:`gdlab._expr`) walks a checked tree into closures over an
array namespace: JAX's for losses that are differentiated, traced and compiled, or this one
for a small formula fitted once, where compiling would cost more than the whole fit. Here
each operation takes plain arrays (its value) or :class:`Dual` numbers (a value and its
derivatives in the parameters it depends on), and each derivative rule sits beside its operation, as in
micrograd: the Jacobian is exact, not differenced, and no symbolic algebra is imported.
Only elementwise operations have a NumPy form; a formula with a reduction (``sum``,
``mean``, ``min`` of one argument), a matrix form or a subscript is left to JAX.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["FUNCTIONS", "OPERATORS", "Dual", "constant", "jacobian", "seeds"]

Value = Any  # a float, an array, or a Dual


# A tangent: the derivative in each parameter the value depends on, by the parameter's position
# (most parts of a formula depend on one or two of its parameters: only those are computed).
Tangent = dict[int, Any]


class Dual:
    """A value and its derivatives in the parameters it depends on (``tangent``, by position)."""

    __slots__ = ("tangent", "value")

    def __init__(self, value: Any, tangent: Tangent) -> None:
        self.value, self.tangent = value, tangent


def _parts(a: Value) -> tuple[Any, Tangent | None]:
    return (a.value, a.tangent) if isinstance(a, Dual) else (a, None)


def _scaled(tangent: Tangent, factor: Any) -> Tangent:
    """``factor * tangent``, the factor a number or one value a row."""
    return {k: v * factor for k, v in tangent.items()}


def _added(s: Tangent, t: Tangent, sign: float = 1.0) -> Tangent:
    """``s + sign * t``."""
    out = dict(s)
    for k, v in t.items():
        out[k] = (out[k] + v if sign > 0 else out[k] - v) if k in out else (v if sign > 0 else -v)
    return out


def _chain(name: str, value: Callable, slope: Callable) -> Callable[[Value], Value]:
    """An elementwise function and its derivative ``slope(x, f(x))``."""

    def apply(a: Value) -> Value:
        x, t = _parts(a)
        y = value(x)
        return y if t is None else Dual(y, _scaled(t, slope(x, y)))

    apply.__name__ = name
    return apply


def _sum(a: Value, b: Value, sign: float) -> Value:
    (x, s), (y, t) = _parts(a), _parts(b)
    value = x + y if sign > 0 else x - y
    if s is None and t is None:
        return value
    if t is None:
        return Dual(value, s) if s is not None else value
    return Dual(value, _added(s or {}, t, sign))


def add(a: Value, b: Value) -> Value:
    return _sum(a, b, 1.0)


def subtract(a: Value, b: Value) -> Value:
    return _sum(a, b, -1.0)


def multiply(a: Value, b: Value) -> Value:
    (x, s), (y, t) = _parts(a), _parts(b)
    value = x * y
    if s is None and t is None:
        return value
    terms = [_scaled(s, y) if s is not None else None, _scaled(t, x) if t is not None else None]
    return Dual(value, _join(value, terms))


def divide(a: Value, b: Value) -> Value:
    (x, s), (y, t) = _parts(a), _parts(b)
    value = x / y
    if s is None and t is None:
        return value
    terms = [_scaled(s, 1 / y) if s is not None else None, _scaled(t, -value / y) if t is not None else None]
    return Dual(value, _join(value, terms))


def power(a: Value, b: Value) -> Value:
    (x, s), (y, t) = _parts(a), _parts(b)
    value = np.power(x, y)
    if s is None and t is None:
        return value
    terms = [
        _scaled(s, y * np.power(x, y - 1)) if s is not None else None,
        _scaled(t, value * np.log(np.where(x == 0, 1.0, x))) if t is not None else None,
    ]
    return Dual(value, _join(value, terms))


def negative(a: Value) -> Value:
    x, t = _parts(a)
    return -x if t is None else Dual(-x, {k: -v for k, v in t.items()})


def _join(value: Any, terms: list[Tangent | None]) -> Tangent:
    """The sum of a binary operation's derivative terms."""
    present = [term for term in terms if term is not None]
    return present[0] if len(present) == 1 else _added(present[0], present[1])


def _pick(a: Value, b: Value, smaller: bool) -> Value:
    """``minimum``/``maximum``; where the two are equal each contributes half its derivative (as JAX)."""
    (x, s), (y, t) = _parts(a), _parts(b)
    value = np.minimum(x, y) if smaller else np.maximum(x, y)
    if s is None and t is None:
        return value
    first = np.where(x == y, 0.5, (x < y) == smaller).astype(float)
    terms = [_scaled(s, first) if s is not None else None, _scaled(t, 1 - first) if t is not None else None]
    return Dual(value, _join(value, terms))


def _clip(a: Value, low: Value, high: Value) -> Value:
    return _pick(_pick(a, low, False), high, True)


def _sigmoid(x: Any) -> Any:
    from scipy.special import expit  # type: ignore[import-untyped]

    return expit(x)


def _erf(x: Any) -> Any:
    from scipy.special import erf

    return erf(x)


_SQRT_PI = math.sqrt(math.pi)

# name: (function of values or Dual numbers, fewest and most arguments); the rule beside each
FUNCTIONS: dict[str, tuple[Callable[..., Value], int, int]] = {
    "sin": (_chain("sin", np.sin, lambda x, y: np.cos(x)), 1, 1),
    "cos": (_chain("cos", np.cos, lambda x, y: -np.sin(x)), 1, 1),
    "tan": (_chain("tan", np.tan, lambda x, y: 1 + y * y), 1, 1),
    "exp": (_chain("exp", np.exp, lambda x, y: y), 1, 1),
    "log": (_chain("log", np.log, lambda x, y: 1 / x), 1, 1),
    "log10": (_chain("log10", np.log10, lambda x, y: 1 / (x * math.log(10))), 1, 1),
    "log2": (_chain("log2", np.log2, lambda x, y: 1 / (x * math.log(2))), 1, 1),
    "sqrt": (_chain("sqrt", np.sqrt, lambda x, y: 0.5 / y), 1, 1),
    "abs": (_chain("abs", np.abs, lambda x, y: np.sign(x)), 1, 1),
    "tanh": (_chain("tanh", np.tanh, lambda x, y: 1 - y * y), 1, 1),
    "sigmoid": (_chain("sigmoid", _sigmoid, lambda x, y: y * (1 - y)), 1, 1),
    "relu": (_chain("relu", lambda x: np.maximum(x, 0.0), lambda x, y: (x > 0).astype(float)), 1, 1),
    "softplus": (_chain("softplus", lambda x: np.logaddexp(x, 0.0), lambda x, y: _sigmoid(x)), 1, 1),
    "min": (lambda a, b: _pick(a, b, True), 2, 2),
    "max": (lambda a, b: _pick(a, b, False), 2, 2),
    "clip": (_clip, 3, 3),
    "arcsin": (_chain("arcsin", np.arcsin, lambda x, y: 1 / np.sqrt(1 - x * x)), 1, 1),
    "arccos": (_chain("arccos", np.arccos, lambda x, y: -1 / np.sqrt(1 - x * x)), 1, 1),
    "arctan": (_chain("arctan", np.arctan, lambda x, y: 1 / (1 + x * x)), 1, 1),
    "sinh": (_chain("sinh", np.sinh, lambda x, y: np.cosh(x)), 1, 1),
    "cosh": (_chain("cosh", np.cosh, lambda x, y: np.sinh(x)), 1, 1),
    "erf": (_chain("erf", _erf, lambda x, y: 2 / _SQRT_PI * np.exp(-x * x)), 1, 1),
}
FUNCTIONS["asin"], FUNCTIONS["acos"], FUNCTIONS["atan"] = (
    FUNCTIONS["arcsin"],
    FUNCTIONS["arccos"],
    FUNCTIONS["arctan"],
)

OPERATORS: dict[str, Callable[[Value, Value], Value]] = {
    "+": add,
    "-": subtract,
    "*": multiply,
    "/": divide,
    "**": power,
}


def constant(x: float) -> float:
    """A number in the formula: a float (it takes the data's float64)."""
    return float(x)


def seeds(names: tuple[str, ...], values: np.ndarray) -> dict[str, Dual]:
    """Each parameter as a Dual number whose derivative is 1 in itself (and 0 in the others)."""
    return {
        name: Dual(value, {i: 1.0})
        for i, (name, value) in enumerate(zip(names, values.tolist(), strict=True))
    }


def jacobian(result: Value, n: int, p: int) -> tuple[np.ndarray, np.ndarray]:
    """The model's values (``n``) and Jacobian (``n x p``) from the Dual number a formula gave."""
    value, tangent = _parts(result)
    if not (isinstance(value, np.ndarray) and value.shape == (n,)):
        value = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,))
    jac = np.zeros((n, p))
    for k, column in (tangent or {}).items():
        jac[:, k] = column
    return value, jac
