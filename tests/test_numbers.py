"""Numbers typed as text: one rule for the command line, the page and the widget."""

from __future__ import annotations

import re

import pytest

from gdlab import InputError
from gdlab._numbers import read_number, read_rates, read_whole


@pytest.mark.parametrize(
    ("text", "value"), [("0.01/6", 0.01 / 6), ("1e-8", 1e-8), ("10^-3", 1e-3), (" -2.5 ", -2.5)]
)
def test_numbers_are_read_as_the_lecture_writes_them(text, value):
    assert read_number(text) == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "a number is missing"),
        ("0,5", "write a decimal point, not a comma: 0.5"),
        ("1, 2", "give one number here, not several"),
        ("abc", "abc is not a number; write one such as 1e-8 or 0.01/6"),
        ("nan", "give a finite number"),
        ("1/0", "too large (or undefined)"),
    ],
)
def test_what_is_not_a_number_is_refused_with_the_fix(text, words):
    with pytest.raises(InputError, match=re.escape(words)):
        read_number(text)


def test_rates_are_all_read_or_refused_never_dropped():
    assert read_rates("0.01/6, 0.5", 12) == (0.01 / 6, 0.5)
    with pytest.raises(InputError, match="13 rates; at most 12 at once: remove 1"):
        read_rates(",".join(["0.1"] * 13), 12)
    with pytest.raises(InputError, match=r"decimal point, not a comma: 0\.5"):
        read_rates("0,5", 12)
    with pytest.raises(InputError, match="every rate must be above 0; -1 is not"):
        read_rates("0.1, -1", 12)


def test_whole_numbers():
    assert read_whole("10^3", "the number of steps", 0, 10**5) == 1000
    with pytest.raises(InputError, match="at most 100,000"):
        read_whole("1e300", "the number of steps", 0, 10**5)
