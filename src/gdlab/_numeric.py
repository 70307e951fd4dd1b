"""A formula's NumPy form, with its exact Jacobian by the derivative rule beside each operation.

The expression compiler (:mod:`gdlab._expr`) walks a checked tree into closures over an
array namespace: JAX's for losses that are differentiated, traced and compiled, or this one
for a small formula fitted once, where compiling would cost more than the whole fit. Here a
formula is a tree of :class:`Node` objects, each operation an :class:`Op`: its NumPy function
and, beside it, the rule for its local derivative in each argument, as in micrograd. The
Jacobian is exact, not differenced, and no symbolic algebra is imported.

A fit evaluates its formula dozens of times on the same data, so the tree is ordered once per
formula (:class:`Plan`: a part written twice, such as ``x-b4`` in ``(x-b4)^2*(x-b4)``, is one
part) and bound once per fit to its data (:class:`Bound`): the parts that read no parameter
(``x^2``, ``exp(-x)``, a constant) are computed then, leaving a tape of the parts that do.
An evaluation runs the tape and keeps its values with the parameters' bytes; the Jacobian at
the same point (MINPACK asks for it at each point it accepts, after the values) runs the tape
backwards over those values: every part is elementwise, so each row's derivatives pass back
row by row and one backward pass gives every column (reverse mode), each local derivative
computed once. Only elementwise operations have a NumPy form; a formula with a reduction
(``sum``, ``mean``, ``min`` of one argument), a matrix form or a subscript is left to JAX.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["FUNCTIONS", "OPERATORS", "Bound", "Node", "Plan", "apply", "constant", "variable"]

Value = Any  # a float or an array


class _Unit:
    """A derivative of exactly +1 or -1 (the formula's own, a sum's, a difference's): passing it
    back through an operation is no multiplication, or a negation."""

    __slots__ = ("sign",)

    def __init__(self, sign: float) -> None:
        self.sign = sign


ONE, MINUS_ONE = _Unit(1.0), _Unit(-1.0)


def _neg(outer: Value) -> Value:
    if isinstance(outer, _Unit):
        return MINUS_ONE if outer is ONE else ONE
    return -outer


def _mul(outer: Value, local: Value) -> Value:
    """A derivative passed back through a local derivative ``local`` (a value, never a unit)."""
    if isinstance(outer, _Unit):
        return local if outer is ONE else -local
    return outer * local


def _plain(a: Value) -> Value:
    return a.sign if isinstance(a, _Unit) else a


# The derivative ``outer`` of the formula in an operation's value, passed back to its argument
# ``k``: back(k, outer, args, value), the operation's local derivative in that argument applied.
Back = Callable[[int, Value, Sequence[Value], Value], Value]


class Op:
    """An elementwise operation: its NumPy function and its derivative rule, which passes a
    derivative back to each argument."""

    __slots__ = ("back", "name", "value")

    def __init__(self, name: str, value: Callable[..., Value], back: Back) -> None:
        self.name, self.value, self.back = name, value, back


def _chain(name: str, value: Callable, slope: Callable) -> Op:
    """An elementwise function and its derivative ``slope(x, f(x))``."""
    return Op(name, value, lambda k, outer, args, y: _mul(outer, slope(args[0], y)))


def _pick(smaller: bool) -> Op:
    """``minimum``/``maximum``; where the two are equal each argument has half the derivative (as JAX)."""

    def back(k: int, outer: Value, args: Sequence[Value], value: Value) -> Value:
        x, y = args
        first = np.where(x == y, 0.5, (x < y) == smaller).astype(float)
        return _mul(outer, first if k == 0 else 1 - first)

    return Op("min" if smaller else "max", np.minimum if smaller else np.maximum, back)


def _divide_back(k: int, outer: Value, args: Sequence[Value], value: Value) -> Value:
    if k == 0:  # d(x/y)/dx = 1/y
        return _plain(outer) / args[1]
    return _mul(outer, value / -args[1])  # d(x/y)/dy = -(x/y)/y


def _power_back(k: int, outer: Value, args: Sequence[Value], value: Value) -> Value:
    x, y = args
    if k == 1:
        return _mul(outer, value * np.log(np.where(x == 0, 1.0, x)))
    if isinstance(y, float) and y == 2.0:  # x^2: 2x, as 2 * x^1
        return _mul(outer, y * x)
    return _mul(outer, y * np.power(x, y - 1))


def _sigmoid(x: Any) -> Any:
    from scipy.special import expit  # type: ignore[import-untyped]

    return expit(x)


def _erf(x: Any) -> Any:
    from scipy.special import erf

    return erf(x)


_SQRT_PI = math.sqrt(math.pi)

OPERATORS: dict[str, Op] = {
    "+": Op("+", operator.add, lambda k, outer, args, value: outer),
    "-": Op("-", operator.sub, lambda k, outer, args, value: _neg(outer) if k else outer),
    "*": Op("*", operator.mul, lambda k, outer, args, value: _mul(outer, args[1 - k])),
    "/": Op("/", operator.truediv, _divide_back),
    "**": Op("**", np.power, _power_back),
    "neg": Op("neg", operator.neg, lambda k, outer, args, value: _neg(outer)),
}

_MIN, _MAX = _pick(True), _pick(False)
_SQUARE = Op("**", lambda x, two: np.square(x), _power_back)  # x^2: the same part as x**2

# name: (operation, fewest and most arguments); the rule beside each. clip(a, lo, hi) is
# min(max(a, lo), hi) (see apply).
FUNCTIONS: dict[str, tuple[Op | None, int, int]] = {
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
    "min": (_MIN, 2, 2),
    "max": (_MAX, 2, 2),
    "clip": (None, 3, 3),
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


class Node:
    """A part of a formula: a number (``value``), a name (a parameter or a data column), or an
    operation on parts. Called with the names' values, it computes the part (plain NumPy)."""

    __slots__ = ("args", "name", "op", "value")

    def __init__(
        self, op: Op | None = None, args: tuple[Node, ...] = (), name: str | None = None, value: float = 0.0
    ) -> None:
        self.op, self.args, self.name, self.value = op, args, name, value

    def __call__(self, env: Mapping[str, Value]) -> Value:
        if self.op is not None:
            return self.op.value(*(a(env) for a in self.args))
        return env[self.name] if self.name is not None else self.value

    def key(self, children: tuple[int, ...]) -> tuple:
        """What makes two parts the same part, given the positions of their arguments' parts."""
        if self.op is not None:
            return (self.op.name, *children)
        return ("name", self.name) if self.name is not None else ("number", self.value.hex())


def constant(x: float) -> Node:
    """A number in the formula: a NumPy float64 (so 1/0 is inf, as in an array, not an error)."""
    return Node(value=np.float64(x))


def variable(name: str) -> Node:
    """A parameter or a data column, by name."""
    return Node(name=name)


def apply(name: str, args: Sequence[Node]) -> Node:
    """An operator (``+ - * / **``, ``neg``) or a function of :data:`FUNCTIONS` applied to parts."""
    if name == "clip":
        a, low, high = args
        return Node(_MIN, (Node(_MAX, (a, low)), high))
    op = OPERATORS[name] if name in OPERATORS else FUNCTIONS[name][0]
    assert op is not None
    if op is OPERATORS["**"] and args[1].op is None and args[1].name is None and args[1].value == 2.0:
        op = _SQUARE  # pow(x, 2) elementwise is ten times x*x (correctly rounded, as pow is)
    return Node(op, tuple(args))


class Plan:
    """A formula's distinct parts in an order that computes each after its arguments: which read
    a parameter, the tape of those (forwards and backwards), the parameters' places. Built once
    per formula; :meth:`bind` gives it data."""

    def __init__(self, root: Node, params: tuple[str, ...]) -> None:
        self.params = params
        self.nodes: list[Node] = []
        self.args: list[tuple[int, ...]] = []
        self.varies: list[bool] = []  # whether the part reads a parameter
        places: dict[tuple, int] = {}
        seen: dict[int, int] = {}

        def visit(node: Node) -> int:
            if id(node) in seen:
                return seen[id(node)]
            children = tuple(visit(a) for a in node.args)
            key = node.key(children)
            if key not in places:
                places[key] = len(self.nodes)
                self.nodes.append(node)
                self.args.append(children)
                self.varies.append(node.name in params or any(self.varies[c] for c in children))
            seen[id(node)] = places[key]
            return places[key]

        self.root = visit(root)
        slots = {node.name: i for i, node in enumerate(self.nodes) if node.op is None and node.name in params}
        self.slots = tuple(slots[p] for p in params)
        self.fixed = [i for i, v in enumerate(self.varies) if not v]
        ops = [i for i, node in enumerate(self.nodes) if self.varies[i] and node.op is not None]
        self.tape = [(i, self.nodes[i].op.value, self.args[i]) for i in ops]  # type: ignore[union-attr]
        self.backward = [
            (
                i,
                self.nodes[i].op.back,  # type: ignore[union-attr]
                self.args[i],
                tuple((k, j) for k, j in enumerate(self.args[i]) if self.varies[j]),
            )
            for i in reversed(ops)
        ]

    def bind(self, columns: Mapping[str, np.ndarray], n: int) -> Bound:
        """The formula on ``n`` rows of ``columns``, its parts without parameters computed now."""
        return Bound(self, columns, n)


class Bound:
    """A formula bound to its data: :meth:`values` and :meth:`jacobian` at any parameters, the
    last two evaluations kept (by the parameters' bytes) so that the Jacobian at a point just
    evaluated reuses its values. Call under ``np.errstate(all="ignore")``: a value outside a
    function's domain is NaN, as in JAX."""

    def __init__(self, plan: Plan, columns: Mapping[str, np.ndarray], n: int) -> None:
        self.plan, self.n = plan, n
        base: list[Value] = [None] * len(plan.nodes)
        for i in plan.fixed:
            node = plan.nodes[i]
            if node.op is not None:
                base[i] = node.op.value(*(base[j] for j in plan.args[i]))
            else:
                base[i] = columns[node.name] if node.name is not None else node.value
        self._base = base
        self._kept: dict[bytes, list[Value]] = {}
        self._jacobian: tuple[bytes, np.ndarray, np.ndarray] | None = None

    def _run(self, coef: np.ndarray) -> list[Value]:
        key = coef.tobytes()
        found = self._kept.get(key)
        if found is None:
            found = self._base.copy()
            for slot, value in zip(self.plan.slots, coef, strict=True):  # float64s: 1/0 is inf
                found[slot] = value
            for i, fn, args in self.plan.tape:
                if len(args) == 2:
                    found[i] = fn(found[args[0]], found[args[1]])
                else:
                    found[i] = fn(*[found[j] for j in args])
            if len(self._kept) > 1:
                del self._kept[next(iter(self._kept))]
            self._kept[key] = found
        return found

    def _rows(self, value: Value) -> np.ndarray:
        """The root's value as ``n`` rows, read-only (it is kept)."""
        if isinstance(value, np.ndarray) and value.shape == (self.n,):
            value = value.view()
            value.flags.writeable = False
            return value
        kind = np.complex128 if np.iscomplexobj(value) else np.float64  # a complex step's, complex
        return np.broadcast_to(np.asarray(value, dtype=kind), (self.n,))

    def values(self, coef: np.ndarray) -> np.ndarray:
        """The formula's values (``n``) at the parameters ``coef``."""
        return self._rows(self._run(coef)[self.plan.root])

    def jacobian(self, coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The formula's values (``n``) and exact Jacobian (``n x p``) at ``coef``; both read-only
        (the last Jacobian is kept, and given again at the same point)."""
        key = coef.tobytes()
        if self._jacobian is not None and self._jacobian[0] == key:
            return self._jacobian[1], self._jacobian[2]
        plan, found = self.plan, self._run(coef)
        back: list[Value] = [None] * len(plan.nodes)
        back[plan.root] = ONE
        for i, rule, args, varying in plan.backward:
            outer = back[i]
            if outer is None:
                continue
            inputs, value = [found[j] for j in args], found[i]
            for k, j in varying:
                term = rule(k, outer, inputs, value)
                back[j] = term if back[j] is None else _plain(back[j]) + _plain(term)
        jac = np.empty((self.n, len(plan.slots)), np.complex128 if coef.dtype.kind == "c" else np.float64)
        for k, slot in enumerate(plan.slots):
            jac[:, k] = 0.0 if back[slot] is None else _plain(back[slot])
        values = self._rows(found[plan.root])
        jac.flags.writeable = False
        self._jacobian = (key, values, jac)
        return values, jac
