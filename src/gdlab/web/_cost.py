"""What a request will cost, estimated before any work starts, and the most that fits the budget.

A request's size in bytes says little: 500 bytes can ask for two minutes of work or
a 50 MB answer. So each computation is priced from what drives its time (runs x
steps x the cost of one step, which grows with the loss's size, its data rows and
its parameters) and its memory (every step of a descent is kept before thinning),
and refused with 422 when over :class:`gdlab.web._models.WebLimits`, with a message
that names the most that would fit. Answers are thinned to what the page can draw.

The estimate is a typical cost, not a bound: some losses run faster than priced and
a few slower. The time limit, with the cancel scope, catches what it misses. Not
priced: a parse (bounded by gdlab's own limits on expressions and symbolic work) and
the curvature at a point (one Hessian of at most 20 parameters).
"""

from __future__ import annotations

import functools
import io
import math
import tokenize
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gdlab._checks import InputError
from gdlab.web._models import FieldError, UnitCosts, WebLimits

if TYPE_CHECKING:
    import gdlab


# Functions that cost many arithmetic nodes, in float64 on a CPU, measured per call on a data row:
# sine and cosine 100 ns (6 in a sum) to 350 ns (11 in a sum, value and gradient), softplus, arcsin
# and a fractional power about 50, exp and tanh about 2.
WEIGHTS: dict[str, float] = {
    **dict.fromkeys(("sin", "cos", "tan"), 150.0),
    **dict.fromkeys(("softplus", "arcsin", "arccos", "asin", "acos", "pow"), 50.0),
    **dict.fromkeys(("arctan", "atan"), 20.0),
    **dict.fromkeys(("sinh", "cosh", "erf", "log", "log10", "log2"), 10.0),
    **dict.fromkeys(("exp", "tanh", "sigmoid", "sqrt"), 2.0),
}


def _whole_power(after: list[tokenize.TokenInfo]) -> bool:
    """Whether the exponent after ``**`` is a whole number written out (XLA multiplies it out: cheap)."""
    if after and after[0].string in "+-":
        after = after[1:]
    return bool(after) and after[0].type == tokenize.NUMBER and float(after[0].string).is_integer()


def _token_weight(tokens: list[tokenize.TokenInfo], i: int) -> float:
    token, after = tokens[i], tokens[i + 1 :]
    if token.type == tokenize.NAME:  # a function when a bracket follows, else a parameter or data
        return WEIGHTS.get(token.string, 1.0) if after and after[0].string == "(" else 1.0
    if token.string == "**":
        return 1.0 if _whole_power(after) else WEIGHTS["pow"]
    return 1.0 if token.type == tokenize.NUMBER or token.string in ("+", "-", "*", "/", "@", "%") else 0.0


@functools.lru_cache(maxsize=256)
def loss_weight(text: str) -> float:
    """The loss's size in arithmetic operations, a slow function counted as many.

    Counted from the tokens of ``text``, which gdlab has already parsed, rather than parsed
    again with :mod:`ast` on a worker thread: Python 3.11's parser can fail with "AST
    constructor recursion depth mismatch" when threads parse at once (CPython gh-106905).
    """
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    return sum(_token_weight(tokens, i) for i in range(len(tokens)))


@dataclass(frozen=True)
class Shape:
    """What drives the cost of one step of a loss: its parameters, data rows and weighted size."""

    params: int
    rows: int
    weight: float

    @classmethod
    def of(cls, loss: gdlab.Expression) -> Shape:
        rows = max((int(np.size(v)) for v in loss.data_values.values()), default=1)
        return cls(params=len(loss.params), rows=max(1, rows), weight=loss_weight(loss.text))

    def loss_seconds(self, costs: UnitCosts) -> float:
        """Seconds of the loss and its gradient at one point, over every data row."""
        return costs.node_row * self.weight * self.rows

    def run_step(self, costs: UnitCosts) -> float:
        """Seconds of one step of a descent (one rate), which keeps every row."""
        return costs.run_step + self.loss_seconds(costs) + costs.kept_param2 * self.params**2

    def sweep_step(self, costs: UnitCosts) -> float:
        """Seconds of one step of one rate of a sweep."""
        return costs.sweep_step + self.loss_seconds(costs)

    @property
    def components(self) -> int:
        """Numbers one row of a run holds: each parameter and its gradient, and the loss."""
        return 2 * self.params + 1


def _over(seconds: float, budget: float) -> str:
    shown = f"{seconds:,.0f}" if seconds >= 10 else f"{seconds:.1f}"
    return f"about {shown} s of work, over the {budget:g} s one request may take"


def _rates(runs: int, unit: str = "rate") -> str:
    return f"this {unit}" if runs == 1 else f"these {runs:,} {unit}s"


def _refuse(
    steps: int, runs: int, most_steps: int, most_runs: int, why: str, unit: str = "rate"
) -> InputError:
    """The refusal, led by the page's field ("steps: ...") and naming the most that fits; ``unit``
    is what a run is on the page (a rate, or a cell of a phase diagram)."""
    if most_steps < 1:
        field = "rates" if unit == "rate" else "num"
        return FieldError(field, f"{why}, even for one step at {_rates(runs, unit)}; take fewer {unit}s")
    rates = f"1 {unit}" if most_runs == 1 else f"{most_runs:,} {unit}s"
    other = f" (or at most {rates} at {steps:,} steps)" if runs > 1 and most_runs >= 1 else ""
    return FieldError("steps", f"{why}: at most {most_steps:,} steps at {_rates(runs, unit)}{other}")


class Budget:
    """Prices requests against :class:`WebLimits` and refuses (``InputError``) what does not fit."""

    def __init__(self, limits: WebLimits):
        self.limits, self.costs = limits, limits.costs

    def descents(self, loss: gdlab.Expression, runs: int, steps: int) -> None:
        """``runs`` descents of ``steps`` steps, every row kept: time and memory."""
        shape = Shape.of(loss)
        self._time(shape.run_step(self.costs), runs, steps)
        kept = self.limits.kept_numbers // shape.components  # rows all runs may keep
        if runs * (steps + 1) > kept:
            most_steps, most_runs = kept // runs - 1, kept // (steps + 1)
            why = f"every step is kept before thinning, {shape.components} numbers a step, too many to hold"
            raise _refuse(steps, runs, most_steps, most_runs, why)

    def sweep(self, loss: gdlab.Expression, runs: int, steps: int) -> None:
        """``runs`` rates of ``steps`` steps in one compiled call, only the final rows kept."""
        self._time(Shape.of(loss).sweep_step(self.costs), runs, steps)

    def phase(self, loss: gdlab.Expression, cells: int, steps: int) -> None:
        """A phase diagram's ``cells`` runs of ``steps`` steps: one compiled call, as a sweep."""
        self._time(Shape.of(loss).sweep_step(self.costs), cells, steps, unit="cell")

    def _time(self, step_seconds: float, runs: int, steps: int, unit: str = "rate") -> None:
        budget = self.limits.work_seconds
        if runs * steps * step_seconds <= budget:
            return
        most_steps = math.floor(budget / (runs * step_seconds))
        most_runs = math.floor(budget / (max(steps, 1) * step_seconds))
        why = _over(runs * steps * step_seconds, budget)
        raise _refuse(steps, runs, most_steps, most_runs, why, unit)

    def landscape(self, loss: gdlab.Expression, num: int, axes: int) -> None:
        """The loss (no gradient: a third of a step's node cost) on ``num`` points per axis."""
        point = Shape.of(loss).loss_seconds(self.costs) / 3
        seconds = num**axes * point
        if seconds > self.limits.work_seconds:
            most = math.floor((self.limits.work_seconds / point) ** (1 / axes))
            why = _over(seconds, self.limits.work_seconds)
            raise FieldError("num", f"{why}: at most {most:,} points per axis on this loss")

    def points(self, loss: gdlab.Expression, runs: int, wanted: int) -> int:
        """Rows to send per run: ``wanted``, thinned further so the answer stays drawable."""
        per_row = Shape.of(loss).components + 1  # and the step index
        return max(2, min(wanted, self.limits.answer_numbers // (runs * per_row)))

    def file(self, loss: gdlab.Expression, steps: int) -> None:
        """A CSV or JSON file of one run holds every step."""
        per_row = Shape.of(loss).components + 1
        if (steps + 1) * per_row > self.limits.file_numbers:
            most = self.limits.file_numbers // per_row - 1
            raise FieldError(
                "steps",
                f"a file of {steps:,} steps would hold {(steps + 1) * per_row:,} numbers, over the "
                f"{self.limits.file_numbers:,} a download may: at most {most:,} steps in a file of this loss",
            )


__all__ = ["WEIGHTS", "Budget", "Shape", "loss_weight"]
