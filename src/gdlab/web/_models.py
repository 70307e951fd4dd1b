"""The lab's requests as pydantic models, with the web layer's own limits.

Numbers must be finite (JSON's ``NaN`` and ``Infinity`` are refused) and of their
own type (``false`` is not 0, ``"5"`` not 5), and the sizes a request may ask for
are capped here, below gdlab's own :data:`gdlab.LIMITS`; what the sizes together
cost is priced before any work (:mod:`gdlab.web._cost`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    FiniteFloat,
    JsonValue,
    Strict,
    StrictBool,
    ValidationInfo,
    field_validator,
)

from gdlab._checks import LIMITS, InputError, Spelling, unknown
from gdlab._numbers import read_number, read_rates


def _method_names() -> list[str]:
    from gdlab._methods import METHODS

    return list(METHODS)


def _known_method(name: str) -> str:
    names = _method_names()
    if name not in names:
        raise ValueError(unknown("method", name, names).spelled(_FIELD))  # pydantic's: under its field
    return name


# Every name gdlab.descend takes, read from gdlab.METHODS (so a new one appears here too).
Method = Annotated[
    str,
    AfterValidator(_known_method),
    Field(max_length=32, json_schema_extra={"enum": _method_names()}, description="The optimiser, by name."),
]
Dataset = Literal["cafe"]


@dataclass(frozen=True)
class UnitCosts:
    """Seconds per unit of work, measured on the development machine (2 shared x86 cores, JAX on CPU,
    float64) with ``python benchmarks/bench_web.py --calibrate``; measure again on other hardware.

    Attributes:
        node_row: one arithmetic node of the loss on one data row, value and gradient (0.1 ns
            measured in a sweep, up to a few ns in a descent; :data:`WEIGHTS` price the slow
            functions as many nodes).
        run_step: one step of a descent beside the loss itself (optimiser, stop rule, loop):
            40 to 90 ns measured.
        sweep_step: the same for one rate of a sweep, which steps every rate at once in one
            compiled call: 2 to 5 ns measured.
        kept_param2: one step of a descent, which keeps every row, per parameter squared (a
            20-parameter descent spends 18 us a step storing its rows, a 4-parameter one 0.3 us).
    """

    node_row: float = 1.5e-9
    run_step: float = 1e-7
    sweep_step: float = 5e-9
    kept_param2: float = 6e-8


@dataclass(frozen=True)
class WebLimits:
    """What one request may ask for, and how long and how many may run at once.

    Sizes in a request are capped by the request models; what it costs (time,
    memory, the answer's size) is priced before any work by
    :class:`gdlab.web._cost.Budget` against the budgets here, and refused with a
    message naming the most that would fit.

    Attributes:
        steps: steps of one run or sweep.
        rates: rates drawn at once on the page.
        sweep_rates: rates in one sweep.
        phase_side: rates, and momenta, in one phase diagram (its grid is at most this squared).
        points: rows of a trajectory a request may ask to be sent (thinned; the last row exact).
        grid: points per axis of a landscape.
        params: parameters of a loss.
        body_bytes: bytes of one request body.
        frames: frames of an exported animation (at about 40 ms each, well within
            ``export_timeout``).
        work_seconds: estimated seconds of computation one request may ask for. Well under
            ``timeout``: the estimate is typical, not a bound, and the server is shared.
            The lecture's requests price at most about 1 s (a sweep of 50 rates x 100,000
            steps of ``(b/2-1)^2``; the cafe regression's, about 1.1 s).
        kept_numbers: numbers a request's descents keep before thinning (every step's
            parameters, gradient and loss, float64: 12 million is 96 MB; four at once,
            under 400 MB).
        answer_numbers: numbers of the rows sent for the page to draw (about 20 bytes each
            as JSON: 250,000 is 5 MB); more rows are thinned away.
        file_numbers: numbers in a downloaded CSV or JSON file of one run.
        costs: seconds per unit of work on this machine, for the estimates.
        timeout: seconds a computation may take before it is stopped and the answer is 503.
        export_timeout: seconds an animation export may take.
        workers: computations running at once; more wait for a free slot.
        queue_wait: seconds a request waits for a slot before the answer is 503.
        cached_expressions: parsed expressions kept (text, derivatives and LaTeX: small).
        compiled_losses: losses whose compiled code ``gdlab serve`` keeps (about 10 MB each on
            the CPU; see :func:`gdlab.keep_compiled`): a class's losses past this compile again.
    """

    steps: int = 100_000
    rates: int = 12
    sweep_rates: int = 400
    phase_side: int = 60
    points: int = 5_000
    grid: int = 400
    params: int = 20
    body_bytes: int = 64 * 1024
    frames: int = 200
    work_seconds: float = 4.0
    kept_numbers: int = 12_000_000
    answer_numbers: int = 250_000
    file_numbers: int = 2_000_000
    costs: UnitCosts = field(default_factory=UnitCosts)
    timeout: float = 10.0
    export_timeout: float = 60.0
    workers: int = 4
    queue_wait: float = 10.0
    cached_expressions: int = 64
    compiled_losses: int = 12


DEFAULT = WebLimits()
# The most characters of a number typed as text (0.01/6, 1e-8): a field, not a loss.
_TYPED_CHARS = 200


def _typed(value: object) -> object:
    """A number typed as text (``"0.01/6"``, ``"1e-8"``) read as the command line reads it
    (:func:`gdlab._numbers.read_number`, on the server: the page keeps no rule of its own);
    any other value is left for the field's own checks."""
    if not isinstance(value, str):
        return value
    if len(value) > _TYPED_CHARS:
        raise ValueError(f"at most {_TYPED_CHARS} characters; type a number such as 1e-8 or 0.01/6")
    try:
        return read_number(value)
    except InputError as err:
        raise ValueError(str(err)) from None


def _typed_whole(value: object) -> object:
    """A whole number typed as text (``"1e3"``, ``"10^3"``) as an int; any other value as it is."""
    number = _typed(value)
    if number is value:
        return value
    assert isinstance(number, float)
    if not number.is_integer():
        raise ValueError(f"give a whole number, not {number:g}")
    return int(number)


def _rates(value: object) -> object:
    """The rates box as typed (``"0.5, 0.01/6"``) read by :func:`gdlab._numbers.read_rates`; a list
    past the page's limit is refused in the same words, naming the limit (never cut short)."""
    if isinstance(value, str):
        if len(value) > _TYPED_CHARS * DEFAULT.rates:
            raise ValueError(f"at most {_TYPED_CHARS * DEFAULT.rates:,} characters")
        try:
            return list(read_rates(value, DEFAULT.rates))
        except InputError as err:
            raise ValueError(str(err)) from None
    if isinstance(value, list) and len(value) > DEFAULT.rates:
        extra = len(value) - DEFAULT.rates
        raise ValueError(f"{len(value):,} rates; at most {DEFAULT.rates:,} at once: remove {extra:,}")
    return value


# Strict: JSON's false is not the number 0 (a whole number is still a float). Text is read as a
# number by gdlab's own rule, arithmetic included ("0.01/6"); "abc" is refused, never ignored.
Number = Annotated[FiniteFloat, Strict(), BeforeValidator(_typed)]
Whole = Annotated[int, Strict(), BeforeValidator(_typed_whole)]
Positive = Annotated[Number, Field(gt=0)]
Text = Annotated[
    str,
    Field(
        min_length=1,
        max_length=LIMITS.expression_chars,
        description="The loss as text, in gdlab's expression language.",
    ),
]
# A vector parameter (the lecture's beta in (y - X@beta).T @ (y - X@beta)) starts at a list.
Value = Number | Annotated[list[Number], Field(min_length=1, max_length=DEFAULT.params)]
Point = Annotated[
    dict[Annotated[str, Field(max_length=64)], Value],
    Field(
        max_length=DEFAULT.params,
        description="A value for each parameter, by name: a number, or a list for a vector parameter.",
    ),
]
Hyper = Annotated[
    dict[Annotated[str, Field(max_length=16)], Annotated[Number, Field(ge=0, lt=1)]],
    Field(
        default_factory=dict,
        max_length=4,
        description="Optimiser settings: momentum (momentum, nesterov), b1 and b2 (adam), decay (rmsprop).",
    ),
]
Steps = Annotated[Whole, Field(ge=0, le=DEFAULT.steps, description="The most steps of each run.")]
Tol = Annotated[Positive | None, Field(description="Stop once the gradient norm is at most this.")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


Rule = Literal["at_most", "at_least", "more_than", "less_than", "whole"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request, as a sentence and as data: the sentence is part of a
    refusal's ``detail``, the data one item of its ``problems`` (see :func:`refusal`).

    Attributes:
        field: the request's field it concerns (``"rates"``), or None for the request as a whole
            (or a name no request has).
        text: the sentence for that field (``"-1 must be more than 0"``), as ``detail`` says it
            after the field's place; without a field, the sentence as ``detail`` says it.
        rule: the bound the value broke, when it is one: ``at_most``, ``at_least``, ``more_than``,
            ``less_than`` (each with its ``limit``) or ``whole`` (a whole number was wanted).
        limit: the number of the bound.
        where: the place ``detail`` names before the sentence (``"rates.0"``); empty when the
            sentence stands alone.

    Example:
        >>> p = Problem("rates", "-1 must be more than 0", "more_than", 0, where="rates.0")
        >>> p.sentence
        'rates.0: -1 must be more than 0'
        >>> p.data()
        {'field': 'rates', 'text': '-1 must be more than 0', 'rule': 'more_than', 'limit': 0}
    """

    field: str | None
    text: str
    rule: Rule | None = None
    limit: float | None = None
    where: str = ""

    @property
    def sentence(self) -> str:
        """The problem as ``detail`` says it: ``where: text``, or the text alone."""
        return f"{self.where}: {self.text}" if self.where else self.text

    def data(self) -> dict[str, Any]:
        """The problem as a refusal's ``problems`` list holds it."""
        return {"field": self.field, "text": self.text, "rule": self.rule, "limit": self.limit}


class FieldError(InputError):
    """The web layer's refusal of one field of a request, said "field: words" (``steps: ...``):
    the field is its :attr:`parameter`, so the page puts the words under that field.

    Example:
        >>> err = FieldError("batch_size", "at most 10, the rows of the data; got 11")
        >>> str(err), err.parameter
        ('batch_size: at most 10, the rows of the data; got 11', 'batch_size')
    """

    def __init__(self, field: str, words: str):
        super().__init__(f"{field}: {words}", parameter=field)
        self.said = words


class PageSpelling(Spelling):
    """gdlab's parameters named as the page's fields: a start is "start", rates are "rates"."""

    FIELDS: ClassVar[dict[str, str]] = {"init": "start", "inits": "start", "lr": "rates", "lrs": "rates"}

    def name(self, param: str, words: str | None = None) -> str:
        return self.FIELDS.get(param, words or param)

    def setting(self, param: str, value: object, *, quoted: bool = False) -> str:
        return f"{self.name(param)} {value}"


PAGE = PageSpelling()


class _FieldSpelling(PageSpelling):
    """A field's own problem, shown under its name (``method: 'adamm' is unknown ...``): the value alone."""

    def setting(self, param: str, value: object, *, quoted: bool = False) -> str:
        return repr(value) if quoted else str(value)


_FIELD = _FieldSpelling()


def refusal(err: BaseException | str) -> dict[str, Any]:
    """The body of every refusal the lab answers, over HTTP and in the notebook widget alike:
    ``detail``, the problems in words joined by "; ", and ``problems``, the same problems as data
    (:meth:`Problem.data`), each sentence and its data built here from one :class:`Problem`.

    ``err`` is pydantic's validation error (its errors, one problem per field), a
    :class:`gdlab.InputError` (its message in the page's words, under the request field its
    parameter names), or any other refusal: an exception or a sentence, of the whole request.

    Example:
        >>> body = refusal(FieldError("steps", "too many"))
        >>> body["detail"]
        'steps: too many'
        >>> body["problems"]
        [{'field': 'steps', 'text': 'too many', 'rule': None, 'limit': None}]
    """
    found = _problems_of(err)
    return {"detail": "; ".join(p.sentence for p in found), "problems": [p.data() for p in found]}


def _problems_of(err: BaseException | str) -> list[Problem]:
    errors = getattr(err, "errors", None)
    if callable(errors):  # pydantic's ValidationError, or FastAPI's RequestValidationError
        return validation_problems(errors())
    if isinstance(err, FieldError):
        return [Problem(err.parameter, err.said, where=err.parameter or "")]
    if isinstance(err, InputError):
        named = PAGE.name(err.parameter) if err.parameter else None
        return [Problem(named if named in request_fields() else None, err.spelled(PAGE))]
    return [Problem(None, str(err) or "invalid request")]


def validation_problems(errors: Iterable[Mapping[str, Any]]) -> list[Problem]:
    """Pydantic's errors as problems, one per field (the request body's own name left out)."""
    found: dict[str, Problem] = {}
    for e in errors:
        # A value that may take several forms (a number or a list) is refused once per form:
        # its first form's words stand for it, under the field's own name.
        at = [p for p in e.get("loc", ()) if p != "body" and not _form(p)]
        if e.get("type") == "json_invalid":  # the body itself: its place is a character, not a field
            at = []
        where = ".".join(str(p) for p in at)
        said = _SAID.get(str(e.get("type")))
        if said is None:
            # A validator's own ValueError reads "Value error, ..."; its words are the message.
            text, rule, limit = str(e.get("msg", "invalid")).removeprefix("Value error, "), None, None
        else:
            text, rule, limit = said(e)
        if at and at[0] in request_fields():  # said under the field ("rates.0: ..." under rates)
            problem = Problem(str(at[0]), text, rule, limit, where=where)
        else:  # a name no request has (misspelt), or none: the sentence names its place itself
            problem = Problem(None, f"{where}: {text}" if where else text, rule, limit)
        found.setdefault(where, problem)
    return list(found.values()) or [Problem(None, "invalid request")]


def problems(errors: Iterable[Mapping[str, Any]]) -> str:
    """Pydantic's errors in words, one "field: message" each (the request body's own name left out)."""
    return "; ".join(p.sentence for p in validation_problems(errors))


Said = tuple[str, Rule | None, float | None]


def _words(say: Callable[[Mapping[str, Any]], str]) -> Callable[[Mapping[str, Any]], Said]:
    return lambda e: (say(e), None, None)


def _bound(word: str, key: str, rule: Rule) -> Callable[[Mapping[str, Any]], Said]:
    def said(e: Mapping[str, Any]) -> Said:
        limit = e.get("ctx", {}).get(key)
        return f"{_given(e)}must be {word.format(limit)}", rule, limit

    return said


def _whole(e: Mapping[str, Any]) -> Said:
    return f"{_given(e)}is not a whole number: give one such as 100", "whole", None


def _count(e: Mapping[str, Any], key: str, word: str) -> str:
    """A list's or an object's number of items against its bound: ``has 30 items: at most 20``."""
    ctx = e.get("ctx", {})
    actual = ctx.get("actual_length")
    if actual is None:  # pydantic counts a list's items only up to one past its bound
        actual = len(e.get("input") or ())
    items = "item" if actual == 1 else "items"
    bound = ctx.get(key, 0)
    return f"has {actual:,} {items}: {word} {bound:,}" if actual else f"is empty: give {word} {bound:,}"


def _given(e: Mapping[str, Any]) -> str:
    """The value refused, when it is short enough to repeat: ``-1 `` (followed by the sentence)."""
    value = e.get("input")
    shown = (
        repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else value
    )
    return f"{shown} " if isinstance(value, int | float | str | bool) and len(str(shown)) <= 40 else ""


# pydantic's kinds of refusal, each as a sentence that names the fix (its own words otherwise),
# with the bound it broke as data: the sentence and the data are made together
_SAID: dict[str, Callable[[Mapping[str, Any]], Said]] = {
    "missing": _words(lambda e: "missing: this request needs it"),
    "extra_forbidden": _words(lambda e: "is not a field of this request: check its spelling"),
    "json_invalid": _words(
        lambda e: (
            f"the request is not valid JSON ({e.get('ctx', {}).get('error', 'unreadable')}): "
            "send one JSON object"
        )
    ),
    "int_type": _whole,
    "int_parsing": _whole,
    "int_from_float": _whole,
    "float_type": _words(lambda e: f"{_given(e)}is not a number: give one such as 0.5"),
    "finite_number": _words(lambda e: f"{_given(e)}is not a finite number: give one such as 0.5"),
    "float_parsing": _words(lambda e: f"{_given(e)}is not a number: give one such as 0.5"),
    "bool_type": _words(lambda e: f"{_given(e)}is not true or false: give true or false"),
    "bool_parsing": _words(lambda e: f"{_given(e)}is not true or false: give true or false"),
    "string_type": _words(lambda e: "is not text: give it in quotes"),
    "string_too_short": _words(lambda e: "is empty: type something there"),
    # A length is said with its unit and without a rule: the page's words for a bound ("at most 2,000")
    # are for a number typed, and would leave out that the limit counts characters or items.
    "string_too_long": _words(
        lambda e: (
            f"is {len(str(e.get('input', ''))):,} characters long: "
            f"at most {e.get('ctx', {}).get('max_length', 0):,}"
        )
    ),
    "too_long": _words(lambda e: _count(e, "max_length", "at most")),
    "too_short": _words(lambda e: _count(e, "min_length", "at least")),
    "list_type": _words(lambda e: "is not a list: give the values in brackets, as [0.5, 1]"),
    "dict_type": _words(lambda e: 'is not an object of names and values: give one such as {"b": -10}'),
    "literal_error": _words(
        lambda e: f"{_given(e)}is not one this field takes: choose {e.get('ctx', {}).get('expected')}"
    ),
    "greater_than": _bound("more than {}", "gt", "more_than"),
    "greater_than_equal": _bound("{} or more", "ge", "at_least"),
    "less_than": _bound("less than {}", "lt", "less_than"),
    "less_than_equal": _bound("{} or less", "le", "at_most"),
}


def _form(part: object) -> bool:
    """Whether a piece of an error's location names one form of a union ("float", "list[float]")."""
    return isinstance(part, str) and (part in ("float", "int", "bool", "str") or "[" in part)


def _example(**example: JsonValue) -> ConfigDict:
    """A request model's settings: unknown fields refused (as in ``_In``), and one example for the docs."""
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [example]})


class ParseIn(_In):
    """A loss to check and differentiate."""

    expression: Text
    data: Dataset | None = Field(None, description="Data the loss names: 'cafe' binds x and y.")

    model_config = _example(expression="(b/2-1)^2")


class RunIn(_In):
    """One descent per rate from the same start."""

    expression: Text
    data: Dataset | None = None
    start: Point
    rates: Annotated[list[Positive], BeforeValidator(_rates)] = Field(
        min_length=1,
        max_length=DEFAULT.rates,
        description="The rates: a list, or text as typed ('0.5, 0.01/6'), read as the command line does.",
    )
    method: Method = "gd"
    hyper: Hyper
    steps: Steps = 100
    tol: Tol = None
    points: Whole = Field(1000, ge=2, le=DEFAULT.points, description="Rows sent per run (thinned).")
    batch_size: Whole | None = Field(
        None,
        ge=1,
        description="Rows of the data a step reads: each rate runs gdlab.sgd (steps and tol unused).",
    )
    epochs: Whole = Field(1, ge=1, le=DEFAULT.steps, description="Passes over the data, with batch_size.")

    model_config = _example(
        expression="(b/2-1)^2", start={"b": -10}, rates=[0.5, 4.5], method="gd", steps=100, tol=1e-8
    )


class DescentIn(RunIn):
    """The descent view in one request: the runs, the loss behind them and the loss's parameters.

    The start is read for the loss as it is now: a parameter without a value begins where its
    gradient is not zero (as :class:`ParseOut`'s ``start``), and names that are not parameters of
    this loss (those of the loss as it was before an edit) are left out, so a page need not wait
    for a parse before it runs what was typed."""

    start: Point = Field(
        default_factory=dict,
        description="A value for each parameter, by name; one left out (or the whole start) begins "
        "where its gradient is not zero.",
    )
    landscape: bool = Field(True, description="Whether to send the loss on a grid behind the runs.")

    model_config = _example(expression="(b/2-1)^2", start={"b": -10}, rates=[0.5, 4.5], steps=60, tol=1e-8)


class ExportIn(RunIn):
    """The runs as a file: CSV or JSON of one run; GIF or MP4 of all of them, or their picture (PNG, SVG)."""

    format: Literal["csv", "json", "gif", "mp4", "png", "svg"] = "csv"
    run: Whole = Field(0, ge=0, lt=DEFAULT.rates, description="Which run a CSV or JSON file holds.")
    frames: Whole = Field(60, ge=2, le=DEFAULT.frames)
    spacing: Literal["linear", "log"] = "linear"
    lang: Literal["en", "ko"] = "en"

    model_config = _example(expression="(b/2-1)^2", start={"b": -10}, rates=[0.5], steps=20, format="csv")


class LandscapeIn(_In):
    """The loss on a grid over one or two parameters."""

    expression: Text
    data: Dataset | None = None
    ranges: dict[Annotated[str, Field(max_length=64)], tuple[Number, Number]] = Field(
        min_length=1, max_length=2, description="(low, high) for each parameter."
    )
    num: Whole | None = Field(None, ge=2, le=DEFAULT.grid, description="Points per axis.")

    model_config = _example(expression="(b/2-1)^2", ranges={"b": [-12, 12]}, num=50)


def _above_low(high: float, info: ValidationInfo) -> float:
    """A range's high end, refused unless above its low end (a list of rates needs no range)."""
    low = info.data.get("low")
    if not info.data.get("rates") and low is not None and not low < high:
        raise ValueError(f"low must be below high; got {low:g} and {high:g}")
    return high


class SweepIn(_In):
    """Many rates in one call: a log-spaced range (low, high, num) or a list."""

    expression: Text
    data: Dataset | None = None
    start: Point
    rates: list[Positive] | None = Field(None, max_length=DEFAULT.sweep_rates)
    low: Positive = 1e-3
    high: Positive = 10.0
    num: Whole = Field(50, ge=1, le=DEFAULT.sweep_rates)
    log: StrictBool = True
    method: Method = "gd"
    hyper: Hyper
    steps: Steps = 1000
    tol: Tol = None  # the library's default, as /api/runs and /api/descent: one run reads one way

    model_config = _example(
        expression="(b/2-1)^2", start={"b": -10}, low=0.01, high=10, num=50, steps=1000, tol=1e-8
    )

    @field_validator("high")
    @classmethod
    def _ordered(cls, high: float, info: ValidationInfo) -> float:
        return _above_low(high, info)


PhaseMethod = Literal["momentum", "nesterov", "adam"]


class PhaseIn(_In):
    """Every (rate, momentum) pair of a grid: log-spaced rates (low, high, num) or a list, and
    momenta from ``momentum_low`` to ``momentum_high`` (``momentum_num`` of them) or a list."""

    expression: Text
    data: Dataset | None = None
    start: Point
    method: PhaseMethod = "momentum"
    hyper: Hyper = Field(
        default_factory=dict, description="The method's other settings (adam's b2); not the one varied."
    )
    rates: list[Positive] | None = Field(None, max_length=DEFAULT.phase_side)
    low: Positive = 1e-2
    high: Positive = 10.0
    num: Whole = Field(24, ge=1, le=DEFAULT.phase_side)
    momenta: list[Annotated[Number, Field(ge=0, lt=1)]] | None = Field(None, max_length=DEFAULT.phase_side)
    momentum_low: Annotated[Number, Field(ge=0, lt=1)] = 0.0
    momentum_high: Annotated[Number, Field(ge=0, lt=1)] = 0.95
    momentum_num: Whole = Field(20, ge=1, le=DEFAULT.phase_side)
    steps: Steps = 500
    tol: Tol = None  # the library's default, as /api/runs and /api/descent: one run reads one way

    model_config = _example(
        expression="(b/2-1)^2", start={"b": -10}, method="momentum", low=0.1, high=20, num=24, steps=300
    )

    @field_validator("high")
    @classmethod
    def _ordered(cls, high: float, info: ValidationInfo) -> float:
        return _above_low(high, info)

    @field_validator("momentum_high")
    @classmethod
    def _ordered_momenta(cls, high: float, info: ValidationInfo) -> float:
        low = info.data.get("momentum_low")
        if not info.data.get("momenta") and low is not None and not low <= high:
            raise ValueError(f"momentum_low must not be above momentum_high; got {low:g} and {high:g}")
        return high


class PhasePictureIn(PhaseIn):
    """The phase diagram as a file, drawn by gdlab's renderer (:func:`gdlab.plot` of the phase)."""

    format: Literal["png", "svg"] = "png"

    model_config = _example(expression="(b/2-1)^2", start={"b": -10}, num=12, momentum_num=10, steps=200)


class StabilityIn(_In):
    """Curvature at a point: 2/L, and what given rates do there."""

    expression: Text
    data: Dataset | None = None
    at: Point
    lrs: list[Positive] = Field(default_factory=list, max_length=DEFAULT.sweep_rates)

    model_config = _example(expression="(b/2-1)^2", at={"b": 2}, lrs=[1, 4, 5])


# -- answers (documented in the schema; the server writes them as strict JSON) --------------

Num = float | None


class ParseOut(BaseModel):
    text: str = Field(description="The text as parsed (^ written **).")
    params: list[str]
    shapes: dict[str, list[int]] = Field(
        description="Each parameter's shape: [] for a number, [k] for a vector (beta in X@beta)."
    )
    data: list[str]
    latex: str
    derivatives: dict[str, str | None] = Field(
        description="The exact derivative by parameter (None for matrix forms)."
    )
    derivatives_latex: dict[str, str | None]
    notes: list[str] = Field(
        default_factory=list,
        description="Why a derivative is shown unsimplified or not at all (symbolic work has a budget).",
    )
    start: dict[str, float | list[float]] = Field(
        default_factory=dict,
        description="A start for each parameter where the gradient is not zero (1 is often a minimum).",
    )


class RunOut(BaseModel):
    method: str
    lr: Num
    status: str = Field(description="converged, diverged or max_steps.")
    message: str = Field(description="Why it ended, in words.")
    tol: Num
    steps: int = Field(description="Steps taken.")
    start: dict[str, Num]
    final: dict[str, Num] = Field(description="The exact final parameters.")
    start_loss: Num
    final_loss: Num
    names: list[str]
    index: list[int] = Field(
        description="The step of each row sent (thinned evenly; the last is the final step)."
    )
    params: list[list[Num]]
    loss: list[Num]
    grad: list[list[Num]]


class RunsOut(BaseModel):
    params: list[str]
    runs: list[RunOut]
    window: dict[str, list[Num]] = Field(
        default_factory=dict,
        description="(low, high) per component, as gdlab's pictures frame it (not set by a diverged run).",
    )


class LandscapeOut(BaseModel):
    names: list[str]
    axes: list[list[Num]]
    values: list[object] = Field(
        description="The loss: a list (one parameter) or rows by the first axis (two)."
    )
    min: Num
    max: Num
    log: bool = Field(description="Whether the loss spans orders of magnitude (log-spaced contour levels).")
    offset: Num = Field(description="0 when the levels are log-spaced, else None (kept for older pages).")
    levels: list[Num] = Field(
        default_factory=list, description="The contour levels, increasing: gdlab's pictures draw the same."
    )
    ticks: list[Num] = Field(default_factory=list, description="Round numbers for the colour bar.")


class LossOut(BaseModel):
    text: str = Field(description="The text as parsed (^ written **).")
    params: list[str]
    shapes: dict[str, list[int]]
    data: list[str]


class DescentOut(RunsOut):
    loss: LossOut
    start: dict[str, float | list[float]] = Field(description="The start the runs began from.")
    landscape: LandscapeOut | None = Field(
        description="The loss on a grid over the runs' window (one or two components), or None."
    )
    landscape_error: str | None = Field(None, description="Why no landscape came, when one was asked for.")


class SweepRunOut(BaseModel):
    lr: Num
    start: int
    regime: str
    status: str
    steps: int
    final_loss: Num
    note: str
    explain: str | None = Field(
        description="What this rate does near the best run's end, from gdlab.stability."
    )


class SweepOut(BaseModel):
    method: str
    steps: int
    tol: Num
    runs_count: int
    starts: int
    counts: dict[str, int]
    boundaries: list[dict[str, object]]
    best: dict[str, object] | None
    critical_lr: Num
    stability: dict[str, object] | None
    summary: str | None
    runs: list[SweepRunOut]


class PhaseOut(BaseModel):
    method: str
    setting: str = Field(description="The setting varied: momentum (momentum, nesterov) or b1 (adam).")
    steps: int
    tol: Num
    lrs: list[float]
    momenta: list[float]
    counts: dict[str, int]
    regime: list[list[str]] = Field(description="Per rate (rows), per momentum (columns): the regime.")
    final_loss: list[list[Num]]
    final_grad_norm: list[list[Num]]
    steps_taken: list[list[int]]
    notes: list[list[str]] = Field(description="Each cell's sentence: how its run ended.")
    theory: dict[str, object] | None = Field(
        description="On a quadratic (heavy ball, Nesterov): the boundary per momentum and the best pair."
    )
    theory_note: str
    agreement: dict[str, int] | None
    regime_colours: dict[str, str] = Field(description="Each regime's colour, as gdlab's pictures draw it.")


class ExplainOut(BaseModel):
    lr: float
    text: str


class StabilityOut(BaseModel):
    eigenvalues: list[Num]
    L: Num
    mu: Num
    critical_lr: Num
    best_lr: Num
    condition: Num
    summary: str
    explain: list[ExplainOut]


class FitIn(_In):
    """A model formula fitted to a CSV the page uploaded (its text), as ``gdlab fit`` fits a file."""

    csv: str = Field(
        min_length=1,
        max_length=DEFAULT.body_bytes,
        description="The CSV's text: a header of column names, then one row a line.",
    )
    formula: str = Field(
        min_length=3,
        max_length=LIMITS.expression_chars,
        description="A model formula as R and statsmodels write one: 'y ~ x + C(group) + log(z)'.",
    )
    family: Literal["linear", "gaussian", "logistic", "binomial", "logit", "poisson"] = "linear"
    cov: Literal["nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster"] = "nonrobust"
    groups: str | None = Field(None, max_length=200, description="The cluster column of cov 'cluster'.")
    weights: str | None = Field(None, max_length=200, description="A column of weights.")
    dropna: bool = False

    model_config = _example(csv="y,x,g\n1,2,a\n2,3,b\n4,5,a\n3,3,b\n", formula="y ~ x + C(g)")


class FitOut(BaseModel):
    summary: str
    fit: dict[str, Any]


class MethodsIn(_In):
    """Nothing to give: the optimisers the lab offers."""

    model_config = _example()


class MethodOut(BaseModel):
    name: str
    needs_lr: bool = Field(description="False for optimisers that choose their own step (one run, no rate).")
    settings: dict[str, float] = Field(description="Settings the page can change, with their defaults.")
    summary: str = Field(default="", description="What the method does, in a few words.")


class MethodsOut(BaseModel):
    methods: list[MethodOut]
    run_colours: list[str] = Field(description="The runs' colours in order, as gdlab's pictures draw them.")
    run_styles: list[dict[str, object]] = Field(
        description="How each run is drawn, in order: its colour and dash (on-off lengths in line widths)."
    )
    regime_colours: dict[str, str] = Field(
        description="The colour of each regime (converged, slow, ...), as gdlab's pictures draw it."
    )
    regime_markers: dict[str, str] = Field(
        description="The marker of each regime, by plotly's symbol name, as gdlab's pictures draw it."
    )
    functions: list[str] = Field(
        default_factory=list,
        description="The functions a loss may call (sin, exp, ...): the page waits while one is half typed.",
    )
    max_steps: int = Field(DEFAULT.steps, description="The most steps a request may ask for.")


class ProblemOut(BaseModel):
    """One problem of a refused request, as data (:class:`Problem`)."""

    field: str | None = Field(description="The request's field it concerns; null for the request as a whole.")
    text: str = Field(
        description="The sentence for that field, as detail says it after the field's place "
        "('rates.0: '); without a field, the sentence as detail says it."
    )
    rule: Rule | None = Field(
        description="The bound the value broke, when it is one: at_most, at_least, more_than or less_than "
        "(with its limit), or whole (a whole number was wanted)."
    )
    limit: float | None = Field(description="The number of the bound; null without one.")


class ErrorOut(BaseModel):
    detail: str = Field(description="What was wrong and what to do, in words: the problems joined by '; '.")
    problems: list[ProblemOut] = Field(
        description="The same problems as data, in the order detail says them."
    )


class LessonIn(BaseModel):
    """A chapter of the lesson at the reader's settings."""

    model_config = _example(settings={"lr": "0.01/6", "steps": 100}, lang="en")
    settings: dict[
        Annotated[str, Field(max_length=16)], FiniteFloat | Annotated[str, Field(max_length=40)]
    ] = Field(
        default_factory=dict,
        max_length=8,
        description="The reader's settings by name, as numbers or arithmetic text such as '0.01/6'.",
    )
    lang: Literal["ko", "en"] = Field("ko", description="The language of the words.")


@functools.cache
def request_fields() -> frozenset[str]:
    """The names of every request's fields (``rates``, ``steps``, ``settings``): a library
    refusal's parameter, in the page's words, is a field when it is one of these."""
    return frozenset(_fields(_In) | _fields(LessonIn))


def _fields(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields).union(*(_fields(m) for m in model.__subclasses__()))
