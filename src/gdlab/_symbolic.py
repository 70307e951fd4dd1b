"""SymPy pieces: sums and means over data rows, and a budget of size and time for symbolic work.

SymPy has no size or time limit of its own: ``simplify((b+1)**(10**10))`` expands a
binomial with ten billion terms and grows without end. Every symbolic step gdlab
takes on a user's loss goes through :func:`within` (a time limit) and, before a
step that can expand, :func:`expansion_terms` (a size estimate checked first).
"""

from __future__ import annotations

import inspect
import math
import os
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import TypeVar

import mpmath  # type: ignore[import-untyped]
import sympy

from gdlab._checks import LIMITS

T = TypeVar("T")


class OutOfTime(BaseException):
    """Symbolic work ran past its time limit.

    A BaseException, as KeyboardInterrupt is, so that SymPy's own ``except Exception``
    clauses cannot swallow it and carry on.
    """


def within(seconds: float, work: Callable[[], T]) -> T:
    """``work()``, stopped with :class:`OutOfTime` once it has computed for ``seconds``.

    The time is this thread's processor time, not the clock's: on a machine busy with
    other work the same loss gets the same answer. It is read every few calls of a
    Python function, and the work is stopped as it calls one of SymPy's or mpmath's, so
    their pure-Python work stops and nothing else in the thread (or in other threads: a
    web server's workers each keep their own limit) is touched. A single long call into
    C (a huge integer power) is not interrupted: sizes are checked before such calls.

    Example:
        >>> within(1.0, lambda: 1 + 1)
        2
    """
    deadline = time.thread_time() + seconds
    previous = sys.gettrace()  # a coverage tool's or a debugger's tracer keeps working
    calls, over = 0, False

    def trace(frame, event, arg):
        nonlocal calls, over
        if event == "call":
            calls += 1
            if calls % 64 == 0:  # reading the time is a system call: not on every call
                over = time.thread_time() > deadline
            if over and _may_raise(frame):
                raise OutOfTime(f"longer than {seconds:g} s")
        return previous(frame, event, arg) if previous is not None else None

    if seconds <= 0:
        over = True
    sys.settrace(trace)
    try:
        return work()
    finally:
        sys.settrace(previous)  # a C call: no Python call in between that could raise


# Only SymPy's (and mpmath's) own functions are stopped. Others may run in this thread
# without being part of the work: a garbage-collector callback (JAX has one), a finalizer,
# a generator closed by the collector; an exception raised in them is only printed, and
# the tracer is gone.
_STOPPABLE = tuple(os.path.dirname(m.__file__) + os.sep for m in (sympy, mpmath))
_GENERATOR_FLAGS = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


def _may_raise(frame: FrameType) -> bool:
    """Whether an exception raised as ``frame`` starts reaches the work's caller."""
    code = frame.f_code
    return code.co_filename.startswith(_STOPPABLE) and not code.co_flags & _GENERATOR_FLAGS


def expansion_terms(expr: sympy.Basic) -> float:
    """An upper bound on the terms expanding ``expr`` (inside ``simplify``) could write.

    A sum of m terms raised to the power n expands into at most C(n + m - 1, m - 1)
    terms, a product into the product of its factors' terms: ``(b+1)**1000`` gives 1001,
    and ``(b+c+x+y+1)**12`` 1820, which simplify takes seconds over. Expanding also works
    inside a function's argument (``sin((b+1)**1000)``), so the largest bound there counts.

    Example:
        >>> b, c = sympy.symbols("b c")
        >>> expansion_terms((b + 1) ** 30 * (c + sympy.sin(b)) ** 2)
        93.0
    """
    inside = [1.0]
    seen: dict[sympy.Basic, float] = {}

    def terms(e: sympy.Basic) -> float:
        if e not in seen:
            power = _magnitude(e.args[1]) if e.is_Pow else None
            if not e.args:
                seen[e] = 1.0
            elif e.is_Add:
                seen[e] = min(math.fsum(terms(a) for a in e.args), _CAP)
            elif e.is_Mul:
                seen[e] = min(math.prod(terms(a) for a in e.args), _CAP)  # floats: inf at worst
            elif power is not None and power.is_integer():  # (b+1)**n; 1/(b+1)**n expands too
                seen[e] = _choose(power + terms(e.args[0]) - 1, terms(e.args[0]) - 1)
            else:  # sqrt(b+1), b**c, sin(b), sum(...): one term, expanded inside
                inside.extend(expansion_terms(a) for a in e.args)
                seen[e] = 1.0
        return seen[e]

    return max(terms(expr), *inside)


_CAP = 1e300  # bounds are capped here: never a huge integer


def _choose(n: float, k: float) -> float:
    """C(n, k) in floating point, for a large n too, capped at 1e300."""
    if k <= 0 or n <= k:
        return 1.0
    if k > 50:
        logarithm = math.lgamma(n + 1) - math.lgamma(n - k + 1) - math.lgamma(k + 1)
        return math.exp(min(logarithm, math.log(_CAP)))
    result = 1.0
    for i in range(1, int(k) + 1):
        result = min(result * (n - k + i) / i, _CAP)
    return float(round(result)) if result < 2**52 else result


def _count(terms: float) -> str:
    return f"{terms:,.0f}" if terms < 1e15 else f"{terms:.2g}"


def _magnitude(exponent: sympy.Basic) -> float | None:
    """``|exponent|`` for a number, or ``None`` when it is not one (``b**x``)."""
    if not exponent.is_number:
        return None
    try:
        return abs(float(exponent))
    except (TypeError, ValueError, OverflowError):  # complex or too large: count it as huge
        return math.inf


def nodes_over(expr: sympy.Basic, limit: int) -> bool:
    """Whether ``expr`` has more than ``limit`` nodes, found in at most ``limit + 1`` steps."""
    return any(count > limit for count, _ in enumerate(sympy.preorder_traversal(expr), start=1))


def tidy(exact: sympy.Basic) -> tuple[sympy.Basic, str | None]:
    """``exact`` simplified when that is within the budget, else as it is, with the reason.

    Returns:
        The expression, and ``None`` or a sentence saying why it is shown unsimplified.
    """
    seconds = LIMITS.symbolic_seconds
    try:
        return within(seconds, lambda: _tidied(exact))
    except OutOfTime:
        return exact, f"shown unsimplified: simplifying it took longer than {seconds:g} s"
    except Exception as err:  # SymPy's own failure: the derivative is right as it is
        return exact, f"shown unsimplified: SymPy could not simplify it ({type(err).__name__})"


def _tidied(exact: sympy.Basic) -> tuple[sympy.Basic, str | None]:
    if nodes_over(exact, 10 * LIMITS.simplify_ops) or sympy.count_ops(exact) > LIMITS.simplify_ops:
        return exact, None  # a long derivative is shown as it is: simplify is for tidying short ones
    terms = expansion_terms(exact)
    if terms > LIMITS.simplify_terms:
        return exact, (
            f"shown unsimplified: simplifying could expand it into about {_count(terms)} terms "
            f"(the limit is {LIMITS.simplify_terms:,})"
        )
    return sympy.simplify(exact), None


_SPLIT = 64  # a power this large of a product is raised with its numbers kept apart


def power(base: sympy.Basic, exponent: sympy.Basic) -> sympy.Basic:
    """``base**exponent`` without exact numbers beyond :attr:`Limits.exact_bits`.

    SymPy raises a number to an integer power exactly, and pulls numbers out of a
    product first: ``(2*b)**(10**10)`` would compute ``2**(10**10)``, billions of
    digits. Such a power of numbers is kept as a 15-digit float instead (mpmath
    computes it in microseconds), and only the rest is left to SymPy.

    Example:
        >>> b = sympy.Symbol("b")
        >>> power(2 * b, sympy.Integer(10**10))
        4.36326863455624e+3010299956*b**10000000000
    """
    if base.is_number and exponent.is_number:
        if _exact_bits(base, exponent) <= LIMITS.exact_bits:
            return sympy.Pow(base, exponent)
        return sympy.Pow(base, exponent, evaluate=False).evalf(15)  # 9**9**9**9 is never done exactly
    size = _magnitude(exponent)
    if size is not None and size > _SPLIT:
        numbers, rest = base.as_independent(*base.free_symbols, as_Add=False)
        if numbers != 1:
            return power(numbers, exponent) * sympy.Pow(rest, exponent)
    return sympy.Pow(base, exponent)


def _exact_bits(base: sympy.Basic, exponent: sympy.Basic) -> float:
    """About how many bits ``base**exponent`` takes when SymPy works it out exactly."""
    if base.is_Float or exponent.is_Float:
        return 0.0  # floating point: 15 digits whatever the size
    size = _magnitude(exponent)
    if size is None or size <= 1:
        return 0.0  # a root or a reciprocal stays as small as its base
    # sqrt(2)**n is 2**(n/2): a number other than a fraction counts as a word
    bits = math.log2(abs(base.p) or 1) + math.log2(base.q) if base.is_Rational else 64
    return size * bits


def real_number_problem(value: sympy.Basic, too_large: float) -> str | None:
    """What keeps the number ``value`` from being a finite real number: ``"undefined"``
    (NaN, or complex), ``"infinite"`` (a pole, or larger than ``too_large``), or ``None``."""
    if value.is_Rational:
        large = value.p.bit_length() - value.q.bit_length() > math.log2(too_large)
        return "infinite" if large and abs(value) > too_large else None
    if value.has(sympy.S.NaN):
        return "undefined"
    if value.has(sympy.S.ComplexInfinity, sympy.S.Infinity, sympy.S.NegativeInfinity):
        return "infinite"
    if value.has(sympy.S.ImaginaryUnit) or value.is_extended_real is False:
        return "undefined"
    number = value if value.is_Float else value.evalf(15)
    if not number.is_Float:  # it stayed complex or symbolic
        return "undefined" if number.is_extended_real is not True else None
    if not number.is_finite:
        return "infinite"
    return "infinite" if abs(number) > too_large else None


def differentiate(expr: sympy.Basic, name: str) -> tuple[sympy.Basic | None, str | None]:
    """The derivative of ``expr`` by the real symbol ``name``, within the budget, and a note.

    Returns:
        The derivative (simplified when cheap), or ``None`` when it took longer than
        :attr:`Limits.symbolic_seconds` or has more than :attr:`Limits.derivative_nodes`
        nodes; and ``None`` or a sentence saying what was left undone and why.
    """
    seconds = LIMITS.symbolic_seconds
    try:
        exact = within(seconds, lambda: sympy.diff(expr, sympy.Symbol(name, real=True)))
        large = within(seconds, lambda: nodes_over(exact, LIMITS.derivative_nodes))
    except OutOfTime:
        return None, f"working it out took longer than {seconds:g} s: autodiff only"
    except Exception as err:  # SymPy's own failure on an odd form: autodiff still has the answer
        return None, f"SymPy could not differentiate it ({type(err).__name__}: {err}): autodiff only"
    if large:
        return None, f"it has more than {LIMITS.derivative_nodes:,} parts, too many to show: autodiff only"
    return tidy(exact)


class _OverRows(sympy.Function):
    """A linear reduction over the data's rows (data names stand for one row)."""

    nargs = 1
    word = ""  # how it prints
    latex_word = ""

    @classmethod
    def eval(cls, arg):
        if arg == 0:  # the derivative of a term free of the parameter
            return sympy.S.Zero
        return None

    def _eval_derivative(self, symbol):
        return type(self)(sympy.diff(self.args[0], symbol))

    def _latex(self, printer, exp=None):  # exp: the power it is raised to, as in mean(...)^0.5
        body = self.latex_word + r" \left(" + printer._print(self.args[0]) + r"\right)"
        return body if exp is None else r"\left(" + body + r"\right)^{" + exp + "}"

    def _sympystr(self, printer):
        return f"{self.word}({printer._print(self.args[0])})"

    def _pretty(self, printer):
        return printer._print_Function(self, func_name=self.word)


class DataSum(_OverRows):
    """The sum of an expression over the rows of the data."""

    word, latex_word = "sum", r"\sum_i"


class DataMean(_OverRows):
    """The mean of an expression over the rows of the data."""

    word, latex_word = "mean", r"\operatorname{mean}_i"


def evaluate(expr, values: dict[str, float], data: dict) -> float:
    """A SymPy expression as a number: sums and means are expanded over the data's rows.

    NaN when it cannot be had within the time limit, or is not a finite real number.
    """
    try:
        return within(LIMITS.symbolic_seconds, lambda: _evaluate(expr, values, data))
    except (OutOfTime, Exception):  # too slow, too large, not real, or SymPy's own failure
        return float("nan")


def _evaluate(expr, values: dict[str, float], data: dict) -> float:
    columns = {k: v for k, v in data.items() if getattr(v, "ndim", 0) == 1}
    rows = len(next(iter(columns.values()))) if columns else 0
    scalars = {sympy.Symbol(k, real=True): float(v) for k, v in data.items() if getattr(v, "ndim", 0) == 0}

    def expand(e):
        if isinstance(e, _OverRows):
            inner = expand(e.args[0])
            terms = [
                inner.subs({sympy.Symbol(k, real=True): float(v[i]) for k, v in columns.items()})
                for i in range(rows)
            ]
            total = sympy.Add(*terms)
            return total / rows if isinstance(e, DataMean) else total
        if e.args:
            return e.func(*[expand(a) for a in e.args])
        return e

    point = {sympy.Symbol(k, real=True): v for k, v in values.items()}
    numeric = expand(expr).subs({**scalars, **point})
    value = complex(sympy.N(numeric))
    return value.real if value.imag == 0 else float("nan")
