"""A formula's NumPy form, with its exact Jacobian by the derivative rule beside each operation.

The expression compiler (:mod:`gdlab._expr`) walks a checked tree into closures over an
array namespace: JAX's for losses that are differentiated, traced and compiled, or this one
for a small formula fitted once, where compiling would cost more than the whole fit. Here a
formula is a tree of :class:`Node` objects, each operation an :class:`Op`: its NumPy function,
the expression that computes it, and beside it the rule for its local derivative in each
argument, as in micrograd. The Jacobian is exact, not differenced, and no symbolic algebra is
imported.

A fit evaluates its formula dozens of times on the same data, so the tree is ordered once per
formula (:class:`Plan`: a part written twice, such as ``x-b4`` in ``(x-b4)^2*(x-b4)``, is one
part) and written once as two Python functions, one statement a part: ``forward`` computes the
parts that read a parameter, ``backward`` passes the derivative back through them (reverse
mode: every part is elementwise, so each row's derivatives pass back row by row and one
backward pass gives every column, each local derivative computed once). The code is written
from the plan alone, parts named by their places, so no text of the formula is in it (checked
before it is compiled); derivatives of exactly 1 or -1, negations and doublings known when it is
written cost no operation, each as exact as the operation it saves, and a factor that is one
number (a parameter, a constant) is multiplied with the others as numbers and applied to the rows
once, where a column is written (Gauss-like's Jacobian: 13 passes over the rows, not 19; the
product's rounding changes, by an ulp or two). A tape interpreter paid a
microsecond of Python a part for what the written code does in a ufunc call. The formula is
bound once per fit to its data (:class:`Bound`): the parts that read no parameter (``x^2``,
``exp(-x)``, a constant) are computed then; an evaluation keeps its values with the
parameters' bytes, and the Jacobian at the same point (MINPACK asks for it at each point it
accepts, after the values) reads them. Only elementwise operations have a NumPy form; a formula
with a reduction (``sum``, ``mean``, ``min`` of one argument), a matrix form or a subscript is
left to JAX.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["FUNCTIONS", "OPERATORS", "Bound", "Node", "Plan", "apply", "constant", "variable"]

Value = Any  # a float or an array


class _Unit:
    """A derivative of exactly +1 or -1 (the formula's own, a sum's, a difference's): passing it
    back through an operation is no multiplication, or a negation. Known when the code is
    written, so no evaluation tests for it."""

    __slots__ = ("sign",)

    def __init__(self, sign: float) -> None:
        self.sign = sign


ONE, MINUS_ONE = _Unit(1.0), _Unit(-1.0)


class _Name:
    """A derivative computed in the written code: ``expr`` (rows; ``None``: none, the derivative is
    one number) times the number ``scale`` (``None``: 1) times ``2**twice``, negated where
    ``negative``. A negation or a doubling known when the code is written is carried to where the
    derivative is used (a product's or a quotient's sign, a sum turned into a difference, a column
    written negated or doubled), each as exact as itself: no array is negated or doubled on the way
    (a square's derivative ``2x`` passes back as ``x``, doubled). A factor that is one number (a
    parameter, a function of parameters, a constant) is carried as ``scale`` too, multiplied with
    the others as numbers and applied once, where a column is written or two derivatives of
    different scales are added: ``b6*exp(-(x-b7)^2/b8^2)``'s derivative in ``b8`` is one pass
    over the rows times one number, not three passes."""

    __slots__ = ("expr", "negative", "scale", "twice")

    def __init__(
        self, expr: str | None, negative: bool = False, twice: int = 0, scale: str | None = None
    ) -> None:
        self.expr, self.negative, self.twice, self.scale = expr, negative, twice, scale


# A derivative in the written code: a unit, or an expression, its sign and its power of two.
Term = _Unit | _Name

# A name in written code that holds rows: a part that reads data (``v3``; a part that is one
# number is ``s3``) or a derivative (``g3``). An expression without one is a number.
_ROWS = re.compile(r"\b[vg]\d+\b")


def _neg(outer: Term) -> Term:
    if isinstance(outer, _Unit):
        return MINUS_ONE if outer is ONE else ONE
    return _Name(outer.expr, not outer.negative, outer.twice, outer.scale)


def _whole(a: Term) -> str:
    """A derivative's rows and number as one expression, without its sign and power of two."""
    if isinstance(a, _Unit) or (a.expr is None and a.scale is None):
        return "1.0"
    if a.expr is None:
        return f"({a.scale})"
    return a.expr if a.scale is None else f"({a.expr} * ({a.scale}))"


def _parts(a: Term) -> tuple[str, bool, int]:
    """An expression, its sign and its power of two: a unit is 1.0, negated for -1."""
    return (_whole(a), a is MINUS_ONE, 0) if isinstance(a, _Unit) else (_whole(a), a.negative, a.twice)


def _times(scale: str | None, factor: str) -> str:
    return f"({factor})" if scale is None else f"{scale} * ({factor})"


def _mul(outer: Term, local: str) -> _Name:
    """A derivative passed back through a local derivative ``local`` (an expression, never a unit):
    a number is carried in the derivative's scale, rows are multiplied in."""
    if _ROWS.search(local) is None:
        if isinstance(outer, _Unit):
            return _Name(None, outer is MINUS_ONE, 0, f"({local})")
        return _Name(outer.expr, outer.negative, outer.twice, _times(outer.scale, local))
    if isinstance(outer, _Unit):
        return _Name(f"({local})", outer is MINUS_ONE)
    if outer.expr is None:
        return _Name(f"({local})", outer.negative, outer.twice, outer.scale)
    return _Name(f"({outer.expr} * ({local}))", outer.negative, outer.twice, outer.scale)


def _div(outer: Term, by: str) -> Term:
    """A derivative divided by ``by``: ``outer / by`` (by a number: carried in its scale)."""
    if isinstance(outer, _Unit):
        outer = _Name(None, outer is MINUS_ONE)
    if _ROWS.search(by) is None:
        return _Name(outer.expr, outer.negative, outer.twice, f"{outer.scale or '1.0'} / ({by})")
    return _Name(f"({outer.expr or '1.0'} / {by})", outer.negative, outer.twice, outer.scale)


def _sum(a: Term, b: Term) -> Term:
    """Two derivatives of one part added, their signs written as a sum or a difference, the larger
    power of two written out where the two differ (each exact); a scale the two share is kept,
    others are applied first."""
    shared = None
    if isinstance(a, _Name) and isinstance(b, _Name) and a.expr and b.expr and a.scale == b.scale:
        shared = a.scale
        (x, minus_x, twice_x), (y, minus_y, twice_y) = (
            (a.expr, a.negative, a.twice),
            (b.expr, b.negative, b.twice),
        )
    else:
        (x, minus_x, twice_x), (y, minus_y, twice_y) = _parts(a), _parts(b)
    twice = min(twice_x, twice_y)
    if twice_x > twice:
        x = f"({x} * {2.0 ** (twice_x - twice)!r})"
    if twice_y > twice:
        y = f"({y} * {2.0 ** (twice_y - twice)!r})"
    if minus_x == minus_y:
        return _Name(f"{x} + {y}", minus_x, twice, shared)
    return _Name(f"{y} - {x}" if minus_x else f"{x} - {y}", False, twice, shared)


# The derivative ``outer`` of the formula in an operation's value, passed back to its argument
# ``k``: back(k, outer, args, value) writes the expression of the operation's local derivative
# in that argument applied to it (``args`` and ``value`` are the names of those values).
Back = Callable[[int, Term, Sequence[str], str], Term]


class Op:
    """An elementwise operation: its NumPy function, the expression that computes it in written
    code (``code``, arguments ``{0}``, ``{1}``; ``None`` calls the function), and its derivative
    rule, which writes the derivative passed back to each argument."""

    __slots__ = ("back", "code", "name", "value")

    def __init__(self, name: str, value: Callable[..., Value], back: Back, code: str | None = None) -> None:
        self.name, self.value, self.back, self.code = name, value, back, code


def _chain(name: str, value: Callable, slope: str, code: str | None = None, negative: bool = False) -> Op:
    """An elementwise function and its derivative, the expression ``slope`` in ``{x}`` and ``{y} = f(x)``
    (negated where ``negative``)."""

    def back(k: int, outer: Term, args: Sequence[str], y: str) -> Term:
        found = _mul(outer, slope.format(x=args[0], y=y))
        return _neg(found) if negative else found

    return Op(name, value, back, code)


def _pick(smaller: bool) -> Op:
    """``minimum``/``maximum``; where the two are equal each argument has half the derivative (as JAX)."""

    def back(k: int, outer: Term, args: Sequence[str], value: str) -> Term:
        x, y = args
        first = f"np.where({x} == {y}, 0.5, ({x} < {y}) == {smaller}).astype(float)"
        return _mul(outer, first if k == 0 else f"1 - {first}")

    return Op("min" if smaller else "max", np.minimum if smaller else np.maximum, back)


def _divide_back(k: int, outer: Term, args: Sequence[str], value: str) -> Term:
    if k == 0:  # d(x/y)/dx = 1/y
        return _div(outer, args[1])
    return _neg(_div(_mul(outer, value), args[1]))  # d(x/y)/dy = -(x/y)/y


def _power_back(k: int, outer: Term, args: Sequence[str], value: str) -> Term:
    x, y = args
    if k == 1:
        return _mul(outer, f"{value} * np.log(np.where({x} == 0, 1.0, {x}))")
    return _mul(outer, f"{y} * np.power({x}, {y} - 1)")  # at y = 1 exactly x, so x^2 gives 2 * x too


def _square_back(k: int, outer: Term, args: Sequence[str], value: str) -> Term:
    found = _mul(outer, args[0])  # x^2: 2x, the 2 carried (the exponent is the number 2)
    return _Name(found.expr, found.negative, found.twice + 1, found.scale)


def _sigmoid(x: Any) -> Any:
    from scipy.special import expit  # type: ignore[import-untyped]

    return expit(x)


def _erf(x: Any) -> Any:
    from scipy.special import erf

    return erf(x)


_SQRT_PI = math.sqrt(math.pi)

OPERATORS: dict[str, Op] = {
    "+": Op("+", operator.add, lambda k, outer, args, value: outer, "{0} + {1}"),
    "-": Op("-", operator.sub, lambda k, outer, args, value: _neg(outer) if k else outer, "{0} - {1}"),
    "*": Op("*", operator.mul, lambda k, outer, args, value: _mul(outer, args[1 - k]), "{0} * {1}"),
    "/": Op("/", operator.truediv, _divide_back, "{0} / {1}"),
    "**": Op("**", np.power, _power_back, "np.power({0}, {1})"),
    "neg": Op("neg", operator.neg, lambda k, outer, args, value: _neg(outer), "-{0}"),
}

_MIN, _MAX = _pick(True), _pick(False)
_SQUARE = Op("**", lambda x, two: np.square(x), _square_back, "np.square({0})")  # x^2: the same part as x**2

# name: (operation, fewest and most arguments); the rule beside each. clip(a, lo, hi) is
# min(max(a, lo), hi) (see apply). Every expression reads only ``np``, ``_sigmoid`` and numbers.
FUNCTIONS: dict[str, tuple[Op | None, int, int]] = {
    "sin": (_chain("sin", np.sin, "np.cos({x})"), 1, 1),
    "cos": (_chain("cos", np.cos, "np.sin({x})", negative=True), 1, 1),
    "tan": (_chain("tan", np.tan, "1 + {y} * {y}"), 1, 1),
    "exp": (_chain("exp", np.exp, "{y}", "np.exp({0})"), 1, 1),
    "log": (_chain("log", np.log, "1 / {x}", "np.log({0})"), 1, 1),
    "log10": (_chain("log10", np.log10, f"1 / ({{x}} * {math.log(10)!r})"), 1, 1),
    "log2": (_chain("log2", np.log2, f"1 / ({{x}} * {math.log(2)!r})"), 1, 1),
    "sqrt": (_chain("sqrt", np.sqrt, "0.5 / {y}", "np.sqrt({0})"), 1, 1),
    "abs": (_chain("abs", np.abs, "np.sign({x})"), 1, 1),
    "tanh": (_chain("tanh", np.tanh, "1 - {y} * {y}"), 1, 1),
    "sigmoid": (_chain("sigmoid", _sigmoid, "{y} * (1 - {y})"), 1, 1),
    "relu": (_chain("relu", lambda x: np.maximum(x, 0.0), "({x} > 0).astype(float)"), 1, 1),
    "softplus": (_chain("softplus", lambda x: np.logaddexp(x, 0.0), "_sigmoid({x})"), 1, 1),
    "min": (_MIN, 2, 2),
    "max": (_MAX, 2, 2),
    "clip": (None, 3, 3),
    "arcsin": (_chain("arcsin", np.arcsin, "1 / np.sqrt(1 - {x} * {x})"), 1, 1),
    "arccos": (_chain("arccos", np.arccos, "1 / np.sqrt(1 - {x} * {x})", negative=True), 1, 1),
    "arctan": (_chain("arctan", np.arctan, "1 / (1 + {x} * {x})"), 1, 1),
    "sinh": (_chain("sinh", np.sinh, "np.cosh({x})"), 1, 1),
    "cosh": (_chain("cosh", np.cosh, "np.sinh({x})"), 1, 1),
    "erf": (_chain("erf", _erf, f"2 / {_SQRT_PI!r} * np.exp(-{{x}} * {{x}})"), 1, 1),
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
    a parameter or data, the parameters' places, and the code written for them (:attr:`source`,
    :attr:`forward`, :attr:`backward`). Built once per formula; :meth:`bind` gives it data."""

    def __init__(self, root: Node, params: tuple[str, ...]) -> None:
        self.params = params
        self.nodes: list[Node] = []
        self.args: list[tuple[int, ...]] = []
        self.varies: list[bool] = []  # whether the part reads a parameter
        self.rows: list[bool] = []  # whether it reads a data column
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
                self.rows.append(  # whether the part reads a data column: else it is one number
                    (node.op is None and node.name is not None and node.name not in params)
                    or any(self.rows[c] for c in children)
                )
            seen[id(node)] = places[key]
            return places[key]

        self.root = visit(root)
        slots = {node.name: i for i, node in enumerate(self.nodes) if node.op is None and node.name in params}
        self.slots = tuple(slots[p] for p in params)
        self.fixed = [i for i, v in enumerate(self.varies) if not v]
        self.ops = [i for i, node in enumerate(self.nodes) if self.varies[i] and node.op is not None]
        self.source, calls, self.kept = self._written(self.ops)  # kept: the values an evaluation keeps
        space: dict[str, Any] = {"np": np, "_sigmoid": _sigmoid, **calls}
        _check_written(self.source, set(space))
        exec(compile(self.source, "<gdlab formula>", "exec"), space)  # our own code: see _written
        self.forward: Callable[[list[Value], np.ndarray], tuple[Value, ...]] = space["forward"]
        self.backward: Callable[[list[Value], tuple[Value, ...], np.ndarray, Any], None] = space["backward"]

    def _written(self, ops: list[int]) -> tuple[str, dict[str, Callable], list[int]]:
        """The Python source of ``forward(base, coef)`` (every kept value, after the parameters'
        slots are given ``coef``) and ``backward(base, kept, jac)`` (the Jacobian written into
        ``jac``, ``p x n``), the functions it calls by name, and the places of the values
        ``forward`` keeps: one statement a part, forwards, then one a derivative passed back,
        backwards.

        Written from the plan alone: a part is named by its place (``v3``, its derivative
        ``g3``), a part without parameters read from ``base`` by its place, every operation by its
        own template or its function's name in :data:`FUNCTIONS`. No name, number or other text
        of the formula is in the source, so nothing a user typed is compiled or run. Units and
        signs known here (a sum passes its derivative on unchanged) cost no operation at all."""
        calls: dict[str, Callable] = {}
        names = [f"v{i}" if self.rows[i] else f"s{i}" for i in range(len(self.nodes))]  # s: one number
        read = {j for i in ops for j in self.args[i]}  # the parts the operations read
        fixed = [f"    {names[j]} = base[{j}]" for j in self.fixed if j in read]

        backward = ["def backward(base, kept, jac, times):", "", *fixed]
        # A derivative that is a part's value is read as that part (a product's derivative in one
        # factor is the other; v19 * v27 passed back is v28 = v19 * v27 of the forward code, the same
        # rounding, as a product of two numbers is the same either way round): no statement, no pass.
        products: dict[frozenset[str], str] = {}
        for i in ops:
            if self.nodes[i].op is OPERATORS["*"]:
                products.setdefault(frozenset(names[j] for j in self.args[i]), names[i])
        back: dict[int, Term] = {self.root: ONE}
        for i in reversed(ops):
            outer = back.get(i)
            if outer is None:
                continue
            op, args = self.nodes[i].op, [names[j] for j in self.args[i]]
            assert op is not None
            for k, j in enumerate(self.args[i]):
                if not self.varies[j]:
                    continue
                term = op.back(k, outer, args, names[i])
                if j in back:
                    term = _sum(back[j], term)
                if isinstance(term, _Unit) or term.expr is None:  # a number: no statement
                    back[j] = term
                    continue
                bare = _BARE.fullmatch(term.expr)
                product = _PRODUCT.fullmatch(term.expr)
                known = products.get(frozenset(product.groups())) if product else None
                if bare is not None or known is not None:
                    name = (bare.group(1) or bare.group(2)) if bare else str(known)
                    back[j] = _Name(name, term.negative, term.twice, term.scale)
                else:
                    backward.append(f"    g{j} = {term.expr}")
                    back[j] = _Name(f"g{j}", term.negative, term.twice, term.scale)
        plain, scaled = ["    if times is None:"], ["    else:"]
        for k, slot in enumerate(self.slots):  # jac is p x n: each row a column of the Jacobian
            found = back.get(slot)
            expr: str | None
            if found is None or isinstance(found, _Unit):
                expr, negative, twice, scale = "0.0" if found is None else "1.0", found is MINUS_ONE, 0, None
            else:
                expr, negative, twice, scale = found.expr, found.negative, found.twice, found.scale
            sign, factor = "-" * negative, f"{2.0**twice!r} * " * bool(twice)
            number = f" * ({scale})" if scale else ""  # the numbers it is multiplied by, multiplied first
            if expr is None:  # one number: every row alike
                plain.append(f"        jac[{k}] = {sign}{factor}({scale})")
                scaled.append(f"        jac[{k}] = {sign}{factor}times[{k}]{number}")
                continue
            if scale:
                written = f"np.multiply({expr}, {sign}{factor}({scale}), out=jac[{k}])"
            elif twice:
                written = f"np.multiply({expr}, {sign}{2.0**twice!r}, out=jac[{k}])"
            else:
                written = f"np.negative({expr}, out=jac[{k}])" if negative else f"jac[{k}] = {expr}"
            plain.append(f"        {written}")
            scaled.append(f"        np.multiply({expr}, {sign}{factor}times[{k}]{number}, out=jac[{k}])")
        backward += [*plain, *scaled] if self.slots else []
        backward.append("    return None")

        # A negation of rows read once, as the numerator of a division by one number (-(x-b)^2/c^2),
        # is written into the division: (-a)/c is a/(-c) exactly, and a negated number costs no pass
        # over the rows. Only where the backward code never reads the negation's value.
        readers: dict[int, list[int]] = {}
        for i in ops:
            for j in self.args[i]:
                readers.setdefault(j, []).append(i)
        used = set(re.findall(r"\b[vs]\d+\b", "\n".join(backward[2 + len(fixed) :])))  # read backwards
        folded: dict[int, int] = {}  # the negation's place: the place of what it negates
        for i in ops:
            (reader, *more) = readers.get(i, [None])
            if (
                self.nodes[i].op is OPERATORS["neg"]
                and reader is not None
                and not more
                and i != self.root
                and names[i] not in used
                and self.nodes[reader].op is OPERATORS["/"]
                and self.args[reader][0] == i
                and self.args[reader][1] != i
                and not self.rows[self.args[reader][1]]
            ):
                folded[i] = self.args[i][0]
        kept = [i for i, v in enumerate(self.varies) if v and i not in folded]
        forward = ["def forward(base, coef):", f"    {_unpack(names, self.slots)} = coef", *fixed]
        for i in ops:
            if i in folded:
                continue
            op, args = self.nodes[i].op, [names[j] for j in self.args[i]]
            assert op is not None
            if self.args[i][0] in folded:  # a division: (-a)/c as a/(-c)
                forward.append(f"    {names[i]} = {names[folded[self.args[i][0]]]} / (-{args[1]})")
            elif op.code is None:
                assert calls.setdefault(f"_{op.name}", op.value) is op.value
                forward.append(f"    {names[i]} = _{op.name}({', '.join(args)})")
            else:
                forward.append(f"    {names[i]} = {op.code.format(*args)}")
        forward.append(f"    return ({_unpack(names, kept)})")
        backward[1] = f"    {_unpack(names, kept)} = kept"
        return "\n".join([*forward, *backward]) + "\n", calls, kept

    def bind(self, columns: Mapping[str, np.ndarray], n: int) -> Bound:
        """The formula on ``n`` rows of ``columns``, its parts without parameters computed now."""
        return Bound(self, columns, n)


# A derivative written as one part's value or another derivative, ``(v3)``, ``g5``, and as the product
# of two parts, ``(v19 * (v27))``.
_BARE = re.compile(r"\(([vg]\d+)\)|([vg]\d+)")
_PRODUCT = re.compile(r"\((v\d+) \* \((v\d+)\)\)")


def _unpack(names: list[str], places: Sequence[int]) -> str:
    """The names at ``places`` as a tuple to assign to or return (``v0, v3,``; ``()`` for none)."""
    return "".join(f"{names[i]}, " for i in places).rstrip() or "()"


_WRITTEN_NAMES = re.compile(r"[vgs]\d+")
_KEYWORDS = frozenset(
    {"def", "return", "None", "True", "False", "forward", "backward"}
    | {"base", "coef", "kept", "jac", "times", "out", "float", "if", "is", "else"}
)


def _check_written(source: str, space: set[str]) -> None:
    """The written source holds only what :meth:`Plan._written` writes: its own names (``v3``,
    ``g3``, the arguments), the names given to it (``np``, the functions of :data:`FUNCTIONS`),
    attributes (of ``np`` and of arrays), numbers and operators; no string, no comment. Checked
    before it is compiled, so that no change to the templates can ever let text of a formula
    through."""
    if any(mark in source for mark in "'\"\\#"):
        raise AssertionError("a string or a comment in a formula's written code")
    for name in _NAMES.findall(source):  # a name not after a dot (an attribute) or within a number
        if not (name in _KEYWORDS or name in space or _WRITTEN_NAMES.fullmatch(name)):
            raise AssertionError(f"an unknown name in a formula's written code: {name!r}")


_NAMES = re.compile(r"(?<![\w.])[A-Za-z_]\w*")


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
        self._root = plan.kept.index(plan.root) if plan.varies[plan.root] else None
        self._last: tuple[bytes, tuple[Value, ...]] = (b"", ())  # the last two evaluations
        self._before = self._last
        self._jacobian: tuple[bytes, np.ndarray, np.ndarray] | None = None

    def _run(self, coef: np.ndarray) -> tuple[Value, ...]:
        key = coef.tobytes()
        if self._last[0] == key:
            return self._last[1]
        if self._before[0] == key:
            self._last, self._before = self._before, self._last
            return self._last[1]
        found = self.plan.forward(self._base, coef)  # float64 scalars from coef: 1/0 is inf
        self._last, self._before = (key, found), self._last
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
        return self._rows(self.root(coef))

    def root(self, coef: np.ndarray) -> Value:
        """The formula's value at ``coef`` as computed: ``n`` rows or one number (a formula that reads
        no data), kept, so not to be written to. :meth:`values` without the check and the view, for
        a solver's many calls."""
        return self._root_of(self._run(coef))

    def _root_of(self, found: tuple[Value, ...]) -> Value:
        return self._base[self.plan.root] if self._root is None else found[self._root]

    def columns(self, coef: np.ndarray, times: np.ndarray | None = None) -> tuple[Value, np.ndarray]:
        """The formula's value at ``coef`` as :meth:`root` gives it, and a new Jacobian (``n x p``,
        column-major), its column ``k`` multiplied by ``times[k]`` where given (a solver's scaled
        parameters: each column is written once, already scaled). For a solver's many calls: nothing
        is checked, viewed or kept."""
        found = self._run(coef)
        kind = np.complex128 if coef.dtype.kind == "c" else np.float64
        jac = np.empty((len(self.plan.slots), self.n), kind)  # written a column at a time
        self.plan.backward(self._base, found, jac, times)
        return self._root_of(found), jac.T

    def jacobian(self, coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The formula's values (``n``) and exact Jacobian (``n x p``) at ``coef``; both read-only
        (the last Jacobian is kept, and given again at the same point)."""
        key = coef.tobytes()
        if self._jacobian is not None and self._jacobian[0] == key:
            return self._jacobian[1], self._jacobian[2]
        value, jac = self.columns(coef)
        values = self._rows(value)
        jac.flags.writeable = False
        self._jacobian = (key, values, jac)
        return values, jac
