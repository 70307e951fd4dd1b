"""What the user gave, checked in one place: numbers, whole numbers, sizes, and the limits.

Every front end (Python, the command line, and any later one) enforces the
same limits because they live here. An :class:`InputError` is the user's to fix
(exit code 2 on the command line); any other exception is a failure of gdlab's
own (exit 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


class InputError(ValueError):
    """What was given is wrong; the message names the problem and the fix.

    Args:
        message: the sentence, in the library's words; or a function of a :class:`Spelling`
            that builds it, so that each front end names the parameters its own way
            (:meth:`spelled`).
        parameter: the parameter the problem concerns (``"lr"``, ``"steps"``), when there is one.
    """

    def __init__(self, message: str | Callable[[Spelling], str], *, parameter: str | None = None):
        self.words = message if callable(message) else None
        self.parameter = parameter
        super().__init__(message(PYTHON) if callable(message) else message)

    def spelled(self, spelling: Spelling) -> str:
        """The message with its parameters named as ``spelling`` writes them."""
        return self.words(spelling) if self.words is not None else str(self)


@dataclass(frozen=True)
class Limits:
    """The largest sizes gdlab accepts, checked before anything is allocated.

    Attributes:
        steps: steps of one run.
        trajectory_numbers: numbers one run keeps in memory (parameters, loss and gradient at each step).
        rates: rates in one sweep.
        runs: (rate, start) pairs in one sweep.
        sweep_numbers: numbers a sweep keeps (runs x saved rows x components).
        grid_points: points in one grid search (the product over the axes).
        table_numbers: numbers (rows x columns) of data read into memory.
        table_rows: rows printed in full by a table before it is summarised.
        symbolic_rows: data rows over which a symbolic derivative is evaluated exactly.
        expression_chars: characters in a typed expression.
        expression_depth: nesting depth of brackets and calls in an expression.
        expression_nodes: nodes of an expression's syntax tree.
        symbolic_seconds: time for one piece of symbolic work on a loss (its exact form, one
            derivative, its LaTeX); past it the piece is given unsimplified or not at all, and says why.
        simplify_ops: operations in a derivative that SymPy's simplify is tried on.
        simplify_terms: terms simplify may expand a derivative into: ``(b+1)^1000`` is shown unexpanded.
        exact_bits: bits of an exact number a power of constants may make (``(1/3)^(10^10)``
            is kept as a 15-digit float instead).
        derivative_nodes: nodes of a derivative written out; a larger one is left to autodiff.
        picture_pixels: pixels (width x height) of one picture or animation frame, drawn at 4
            bytes each (40 million: 160 MB).
    """

    steps: int = 2**31 - 2
    trajectory_numbers: int = 200_000_000
    rates: int = 100_000
    runs: int = 1_000_000
    sweep_numbers: int = 50_000_000
    grid_points: int = 10_000_000
    table_numbers: int = 500_000_000
    table_rows: int = 40
    symbolic_rows: int = 5_000
    expression_chars: int = 2_000
    expression_depth: int = 60
    expression_nodes: int = 600
    symbolic_seconds: float = 1.0
    simplify_ops: int = 40
    simplify_terms: int = 300
    exact_bits: int = 20_000
    derivative_nodes: int = 20_000
    picture_pixels: int = 40_000_000


LIMITS = Limits()

SEED_MAX = 2**63 - 1  # the largest seed NumPy and JAX both take


def number(name: str, value: object, *, positive: bool = True) -> float:
    """``value`` as a finite float (> 0 when ``positive``), or an :class:`InputError`."""
    # a float, the usual case, without NumPy's checks (5 us a number)
    result = value if type(value) is float else _as_number(name, value)
    if not _accepted(result, positive):
        above = " > 0" if positive else ""
        shown = f"{result:.0f}" if result.is_integer() and abs(result) < 1e15 else repr(value)
        raise InputError(
            lambda s: f"{s.name(name)} must be a finite number{above}; got {shown}", parameter=name
        )
    return result


def numbers(values: dict[str, object], *, positive: bool = True) -> list[float]:
    """Each of ``values`` (by name) as :func:`number` takes it: at once where all are finite floats
    (and > 0 when ``positive``), the usual case; else one by one, the first wrong one refused."""
    given = list(values.values())
    floats = [v for v in given if type(v) is float]
    if len(floats) == len(given) and all(_accepted(v, positive) for v in floats):
        return floats
    return [number(name, value, positive=positive) for name, value in values.items()]


def _accepted(value: float, positive: bool) -> bool:
    """The rule of :func:`number` and :func:`numbers`: finite, and > 0 when ``positive``."""
    return math.isfinite(value) and (value > 0 or not positive)


def _as_number(name: str, value: object) -> float:
    """``value`` as one real float, or an :class:`InputError` naming what it is instead."""
    import numpy as np  # here, so that the command line's --help does not load NumPy

    if isinstance(value, bool) or not isinstance(value, int | float | np.number | np.ndarray):
        raise InputError(lambda s: f"{s.name(name)} must be a number; got {value!r}", parameter=name)
    if np.size(value) != 1:
        shape = np.shape(value)
        raise InputError(
            lambda s: f"{s.name(name)} must be one number; got an array of shape {shape}", parameter=name
        )
    try:
        return float(np.asarray(value).reshape(()))
    except (TypeError, ValueError, OverflowError) as err:
        raise InputError(
            lambda s: f"{s.name(name)} must be a real number; got {value!r}", parameter=name
        ) from err


def whole(name: str, value: object, *, low: int = 0, high: int | None = None, hint: str = "") -> int:
    """``value`` as an int in ``[low, high]`` (a whole float such as 1e3 is accepted)."""
    import numpy as np

    if isinstance(value, float) and high is not None and value > high:  # 1e300 is never made an int
        big = value
        raise InputError(
            lambda s: f"{s.name(name)} must be a whole number <= {high:,}; got {big:g}{hint}", parameter=name
        )
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        given = value
        raise InputError(lambda s: f"{s.name(name)} must be a whole number; got {given!r}", parameter=name)
    result = int(value)
    if result < low:
        raise InputError(
            lambda s: f"{s.name(name)} must be a whole number >= {low:,}; got {result:,}", parameter=name
        )
    if high is not None and result > high:
        top = high
        raise InputError(
            lambda s: f"{s.name(name)} must be a whole number <= {top:,}; got {result:,}{hint}",
            parameter=name,
        )
    return result


# The languages the pictures are worded in (gdlab.render._words has a table of words for each;
# the command line checks --lang against these before the work, without importing the drawing code).
LANGUAGES = ("en", "ko")

# A fit's step limit unless given one (every front end's default; MINPACK budgets its evaluations
# for at least these).
DEFAULT_STEPS = 5000


def steps(value: object) -> int:
    """A step limit: a whole number from 0 to :attr:`Limits.steps`."""
    return whole("steps", value, high=LIMITS.steps)


def seed(value: object) -> int:
    """A random seed: a whole number from 0 to :data:`SEED_MAX` (JAX refuses larger ones)."""
    return whole("seed", value, high=SEED_MAX)


def tol(value: object) -> float | None:
    """A tolerance on the gradient norm: a number > 0, or ``None`` for none."""
    return None if value is None else number("tol", value)


def size(what: str, count: int, limit: int, fix: str) -> None:
    """Refuse ``count`` of ``what`` above ``limit`` before anything is allocated."""
    if count > limit:
        raise InputError(f"{count:,} {what}: at most {limit:,} {what} are allowed; {fix}")


def number_list(name: str, values: object, kind: str, example: str, fix: str) -> np.ndarray:
    """``values`` as a non-empty 1-D float64 array of at most :attr:`Limits.rates` numbers, or an
    :class:`InputError` naming ``name`` and what it holds (``kind``, as in "rates", with an
    ``example``): the one check of a list of rates or of momenta, before their ranges are checked.
    ``fix`` says what to do when there are too many (whose count is worded by ``name``)."""
    import numpy as np

    if values is None or isinstance(values, str):
        raise InputError(f"{name} must be a list of {kind}, e.g. {example}; got {values!r}")
    try:
        found = np.atleast_1d(np.asarray(values, dtype=np.float64))
    except (TypeError, ValueError) as err:
        raise InputError(f"{name} must be a list of numbers; got {values!r}") from err
    if found.ndim != 1 or found.size == 0:
        raise InputError(f"{name} must be a non-empty list of {kind}; got {values!r}")
    size("rates" if name == "lrs" else name, found.size, LIMITS.rates, fix)
    return found


class Spelling:
    """How a front end writes the parameters a message names: the library's own words (this class),
    the command line's options (``--tol``), the page's fields. Library messages are built from a
    spelling, so each front end re-words them from data instead of rewriting text.

    Example:
        >>> s = Spelling()
        >>> f"a tolerance ({s.name('tol')}); {s.name('steps', 'the step limit')} ({s.value('steps', 10)})"
        'a tolerance (tol); the step limit (10)'
        >>> s.setting("lr", 0.01)
        'lr=0.01'
    """

    def name(self, param: str, words: str | None = None) -> str:
        """The parameter mentioned in a sentence: ``words`` when given (``the step limit``), else its name."""
        return param if words is None else words

    def setting(self, param: str, value: object, *, quoted: bool = False) -> str:
        """The parameter set to a value, as the user would type it: ``lr=0.01``, ``x='temp'``
        (``quoted``: a text value, quoted in Python)."""
        return f"{param}={value!r}" if quoted else f"{param}={value}"

    def several(self, param: str) -> str:
        """How to give several values of ``param``: ``(or a list)``."""
        return "(or a list)"

    def function(self, name: str) -> str:
        """A function of a loss written in Python (``jnp.sum``); a typed loss writes ``sum``."""
        return f"jnp.{name}"

    def value(self, param: str, value: object) -> str:
        """A value the sentence reports, with the parameter it belongs to where the front end shows it."""
        return str(value)

    def picture(self, what: str) -> str:
        """How to draw ``what`` as a still picture: ``gdlab.plot(fit)``."""
        return f"gdlab.plot({what})"


PYTHON = Spelling()


class Sentence(str):
    """A sentence that names parameters: a ``str`` in the library's words, which a front end can
    word again in its own (:meth:`spelled`). Warnings and notes are sentences, so that they reach
    every front end as plain text and the command line still names its options.

    Example:
        >>> note = Sentence(lambda s: f"a larger {s.name('rcond')} counts more columns as dependent")
        >>> note
        'a larger rcond counts more columns as dependent'
        >>> class Flags(Spelling):
        ...     def name(self, param, words=None):
        ...         return "--" + param
        >>> note.spelled(Flags())
        'a larger --rcond counts more columns as dependent'
    """

    words: Callable[[Spelling], str]

    def __new__(cls, words: Callable[[Spelling], str]) -> Sentence:
        sentence = super().__new__(cls, words(PYTHON))
        sentence.words = words
        return sentence

    def spelled(self, spelling: Spelling) -> str:
        """The sentence with its parameters named as ``spelling`` writes them."""
        return self.words(spelling)

    def __copy__(self) -> Sentence:
        return self  # immutable, as a str

    def __deepcopy__(self, memo: dict) -> Sentence:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # Its words are a function (often a lambda), which does not pickle: it is written as the
        # library says it, and read back as that text in every spelling.
        return (Sentence, (_Said(str(self)),))


class _Said:
    """The words of a :class:`Sentence` read back from a pickle: one text for every spelling."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __call__(self, spelling: Spelling) -> str:
        return self.text


def unknown(param: str, given: object, choices: Iterable[str], *, also: str = "") -> InputError:
    """The refusal of ``given``, which is none of ``choices`` for the setting ``param``: the one
    wording of every such refusal (a method, a family, a covariance) in every front end, each
    naming the setting its own way, with the nearest choice (any case) and every choice.

    Example:
        >>> print(unknown("method", "sdg", ["gd", "sgd", "adam"]))
        method='sdg' is unknown: did you mean 'sgd'? choose one of gd, sgd, adam
    """
    listed = [str(c) for c in choices]
    by_lower = {c.lower(): c for c in listed}
    near = closest(str(given).strip().lower(), by_lower)
    hint = f"did you mean {by_lower[near]!r}? " if near is not None else ""
    every = ", ".join(listed)
    return InputError(
        lambda s: f"{s.setting(param, given, quoted=True)} is unknown: {hint}choose one of {every}{also}",
        parameter=param,
    )


def closest(name: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The choice a mistyped ``name`` most likely meant, if any is close enough: the one rule behind
    every "did you mean ...?" (methods, families, columns, functions of the expression language).

    Example:
        >>> closest("logistc", ["linear", "logistic"]), closest("zzz", ["linear", "logistic"])
        ('logistic', None)
    """
    import difflib

    found = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=cutoff)
    return found[0] if found else None


def spelled(text: object, spelling: Spelling) -> object:
    """``text`` worded by ``spelling`` where it can be: a :class:`Sentence`, an :class:`InputError`,
    or the sentences inside a dict or list (a result's ``to_dict()``); anything else as it is."""
    if isinstance(text, Sentence | InputError):
        return text.spelled(spelling)
    if isinstance(text, dict):
        return {k: spelled(v, spelling) for k, v in text.items()}
    if isinstance(text, list | tuple):
        return [spelled(v, spelling) for v in text]
    return text
