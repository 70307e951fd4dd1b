"""A safe expression language for losses, such as ``(b/2-1)^2`` or ``sum((y - b0 - b1*x)^2)``.

Text is parsed with Python's ``ast`` module and checked node by node against a
whitelist, then compiled into a JAX function and a SymPy expression by walking
that tree. Nothing the user types is ever evaluated: no ``eval``, ``exec``,
``compile`` of code, ``sympify`` or ``parse_expr`` touches it. Length, nesting
and size are capped before parsing, so hostile input fails fast with an
:class:`ExpressionError`, never a RecursionError, MemoryError or hang.
"""

from __future__ import annotations

import ast
import functools
import importlib
import math
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import numpy as np

from gdlab import _numeric
from gdlab._checks import LIMITS, InputError, closest
from gdlab._lazy import lazy

if TYPE_CHECKING:
    import jax
    import jax.numpy as jnp
else:  # a formula fitted by NumPy (see gdlab._numeric) never imports JAX
    jax = lazy("jax")
    jnp = lazy("jax.numpy")

MAX_LENGTH = LIMITS.expression_chars
MAX_DEPTH = LIMITS.expression_depth
MAX_NODES = LIMITS.expression_nodes
_ALLOWED_CHARACTERS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ \t+-*/^().,@[]:")
_LOOKALIKES = {
    "\u2212": "-",
    "\u2013": "-",
    "\u00d7": "*",
    "\u00b7": "*",
    "\u22c5": "*",
    "\u00f7": "/",
    "\u00b2": "^2",
    "\u00b3": "^3",
    "\uff08": "(",
    "\uff09": ")",
    "\u03c0": "pi",
}


class _NoNumericForm(Exception):
    """A part of the formula that only JAX computes (a reduction, a matrix form, a subscript)."""


# One parse at a time: a server's worker threads parse the losses students type.
_AST_LOCK = threading.Lock()


class ExpressionError(InputError):
    """The text is not a loss gdlab can compile; the message points at the problem.

    Attributes:
        problem: what is wrong, in words.
        text: the text (normalised: ``^`` written as ``**``).
        start: the position of the problem in ``text`` (0-based), if known.
    """

    def __init__(
        self, problem: str, text: str | None = None, start: int | None = None, end: int | None = None
    ):
        self.problem, self.text, self.start, self.end = problem, text, start, end
        message = problem
        if text is not None and start is not None and len(text) <= 200:
            width = max(1, (end if end is not None else start + 1) - start)
            message += f"\n  {text}\n  {' ' * start}{'^' * width}"
        super().__init__(message)


def _f(x: float) -> jax.Array:
    """A constant, weakly typed: it takes the parameters' precision (float32 stays float32)."""
    return jnp.asarray(float(x))


def _reduce(kind: str):
    def apply(*args):
        if len(args) == 1:
            return getattr(jnp, kind)(args[0])
        return (jnp.minimum if kind == "min" else jnp.maximum)(*args)

    return apply


def _jax(path: str) -> Callable:
    """JAX's function ``path`` (``"numpy.sin"``), looked up when first called, so that the table
    below imports nothing."""
    module, _, name = path.rpartition(".")
    found: list[Callable] = []

    def call(*args):
        if not found:
            found.append(getattr(importlib.import_module(f"jax.{module}"), name))
        return found[0](*args)

    call.__name__ = name
    return call


# name: (JAX function, smallest and largest number of arguments)
FUNCTIONS: dict[str, tuple[Callable, int, int]] = {
    "sin": (_jax("numpy.sin"), 1, 1),
    "cos": (_jax("numpy.cos"), 1, 1),
    "tan": (_jax("numpy.tan"), 1, 1),
    "exp": (_jax("numpy.exp"), 1, 1),
    "log": (_jax("numpy.log"), 1, 1),
    "log10": (_jax("numpy.log10"), 1, 1),
    "log2": (_jax("numpy.log2"), 1, 1),
    "sqrt": (_jax("numpy.sqrt"), 1, 1),
    "abs": (_jax("numpy.abs"), 1, 1),
    "tanh": (_jax("numpy.tanh"), 1, 1),
    "sigmoid": (_jax("nn.sigmoid"), 1, 1),
    "relu": (_jax("nn.relu"), 1, 1),
    "softplus": (_jax("nn.softplus"), 1, 1),
    "sum": (_jax("numpy.sum"), 1, 1),
    "mean": (_jax("numpy.mean"), 1, 1),
    "min": (_reduce("min"), 1, 2),
    "max": (_reduce("max"), 1, 2),
    "clip": (_jax("numpy.clip"), 3, 3),
    "arcsin": (_jax("numpy.arcsin"), 1, 1),
    "arccos": (_jax("numpy.arccos"), 1, 1),
    "arctan": (_jax("numpy.arctan"), 1, 1),
    "asin": (_jax("numpy.arcsin"), 1, 1),
    "acos": (_jax("numpy.arccos"), 1, 1),
    "atan": (_jax("numpy.arctan"), 1, 1),
    "sinh": (_jax("numpy.sinh"), 1, 1),
    "cosh": (_jax("numpy.cosh"), 1, 1),
    "erf": (_jax("scipy.special.erf"), 1, 1),
}
CONSTANTS = {"pi": math.pi, "e": math.e}
# Names that read as numbers no formula holds (``c/inf``): refused, not taken for parameters.
_NOT_FINITE = frozenset({"inf", "infinity", "nan"})
# Every name the language reads itself, unless the data has a column so named (then it is the data).
NUMBER_NAMES = frozenset(CONSTANTS) | _NOT_FINITE

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
_NAMES_OF_NODES = {
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "if-else",
    ast.Lambda: "lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.JoinedStr: "an f-string",
    ast.Starred: "a starred argument",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.NamedExpr: ":=",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.FormattedValue: "an f-string",
}


def _normalise(text: str) -> str:
    """Check the characters, then write ``^`` as ``**`` (a common habit for powers)."""
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text; got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is {len(text):,} characters long; the limit is {MAX_LENGTH:,}")
    flat = text.replace("\n", " ").replace("\r", " ")
    if not flat.strip():
        raise ExpressionError("the expression is empty; type a loss such as (b/2-1)^2")
    for i, char in enumerate(flat):
        if char in _ALLOWED_CHARACTERS:
            continue
        hint = f"; did you mean '{_LOOKALIKES[char]}'?" if char in _LOOKALIKES else ""
        if not hint and char.isalpha():
            hint = f"; names are written in ASCII letters, digits and _: {_ascii_hint(flat)}"
        label = unicodedata.name(char, f"U+{ord(char):04X}")
        raise ExpressionError(f"the character {char!r} ({label}) is not allowed{hint}", flat, i)
    depth = deepest = 0
    for i, char in enumerate(flat):
        depth += char in "(["
        depth -= char in ")]"
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            raise ExpressionError(f"the expression is nested more than {MAX_DEPTH} brackets deep", flat, i)
    return flat.strip().replace("^", "**")


def _ascii_name(word: str) -> str:
    """An ASCII spelling of a word typed in another script: Greek letters spelled out (θ1 -> theta1)."""
    out = []
    for char in word:
        name = unicodedata.name(char, "")
        if char.isascii():
            out.append(char)
        elif unicodedata.digit(char, None) is not None:
            out.append(str(unicodedata.digit(char)))
        elif name.startswith(("GREEK SMALL LETTER ", "GREEK CAPITAL LETTER ")):
            words = name.split("LETTER ", 1)[1].split()
            letter = words[1 if words[0] == "FINAL" and len(words) > 1 else 0].lower()
            letter = {"lamda": "lam"}.get(letter, letter)  # lambda is a Python word
            out.append(letter.capitalize() if "CAPITAL" in name else letter)
    return "".join(out)


def _ascii_hint(text: str) -> str:
    """How to write ``text`` with ASCII names: the text rewritten, or the names to use when it is long."""
    import re

    used = {w for w in re.findall(r"\w+", text) if w.isascii()}
    spare = (name for name in ("b", "w", "c", "p", *(f"b{i}" for i in range(2, 99))) if name not in used)
    words: dict[str, str] = {}
    for word in re.findall(r"\w+", text):
        if word.isascii() or word in words:
            continue
        name = _ascii_name(word)
        if not name.isidentifier() or name in used or name in FUNCTIONS or name in CONSTANTS:
            name = next(spare)
        words[word] = name
        used.add(name)
    if len(text) <= 60:
        return "write " + re.sub(r"\w+", lambda m: words.get(m[0], m[0]), text)
    return "write " + ", ".join(f"{new} for {old}" for old, new in words.items())


def _suggest(name: str, choices) -> str:
    near = closest(name, choices)
    return f"; did you mean {near}?" if near else ""


Fn = Callable[[dict], Any]  # a JAX array, or (compiled for NumPy) a gdlab._numeric.Node
Exact = Callable[[], object] | None  # builds a node's SymPy form from its parts' forms
MATRIX_FORMS = "matrix forms (@, .T, subscripts) have no symbolic derivative: autodiff only"
TOO_LARGE = 1e300  # larger constants are refused: a step or two of arithmetic would overflow


@dataclass
class _Compiler:
    """Walks a checked tree into a JAX closure and, where it can, a SymPy expression.

    Each part without a parameter or data name (``2^0.5``, ``log(0)``) is computed once,
    in floating point, when compiled: an undefined or infinite one is refused there, with
    a caret under it, and never reaches SymPy (whose comparisons of such values raise).
    The SymPy form is built within :attr:`Limits.symbolic_seconds`; past it, or when SymPy
    fails on an odd form, the loss keeps its JAX function and :attr:`note` says why it has
    no exact form.
    """

    text: str
    data: frozenset[str]
    named: frozenset[int]  # id() of each node that holds a parameter or data name
    rows: dict[str, int] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    symbolic: bool = True
    note: str | None = None
    numeric: bool = False  # a tree of NumPy operations with their derivatives (gdlab._numeric), not JAX
    seconds_left: float = field(default_factory=lambda: LIMITS.symbolic_seconds)  # SymPy's; JAX has none

    def fail(self, problem: str, node: ast.AST) -> ExpressionError:
        start = getattr(node, "col_offset", None)
        return ExpressionError(problem, self.text, start, getattr(node, "end_col_offset", None))

    def part(self, node: ast.AST) -> str:
        """The text of ``node`` (one line of ASCII, so offsets are characters), or "this part" if long."""
        text = self.text[getattr(node, "col_offset", 0) : getattr(node, "end_col_offset", len(self.text))]
        return text if len(text) <= 60 else "this part"

    def without_symbolic(self, reason: str) -> None:
        """This loss has no SymPy form; the first reason found is the one given."""
        if self.symbolic:
            self.symbolic, self.note = False, reason

    def build(self, node: ast.AST) -> tuple[Fn, Any]:  # Any: SymPy has no type information
        """Return (jax_fn(env) -> array, sympy expression or None)."""
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            what = _NAMES_OF_NODES.get(type(node), type(node).__name__)
            raise self.fail(f"{what} is not allowed in a loss", node)
        fn, exact = method(node)
        if id(node) not in self.named and not isinstance(node, ast.Constant | ast.Name):  # those are known
            fn = self._fold(node, fn)
        return fn, self._exact(node, exact)

    def _fold(self, node: ast.AST, fn: Fn) -> Fn:
        """A constant part computed once in floating point (9**9**9**9 is never done exactly)."""
        try:
            with np.errstate(all="ignore"):
                value = float(fn({}))
        except (TypeError, ValueError) as err:  # 2 @ 3: a matrix product of numbers
            first = (str(err).strip().splitlines() or [""])[0]
            raise self.fail(f"{self.part(node)} cannot be computed: {first}", node) from None
        if math.isnan(value) or not math.isfinite(value) or abs(value) > TOO_LARGE:
            raise self.undefined(node, "undefined" if math.isnan(value) else "infinite")
        return self.constant(value)

    def constant(self, value: float) -> Fn:
        """A number: weakly typed in JAX (it takes the parameters' precision), a float in NumPy."""
        if self.numeric:
            return _numeric.constant(value)
        return lambda env: _f(value)

    def no_numeric_form(self) -> None:
        """Raised where an operation has no NumPy form (a reduction, a matrix form): JAX's alone."""
        if self.numeric:
            raise _NoNumericForm

    def undefined(self, node: ast.AST, problem: str) -> ExpressionError:
        """The error for a part that is ``"undefined"`` (NaN, complex) or ``"infinite"``."""
        words = f"{self.part(node)} is {_UNDEFINED if problem == 'undefined' else _INFINITE}"
        if isinstance(node, ast.BinOp | ast.UnaryOp):  # the words options have always used for 1/0
            words = f"this arithmetic gives a number too large (or undefined) to use: {words}"
        return self.fail(words, node)

    def _exact(self, node: ast.AST, exact: Exact) -> object:
        """The node's SymPy form, built within the time left, and checked to be a real number."""
        if exact is None or not self.symbolic:
            return None
        from gdlab._symbolic import OutOfTime, within  # SymPy loads with the first loss, not on import

        started = time.thread_time()  # processor time, as within() counts it
        try:
            return within(self.seconds_left, lambda: self._checked(node, exact()))
        except ExpressionError:
            raise
        except OutOfTime:
            self.without_symbolic(
                f"working out its exact form took longer than {LIMITS.symbolic_seconds:g} s: autodiff only"
            )
        except Exception as err:  # SymPy's own failure on an odd form: the loss still computes
            first = (str(err).strip().splitlines() or [""])[0]
            self.without_symbolic(
                f"SymPy could not work out {self.part(node)} ({type(err).__name__}: {first}): autodiff only"
            )
        finally:
            self.seconds_left = max(0.0, self.seconds_left - (time.thread_time() - started))
        return None

    def _checked(self, node: ast.AST, sym):
        """``sym``, unless it is undefined, infinite, too large or never real (then refused here)."""
        from gdlab._symbolic import real_number_problem

        if sym.is_number:
            problem = real_number_problem(sym, TOO_LARGE)
            if problem:
                raise self.undefined(node, problem)
        elif sym.is_extended_real is False:
            raise self.fail(f"{self.part(node)} is {_NEVER_REAL}", node)
        return sym

    def _Constant(self, node: ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"only numbers are allowed as constants; got {value!r}", node)
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number) or abs(number) > TOO_LARGE:
            raise self.fail("this number is too large", node)

        def exact():
            import sympy

            return sympy.Integer(value) if isinstance(value, int) else sympy.Float(value)

        return self.constant(number), exact

    def _Name(self, node: ast.Name):
        name = node.id
        if name.startswith("_"):
            raise self.fail(f"names may not start with an underscore: {name!r}", node)
        if name in FUNCTIONS:
            raise self.fail(f"{name!r} is a function: call it, as in {name}(x)", node)
        if name.lower() in _NOT_FINITE and name not in self.data:  # else a parameter called inf
            raise self.fail(
                f"{name!r} is not a number a formula may hold (its numbers are finite): write a finite "
                "number such as 1e300, or, for a parameter, give it another name",
                node,
            )
        if name in CONSTANTS and name not in self.data:  # data called e or pi is the data
            value = CONSTANTS[name]
            return self.constant(value), (lambda: _sympy().pi if name == "pi" else _sympy().E)
        if name not in self.names:
            self.names.append(name)
        if self.numeric:
            return _numeric.variable(name), None
        return (lambda env: env[name]), (lambda: _sympy().Symbol(name, real=True))

    def _UnaryOp(self, node: ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd):
            raise self.fail("only + and - may stand before a value", node)
        fn, sym = self.build(node.operand)
        if isinstance(node.op, ast.UAdd):
            return fn, (lambda: sym)
        if self.numeric:
            return _numeric.apply("neg", _nodes([fn])), None
        return (lambda env: -fn(env)), (lambda: -sym)

    def _BinOp(self, node: ast.BinOp):
        op = _BINARY.get(type(node.op))
        if op is None:
            raise self.fail("only + - * / ** (or ^) and @ are allowed between values", node)
        left, lsym = self.build(node.left)
        right, rsym = self.build(node.right)
        if self.numeric:
            if op == "@":
                self.no_numeric_form()
            return _numeric.apply(op, _nodes([left, right])), None
        ops: dict[str, Callable[..., jax.Array]] = {
            "+": jnp.add,
            "-": jnp.subtract,
            "*": jnp.multiply,
            "/": jnp.divide,
            "**": jnp.power,
            "@": jnp.matmul,
        }
        jax_op = ops[op]
        fn = lambda env: jax_op(left(env), right(env))  # noqa: E731
        if op == "@":
            self.without_symbolic(MATRIX_FORMS)
            return fn, None
        exact = {
            "+": lambda: lsym + rsym,
            "-": lambda: lsym - rsym,
            "*": lambda: lsym * rsym,
            "/": lambda: lsym / rsym,
            "**": lambda: _power(lsym, rsym),  # within the budget: (2*b)^(10^10) makes no 2^(10^10)
        }[op]
        return fn, exact

    def _Attribute(self, node: ast.Attribute):
        if isinstance(node.value, ast.Name) and node.value.id in MODULES:  # np.pi was read as pi: not this
            name = f"{node.value.id}.{node.attr}"
            raise self.fail(
                f"{name!r} is not in the expression language: of {node.value.id}, only the constants "
                f"{' and '.join(CONSTANTS)} and the listed functions ({', '.join(FUNCTIONS)})",
                node,
            )
        if node.attr != "T":
            raise self.fail(f"attribute .{node.attr} is not allowed; only .T (transpose)", node)
        fn, _ = self.build(node.value)
        self.without_symbolic(MATRIX_FORMS)
        self.no_numeric_form()
        return (lambda env: jnp.swapaxes(fn(env), -1, -2) if jnp.ndim(fn(env)) >= 2 else fn(env)), None

    def _Subscript(self, node: ast.Subscript):
        if not (isinstance(node.value, ast.Name) and node.value.id in self.data):
            raise self.fail("subscripts are allowed only on data names, as in x[0]", node)
        index = self._index(node.slice)
        rows = self.rows.get(node.value.id)
        if isinstance(index, int) and rows is not None and not -rows <= index < rows:
            raise self.fail(f"{node.value.id} has {rows} rows: index {index} is out of range", node)
        fn, _ = self.build(node.value)
        self.without_symbolic(MATRIX_FORMS)
        self.no_numeric_form()
        return (lambda env: fn(env)[index]), None

    def _index(self, node: ast.AST):
        def whole(part: ast.AST | None) -> int | None:
            if part is None:
                return None
            if isinstance(part, ast.UnaryOp) and isinstance(part.op, ast.USub):
                inner = whole(part.operand)
                return None if inner is None else -inner
            if (
                isinstance(part, ast.Constant)
                and isinstance(part.value, int)
                and not isinstance(part.value, bool)
            ):
                if abs(part.value) > 10**12:
                    raise self.fail("this index is too large", part)
                return part.value
            raise self.fail("an index must be a whole number, as in x[0] or x[1:5]", part)

        if isinstance(node, ast.Slice):
            if node.step is not None:
                raise self.fail("slices take no step here, as in x[1:5]", node)
            return slice(whole(node.lower), whole(node.upper))
        return whole(node)

    def _Call(self, node: ast.Call):
        f = node.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in MODULES:
            name = f"{f.value.id}.{f.attr}"  # not a listed function (those are read without the module)
            raise self.fail(
                f"unknown function {name!r}{_suggest(f.attr, FUNCTIONS)} (allowed: {', '.join(FUNCTIONS)})", f
            )
        if not isinstance(node.func, ast.Name):
            raise self.fail("only the listed functions may be called, by name", node)
        name = node.func.id
        if name not in FUNCTIONS:
            allowed = ", ".join(FUNCTIONS)
            raise self.fail(
                f"unknown function {name!r}{_suggest(name, FUNCTIONS)} (allowed: {allowed})", node.func
            )
        if node.keywords:
            raise self.fail(f"{name}() takes no keyword arguments", node)
        fn, low, high = FUNCTIONS[name]
        if not low <= len(node.args) <= high:
            count = str(low) if low == high else f"{low} or {high}"
            raise self.fail(f"{name}() takes {count} argument(s); got {len(node.args)}", node)
        parts = [self.build(arg) for arg in node.args]
        fns = [p[0] for p in parts]
        syms = [p[1] for p in parts]
        if self.numeric:
            if name not in _numeric.FUNCTIONS or len(node.args) < _numeric.FUNCTIONS[name][1]:
                self.no_numeric_form()  # a reduction over the rows: JAX's
            return _numeric.apply(name, _nodes(fns)), None
        over_data = any(id(arg) in self.named and _mentions_data(arg, self.data) for arg in node.args)
        if name in ("min", "max") and len(syms) == 1 and over_data:
            self.without_symbolic(f"{name}() over the data's rows has no symbolic derivative: autodiff only")
            return (lambda env: fn(*(f(env) for f in fns))), None
        return (lambda env: fn(*(f(env) for f in fns))), (lambda: _sympy_call(name, syms, over_data))


def _nodes(fns: list[Fn]) -> list[_numeric.Node]:
    """The parts compiled for NumPy: each one a :class:`gdlab._numeric.Node`."""
    assert all(isinstance(fn, _numeric.Node) for fn in fns)
    return fns  # type: ignore[return-value]


def _sympy():
    import sympy

    return sympy


def _power(base, exponent):
    from gdlab._symbolic import power

    return power(base, exponent)


def _mentions_data(node: ast.AST, data: frozenset[str]) -> bool:
    """Whether a data name appears in ``node`` (a sum of a part without data is that part)."""
    return any(isinstance(n, ast.Name) and n.id in data for n in ast.walk(node))


_UNDEFINED = (
    "undefined (not a real number): check the domain, as sqrt and log need numbers >= 0 (log > 0) "
    "and arcsin and arccos numbers in [-1, 1]"
)
_INFINITE = "infinite or too large to compute (over 1e300): a division by zero, log(0), or an overflow"
_NEVER_REAL = (
    "not a real number for any value of its parameters: check the domain, as sqrt and log need "
    "numbers >= 0 (log > 0) and arcsin and arccos numbers in [-1, 1]"
)


def _sympy_call(name: str, args: list, over_data: bool):
    """The SymPy form of a call; a sum, mean, min or max of a part without data is that part,
    as it is in JAX (``sum(b)`` is ``b``)."""
    import sympy

    from gdlab._symbolic import DataMean, DataSum

    x = args[0]
    table = {
        "sin": sympy.sin,
        "cos": sympy.cos,
        "tan": sympy.tan,
        "exp": sympy.exp,
        "log": sympy.log,
        "log10": lambda a: sympy.log(a, 10),
        "log2": lambda a: sympy.log(a, 2),
        "sqrt": sympy.sqrt,
        "abs": sympy.Abs,
        "tanh": sympy.tanh,
        "sigmoid": lambda a: 1 / (1 + sympy.exp(-a)),
        "relu": lambda a: sympy.Max(0, a),
        "softplus": lambda a: sympy.log(1 + sympy.exp(a)),
        "sum": DataSum,
        "mean": DataMean,
        "arcsin": sympy.asin,
        "arccos": sympy.acos,
        "arctan": sympy.atan,
        "asin": sympy.asin,
        "acos": sympy.acos,
        "atan": sympy.atan,
        "sinh": sympy.sinh,
        "cosh": sympy.cosh,
        "erf": sympy.erf,
    }
    if name in ("sum", "mean", "min", "max") and len(args) == 1 and not over_data:
        return x
    if name in table:
        return table[name](x)
    if name in ("min", "max"):
        return (sympy.Min if name == "min" else sympy.Max)(*args)
    return sympy.Min(sympy.Max(x, args[1]), args[2])  # clip


def _cast(data: dict, kind) -> dict:
    """Bound data in the parameters' precision, so a float32 run stays float32."""
    return {
        name: arr.astype(kind) if jnp.issubdtype(arr.dtype, jnp.floating) else arr
        for name, arr in data.items()
    }


def _floating(value: object) -> jax.Array:
    """``value`` as an array, keeping a floating dtype (float32 stays float32)."""
    arr = jnp.asarray(value)
    return arr if jnp.issubdtype(arr.dtype, jnp.floating) else arr.astype(jnp.result_type(float))


@dataclass(frozen=True)
class Derivative:
    """One parameter's exact derivative, as far as the symbolic budget allows.

    Attributes:
        exact: the SymPy derivative, or ``None`` when there is none within the budget.
        note: why it is shown unsimplified, or why there is none; ``None`` when neither.
    """

    exact: object
    note: str | None = None


# eq=False: two expressions with the same text may bind different data, so each is
# its own object (compiled code is cached by identity, never shared between them).
@dataclass(frozen=True, repr=False, eq=False)
class Expression:
    """A compiled loss: its text, its names, a JAX function and, where possible, SymPy.

    Attributes:
        text: the text, normalised (``^`` written ``**``).
        params: the parameter names, in order of first appearance.
        data: the data names.
        function: the loss as a JAX function of a dict ``{param: value}``, data bound.
        sympy: the SymPy expression, or ``None`` for matrix expressions
            (``@``, ``.T``, subscripts), which only autodiff handles, and for a loss whose
            exact form could not be had within the budget.
        data_values: the bound data, by name.
        symbolic_note: why :attr:`sympy` is ``None``, in words (``None`` when it is not).

    The SymPy form of a loss that SymPy could not refuse (see :func:`_always_real`) is worked
    out when first asked for, so a descent of ``(b/2-1)^2`` never loads SymPy.
    """

    text: str
    params: tuple[str, ...]
    data: tuple[str, ...]
    function: Callable[[dict], jax.Array] = field(compare=False)
    exact_form: tuple[object, str | None] | _Later = field(compare=False)  # (sympy, symbolic_note)
    data_values: dict = field(compare=False, default_factory=dict)
    _derivatives: dict = field(compare=False, default_factory=dict, init=False)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its text, parameters and data, and compiled again when read back (a compiled
        function does not pickle): a result that holds its loss (a Trajectory, a Sweep) pickles."""
        return (_parsed_again, (self.text, self.params, dict(self.data_values)))

    @property
    def sympy(self) -> object:
        return self._exact()[0]

    @property
    def symbolic_note(self) -> str | None:
        return self._exact()[1]

    def _exact(self) -> tuple[object, str | None]:
        form = self.exact_form
        return form.get() if isinstance(form, _Later) else form

    def __call__(self, *point: object, **values: object) -> jax.Array:
        """The loss at parameter values: by name (``loss(x=1, y=2)``), as one dict
        (``loss({"x": 1, "y": 2})``, the form ``descend`` and ``sweep`` pass), as a tuple
        in the order of :attr:`params` (``loss((1, 2))``, as a grid of axes passes), or as
        one number for a one-parameter loss."""
        if len(point) == 1 and isinstance(point[0], Mapping) and not values:
            values = dict(point[0])
            point = ()
        elif len(point) == 1 and len(self.params) > 1 and not values and _is_vector(point[0]):
            # a tuple, a list or a 1-D array (a start like [3.0, 1.0] reaches here as one array)
            vector: Any = point[0]
            count = len(vector)
            if count != len(self.params):
                raise InputError(
                    f"give {len(self.params)} values, one per parameter ({', '.join(self.params)}), "
                    f"or a dict such as {{{', '.join(repr(p) + ': 1.0' for p in self.params)}}}; got {count}"
                )
            values = {p: vector[i] for i, p in enumerate(self.params)}  # in the order of first appearance
            point = ()
        if not self.params and (point or values):
            raise no_parameters(self)
        if point:
            if len(point) != 1 or len(self.params) != 1 or values:
                raise InputError(
                    f"give the values by name, as in loss({self.params[0] if self.params else 'b'}=1.0)"
                )
            values = {self.params[0]: point[0]}
        missing = [p for p in self.params if p not in values]
        if missing:
            raise InputError(f"give a value for {', '.join(missing)}")
        return self.function({p: _floating(values[p]) for p in self.params})

    def exact_derivative(self, name: str) -> Derivative:
        """The exact derivative with respect to parameter ``name``, within the symbolic budget.

        It is simplified when that is cheap (:attr:`Limits.simplify_ops`,
        :attr:`Limits.simplify_terms`, :attr:`Limits.symbolic_seconds`), shown as it is
        otherwise, and absent when it cannot be had in time or is too large to write out;
        :attr:`Derivative.note` says which and why. Worked out once per parameter.

        Example:
            >>> found = parse("(b+1)^(10^10)").exact_derivative("b")
            >>> print(found.exact)
            10000000000*(b + 1)**9999999999
            >>> print(found.note)
            shown unsimplified: simplifying could expand it into about 10,000,000,000 terms (the limit is 300)
        """
        if name not in self.params:
            raise InputError(f"{name!r} is not a parameter of {self.text}; its parameters: {self.params}")
        if self.sympy is None:
            return Derivative(None, self.symbolic_note or MATRIX_FORMS)
        if name not in self._derivatives:
            from gdlab._symbolic import differentiate

            self._derivatives[name] = Derivative(*differentiate(self.sympy, name))
        return self._derivatives[name]

    def derivative(self, name: str):
        """The exact symbolic derivative with respect to parameter ``name`` (SymPy).

        Raises:
            InputError: when it has none (matrix forms), or none within the budget; the
                message says why (:meth:`exact_derivative` gives the reason without raising).
        """
        found = self.exact_derivative(name)
        if found.exact is None:
            raise InputError(f"{self.text} has no symbolic derivative here: {found.note}")
        return found.exact

    def gradient(self) -> dict:
        """The symbolic derivative for every parameter."""
        return {name: self.derivative(name) for name in self.params}

    def latex(self) -> str:
        """The loss in LaTeX (the text itself for matrix expressions, or past the time limit)."""
        import sympy

        return self._written(sympy.latex)

    def pretty(self) -> str:
        """The loss as SymPy's two-dimensional text (the text itself for matrix expressions)."""
        import sympy

        return self._written(lambda exact: sympy.pretty(exact, use_unicode=False))

    def _written(self, write: Callable[[object], str]) -> str:
        from gdlab._symbolic import OutOfTime, within

        if self.sympy is None:
            return self.text
        try:
            return within(LIMITS.symbolic_seconds, lambda: write(self.sympy))
        except (OutOfTime, Exception):  # a typeset form is optional: the text still reads
            return self.text

    def __repr__(self) -> str:
        data = f", data: {', '.join(self.data)}" if self.data else ""
        return f"Expression({self.text!r}; parameters: {', '.join(self.params) or 'none'}{data})"


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _as_typed(compile_text: Callable[Concatenate[str, _P], _R]) -> Callable[Concatenate[str, _P], _R]:
    """``compile_text(text, ...)``, its errors showing the text as it was typed: the caret is under
    the user's ``^``, not under the ``**`` it is read as."""

    @functools.wraps(compile_text)
    def compiled(text: str, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return compile_text(text, *args, **kwargs)
        except ExpressionError as err:
            typed = text.replace("\n", " ").replace("\r", " ").strip() if isinstance(text, str) else None
            if typed is None or "^" not in typed or err.text != typed.replace("^", "**") or err.start is None:
                raise
            places = [i for i, char in enumerate(typed) for _ in range(2 if char == "^" else 1)]
            start = places[min(err.start, len(places) - 1)]
            last = (err.end if err.end is not None else err.start + 1) - 1
            end = places[min(max(last, err.start), len(places) - 1)] + 1
            raise ExpressionError(err.problem, typed, start, end) from None

    return compiled


def _parsed_again(text: str, params: tuple[str, ...], data: dict) -> Expression:
    """An :class:`Expression` read back from a pickle."""
    return parse(text, params=params, data=data or None)


@_as_typed
def parse(
    text: str, *, params: list[str] | tuple[str, ...] | None = None, data: dict | None = None
) -> Expression:
    """Compile ``text`` into an :class:`Expression`, safely.

    Grammar: numbers, names, ``+ - * / **`` (``^`` also means power), unary
    minus, brackets, ``@`` and ``.T`` for the matrix form, ``x[0]`` and
    ``x[1:5]`` on data, and calls to sin cos tan exp log log10 log2 sqrt abs
    tanh sigmoid relu softplus sum mean min max clip; the constants pi and e.

    Args:
        text: the loss.
        params: the parameter names; by default every free name that is not data.
        data: arrays by name, bound into the function (``{"x": ..., "y": ...}``).

    Returns:
        An :class:`Expression`.

    Raises:
        ExpressionError: anything outside the grammar, with a caret under it.

    Example:
        >>> loss = parse("(b/2 - 1)^2")
        >>> loss.params, float(loss(b=-10))
        (('b',), 36.0)
        >>> str(loss.derivative("b"))
        'b/2 - 1'
    """
    data = dict(data or {})
    for name in data:
        if not (isinstance(name, str) and name.isidentifier() and not name.startswith("_")):
            raise ExpressionError(f"data names must be plain names; got {name!r}")
    clean, tree = _checked_tree(text)
    rows = {name: int(np.shape(value)[0]) for name, value in data.items() if np.ndim(value) > 0}
    later = _always_real(tree)
    compiler = _Compiler(clean, frozenset(data), _named(tree, data), rows, symbolic=not later)
    fn, sym = compiler.build(tree.body)
    names = compiler.names
    chosen = _chosen(clean, names, params, data)
    bound = {name: jnp.asarray(np.asarray(value, dtype=float)) for name, value in data.items()}

    def function(values: dict) -> jax.Array:
        if not isinstance(values, dict):
            if len(chosen) != 1:  # several parameters: which number is which?
                example = ", ".join(f"{n!r}: 0.0" for n in chosen)
                raise InputError(
                    f"{clean} has the parameters {', '.join(chosen)}: pass them as a dict, as in "
                    f"{{{example}}}"
                )
            values = {chosen[0]: values}  # one parameter: its value alone, as the command line takes it
        leaves = [v for v in values.values() if jnp.issubdtype(jnp.result_type(v), jnp.floating)]
        kind = jnp.result_type(*leaves) if leaves else None
        data_now = bound if kind is None or kind == jnp.result_type(float) else _cast(bound, kind)
        return fn({**data_now, **values})

    if later:  # SymPy has nothing to refuse here: its form is worked out when first asked for
        form: tuple[object, str | None] | _Later = _Later(lambda: _exact_form(clean, tree, data, rows))
    else:
        form = (sym, None) if compiler.symbolic else (None, compiler.note)
    return Expression(
        text=clean,
        params=chosen,
        data=tuple(n for n in names if n in data),
        function=function,
        exact_form=form,
        data_values=bound,
    )


MODULES = ("np", "numpy", "math")
"""Module names a listed function may be called through, as patsy's and statsmodels' formulas
write them (``np.log(x)``): ``np.log`` is ``log``; nothing else of those modules is reachable."""


_MODULE_CONSTANT = re.compile(rf"\b(?:{'|'.join(MODULES)})\s*\.\s*(?:{'|'.join(CONSTANTS)})\b")


def _read_module_names(tree: ast.AST, text: str) -> None:
    """``np.log(x)``, ``numpy.exp(x)``, ``math.sqrt(x)`` read as ``log(x)``, ``exp(x)``, ``sqrt(x)``,
    and ``np.pi``, ``math.e`` as the numbers ``pi`` and ``e`` name (numbers, not names: a column
    named ``pi`` does not take their place), in place (a walk, not a recursion: the tree may be deep)."""
    constants = _MODULE_CONSTANT.search(text) is not None  # else no constant to look for
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute) and _module_call(f) and f.attr in FUNCTIONS:
                node.func = ast.copy_location(ast.Name(id=f.attr, ctx=ast.Load()), f)
        if not constants:
            continue
        for slot, value in ast.iter_fields(node):
            if isinstance(value, list):
                value[:] = [_as_number(v) for v in value]
            else:
                setattr(node, slot, _as_number(value))


def _as_number(value: object) -> object:
    """``np.pi``, ``numpy.e``, ``math.pi`` ... (a module's constant) as its number; anything else as is."""
    if isinstance(value, ast.Attribute) and _module_call(value) and value.attr in CONSTANTS:
        return ast.copy_location(ast.Constant(CONSTANTS[value.attr]), value)
    return value


def _module_call(f: ast.Attribute) -> bool:
    """Whether ``f`` is ``np.name``, ``numpy.name`` or ``math.name``."""
    return isinstance(f.value, ast.Name) and f.value.id in MODULES


def _checked_tree(text: str) -> tuple[str, ast.Expression]:
    """The text normalised and parsed, its size and depth checked (nothing compiled yet)."""
    clean = _normalise(text)
    try:
        with _AST_LOCK:  # Python 3.11's parser can fail when threads parse at once (CPython gh-106905)
            tree = ast.parse(clean, mode="eval")
    except SyntaxError as err:
        start = max(0, (err.offset or 1) - 1)
        import re

        glued = re.search(r"(?<![A-Za-z_0-9.])(\d+\.?\d*(?:[eE][+-]?\d+)?)([A-Za-z_]\w*)", clean)
        if glued:
            left, right = glued.groups()
            raise ExpressionError(
                f"write {left}*{right}: multiplication needs a *", clean, glued.start(), glued.end()
            ) from None
        raise ExpressionError(
            f"this is not a formula: {err.msg}", clean, min(start, len(clean) - 1)
        ) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("the expression is too deeply nested or too large") from None
    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > MAX_NODES:
        raise ExpressionError(f"the expression has {nodes} parts; the limit is {MAX_NODES}")
    if _depth(tree) > MAX_DEPTH * 2:
        raise ExpressionError("the expression is too deeply nested")
    _read_module_names(tree, clean)
    return clean, tree


def _chosen(
    clean: str, names: list[str], params: list[str] | tuple[str, ...] | None, data: Mapping | frozenset
) -> tuple[str, ...]:
    """The parameters (by default every name that is not data), each name checked to be one or data."""
    chosen = tuple(params) if params is not None else tuple(n for n in names if n not in data)
    for name in chosen:
        if name in CONSTANTS:
            raise ExpressionError(
                f"{name!r} is the constant {CONSTANTS[name]:.6g} in a loss, not a parameter: "
                f"call the parameter something else, such as b"
            )
    for name in names:
        if name not in chosen and name not in data:
            known = [*chosen, *data, *CONSTANTS, *FUNCTIONS]
            where = _find(clean, name)
            raise ExpressionError(
                f"unknown name {name!r}{_suggest(name, known)}",
                clean,
                where,
                None if where is None else where + len(name),
            )
    return chosen


@dataclass(frozen=True, eq=False)
class NumericForm:
    """A formula compiled to NumPy (see :mod:`gdlab._numeric`): ``function(env)`` of its
    parameters and data columns by name gives its values; :meth:`bind` gives it data once, for
    values and the exact Jacobian at any parameters.

    Attributes:
        text: the text, normalised.
        params: the names that are not data columns, in order of first appearance.
        data: the data columns it reads.
        function: the compiled formula (the root of its tree of parts).
        plan: its distinct parts in order, and which read a parameter.
    """

    text: str
    params: tuple[str, ...]
    data: tuple[str, ...]
    function: _numeric.Node
    plan: _numeric.Plan

    def bind(self, columns: Mapping[str, np.ndarray], n: int) -> _numeric.Bound:
        """The formula on ``n`` rows of ``columns``: the parts that read no parameter are computed
        here, once (under ``np.errstate``, as :meth:`values`)."""
        return self.plan.bind(columns, n)

    def values(self, coef: np.ndarray, columns: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """The formula at ``coef`` on ``n`` rows of ``columns`` (a value outside a function's domain
        is NaN, as in JAX: call it under ``np.errstate(all="ignore")`` to silence NumPy's warning)."""
        return self.bind(columns, n).values(np.asarray(coef, dtype=np.float64))

    def jacobian(
        self, coef: np.ndarray, columns: Mapping[str, np.ndarray], n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The formula's values (``n``) and exact Jacobian in its parameters (``n x p``) at ``coef``
        (under ``np.errstate``, as :meth:`values`)."""
        return self.bind(columns, n).jacobian(np.asarray(coef, dtype=np.float64))


@functools.lru_cache(maxsize=256)
@_as_typed
def numeric_form(text: str, columns: tuple[str, ...] = ()) -> NumericForm | None:
    """``text`` compiled to NumPy, ``columns`` its data and its other names parameters: checked as
    :func:`parse` checks it (the same errors), without JAX or SymPy. ``None`` when it uses an
    operation with no NumPy form (a reduction over the rows, a matrix form, a subscript).

    The same text and columns give the same form (up to 256 are kept), so a streamed fit compiles
    a formula once, not once a block."""
    clean, tree = _checked_tree(text)
    data = frozenset(columns)
    compiler = _Compiler(clean, data, _named(tree, data), symbolic=False, numeric=True)
    try:
        fn, _ = compiler.build(tree.body)
    except _NoNumericForm:
        return None
    chosen = _chosen(clean, compiler.names, None, data)
    assert isinstance(fn, _numeric.Node)  # every part compiled for NumPy is one
    return NumericForm(
        clean, chosen, tuple(n for n in compiler.names if n in data), fn, _numeric.Plan(fn, chosen)
    )


class _Later:
    """A loss's exact form, worked out once, when first asked for (by any thread)."""

    def __init__(self, work: Callable[[], tuple[object, str | None]]):
        self.work: Callable[[], tuple[object, str | None]] | None = work
        self.form: tuple[object, str | None] = (None, None)
        self.lock = threading.Lock()

    def get(self) -> tuple[object, str | None]:
        with self.lock:
            if self.work is not None:
                self.form, self.work = self.work(), None
            return self.form


def _exact_form(clean: str, tree: ast.Expression, data: Mapping, rows: dict) -> tuple[object, str | None]:
    """The SymPy form of a parsed loss and, when it has none, why (the budget's note)."""
    compiler = _Compiler(clean, frozenset(data), _named(tree, data), rows)
    _, sym = compiler.build(tree.body)
    return (sym, None) if compiler.symbolic else (None, compiler.note)


# Functions real and finite-or-overflowing at every real number: no part built of them can be
# undefined, infinite at a pole, or never real, which is all SymPy refuses when a loss is parsed.
_TOTAL_FUNCTIONS = frozenset(
    {"sin", "cos", "exp", "abs", "tanh", "sigmoid", "relu", "softplus", "sum", "mean", "arctan", "atan"}
)


def _always_real(tree: ast.Expression) -> bool:
    """Whether SymPy could refuse nothing in this loss: sums, differences and products of names,
    numbers and :data:`_TOTAL_FUNCTIONS`, divided only by non-zero numbers, raised only to whole
    numbers (``(b/2-1)^2``). Its constant parts are still checked in floating point when compiled.

    Example:
        >>> _always_real(ast.parse("(b/2-1)**2", mode="eval"))
        True
        >>> _always_real(ast.parse("b*tan(pi/2)", mode="eval"))
        False
    """
    for node in ast.walk(tree.body):
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Div):
                fits = _literal(node.right, lambda v: v != 0)
            elif isinstance(node.op, ast.Pow):
                fits = _literal(node.right, lambda v: isinstance(v, int) and 0 <= v <= 1000)
            else:
                fits = isinstance(node.op, ast.Add | ast.Sub | ast.Mult)
        elif isinstance(node, ast.Call):
            fits = isinstance(node.func, ast.Name) and node.func.id in _TOTAL_FUNCTIONS
        else:
            fits = isinstance(node, ast.UnaryOp | ast.Constant | ast.Name | ast.expr_context)
            fits = fits or isinstance(node, ast.operator | ast.unaryop)
        if not fits:
            return False
    return True


def _literal(node: ast.AST, test: Callable[[float], bool]) -> bool:
    value = getattr(node, "value", None) if isinstance(node, ast.Constant) else None
    return isinstance(value, int | float) and not isinstance(value, bool) and test(value)


def _named(tree: ast.AST, data: Mapping | frozenset) -> frozenset[int]:
    """id() of each node holding a parameter or data name; the others are constants, folded once.

    The tree is walked once, children before their parents (the reverse of breadth-first order)."""
    named: set[int] = set()
    for node in reversed(list(ast.walk(tree))):
        if isinstance(node, ast.Name):
            if node.id not in CONSTANTS or node.id in data:
                named.add(id(node))
            continue
        parts = node.args if isinstance(node, ast.Call) else ast.iter_child_nodes(node)  # not its name
        if any(id(part) in named for part in parts):
            named.add(id(node))
    return frozenset(named)


def _depth(tree: ast.AST) -> int:
    """Depth of the tree, found without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _find(text: str, name: str) -> int | None:
    import re

    match = re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text)
    return match.start() if match else None


def number(text: str) -> float:
    """A number written as safe arithmetic, such as ``0.01/6`` or ``2*pi`` (for command-line options).

    Example:
        >>> number("0.01/6")
        0.0016666666666666668
    """
    if isinstance(text, int | float):
        return float(text)
    try:
        expr = parse(str(text), params=())
    except ExpressionError as err:  # the words are about a loss; here a number was typed
        problem = err.problem.replace(" in a loss", " in a number")
        raise ExpressionError(problem, err.text, err.start, err.end) from None
    if expr.data or expr.params:
        raise ExpressionError(f"a number may use only digits, + - * / ^, brackets, pi and e; got {text!r}")
    value = float(expr.function({}))
    if not math.isfinite(value):
        raise ExpressionError(f"{text!r} is not a finite number")
    return value


def no_parameters(loss: Expression) -> ExpressionError:
    """The error for a loss with nothing to differentiate, naming a constant that may have been meant."""
    constants = [c for c in CONSTANTS if _find(loss.text, c) is not None]
    what = "is a constant, not a parameter" if len(constants) == 1 else "are constants, not parameters"
    hint = f" ({' and '.join(constants)} {what}: name the parameter b, say)" if constants else ""
    return ExpressionError(
        f"{loss.text} has no parameters to differentiate or move{hint}: write a loss such as (b/2-1)^2"
    )


def mentions(text: str, name: str) -> bool:
    """Whether ``text`` uses ``name`` as a whole word (to read only the data columns a loss needs)."""
    return _find(text, name) is not None


def _is_vector(value: object) -> bool:
    """A tuple, a list, or a one-dimensional array (NumPy, JAX, or a JAX tracer)."""
    return isinstance(value, tuple | list) or getattr(value, "ndim", None) == 1
