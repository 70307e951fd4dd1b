"""Numbers typed as text, read one way for every front end: the command line's options, the lab
page's fields and the notebook widget's.

A number may be written as the lecture writes it, arithmetic included (``0.01/6``, ``1e-8``,
``10^-3``, ``2*pi``); it is read by the expression compiler (:func:`gdlab._expr.number`), never
evaluated. A problem is an :class:`InputError` whose message says what could not be read and
how to write it; the caller puts the field's or option's name in front.
"""

from __future__ import annotations

import re

from gdlab._checks import InputError
from gdlab._expr import TOO_LARGE, ExpressionError, number

__all__ = ["read_number", "read_rates", "read_whole"]

_EXAMPLE = "write one such as 1e-8 or 0.01/6"
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d+,\d+\s*$")
# A number written plainly (-10, 100, 1e-8) is read by float(), which reads it as the expression
# compiler does: no need to compile arithmetic (the compiler folds constants with JAX).
_PLAIN = re.compile(r"^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$")


def read_number(text: str) -> float:
    """``text`` as one finite number (``"0.01/6"`` is 0.0016666...).

    Raises:
        InputError: the text is empty, names something that is not a number, holds several
            numbers (``0,5``: a decimal comma is refused with the fix), or is not finite.

    Example:
        >>> read_number("0.01/6")
        0.0016666666666666668
    """
    if not text.strip():
        raise InputError("a number is missing; " + _EXAMPLE)
    if _DECIMAL_COMMA.match(text):
        point = text.strip().replace(",", ".")
        raise InputError(f"write a decimal point, not a comma: {point}")
    if "," in text:
        raise InputError("give one number here, not several separated by commas")
    if text.strip().lower().lstrip("+-") in ("nan", "inf", "infinity"):
        raise InputError("give a finite number (not NaN or an infinity), as in 0 or -2.5")
    if _PLAIN.match(text) and abs(float(text)) <= TOO_LARGE:  # larger: the compiler's words
        return float(text)
    try:
        return number(text)
    except ExpressionError as err:
        if err.problem.startswith("unknown name") or "may use only digits" in err.problem:
            # Not "did you mean abs?": a number was meant, and the field's column may be narrow.
            raise InputError(f"{text.strip()} is not a number; {_EXAMPLE}") from None
        raise InputError(err.problem) from None


def read_whole(text: str, noun: str, low: int, high: int) -> int:
    """``text`` as a whole number in ``[low, high]`` (``1e3`` and ``10^3`` are 1000); ``noun``
    names what it counts in a message ("the number of steps"). Checked as a float first, so
    that 1e300 is never made an int."""
    amount = read_number(text)
    if not float(amount).is_integer():
        raise InputError(f"{noun} must be a whole number")
    if amount < low:
        raise InputError(f"{noun} must be at least {low:,}")
    if amount > high:
        raise InputError(f"{noun} must be at most {high:,} (gdlab's limit)")
    return int(amount)


def read_rates(text: str, most: int) -> tuple[float, ...]:
    """``"0.5, 0.01/6, 2"`` as rates, each above 0; more than ``most`` are refused, naming the limit.

    ``0,5`` (one number with a decimal comma) is refused with the fix rather than read as 0 and 5.
    """
    parts = text.split(",")
    if _DECIMAL_COMMA.match(text) and parts[0].strip().lstrip("+-") == "0":
        raise InputError(f"write a decimal point, not a comma: {text.strip().replace(',', '.')}")
    if len(parts) > most:
        raise InputError(f"{len(parts):,} rates; at most {most:,} at once: remove {len(parts) - most:,}")
    if not any(p.strip() for p in parts):
        raise InputError("give at least one rate, as in 0.1 or 0.1, 0.5, 2")
    if any(not p.strip() for p in parts):
        raise InputError("a rate is missing between commas; write rates as 0.1, 0.5, 2")
    values = []
    for part in parts:
        try:
            value = read_number(part)
        except InputError as err:  # named, unless the message names it already
            said = str(err)
            raise InputError(said if part.strip() in said else f"{part.strip()}: {said}") from None
        if value <= 0:
            raise InputError(f"every rate must be above 0; {part.strip()} is not")
        values.append(value)
    return tuple(values)
